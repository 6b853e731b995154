import semver from 'semver';
import { type Checked, type Reason, reason } from '../reasons';

/**
 * `msg.cdm`: what a canonical message is and where it comes from. The names
 * follow CloudEvents 1.0 (id, source, time) plus the CDM's own extensions;
 * see docs/message-contract.md for the wire mapping.
 */
export interface CdmEnvelope {
  entity: string;
  version: string;
  site: string;
  id: string;
  time: string;
  source: string;
  correlationId?: string;
  traceparent?: string;
  /** Set by cdm-validate: the `entity@version` of the schema the payload passed. */
  validated?: string;
}

export const ENVELOPE_OPTIONAL_KEYS = ['correlationId', 'traceparent', 'validated'] as const;

// Entity and site names become MQTT topic levels, so they must never carry
// `/`, `+`, `#` or `$` [MQTT-4.7.1], and stay short enough to read in a log.
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
// RFC 3339 date-time as CloudEvents requires for `time`.
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/i;
// W3C Trace Context version 00 [traceparent header, section 3.2].
const TRACEPARENT = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;
// eslint-disable-next-line no-control-regex -- control characters are exactly what we refuse
const CONTROL = /[\u0000-\u001f\u007f]/;

function text(value: unknown, path: string, max: number, reasons: Reason[]): value is string {
  if (typeof value !== 'string') {
    reasons.push(reason(path, value === undefined ? 'required' : 'type', value === undefined ? 'is missing' : `must be a string, got ${typeName(value)}`));
    return false;
  }
  if (value.length === 0) reasons.push(reason(path, 'minLength', 'must not be empty'));
  else if (value.length > max) reasons.push(reason(path, 'maxLength', `must be at most ${max} characters, got ${value.length}`));
  else if (CONTROL.test(value)) reasons.push(reason(path, 'format', 'must not contain control characters'));
  else return true;
  return false;
}

/**
 * Majors of the version strings seen, null for one that is not semver. A site
 * publishes a handful of versions, and semver's parser ran several times for
 * every record (envelope check, topic, event type).
 */
const majors = new Map<string, number | null>();
const MAJORS_CACHED = 256;

function majorOrNull(version: string): number | null {
  let major = majors.get(version);
  if (major === undefined) {
    const parsed = semver.parse(version);
    major = parsed === null ? null : parsed.major;
    if (majors.size >= MAJORS_CACHED) majors.clear();
    majors.set(version, major);
  }
  return major;
}

export function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

/**
 * Checks that `value` is a usable envelope and returns a clean copy holding
 * only the known attributes, so nothing a flow stuck on `msg.cdm` (or a
 * `__proto__` key from a parsed message) travels further.
 */
export function checkEnvelope(value: unknown, prefix = 'cdm'): Checked<CdmEnvelope> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, reasons: [reason(prefix, 'type', `must be an object with entity, version, site, id, time and source, got ${typeName(value)}`)] };
  }
  const v = value as Record<string, unknown>;
  const reasons: Reason[] = [];
  const at = (key: string): string => `${prefix}.${key}`;

  if (text(v.entity, at('entity'), 64, reasons) && !NAME.test(v.entity)) {
    reasons.push(reason(at('entity'), 'pattern', 'must be letters, digits, ".", "_" or "-" (it becomes a topic level)'));
  }
  if (text(v.version, at('version'), 64, reasons) && majorOrNull(v.version) === null) {
    reasons.push(reason(at('version'), 'semver', `must be a semantic version such as 1.0.0, got "${v.version}"`));
  }
  if (text(v.site, at('site'), 64, reasons) && !NAME.test(v.site)) {
    reasons.push(reason(at('site'), 'pattern', 'must be letters, digits, ".", "_" or "-" (it becomes a topic level)'));
  }
  text(v.id, at('id'), 256, reasons);
  if (text(v.time, at('time'), 64, reasons) && (!RFC3339.test(v.time) || Number.isNaN(Date.parse(v.time)))) {
    reasons.push(reason(at('time'), 'format', `must be an RFC 3339 date-time such as 2026-11-24T08:00:00Z, got "${v.time}"`));
  }
  text(v.source, at('source'), 1024, reasons);
  if (v.correlationId !== undefined) text(v.correlationId, at('correlationId'), 256, reasons);
  if (v.traceparent !== undefined && text(v.traceparent, at('traceparent'), 55, reasons) && !TRACEPARENT.test(v.traceparent)) {
    reasons.push(reason(at('traceparent'), 'format', 'must be a W3C traceparent such as 00-<32 hex>-<16 hex>-01'));
  }
  if (v.validated !== undefined) text(v.validated, at('validated'), 128, reasons);
  if (reasons.length > 0) return { ok: false, reasons };

  const envelope: CdmEnvelope = {
    entity: v.entity as string,
    version: v.version as string,
    site: v.site as string,
    id: v.id as string,
    time: v.time as string,
    source: v.source as string,
  };
  for (const key of ENVELOPE_OPTIONAL_KEYS) {
    const optional = v[key];
    if (typeof optional === 'string') envelope[key] = optional;
  }
  return { ok: true, value: envelope };
}

export function isTraceparent(value: unknown): value is string {
  return typeof value === 'string' && TRACEPARENT.test(value);
}

export function majorOf(version: string): number {
  const major = majorOrNull(version);
  // semver.major throws on an invalid version; so does this, with the same kind of error.
  if (major === null) throw new TypeError(`Invalid Version: ${version}`);
  return major;
}
