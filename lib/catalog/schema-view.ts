import { createSchemaIndex, enter, resolveRef } from './ref-resolver';
import type { Located } from './ref-resolver';
import { isSchema } from './schema-keywords';
import { isJsonObject } from './types';
import type { JsonObject, JsonValue } from './types';

/** A schema to compare: one located subschema, or several that all apply. */
export type SchemaRef = Located | { all: SchemaRef[] };

export type JsonType = 'null' | 'boolean' | 'object' | 'array' | 'number' | 'integer' | 'string';
export const ALL_TYPES: readonly JsonType[] = ['null', 'boolean', 'object', 'array', 'number', 'integer', 'string'];

export interface Bound {
  value: number;
  exclusive: boolean;
}

/** A keyword kept as written, compared between versions only for equality. */
export interface OpaqueKeyword {
  keyword: string;
  value: JsonValue;
  at: Located;
}

export interface Union {
  keyword: 'anyOf' | 'oneOf';
  branches: SchemaRef[];
  value: JsonValue;
  at: Located;
}

/**
 * What one schema node means once `$ref` and `allOf` are folded in: the
 * flat list of constraints the checker compares keyword by keyword.
 * Subschemas stay unexpanded (SchemaRef) so recursive schemas stay finite.
 */
export interface SchemaView {
  never: boolean;
  /** undefined: any type. */
  types?: Set<JsonType>;
  /** enum and const together; undefined: not restricted. */
  values?: JsonValue[];
  fromConst: boolean;
  lower?: Bound;
  upper?: Bound;
  multipleOf: number[];
  minLength?: number;
  maxLength?: number;
  patterns: string[];
  formats: string[];
  minItems?: number;
  maxItems?: number;
  uniqueItems: boolean;
  prefixItems: SchemaRef[];
  /** undefined: items past prefixItems are unconstrained. */
  items?: SchemaRef;
  properties: Map<string, SchemaRef>;
  required: Set<string>;
  /** undefined: an open content model (undeclared properties accepted as anything). */
  additional?: SchemaRef;
  minProperties?: number;
  maxProperties?: number;
  dependentRequired: Map<string, Set<string>>;
  opaque: OpaqueKeyword[];
  unions: Union[];
  /** `$ref`s that did not resolve, cycles: reported as breaking, never guessed. */
  problems: { rule: string; message: string }[];
}

export const TRUE_SCHEMA: Located = { schema: true, base: 'https://tectonic.invalid/true', index: createSchemaIndex() };

export function emptyView(): SchemaView {
  return { never: false, fromConst: false, multipleOf: [], patterns: [], formats: [], uniqueItems: false, prefixItems: [], properties: new Map(), required: new Set(), dependentRequired: new Map(), opaque: [], unions: [], problems: [] };
}

export function isLocated(ref: SchemaRef): ref is Located {
  return 'schema' in ref;
}

/** True for a subschema that is literally `false` (the closed-content marker). */
export function isFalse(ref: SchemaRef | undefined): boolean {
  return ref !== undefined && isLocated(ref) && ref.schema === false;
}

export function conj(a: SchemaRef | undefined, b: SchemaRef | undefined): SchemaRef | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return { all: [a, b] };
}

/** Keywords with no effect on the instance sets that the checker must not flag. */
const OPAQUE = ['not', 'if', 'then', 'else', 'dependentSchemas', 'patternProperties', 'propertyNames', 'contains', 'minContains', 'maxContains', 'unevaluatedItems', '$dynamicRef', '$recursiveRef'];

export function normalize(ref: SchemaRef, chain: Set<JsonObject> = new Set()): SchemaView {
  if (!isLocated(ref)) return ref.all.map((r) => normalize(r, chain)).reduce(mergeViews, emptyView());
  const { schema } = ref;
  if (schema === true) return emptyView();
  if (schema === false) return { ...emptyView(), never: true };
  const at = enter(ref, schema);
  let view = ownKeywords(schema, at);
  if (typeof schema.$ref === 'string') {
    if (chain.has(schema)) {
      view.problems.push({ rule: 'undecidable', message: `$ref "${schema.$ref}" loops back to itself without any constraint in between` });
    } else {
      const target = resolveRef(schema.$ref, at);
      if (!target.ok) view.problems.push({ rule: 'ref-unresolved', message: `$ref "${schema.$ref}" cannot be resolved: ${target.message}` });
      else view = mergeViews(view, normalize(target.target, new Set([...chain, schema])));
    }
  }
  if (Array.isArray(schema.allOf)) {
    for (const branch of schema.allOf) if (isSchema(branch)) view = mergeViews(view, normalize(enter(at, branch), chain));
  }
  applyUnevaluatedProperties(schema, at, view);
  return view;
}

