import { fullFormats } from 'ajv-formats/dist/formats';
import { TRUE_SCHEMA, acceptsNothing, deepEqual, mergeViews, normalize } from './schema-view';
import type { Bound, SchemaRef, SchemaView } from './schema-view';
import { isJsonObject } from './types';
import type { JsonValue } from './types';

/** true, false, or 'unknown' when the schema uses keywords this does not evaluate. */
export type Verdict = boolean | 'unknown';

/**
 * Whether a schema accepts one value. When the older schema is an enum (a
 * finite set of values) the exact answer is to try each value on the newer
 * schema, which is what the checker does with this.
 */
export function acceptsValue(ref: SchemaRef, value: JsonValue, depth = 0): Verdict {
  if (depth > 64) return 'unknown';
  return viewAccepts(normalize(ref), value, depth);
}

export function viewAccepts(v: SchemaView, value: JsonValue, depth = 0): Verdict {
  if (v.problems.length > 0 || v.opaque.length > 0) return 'unknown';
  if (acceptsNothing(v)) return false;
  if (v.unions.length > 0) {
    const [first, ...rest] = v.unions;
    if (!first) return 'unknown';
    const others = { ...v, unions: rest };
    let matches = 0;
    let unknown = false;
    for (const branch of first.branches) {
      const r = viewAccepts(mergeViews(others, normalize(branch)), value, depth + 1);
      if (r === 'unknown') unknown = true;
      else if (r) matches++;
    }
    if (unknown) return 'unknown';
    return first.keyword === 'anyOf' ? matches > 0 : matches === 1;
  }
  if (v.types && !typeMatches(v.types, value)) return false;
  if (v.values && !v.values.some((x) => deepEqual(x, value))) return false;
  if (typeof value === 'number') return numberAccepted(v, value);
  if (typeof value === 'string') return stringAccepted(v, value);
  if (Array.isArray(value)) return arrayAccepted(v, value, depth);
  if (isJsonObject(value)) return objectAccepted(v, value, depth);
  return true;
}

function typeMatches(types: Set<string>, value: JsonValue): boolean {
  if (value === null) return types.has('null');
  if (Array.isArray(value)) return types.has('array');
  if (typeof value === 'number') return types.has('number') || (types.has('integer') && Number.isInteger(value));
  return types.has(typeof value);
}

function above(b: Bound | undefined, n: number): boolean {
  return !b || (b.exclusive ? n > b.value : n >= b.value);
}
function below(b: Bound | undefined, n: number): boolean {
  return !b || (b.exclusive ? n < b.value : n <= b.value);
}
function within(n: number, min?: number, max?: number): boolean {
  return (min === undefined || n >= min) && (max === undefined || n <= max);
}

function numberAccepted(v: SchemaView, n: number): Verdict {
  if (!above(v.lower, n) || !below(v.upper, n)) return false;
  return v.multipleOf.every((m) => Math.abs(n / m - Math.round(n / m)) < 1e-9);
}

function stringAccepted(v: SchemaView, s: string): Verdict {
  if (!within([...s].length, v.minLength, v.maxLength)) return false;
  for (const p of v.patterns) {
    try {
      if (!new RegExp(p, 'u').test(s)) return false;
    } catch {
      return 'unknown';
    }
  }
  for (const f of v.formats) {
    const r = checkFormat(f, s);
    if (r !== true) return r;
  }
  return true;
}

function checkFormat(name: string, s: string): Verdict {
  const def = (fullFormats as Record<string, unknown>)[name];
  const test = (check: unknown): Verdict => (check instanceof RegExp ? check.test(s) : typeof check === 'function' ? Boolean((check as (x: string) => unknown)(s)) : 'unknown');
  if (def === undefined) return 'unknown';
  if (typeof def === 'object' && def !== null && !(def instanceof RegExp)) return test((def as { validate?: unknown }).validate);
  return test(def);
}

function arrayAccepted(v: SchemaView, a: JsonValue[], depth: number): Verdict {
  if (!within(a.length, v.minItems, v.maxItems)) return false;
  if (v.uniqueItems && a.some((x, i) => a.findIndex((y) => deepEqual(x, y)) !== i)) return false;
  return all(a.map((item, i) => acceptsValue(v.prefixItems[i] ?? v.items ?? TRUE_SCHEMA, item, depth + 1)));
}

function objectAccepted(v: SchemaView, o: { [k: string]: JsonValue }, depth: number): Verdict {
  const keys = Object.keys(o);
  if (!within(keys.length, v.minProperties, v.maxProperties)) return false;
  for (const r of v.required) if (!Object.hasOwn(o, r)) return false;
  for (const [k, deps] of v.dependentRequired) if (Object.hasOwn(o, k) && [...deps].some((d) => !Object.hasOwn(o, d))) return false;
  return all(keys.map((k) => acceptsValue(v.properties.get(k) ?? v.additional ?? TRUE_SCHEMA, o[k] as JsonValue, depth + 1)));
}

function all(verdicts: Verdict[]): Verdict {
  if (verdicts.includes(false)) return false;
  return verdicts.includes('unknown') ? 'unknown' : true;
}
