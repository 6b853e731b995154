import { type Checked, reason } from '../reasons';
import { parseUntrustedJson } from '../untrusted-json';
import type { CanaryResult, Heartbeat, StageCounters, TemplateFingerprint } from './heartbeat-format';
import { SITE_ID } from './health-topics';

/** A beat is a few kilobytes; anything far larger is not one and is not worth parsing. */
const MAX_BEAT_BYTES = 256 * 1024;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const count = (value: unknown): boolean => typeof value === 'number' && Number.isFinite(value) && value >= 0;

function stages(value: unknown): Record<string, StageCounters> | undefined {
  if (!isObject(value)) return undefined;
  const out: Record<string, StageCounters> = {};
  for (const [name, raw] of Object.entries(value)) {
    if (!isObject(raw) || !count(raw.in) || !count(raw.out)) return undefined;
    const rejected: Record<string, number> = {};
    if (isObject(raw.rejected)) for (const [rule, n] of Object.entries(raw.rejected)) if (count(n)) rejected[rule] = n as number;
    out[name] = { in: raw.in as number, out: raw.out as number, rejected };
  }
  return out;
}

function canary(value: unknown): CanaryResult | undefined {
  if (!isObject(value) || typeof value.at !== 'string' || typeof value.nonce !== 'string') return undefined;
  if (value.ok === true && count(value.latencyMs)) {
    const stagesMs: Record<string, number> = {};
    if (isObject(value.stagesMs)) for (const [k, v] of Object.entries(value.stagesMs)) if (count(v)) stagesMs[k] = v as number;
    return { ok: true, at: value.at, nonce: value.nonce, latencyMs: value.latencyMs as number, stagesMs };
  }
  if (value.ok === false && typeof value.stage === 'string' && typeof value.reason === 'string') {
    return { ok: false, at: value.at, nonce: value.nonce, stage: value.stage, reason: value.reason };
  }
  return undefined;
}

/**
 * A heartbeat from `tectonic/health/{site}/heartbeat`, checked for what the
 * monitor reads (lib/fleet/heartbeat-format.ts). Fields added later pass
 * through unread; a beat naming another site than its topic is refused.
 */
export function parseHeartbeat(payload: Buffer | string, topicSite: string): Checked<Heartbeat> {
  if (payload.length > MAX_BEAT_BYTES) return { ok: false, reasons: [reason('', 'size', `a heartbeat is at most ${MAX_BEAT_BYTES} bytes`)] };
  const parsed = parseUntrustedJson(payload.toString(), '');
  if (!parsed.ok) return parsed;
  const v = parsed.value;
  const bad = (path: string, message: string): Checked<Heartbeat> => ({ ok: false, reasons: [reason(path, 'type', message)] });
  if (!isObject(v)) return bad('', 'a heartbeat must be a JSON object');
  if (v.format !== 1) return bad('format', 'must be 1');
  if (typeof v.site !== 'string' || !SITE_ID.test(v.site)) return bad('site', 'must be a site id');
  if (v.site !== topicSite) return { ok: false, reasons: [reason('site', 'topic', `names site "${v.site}" on the topic of site "${topicSite}"`)] };
  if (!Number.isSafeInteger(v.session) || (v.session as number) < 0) return bad('session', 'must be a non-negative integer');
  if (!Number.isSafeInteger(v.seq) || (v.seq as number) < 0) return bad('seq', 'must be a non-negative integer');
  if (typeof v.sentAt !== 'string' || Number.isNaN(Date.parse(v.sentAt))) return bad('sentAt', 'must be an ISO 8601 time');
  if (!count(v.intervalMs) || (v.intervalMs as number) < 10) return bad('intervalMs', 'must be a number of milliseconds, at least 10');
  const stageCounters = stages(v.stages ?? {});
  if (stageCounters === undefined) return bad('stages', 'must map each stage to { in, out, rejected }');
  if (!isObject(v.versions) || typeof v.versions.pack !== 'string') return bad('versions', 'must be an object with pack, nodeRed and node');
  if (!isObject(v.flows) || typeof v.flows.fingerprint !== 'string') return bad('flows', 'must be an object with a fingerprint');
  const versions = v.versions;
  const flows = v.flows;
  const template = isObject(flows.template) && typeof flows.template.name === 'string' && typeof flows.template.version === 'string' ? { name: flows.template.name, version: flows.template.version } : undefined;
  const beat: Heartbeat = {
    format: 1,
    site: v.site,
    session: v.session as number,
    seq: v.seq as number,
    sentAt: v.sentAt,
    intervalMs: v.intervalMs as number,
    uptimeSeconds: count(v.uptimeSeconds) ? (v.uptimeSeconds as number) : 0,
    stages: stageCounters,
    outboxDepth: count(v.outboxDepth) ? (v.outboxDepth as number) : 0,
    versions: {
      pack: versions.pack as string,
      nodeRed: typeof versions.nodeRed === 'string' ? versions.nodeRed : '',
      node: typeof versions.node === 'string' ? versions.node : '',
      ...(typeof versions.catalog === 'string' ? { catalog: versions.catalog } : {}),
      ...(typeof versions.policy === 'string' ? { policy: versions.policy } : {}),
    },
    cdmPublished: Array.isArray(v.cdmPublished) ? v.cdmPublished.filter((e): e is string => typeof e === 'string').slice(0, 256) : [],
    flows: { fingerprint: flows.fingerprint as string, ...(template === undefined ? {} : { template }) },
  };
  if (isObject(v.lastError) && typeof v.lastError.message === 'string' && typeof v.lastError.at === 'string') {
    beat.lastError = { at: v.lastError.at, message: v.lastError.message.slice(0, 500), ...(typeof v.lastError.node === 'string' ? { node: v.lastError.node } : {}) };
  }
  const probe = canary(v.canary);
  if (probe !== undefined) beat.canary = probe;
  return { ok: true, value: beat };
}

/**
 * A template's fingerprint from `tectonic/templates/{name}` (or
 * `tectonic/templates/{name}/{version}`). An empty payload clears a retained
 * one: `undefined` then, not a refusal.
 */
export function parseTemplateFingerprint(payload: Buffer | string): Checked<TemplateFingerprint | undefined> {
  if (payload.length === 0) return { ok: true, value: undefined };
  if (payload.length > 16 * 1024) return { ok: false, reasons: [reason('', 'size', 'a template fingerprint is at most 16384 bytes')] };
  const parsed = parseUntrustedJson(payload.toString(), '');
  if (!parsed.ok) return parsed;
  const v = parsed.value;
  if (!isObject(v) || typeof v.name !== 'string' || typeof v.version !== 'string' || typeof v.fingerprint !== 'string' || v.name === '') {
    return { ok: false, reasons: [reason('', 'type', 'a template fingerprint is { name, version, fingerprint }, all strings')] };
  }
  return { ok: true, value: { name: v.name, version: v.version, fingerprint: v.fingerprint } };
}