function ownKeywords(s: JsonObject, at: Located): SchemaView {
  const v = emptyView();
  const sub = (value: JsonValue | undefined): SchemaRef | undefined => (isSchema(value) ? enter(at, value) : undefined);
  if (typeof s.type === 'string') v.types = new Set([s.type as JsonType]);
  else if (Array.isArray(s.type)) v.types = new Set(s.type.filter((t): t is JsonType => typeof t === 'string'));
  if (Array.isArray(s.enum)) v.values = [...s.enum];
  if (s.const !== undefined) {
    v.values = v.values ? v.values.filter((x) => deepEqual(x, s.const as JsonValue)) : [s.const];
    v.fromConst = true;
  }
  v.lower = tighterLower(num(s.minimum, false), num(s.exclusiveMinimum, true));
  v.upper = tighterUpper(num(s.maximum, false), num(s.exclusiveMaximum, true));
  if (typeof s.multipleOf === 'number') v.multipleOf.push(s.multipleOf);
  if (typeof s.minLength === 'number') v.minLength = s.minLength;
  if (typeof s.maxLength === 'number') v.maxLength = s.maxLength;
  if (typeof s.pattern === 'string') v.patterns.push(s.pattern);
  if (typeof s.format === 'string') v.formats.push(s.format);
  if (typeof s.minItems === 'number') v.minItems = s.minItems;
  if (typeof s.maxItems === 'number') v.maxItems = s.maxItems;
  v.uniqueItems = s.uniqueItems === true;
  if (Array.isArray(s.prefixItems)) v.prefixItems = s.prefixItems.filter(isSchema).map((x) => enter(at, x));
  v.items = sub(s.items);
  if (isJsonObject(s.properties)) for (const [name, p] of Object.entries(s.properties)) if (isSchema(p)) v.properties.set(name, enter(at, p));
  if (Array.isArray(s.required)) for (const r of s.required) if (typeof r === 'string') v.required.add(r);
  // With patternProperties, additionalProperties no longer covers every other
  // name; leaving it out over-approximates a writer, and the opaque entry
  // makes any reader-side difference undecidable.
  if (s.patternProperties === undefined) v.additional = sub(s.additionalProperties);
  if (typeof s.minProperties === 'number') v.minProperties = s.minProperties;
  if (typeof s.maxProperties === 'number') v.maxProperties = s.maxProperties;
  if (isJsonObject(s.dependentRequired)) {
    for (const [k, deps] of Object.entries(s.dependentRequired)) {
      if (Array.isArray(deps)) v.dependentRequired.set(k, new Set(deps.filter((d): d is string => typeof d === 'string')));
    }
  }
  for (const keyword of ['anyOf', 'oneOf'] as const) {
    const value = s[keyword];
    if (Array.isArray(value)) v.unions.push({ keyword, branches: value.filter(isSchema).map((b) => enter(at, b)), value, at });
  }
  for (const keyword of OPAQUE) if (s[keyword] !== undefined) v.opaque.push({ keyword, value: s[keyword], at });
  return v;
}

/**
 * unevaluatedProperties sees the properties of the whole node, `$ref` and
 * `allOf` included, so it is applied after merging. Next to anyOf/oneOf or
 * opaque applicators what counts as evaluated depends on the instance: kept
 * as opaque then.
 */
function applyUnevaluatedProperties(s: JsonObject, at: Located, view: SchemaView): void {
  const u = s.unevaluatedProperties;
  if (!isSchema(u)) return;
  if (view.unions.length > 0 || view.opaque.some((o) => o.keyword === 'patternProperties' || o.keyword === 'dependentSchemas' || o.keyword === 'if')) {
    view.opaque.push({ keyword: 'unevaluatedProperties', value: u, at });
    return;
  }
  view.additional = conj(view.additional, enter(at, u));
}

function num(value: JsonValue | undefined, exclusive: boolean): Bound | undefined {
  return typeof value === 'number' ? { value, exclusive } : undefined;
}

