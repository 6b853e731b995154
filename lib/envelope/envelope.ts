import semver from 'semver';
import { type Checked, type Reason, reason } from '../reasons';

// The mark has a module of its own; these names stay importable from here.
export { markValidated, validationMark } from './validation-mark';

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
  /**
   * Set on a synthetic transaction only (lib/fleet/probe-mark.ts): its nonce.
   * Consumers drop such records by default and counters leave them out.
   */
  probe?: string;
}

// Entity and site names become MQTT topic levels, so they must never carry
// `/`, `+`, `#` or `$` [MQTT-4.7.1], and stay short enough to read in a log.
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
// RFC 3339 date-time as CloudEvents requires for `time`.
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/i;
// W3C Trace Context version 00 [traceparent header, section 3.2].
const TRACEPARENT = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;
// eslint-disable-next-line no-control-regex -- control characters are exactly what we refuse
const CONTROL = /[\u0000-\u001f\u007f]/;

type Problem = { rule: string; message: string };

/**
 * What is wrong with a string attribute, undefined when nothing is. The path
 * is added by the caller, and only for a problem: this runs for every
 * attribute of every record, and nearly all of them are fine.
 */
function textProblem(value: unknown, max: number): Problem | undefined {
  if (typeof value !== 'string') return value === undefined ? { rule: 'required', message: 'is missing' } : { rule: 'type', message: `must be a string, got ${typeName(value)}` };
  if (value.length === 0) return { rule: 'minLength', message: 'must not be empty' };
  if (value.length > max) return { rule: 'maxLength', message: `must be at most ${max} characters, got ${value.length}` };
  if (CONTROL.test(value)) return { rule: 'format', message: 'must not contain control characters' };
  return undefined;
}

const NOT_A_TOPIC_LEVEL: Problem = { rule: 'pattern', message: 'must be letters, digits, ".", "_" or "-" (it becomes a topic level)' };

function nameProblem(value: unknown): Problem | undefined {
  return textProblem(value, 64) ?? (NAME.test(value as string) ? undefined : NOT_A_TOPIC_LEVEL);
}

/** `reasons` with the problem of `prefix.key` added; the list is made at the first one. */
function withProblem(reasons: Reason[] | undefined, prefix: string, key: string, problem: Problem | undefined): Reason[] | undefined {
  if (problem === undefined) return reasons;
  const found = reason(`${prefix}.${key}`, problem.rule, problem.message);
  if (reasons === undefined) return [found];
  reasons.push(found);
  return reasons;
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

/** A string of 1..max characters without control characters. */
function cleanText(value: unknown, max: number): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= max && !CONTROL.test(value);
}

function cleanTime(value: unknown): value is string {
  return typeof value === 'string' && value.length <= 64 && RFC3339.test(value) && !Number.isNaN(Date.parse(value));
}

/**
 * Attribute texts already found clean. A site sends a handful of entities,
 * versions, sites, sources and validation marks, the same strings in every
 * record, so each is checked once; ids, times and correlation ids are new
 * every time and are checked every time.
 */
class CleanTexts {
  private readonly seen = new Set<string>();

  constructor(private readonly isClean: (text: string) => boolean) {}

  has(value: unknown): boolean {
    if (typeof value !== 'string') return false;
    if (this.seen.has(value)) return true;
    if (!this.isClean(value)) return false;
    // Bounded: a flow that makes up a new source per record must not grow it.
    if (this.seen.size >= 256) this.seen.clear();
    this.seen.add(value);
    return true;
  }
}

const cleanNames = new CleanTexts((text) => NAME.test(text));
const cleanVersions = new CleanTexts((text) => cleanText(text, 64) && majorOrNull(text) !== null);
const cleanSources = new CleanTexts((text) => cleanText(text, 1024));
const cleanMarks = new CleanTexts((text) => cleanText(text, 128));

/**
 * The checks of envelopeProblems() as one yes or no, without a word of any
 * reason: nearly every envelope is fine, and this runs for every record.
 * NAME, RFC3339 and TRACEPARENT admit no control characters and bound the
 * length themselves.
 */
