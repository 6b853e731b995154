import sjson from 'secure-json-parse';
import { type DecodeLimits, DEFAULT_DECODE_LIMITS, exceedsDepth } from '../envelope/cloudevents';
import { type Checked, type Reason, reason } from '../reasons';

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
  let value: unknown;
  try {
    value = sjson.parse(payload.toString('utf8'), undefined, { protoAction: 'error', constructorAction: 'error' });
  } catch (err) {
    return { ok: false, reasons: [parseReason(err as Error)] };
  }
  if (exceedsDepth(value, limits.maxDepth)) return { ok: false, reasons: [reason('payload', 'maxDepth', `is nested deeper than ${limits.maxDepth} levels`)] };
  return { ok: true, value };
}

// The same rule names and words as lib/envelope/cloudevents.ts, so a catch node sees one vocabulary.
function parseReason(err: Error): Reason {
  if (/prototype/i.test(err.message)) return reason('payload', 'prototype-key', 'contains a forbidden __proto__ or constructor.prototype key');
  return reason('payload', 'json', `is not valid JSON: ${err.message}`);
}
