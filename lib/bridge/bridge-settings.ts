import { SITE_ID } from '../fleet/health-topics';
import { type Checked, type Reason, reason } from '../reasons';

export interface BridgeSettings {
  /** The hub's own id: its global connection's site id, and the level of `tectonic/health/{hub}/sites`. */
  hubId: string;
  /** The sites behind the hub, in the order given, each once. */
  sites: string[];
  /** Bounds of the up direction's outbox (records and dead letters held while the global bus is away). */
  outboxMaxCount: number;
  outboxMaxBytes: number;
}

export interface BridgeSettingsInput {
  /** Already evaluated (an env variable read by the adapter). */
  hubId: string;
  /** Comma separated site ids, already evaluated. */
  sites: string;
  outboxMaxCount?: string;
  outboxMaxBytes?: string;
  /** The global bus's site id, when it has one: it must be the hub id, so the hub's death is on the state topic the centre reads. */
  globalSiteId?: string;
}

const DEFAULT_MAX_COUNT = 100_000;
const DEFAULT_MAX_BYTES = 256 * 1024 * 1024;

function unsetVariable(value: string): string | undefined {
  return /^\$\{(\S+)\}$/.exec(value)?.[1];
}

function siteProblem(path: string, value: string): Reason | undefined {
  const unset = unsetVariable(value);
  if (unset !== undefined) return reason(path, 'env', `environment variable ${unset} is not set`);
  if (!SITE_ID.test(value)) {
    // A '+', '#' or '/' here would widen the hub's subscriptions to other hubs' sites.
    return reason(path, 'pattern', `"${value}" is not a site id that can stand as one topic level: 1 to 64 letters, digits, ".", "_" or "-", starting with a letter or digit`);
  }
  return undefined;
}

function positiveWhole(path: string, raw: string | undefined, fallback: number, reasons: Reason[]): number {
  const text = (raw ?? '').trim();
  if (text === '') return fallback;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 1) {
    reasons.push(reason(path, 'range', `"${text}" is not a whole number of at least 1`));
    return fallback;
  }
  return value;
}

/** The bus-bridge node's settings, checked: every refusal at once, worded for the person deploying. */
export function parseBridgeSettings(input: BridgeSettingsInput): Checked<BridgeSettings> {
  const reasons: Reason[] = [];
  const hubId = input.hubId.trim();
  if (hubId === '') reasons.push(reason('hubId', 'required', 'the hub needs an id'));
  else {
    const problem = siteProblem('hubId', hubId);
    if (problem !== undefined) reasons.push(problem);
  }
  const sites: string[] = [];
  const listed = input.sites.split(',').map((site) => site.trim());
  if (listed.every((site) => site === '')) reasons.push(reason('sites', 'required', 'list the site ids the hub serves, separated by commas'));
  for (const [index, site] of listed.entries()) {
    if (site === '') continue;
    const problem = siteProblem(`sites.${index}`, site);
    if (problem !== undefined) reasons.push(problem);
    else if (site === hubId) reasons.push(reason(`sites.${index}`, 'hub', `"${site}" is the hub's own id: its state on the global bus would be overwritten by the site's`));
    else if (!sites.includes(site)) sites.push(site);
  }
  const globalSiteId = input.globalSiteId ?? '';
  if (globalSiteId !== '' && hubId !== '' && globalSiteId !== hubId) {
    reasons.push(reason('globalBus', 'hub', `the global bus announces site "${globalSiteId}", not the hub "${hubId}": the centre would not see the hub's death on its state topic`));
  }
  const outboxMaxCount = positiveWhole('outboxMaxCount', input.outboxMaxCount, DEFAULT_MAX_COUNT, reasons);
  const outboxMaxBytes = positiveWhole('outboxMaxBytes', input.outboxMaxBytes, DEFAULT_MAX_BYTES, reasons);
  if (reasons.length > 0) return { ok: false, reasons };
  return { ok: true, value: { hubId, sites, outboxMaxCount, outboxMaxBytes } };
}
