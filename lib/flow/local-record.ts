import { type DecodeLimits, DEFAULT_DECODE_LIMITS } from '../envelope/cloudevents';
import { type Checked, reason } from '../reasons';
import { exceedsDepth, parseUntrustedJson } from '../untrusted-json';

/**
 * A site's own record as it enters the flow from the bus (bus-subscribe's
 * `records` kind): plain JSON on any topic, no envelope yet (cdm-map makes
 * one). It gets the same guards as a canonical message's data: the size
 * limit before parsing, no `__proto__` or `constructor.prototype` key, and no
 * nesting deeper than the limit, since later stages walk it recursively.
 */
export function decodeLocalRecord(payload: Buffer, limits: DecodeLimits = DEFAULT_DECODE_LIMITS): Checked<unknown> {
  if (payload.length > limits.maxBytes) {
    return { ok: false, reasons: [reason('', 'maxBytes', `message is ${payload.length} bytes, more than the limit of ${limits.maxBytes}`)] };
  }
  const parsed = parseUntrustedJson(payload.toString('utf8'), 'payload');
  if (!parsed.ok) return parsed;
  const value = parsed.value;
  if (exceedsDepth(value, limits.maxDepth)) return { ok: false, reasons: [reason('payload', 'maxDepth', `is nested deeper than ${limits.maxDepth} levels`)] };
  return { ok: true, value };
}
