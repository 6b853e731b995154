import { type CdmEnvelope, checkEnvelope, typeName } from './envelope';
import { type DecodeLimits, DEFAULT_DECODE_LIMITS } from './cloudevents';
import { type Checked, type Reason, reason } from '../reasons';
import { exceedsDepth, parseJsonRefusingPrototypeKeys } from '../untrusted-json';

/**
 * A rejected message on its way to `tectonic/dlq/{site}/{stage}`: what was
 * refused, where, why, and the message as it was (masked where a policy
 * said so), so a technician can fix the cause and replay it.
 * See docs/message-contract.md, "Dead letters".
 */
export interface DeadLetter {
  site: string;
  stage: string;
  time: string;
  reasons: Reason[];
  cdm?: CdmEnvelope;
  payload: unknown;
}

export const DEAD_LETTER_KIND = 'tectonic.dead-letter';
const LEVEL = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export function deadLetterTopic(site: string, stage: string): string {
  return `tectonic/dlq/${site}/${stage}`;
}

export function deadLetterFilter(site: string): string {
  return `tectonic/dlq/${site === '' ? '+' : site}/+`;
}

function isReason(value: unknown): value is Reason {
  const r = value as Reason;
  return typeof value === 'object' && value !== null && typeof r.path === 'string' && typeof r.rule === 'string' && typeof r.message === 'string';
}

/** Builds the dead letter for a message that carries `msg.reject`; a missing or odd stage becomes "unknown". */
export function deadLetterOf(input: { reject: unknown; cdm: unknown; payload: unknown; site: string; now: Date }): Checked<{ topic: string; letter: DeadLetter; body: Buffer }> {
  if (!LEVEL.test(input.site)) return { ok: false, reasons: [reason('site', 'pattern', `"${input.site}" is not a site id`)] };
  const reject = input.reject as { stage?: unknown; reasons?: unknown } | undefined;
  if (typeof reject !== 'object' || reject === null) {
    return { ok: false, reasons: [reason('reject', 'required', 'a dead letter needs msg.reject = { stage, reasons } from the node that refused the message')] };
  }
  const stage = typeof reject.stage === 'string' && LEVEL.test(reject.stage) ? reject.stage : 'unknown';
  const reasons = Array.isArray(reject.reasons) ? reject.reasons.filter(isReason).map((r) => ({ path: r.path, rule: r.rule, message: r.message })) : [];
  const envelope = checkEnvelope(input.cdm);
  const letter: DeadLetter = { site: input.site, stage, time: input.now.toISOString(), reasons, payload: input.payload };
  if (envelope.ok) letter.cdm = envelope.value;
  let body: string;
  try {
    body = JSON.stringify({ kind: DEAD_LETTER_KIND, ...letter });
  } catch (err) {
    return { ok: false, reasons: [reason('payload', 'json', `cannot be written as JSON: ${(err as Error).message}`)] };
  }
  return { ok: true, value: { topic: deadLetterTopic(input.site, stage), letter, body: Buffer.from(body) } };
}

export function decodeDeadLetter(payload: Buffer, limits: DecodeLimits = DEFAULT_DECODE_LIMITS): Checked<DeadLetter> {
  if (payload.length > limits.maxBytes) return { ok: false, reasons: [reason('', 'maxBytes', `message is ${payload.length} bytes, more than the limit of ${limits.maxBytes}`)] };
  let doc: unknown;
  try {
    doc = parseJsonRefusingPrototypeKeys(payload.toString('utf8'));
  } catch (err) {
    return { ok: false, reasons: [reason('', 'json', `is not valid JSON (or has a __proto__ key): ${(err as Error).message}`)] };
  }
  const d = doc as Record<string, unknown>;
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc) || d.kind !== DEAD_LETTER_KIND) {
    return { ok: false, reasons: [reason('kind', 'const', `must be a ${DEAD_LETTER_KIND} document, got ${typeName(doc)}`)] };
  }
  if (typeof d.site !== 'string' || typeof d.stage !== 'string' || typeof d.time !== 'string' || !Array.isArray(d.reasons)) {
    return { ok: false, reasons: [reason('', 'shape', 'needs site, stage, time and reasons')] };
  }
  if (exceedsDepth(d.payload, limits.maxDepth)) return { ok: false, reasons: [reason('payload', 'maxDepth', `is nested deeper than ${limits.maxDepth} levels`)] };
  const letter: DeadLetter = { site: d.site, stage: d.stage, time: d.time, reasons: d.reasons.filter(isReason), payload: d.payload };
  if (d.cdm !== undefined && d.cdm !== null) {
    const envelope = checkEnvelope(d.cdm);
    if (!envelope.ok) return envelope;
    letter.cdm = envelope.value;
  }
  return { ok: true, value: letter };
}
