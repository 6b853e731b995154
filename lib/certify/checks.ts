import type { JsonValue } from '../catalog/types';
import type { CatalogValidators } from '../catalog/catalog-validators';
import { decodeMessage } from '../envelope/cloudevents';
import type { CdmEnvelope } from '../envelope/envelope';
import { parseSiteState } from '../fleet/site-state';
import type { PolicyBundle } from '../policy/bundle-format';
import { parseMaskPath } from '../policy/mask-path';
import { applyMask } from '../policy/masks';
import type { Reason } from '../reasons';
import { parseUntrustedJson } from '../untrusted-json';
import type { Seen } from './private-bus';

/** One numbered assertion of the certification, conformance-kit style: an id, the rule, the evidence. */
export interface CheckResult {
  id: string;
  rule: string;
  pass: boolean;
  evidence: string;
}

export interface Output {
  topic: string;
  envelope: CdmEnvelope;
  data: unknown;
}

export interface Letter {
  topic: string;
  stage: string;
  reasons: Reason[];
}

/** What reached the bus, sorted: canonical records (probes left out), dead letters, the site's states and heartbeats. */
export interface BusRecord {
  outputs: Output[];
  undecodable: Array<{ topic: string; why: string }>;
  letters: Letter[];
  states: Array<{ topic: string; state: string; reason?: string; at: number }>;
  heartbeats: Array<{ topic: string; beat: Record<string, unknown>; at: number }>;
}

/** Whether an envelope carries the synthetic-transaction mark (`probe`, `cdmprobe` on the wire), which no count includes. */
function isProbe(envelope: CdmEnvelope): boolean {
  return envelope.probe !== undefined;
}

export function sortSeen(seen: readonly Seen[], since = 0): BusRecord {
  const record: BusRecord = { outputs: [], undecodable: [], letters: [], states: [], heartbeats: [] };
  // The bus delivers at least once: a record or letter sent again (no PUBACK in time, a reconnect) is one, as its consumers count it.
  const outputIds = new Set<string>();
  const letterKeys = new Set<string>();
  for (const message of seen) {
    if (message.at < since) continue;
    if (message.topic.startsWith('cdm/')) {
      const decoded = decodeMessage({ payload: message.payload });
      if (!decoded.ok) record.undecodable.push({ topic: message.topic, why: decoded.reasons.map((r) => r.message).join('; ') });
      else if (!isProbe(decoded.value.envelope) && !outputIds.has(decoded.value.envelope.id)) {
        outputIds.add(decoded.value.envelope.id);
        record.outputs.push({ topic: message.topic, envelope: decoded.value.envelope, data: decoded.value.data });
      }
    } else if (message.topic.startsWith('tectonic/dlq/')) {
      const parsed = parseUntrustedJson(message.payload.toString(), '');
      const letter = parsed.ok ? (parsed.value as { stage?: unknown; reasons?: unknown; cdm?: { probe?: unknown; id?: unknown } }) : {};
      // A synthetic transaction refused on its way is the canary's to report (C6), not a fixture's.
      if (typeof letter.cdm === 'object' && letter.cdm !== null && letter.cdm.probe !== undefined) continue;
      // The same record refused again (sent again to the entry, so its letter has a later time) carries the same envelope id.
      const id = typeof letter.cdm === 'object' && letter.cdm !== null && typeof letter.cdm.id === 'string' ? letter.cdm.id : undefined;
      const key = id !== undefined ? `${message.topic}\u0000${String(letter.stage)}\u0000${id}` : `${message.topic}\u0000${message.payload.toString('base64')}`;
      if (letterKeys.has(key)) continue;
      letterKeys.add(key);
      record.letters.push({ topic: message.topic, stage: typeof letter.stage === 'string' ? letter.stage : '', reasons: Array.isArray(letter.reasons) ? (letter.reasons as Reason[]) : [] });
    } else if (message.topic.endsWith('/state')) {
      const state = parseSiteState(message.payload);
      if (state.ok) record.states.push({ topic: message.topic, state: state.value.state, reason: state.value.reason, at: message.at });
    } else if (message.topic.endsWith('/heartbeat') && message.payload.length > 0) {
      const parsed = parseUntrustedJson(message.payload.toString(), '');
      if (parsed.ok && typeof parsed.value === 'object' && parsed.value !== null) record.heartbeats.push({ topic: message.topic, beat: parsed.value as Record<string, unknown>, at: message.at });
    }
  }
  return record;
}