function isClean(v: Record<string, unknown>): boolean {
  const { correlationId, traceparent, validated, probe } = v;
  return (
    cleanNames.has(v.entity) &&
    cleanVersions.has(v.version) &&
    cleanNames.has(v.site) &&
    cleanText(v.id, 256) &&
    cleanTime(v.time) &&
    cleanSources.has(v.source) &&
    (correlationId === undefined || cleanText(correlationId, 256)) &&
    (traceparent === undefined || (typeof traceparent === 'string' && TRACEPARENT.test(traceparent))) &&
    (validated === undefined || cleanMarks.has(validated)) &&
    (probe === undefined || cleanText(probe, 64))
  );
}

/**
 * What is wrong with `value` as an envelope, attribute by attribute;
 * undefined when nothing is. The words of checkEnvelope's refusals.
 */
export function envelopeProblems(value: unknown, prefix = 'cdm'): Reason[] | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return [reason(prefix, 'type', `must be an object with entity, version, site, id, time and source, got ${typeName(value)}`)];
  }
  const v = value as Record<string, unknown>;
  const { entity, version, site, id, time, source } = v;
  let reasons: Reason[] | undefined;
  reasons = withProblem(reasons, prefix, 'entity', nameProblem(entity));
  reasons = withProblem(reasons, prefix, 'version', textProblem(version, 64) ?? (majorOrNull(version as string) === null ? { rule: 'semver', message: `must be a semantic version such as 1.0.0, got "${version as string}"` } : undefined));
  reasons = withProblem(reasons, prefix, 'site', nameProblem(site));
  reasons = withProblem(reasons, prefix, 'id', textProblem(id, 256));
  reasons = withProblem(reasons, prefix, 'time', textProblem(time, 64) ?? (cleanTime(time) ? undefined : { rule: 'format', message: `must be an RFC 3339 date-time such as 2026-11-24T08:00:00Z, got "${time as string}"` }));
  reasons = withProblem(reasons, prefix, 'source', textProblem(source, 1024));
  if (v.correlationId !== undefined) reasons = withProblem(reasons, prefix, 'correlationId', textProblem(v.correlationId, 256));
  const traceparent = v.traceparent;
  if (traceparent !== undefined) {
    reasons = withProblem(reasons, prefix, 'traceparent', textProblem(traceparent, 55) ?? (TRACEPARENT.test(traceparent as string) ? undefined : { rule: 'format', message: 'must be a W3C traceparent such as 00-<32 hex>-<16 hex>-01' }));
  }
  if (v.validated !== undefined) reasons = withProblem(reasons, prefix, 'validated', textProblem(v.validated, 128));
  if (v.probe !== undefined) reasons = withProblem(reasons, prefix, 'probe', textProblem(v.probe, 64));
  return reasons;
}

/**
 * Whether checkEnvelope would take `value`, without the copy it makes: for a
 * caller that reads only the known attributes, at once (bus-publish).
 */
export function isCleanEnvelope(value: unknown): value is CdmEnvelope {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && isClean(value as Record<string, unknown>);
}

/**
 * Checks that `value` is a usable envelope and returns a clean copy holding
 * only the known attributes, so nothing a flow stuck on `msg.cdm` (or a
 * `__proto__` key from a parsed message) travels further.
 */
export function checkEnvelope(value: unknown, prefix = 'cdm'): Checked<CdmEnvelope> {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || !isClean(value as Record<string, unknown>)) {
    const reasons = envelopeProblems(value, prefix);
    // isClean and envelopeProblems ask the same questions; this holds should they ever part.
    if (reasons !== undefined) return { ok: false, reasons };
  }
  const v = value as Record<string, unknown>;
  const envelope: CdmEnvelope = { entity: v.entity as string, version: v.version as string, site: v.site as string, id: v.id as string, time: v.time as string, source: v.source as string };
  const { correlationId, traceparent, validated, probe } = v;
  if (typeof correlationId === 'string') envelope.correlationId = correlationId;
  if (typeof traceparent === 'string') envelope.traceparent = traceparent;
  if (typeof validated === 'string') envelope.validated = validated;
  if (typeof probe === 'string') envelope.probe = probe;
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
