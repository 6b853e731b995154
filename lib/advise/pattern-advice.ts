import { type Checked, type Reason, reason } from '../reasons';

export type Pattern = 'centralised' | 'hybrid' | 'distributed';

/** The four answers `tectonic advise` asks for. */
export interface Situation {
  /** Regulatory pressure, 1 (little) to 5 (heavily regulated: audits, patient or payment data). */
  regulation: number;
  /** How different the sites' systems and formats are, 1 (all alike) to 5 (every site its own). */
  diversity: number;
  /** How often requirements change, 1 (stable for years) to 5 (every few weeks). */
  velocity: number;
  /** How many sites there are, or will be within a year. */
  sites: number;
}

export interface Advice {
  pattern: Pattern;
  /** regulation + diversity + velocity + the sites' score. */
  total: number;
  sitesScore: number;
  /** Which row of the decision table decided, by number (docs/advise.md). */
  rule: 1 | 2 | 3 | 4;
  reasoning: string[];
  /** What in the pack serves the pattern. */
  packServes: string[];
}

/** The number of sites as a 1-5 score, so it weighs like the other three answers. */
export function sitesScore(sites: number): number {
  if (sites < 5) return 1;
  if (sites < 10) return 2;
  if (sites < 20) return 3;
  if (sites < 50) return 4;
  return 5;
}

const SERVES: Record<Pattern, string[]> = {
  centralised: [
    'one central Node-RED: bus-subscribe from every site, cdm-map and cdm-validate at the centre',
    'the catalog and `tectonic compat` in the central team\'s CI keep one model',
    'policy-gate at the centre, with the signed policy bundle as the single rule book',
    'sites need only a bus-publish (or any MQTT client) and the embedded or central broker',
  ],
  hybrid: [
    'at each site: cdm-map (the site owns its mapping), cdm-validate against the central catalog, policy-gate with the signed central policy, bus-publish with its durable outbox',
    'at the centre: the catalog and policy published on the bus, heartbeat-monitor and the fleet page, the registry',
    '`tectonic site new` and `tectonic certify` to onboard a site and check its agent in CI',
    'the broker\'s per-site identities and ACLs (`tectonic broker`), so each site publishes only as itself',
  ],
  distributed: [
    'sites publish and consume each other\'s canonical records directly: bus-subscribe filtered by site and version, registry-announce and registry-lookup to find services without a central hub',
    'the catalog\'s compatibility levels and `tectonic compat` let sites move versions at their own pace',
    'regional hubs bridge local buses to the global one as the fleet grows',
    'heartbeat and the fleet page still show every site, without routing records through the centre',
  ],
};

function inScale(value: number): boolean {
  return Number.isInteger(value) && value >= 1 && value <= 5;
}

export function checkSituation(situation: Partial<Record<keyof Situation, number>>): Checked<Situation> {
  const reasons: Reason[] = [];
  for (const key of ['regulation', 'diversity', 'velocity'] as const) {
    const value = situation[key];
    if (value === undefined || !inScale(value)) reasons.push(reason(key, 'range', `must be a whole number from 1 to 5, got ${String(value)}`));
  }
  const sites = situation.sites;
  if (sites === undefined || !Number.isSafeInteger(sites) || sites < 1) reasons.push(reason('sites', 'range', `must be a whole number of sites, 1 or more, got ${String(sites)}`));
  return reasons.length > 0 ? { ok: false, reasons } : { ok: true, value: situation as Situation };
}

/**
 * The decision table (docs/advise.md), first matching row wins:
 * 1. regulation ≥ 4, fewer than 10 sites, velocity ≤ 2 → centralised, whatever the total;
 * 2. total > 12, regulation ≤ 2, diversity + velocity ≥ 8 → distributed;
 * 3. total > 12 → hybrid;
 * 4. otherwise → centralised.
 */
export function advise(situation: Situation): Advice {
  const { regulation, diversity, velocity, sites } = situation;
  const score = sitesScore(sites);
  const total = regulation + diversity + velocity + score;
  const sum = `total ${total} = regulation ${regulation} + diversity ${diversity} + velocity ${velocity} + sites ${score} (${sites} site${sites === 1 ? '' : 's'})`;
  const decide = (pattern: Pattern, rule: Advice['rule'], reasoning: string[]): Advice => ({ pattern, total, sitesScore: score, rule, reasoning: [sum, ...reasoning], packServes: SERVES[pattern] });

  if (regulation >= 4 && sites < 10 && velocity <= 2) {
    return decide('centralised', 1, [
      `heavily regulated (${regulation} of 5) with fewer than ten sites (${sites}) and stable requirements (velocity ${velocity}): one central team can keep up with the change, and auditors see one place where every rule is applied`,
      'this holds whatever the total',
    ]);
  }
  if (total > 12) {
    if (regulation <= 2 && diversity + velocity >= 8) {
      return decide('distributed', 2, [
        `the total is above 12 and diversity and velocity dominate (${diversity} + ${velocity} = ${diversity + velocity} of 10) while regulation is low (${regulation}): a central team would be the bottleneck, and little needs enforcing centrally`,
      ]);
    }
    return decide('hybrid', 3, [
      `the total is above 12: too much diversity, change or scale for one central team, while regulation (${regulation}) or a balance of pressures still calls for a central model and central rules`,
      'the centre owns the model, the policies and the view of the fleet; each site owns its mapping and publishes on its own',
    ]);
  }
  return decide('centralised', 4, [
    'the total is 12 or below: the pressures are moderate, and one central integration is the simplest to run and to audit',
    ...(sites > 20 ? [`with ${sites} sites, watch the central team's backlog: past twenty sites a hybrid pattern with regional hubs spreads the work`] : []),
  ]);
}
