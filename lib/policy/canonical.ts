import canonicalize from 'canonicalize';
import type { JsonValue } from '../catalog/types';
import { type Checked, reason } from '../reasons';

/**
 * The JSON data model a signature can cover: what RFC 8785 (JCS) defines a
 * canonical form for. Anything else (undefined, functions, Dates, Buffers,
 * NaN, Infinity, lone surrogates) is refused instead of being silently
 * dropped or converted, so that what is signed is exactly what was written.
 */
export function checkJsonData(value: unknown, path = ''): Checked<JsonValue> {
  const problem = findNonJson(value, path, 0);
  return problem ? { ok: false, reasons: [problem] } : { ok: true, value: value as JsonValue };
}

// With the u flag a surrogate pair is one code point, so only a lone
// surrogate falls in this range.
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

// Deep enough for any real bundle; a deeper document is refused rather than
// risking the stack on attacker-controlled nesting.
const MAX_DEPTH = 64;

function findNonJson(value: unknown, path: string, depth: number): ReturnType<typeof reason> | undefined {
  if (depth > MAX_DEPTH) return reason(path, 'json-depth', `nests deeper than ${MAX_DEPTH} levels`);
  if (value === null || typeof value === 'boolean') return undefined;
  if (typeof value === 'string') {
    // RFC 8785 section 3.2.2.2 works on I-JSON (RFC 7493), which forbids lone surrogates.
    return LONE_SURROGATE.test(value) ? reason(path, 'json-string', 'contains a lone UTF-16 surrogate, which has no canonical JSON form') : undefined;
  }
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : reason(path, 'json-number', `${value} has no JSON form`);
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = findNonJson(value[i], `${path}[${i}]`, depth + 1);
      if (found) return found;
    }
    return undefined;
  }
  if (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    for (const [key, member] of Object.entries(value)) {
      const found = findNonJson(member, path === '' ? key : `${path}.${key}`, depth + 1);
      if (found) return found;
    }
    return undefined;
  }
  return reason(path, 'json-type', `is a ${value === undefined ? 'undefined value' : typeof value === 'object' ? 'non-plain object' : typeof value}, which has no JSON form`);
}

/**
 * RFC 8785 canonical JSON: members sorted by UTF-16 code units, ECMAScript
 * number formatting, no whitespace. Done by `canonicalize`, written by the
 * RFC's author; the strict data check above runs first because that library
 * follows JSON.stringify in dropping undefined members.
 */
export function canonicalJson(value: unknown): Checked<string> {
  const checked = checkJsonData(value);
  if (!checked.ok) return checked;
  const text = canonicalize(checked.value);
  if (text === undefined) return { ok: false, reasons: [reason('', 'json-type', 'has no JSON form')] };
  return { ok: true, value: text };
}
