import { enter, resolveRef } from './ref-resolver';
import type { Located } from './ref-resolver';
import { ANNOTATIONS, ARRAY_SUBSCHEMAS, MAP_SUBSCHEMAS, SINGLE_SUBSCHEMA, isSchema } from './schema-keywords';
import { deepEqual } from './schema-view';
import { isJsonObject } from './types';
import type { JsonObject, JsonSchema, JsonValue } from './types';

const SINGLE = new Set<string>(SINGLE_SUBSCHEMA);
const ARRAYS = new Set<string>(ARRAY_SUBSCHEMAS);
const MAPS = new Set<string>(MAP_SUBSCHEMAS);
/** Keywords whose array value is a set: order does not change meaning. */
const SETS = new Set(['type', 'required', 'enum']);

const ids = new WeakMap<object, number>();
let nextId = 0;
/** A stable identity for a schema node, to detect cycles through `$ref`. */
export function nodeId(node: object): number {
  let id = ids.get(node);
  if (id === undefined) {
    id = ++nextId;
    ids.set(node, id);
  }
  return id;
}

/**
 * Whether two keyword values mean the same, following `$ref`s on both sides
 * and ignoring annotations. Used where the checker cannot reason about a
 * keyword (not, if/then/else, oneOf...): unchanged is fine, changed is
 * undecidable. Cycles are assumed equal: any difference shows up elsewhere.
 */
export function sameKeywordValue(keyword: string, a: JsonValue, aAt: Located, b: JsonValue, bAt: Located): boolean {
  return sameValue(keyword, a, aAt, b, bAt, new Set());
}

function sameValue(keyword: string, a: JsonValue, aAt: Located, b: JsonValue, bAt: Located, seen: Set<string>): boolean {
  if (SINGLE.has(keyword) || keyword === '$dynamicRef') {
    if (keyword === '$dynamicRef') return deepEqual(a, b);
    return isSchema(a) && isSchema(b) && sameSchema(a, aAt, b, bAt, seen);
  }
  if (ARRAYS.has(keyword)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => { const y = b[i]; return isSchema(x) && isSchema(y) && sameSchema(x, aAt, y, bAt, seen); });
  }
  if (MAPS.has(keyword)) {
    if (!isJsonObject(a) || !isJsonObject(b)) return false;
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((k) => { const x = a[k]; const y = b[k]; return Object.hasOwn(b, k) && isSchema(x) && isSchema(y) && sameSchema(x, aAt, y, bAt, seen); });
  }
  if (SETS.has(keyword) && Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((x) => b.some((y) => deepEqual(x, y)));
  }
  return deepEqual(a, b);
}

function sameSchema(a: JsonSchema, aFrom: Located, b: JsonSchema, bFrom: Located, seen: Set<string>): boolean {
  const left = follow(enter(aFrom, a));
  const right = follow(enter(bFrom, b));
  if (!left || !right) return false;
  if (typeof left.schema === 'boolean' || typeof right.schema === 'boolean') return left.schema === right.schema;
  const pair = `${nodeId(left.schema)}:${nodeId(right.schema)}`;
  if (seen.has(pair)) return true;
  seen.add(pair);
  const sa: JsonObject = left.schema;
  const sb: JsonObject = right.schema;
  const ka = meaningfulKeys(sa);
  const kb = meaningfulKeys(sb);
  if (ka.length !== kb.length || !ka.every((k) => kb.includes(k))) return false;
  return ka.every((k) => {
    if (k === '$ref') return sameRefTarget(left, right, seen);
    return sameValue(k, sa[k] as JsonValue, left, sb[k] as JsonValue, right, seen);
  });
}

/** A node that is only a `$ref` (plus annotations) is its target. */
function follow(at: Located): Located | undefined {
  let here = at;
  for (let hops = 0; hops < 32; hops++) {
    const s = here.schema;
    if (!isJsonObject(s) || typeof s.$ref !== 'string' || meaningfulKeys(s).length !== 1) return here;
    const r = resolveRef(s.$ref, here);
    if (!r.ok) return undefined;
    here = enter(r.target, r.target.schema);
  }
  return undefined;
}

function sameRefTarget(a: Located, b: Located, seen: Set<string>): boolean {
  const sa = a.schema as JsonObject;
  const sb = b.schema as JsonObject;
  if (typeof sa.$ref !== 'string' || typeof sb.$ref !== 'string') return false;
  const ra = resolveRef(sa.$ref, a);
  const rb = resolveRef(sb.$ref, b);
  return ra.ok && rb.ok && sameSchema(ra.target.schema, ra.target, rb.target.schema, rb.target, seen);
}

function meaningfulKeys(s: JsonObject): string[] {
  return Object.keys(s).filter((k) => !ANNOTATIONS.has(k) && !k.startsWith('x-'));
}