/** The concrete paths the policy masks in one record, as validation reasons name them (`patient.ids.0.value`). */
function maskedPaths(output: Output, policy: PolicyBundle | undefined): Set<string> {
  const paths = new Set<string>();
  for (const mask of policy?.rules ?? []) {
    if (mask.kind !== 'mask') continue;
    if (mask.scope.entities !== undefined && !mask.scope.entities.includes(output.envelope.entity)) continue;
    for (const path of mask.paths) {
      const steps = parseMaskPath(path);
      if (!steps.ok) continue;
      const applied = applyMask(structuredClone(output.data), steps.steps, (value) => ({ drop: false, value }));
      if (applied.ok) for (const touched of applied.touched) paths.add(touched.replace(/\[(\d+)\]/g, '.$1'));
    }
  }
  return paths;
}

export function checkOutputsValid(bus: BusRecord, validators: CatalogValidators, now: Date, policy?: PolicyBundle): CheckResult {
  const rule = 'every record on the bus is valid CDM of a version in good standing (not past its sunset)';
  const problems: string[] = bus.undecodable.map((u) => `${u.topic}: not a canonical message: ${u.why}`);
  const deprecated = new Set<string>();
  for (const output of bus.outputs) {
    const { entity, version } = output.envelope;
    const standing = validators.deprecation(entity, version, now);
    if (standing === undefined) problems.push(`${output.topic}: ${entity}@${version} is not in the catalog`);
    else if (standing.pastSunset) problems.push(`${output.topic}: ${entity}@${version} is past its sunset ${standing.sunset ?? ''}`);
    else if (standing.deprecated) deprecated.add(`${entity}@${version}`);
    const valid = validators.validateRecord(entity, version, output.data);
    // A masked value (a hash in place of a birth date) is what the policy asks for, not a mapping mistake.
    const excused = valid.ok ? undefined : maskedPaths(output, policy);
    const left = valid.ok ? [] : valid.reasons.filter((r) => !excused?.has(r.path));
    if (left.length > 0) problems.push(`${output.envelope.id}: ${left.map((r) => `${r.path}: ${r.message}`).join('; ')}`);
  }
  if (bus.outputs.length === 0 && problems.length === 0) problems.push('no canonical record reached the bus');
  const versions = [...new Set(bus.outputs.map((o) => `${o.envelope.entity}@${o.envelope.version}`))].join(', ');
  return {
    id: 'C1',
    rule,
    pass: problems.length === 0,
    evidence: problems.length === 0 ? `${bus.outputs.length} record(s) valid (${versions})${deprecated.size > 0 ? `; deprecated but before sunset: ${[...deprecated].join(', ')}` : ''}` : problems.slice(0, 5).join(' | ') + (problems.length > 5 ? ` | ... ${problems.length - 5} more` : ''),
  };
}

/**
 * A masked field must not carry a value from the fixtures as it was, and a
 * dropped one must be gone; when the flow is known, a policy gate must stand
 * on every path from its entry to a canonical bus-publish.
 */