export function tighterLower(a: Bound | undefined, b: Bound | undefined): Bound | undefined {
  if (!a) return b;
  if (!b) return a;
  if (a.value !== b.value) return a.value > b.value ? a : b;
  return a.exclusive ? a : b;
}

export function tighterUpper(a: Bound | undefined, b: Bound | undefined): Bound | undefined {
  if (!a) return b;
  if (!b) return a;
  if (a.value !== b.value) return a.value < b.value ? a : b;
  return a.exclusive ? a : b;
}

const maxOf = (a?: number, b?: number): number | undefined => (a === undefined ? b : b === undefined ? a : Math.max(a, b));
const minOf = (a?: number, b?: number): number | undefined => (a === undefined ? b : b === undefined ? a : Math.min(a, b));

function intersectTypes(a?: Set<JsonType>, b?: Set<JsonType>): Set<JsonType> | undefined {
  if (!a) return b;
  if (!b) return a;
  const out = new Set<JsonType>();
  for (const t of a) {
    if (b.has(t)) out.add(t);
    else if (t === 'integer' && b.has('number')) out.add('integer');
    else if (t === 'number' && b.has('integer')) out.add('integer');
  }
  return out;
}

/** Both views at once: the instances valid under a and under b. */
export function mergeViews(a: SchemaView, b: SchemaView): SchemaView {
  const m = emptyView();
  m.never = a.never || b.never;
  m.types = intersectTypes(a.types, b.types);
  m.values = a.values && b.values ? a.values.filter((x) => b.values?.some((y) => deepEqual(x, y))) : (a.values ?? b.values);
  m.fromConst = a.fromConst || b.fromConst;
  m.lower = tighterLower(a.lower, b.lower);
  m.upper = tighterUpper(a.upper, b.upper);
  m.multipleOf = [...a.multipleOf, ...b.multipleOf];
  m.minLength = maxOf(a.minLength, b.minLength);
  m.maxLength = minOf(a.maxLength, b.maxLength);
  m.patterns = [...new Set([...a.patterns, ...b.patterns])];
  m.formats = [...new Set([...a.formats, ...b.formats])];
  m.minItems = maxOf(a.minItems, b.minItems);
  m.maxItems = minOf(a.maxItems, b.maxItems);
  m.uniqueItems = a.uniqueItems || b.uniqueItems;
  const positions = Math.max(a.prefixItems.length, b.prefixItems.length);
  for (let i = 0; i < positions; i++) {
    const item = conj(a.prefixItems[i] ?? a.items, b.prefixItems[i] ?? b.items);
    m.prefixItems.push(item ?? TRUE_SCHEMA);
  }
  m.items = conj(a.items, b.items);
  for (const name of new Set([...a.properties.keys(), ...b.properties.keys()])) {
    const p = conj(a.properties.get(name) ?? a.additional, b.properties.get(name) ?? b.additional);
    if (p) m.properties.set(name, p);
  }
  m.required = new Set([...a.required, ...b.required]);
  m.additional = conj(a.additional, b.additional);
  m.minProperties = maxOf(a.minProperties, b.minProperties);
  m.maxProperties = minOf(a.maxProperties, b.maxProperties);
  for (const source of [a.dependentRequired, b.dependentRequired]) {
    for (const [k, deps] of source) m.dependentRequired.set(k, new Set([...(m.dependentRequired.get(k) ?? []), ...deps]));
  }
  m.opaque = [...a.opaque, ...b.opaque];
  m.unions = [...a.unions, ...b.unions];
  m.problems = [...a.problems, ...b.problems];
  return m;
}

/** No instance is valid: false, an empty enum, or no type left after merging. */
export function acceptsNothing(v: SchemaView): boolean {
  return v.never || (v.types !== undefined && v.types.size === 0) || (v.values !== undefined && v.values.length === 0);
}

export function deepEqual(a: JsonValue, b: JsonValue): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => deepEqual(x, b[i] as JsonValue));
  const ao = a as JsonObject;
  const bo = b as JsonObject;
  const keys = Object.keys(ao);
  return keys.length === Object.keys(bo).length && keys.every((k) => Object.hasOwn(bo, k) && deepEqual(ao[k] as JsonValue, bo[k] as JsonValue));
}
