import { type Checked, reason } from '../reasons';
import { DEFAULT_MAX_DEPTH, isPrototypeKey } from '../untrusted-json';

/**
 * Helpers for values crossing the mapper: how a value is named in a reason,
 * and how a structured value is copied into the canonical record.
 */

/** Structured values deeper than this are refused: a canonical record is never this deep, and a cyclic one would never end. */
const MAX_COPY_DEPTH = DEFAULT_MAX_DEPTH;

export function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  return typeof value;
}

const MAX_SHOWN = 40;

/**
 * A value as a reason shows it: strings quoted and cut at 40 characters, so a
 * 10 MB field does not become a 10 MB log line.
 */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') {
    const shown = value.length > MAX_SHOWN ? `${value.slice(0, MAX_SHOWN)}…` : value;
    return `${JSON.stringify(shown)}${value.length > MAX_SHOWN ? ` (${value.length} characters)` : ''}`;
  }
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return typeName(value);
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/**
 * A fresh JSON copy of `value`, so the canonical record never shares objects
 * with the local one (a later node changing msg.payload must not change the
 * record kept for a reject) and carries only JSON data. Refused, as a message:
 * forbidden keys, non-JSON values (functions, NaN, Date objects...), nesting
 * deeper than MAX_COPY_DEPTH. `undefined` members are left out, as JSON does.
 */
export function copyJsonValue(value: unknown): Checked<unknown> {
  const problems: string[] = [];
  const copy = copyValue(value, 0, '', problems);
  if (problems.length > 0) return { ok: false, reasons: problems.map((m) => reason('', 'json', m)) };
  return { ok: true, value: copy };
}

function copyValue(value: unknown, depth: number, at: string, problems: string[]): unknown {
  if (problems.length > 0) return undefined;
  const where = at === '' ? '' : ` at "${at}"`;
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      if (!Number.isFinite(value)) problems.push(`holds ${String(value)}${where}, which JSON cannot carry`);
      return value;
    case 'object':
      break;
    default:
      problems.push(`holds a ${typeof value}${where}, which is not JSON data`);
      return undefined;
  }
  if (value === null) return null;
  if (depth >= MAX_COPY_DEPTH) {
    problems.push(`is nested deeper than ${MAX_COPY_DEPTH} levels${where}`);
    return undefined;
  }
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    for (let i = 0; i < value.length; i++) {
      // A hole or undefined element becomes null, as JSON.stringify writes it.
      const element = value[i] === undefined ? null : copyValue(value[i], depth + 1, at === '' ? String(i) : `${at}.${i}`, problems);
      out.push(element);
    }
    return out;
  }
  if (!isPlainObject(value)) {
    problems.push(`holds a ${value.constructor?.name ?? 'non-plain'} object${where}, which is not JSON data`);
    return undefined;
  }
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    const inner = at === '' ? key : `${at}.${key}`;
    // Any of the three names, not only the polluting arrangements: no mapping path can address such a key (lib/untrusted-json.ts).
    if (isPrototypeKey(key)) {
      problems.push(`holds the key "${key}"${at === '' ? '' : ` at "${at}"`}, which is refused`);
      return undefined;
    }
    const member = value[key];
    if (member === undefined) continue;
    out[key] = copyValue(member, depth + 1, inner, problems);
  }
  return out;
}