export function checkMasks(bus: BusRecord, policy: PolicyBundle | undefined, fixtureValues: ReadonlySet<string>, gateOnEveryPath: { known: boolean; ok: boolean; detail: string }): CheckResult {
  const rule = "the policy's masks were applied to every record on the bus";
  if (policy === undefined) return { id: 'C2', rule, pass: false, evidence: 'no policy bundle to check against (give --policy)' };
  const problems: string[] = [];
  let checked = 0;
  for (const output of bus.outputs) {
    for (const mask of policy.rules) {
      if (mask.kind !== 'mask') continue;
      if (mask.scope.entities !== undefined && !mask.scope.entities.includes(output.envelope.entity)) continue;
      if (mask.scope.sites !== undefined && !mask.scope.sites.includes(output.envelope.site)) continue;
      for (const path of mask.paths) {
        const steps = parseMaskPath(path);
        if (!steps.ok) continue;
        const found: unknown[] = [];
        const copy = structuredClone(output.data);
        applyMask(copy, steps.steps, (value) => {
          found.push(value);
          return { drop: false, value };
        });
        checked += found.length;
        for (const value of found) {
          if (mask.method === 'drop') problems.push(`${output.envelope.id}: ${path} should be dropped but is there`);
          else if ((typeof value === 'string' || typeof value === 'number') && fixtureValues.has(String(value))) problems.push(`${output.envelope.id}: ${path} carries "${String(value)}" unmasked`);
        }
      }
    }
  }
  if (gateOnEveryPath.known && !gateOnEveryPath.ok) problems.push(gateOnEveryPath.detail);
  return {
    id: 'C2',
    rule,
    pass: problems.length === 0,
    evidence: problems.length === 0 ? `${checked} masked value(s) checked in ${bus.outputs.length} record(s) against policy ${policy.id}@${policy.version}${gateOnEveryPath.known ? `; ${gateOnEveryPath.detail}` : ''}` : problems.slice(0, 5).join(' | '),
  };
}

const TRANSIENT_RULES = new Set(['policy-unavailable', 'no-policy', 'no-catalog', 'catalog-unavailable', 'policy-expired', 'no-spec']);

export function checkRejects(bus: BusRecord, fed: number): CheckResult {
  const rule = 'every fixture is either published or rejected with reasons to the dead-letter topic';
  const problems: string[] = [];
  const bare = bus.letters.filter((l) => l.reasons.length === 0 || l.reasons.some((r) => typeof r.message !== 'string' || r.message === ''));
  if (bare.length > 0) problems.push(`${bare.length} dead letter(s) without reasons (${bare[0]?.topic ?? ''})`);
  const accounted = bus.outputs.length + bus.letters.length;
  if (accounted < fed) problems.push(`${fed} fixture(s) fed, ${bus.outputs.length} published and ${bus.letters.length} dead-lettered: ${fed - accounted} vanished without a trace`);
  const byStage = new Map<string, Letter>();
  for (const letter of bus.letters) if (!byStage.has(letter.stage)) byStage.set(letter.stage, letter);
  const stages = [...byStage.values()].map((l) => `${l.stage}: ${l.reasons.map((r) => `${r.rule}${r.path ? ` at ${r.path}` : ''}: ${r.message}`).join('; ')}`).join(' | ');
  return { id: 'C3', rule, pass: problems.length === 0, evidence: problems.length === 0 ? `${fed} fed: ${bus.outputs.length} published, ${bus.letters.length} dead-lettered with reasons${stages ? ` (${stages})` : ''}` : problems.join(' | ') };
}

export function checkWaits(early: BusRecord, fedEarly: number, entryKind: 'link' | 'bus'): CheckResult {
  const rule = "the flow's entry waits for its catalog and policy instead of refusing records before they arrive";
  const refused = early.letters.filter((l) => l.reasons.some((r) => TRANSIENT_RULES.has(r.rule)));
  const accounted = early.outputs.length + early.letters.length;
  const problems: string[] = [];
  if (refused.length > 0) {
    const hint = entryKind === 'link' ? ': a "link in" entry cannot hold records back; read local records with a bus-subscribe, whose entry waits until catalog and policy are in force' : '';
    problems.push(`${refused.length} record(s) refused for want of a catalog or policy (${refused[0]?.reasons.map((r) => r.rule).join(', ') ?? ''})${hint}`);
  }
  if (accounted < fedEarly) problems.push(`${fedEarly - accounted} of the ${fedEarly} record(s) fed before the catalog and policy were published never came out`);
  return { id: 'C4', rule, pass: problems.length === 0, evidence: problems.length === 0 ? `${fedEarly} record(s) fed before the catalog and policy were on the bus; all handled once they were` : problems.join(' | ') };
}

export function checkLife(all: BusRecord, stoppedAt: number): CheckResult {
  const rule = 'birth, heartbeat and death are published';
  const births = all.states.filter((s) => s.state === 'online');
  const deaths = all.states.filter((s) => s.state === 'offline' && s.at >= stoppedAt);
  const problems: string[] = [];
  if (births.length === 0) problems.push('no online state on tectonic/health/{site}/state (is a site id set on the tectonic-bus?)');
  if (all.heartbeats.length === 0) problems.push('no heartbeat on tectonic/health/{site}/heartbeat');
  if (deaths.length === 0) problems.push('no offline state after the agent stopped');
  return { id: 'C5', rule, pass: problems.length === 0, evidence: problems.length === 0 ? `${births.length} birth(s) on ${births[0]?.topic ?? ''}, ${all.heartbeats.length} heartbeat(s), death (${deaths[0]?.reason ?? 'offline'}) after the stop` : problems.join(' | ') };
}

export function checkCanary(all: BusRecord): CheckResult {
  const rule = 'the synthetic transaction succeeds';
  const canaries = all.heartbeats.map((h) => h.beat.canary as { ok?: boolean; stage?: string; reason?: string; latencyMs?: number } | undefined).filter((c) => c !== undefined);
  const good = canaries.find((c) => c.ok === true);
  if (good !== undefined) return { id: 'C6', rule, pass: true, evidence: `canary ok, ${String(good.latencyMs ?? '?')} ms end to end` };
  const bad = canaries.find((c) => c.ok === false);
  return { id: 'C6', rule, pass: false, evidence: bad !== undefined ? `canary failed at ${bad.stage ?? '?'}: ${bad.reason ?? ''}` : 'no heartbeat reported a synthetic transaction' };
}

export function checkOutbox(normal: BusRecord, whileDown: BusRecord, downForMs: number, entryOnSameBus: boolean): CheckResult {
  const rule = 'records published while the bus is down are held and delivered after';
  if (entryOnSameBus) return { id: 'C7', rule, pass: false, evidence: 'the entry reads local records from the bus the records go out on: while that bus is down the site can take no record at all; give local records a bus of their own' };
  const pass = whileDown.outputs.length >= normal.outputs.length && normal.outputs.length > 0;
  return {
    id: 'C7',
    rule,
    pass,
    evidence: `the same fixtures: ${normal.outputs.length} published with the bus up, ${whileDown.outputs.length} delivered after ${Math.round(downForMs / 100) / 10} s with the bus down`,
  };
}

export function checkLog(log: string): CheckResult {
  const errors = log.split('\n').filter((line) => /\[error\]/.test(line));
  return { id: 'C8', rule: 'no error was logged', pass: errors.length === 0, evidence: errors.length === 0 ? 'the runtime logged no error' : `${errors.length} error line(s): ${errors.slice(0, 3).map((e) => e.trim()).join(' | ')}` };
}

export function checkDemoKey(flows: ReadonlyArray<Record<string, unknown>>, env: Record<string, string>, demoKey: string, readFile: (path: string) => string | undefined): CheckResult {
  const rule = 'the policy is not trusted through the demo key';
  const problems: string[] = [];
  const resolveEnv = (value: unknown): string => (typeof value === 'string' ? value.replace(/^\$\{(\S+)\}$/, (_m, name: string) => env[name] ?? '') : '');
  for (const node of flows.filter((n) => n.type === 'tectonic-policy')) {
    const name = typeof node.name === 'string' && node.name !== '' ? node.name : String(node.id);
    if (node.trustDemoKey === true || node.trustDemoKey === 'true') problems.push(`tectonic-policy "${name}" trusts the demo key`);
    const file = node.publicKeyFileType === 'env' ? (env[String(node.publicKeyFile)] ?? '') : resolveEnv(node.publicKeyFile);
    if (file !== '' && readFile(file)?.trim() === demoKey.trim()) problems.push(`tectonic-policy "${name}" reads the demo key from ${file}`);
  }
  for (const [key, value] of Object.entries(env)) if (value.includes(demoKey.trim().split('\n')[1] ?? '\u0000')) problems.push(`${key} holds the demo key`);
  return { id: 'C10', rule, pass: problems.length === 0, evidence: problems.length === 0 ? 'no tectonic-policy trusts the demo key' : problems.join(' | ') };
}

export type { JsonValue };
