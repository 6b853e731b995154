import { escapePointer } from './json-text';
import { isJsonObject } from './types';
import type { JsonObject, JsonSchema } from './types';

/** Draft 2020-12 keywords whose value is one subschema. */
export const SINGLE_SUBSCHEMA = ['items', 'additionalProperties', 'unevaluatedProperties', 'unevaluatedItems', 'not', 'if', 'then', 'else', 'contains', 'propertyNames', 'contentSchema'] as const;
/** Keywords whose value is an array of subschemas. */
export const ARRAY_SUBSCHEMAS = ['allOf', 'anyOf', 'oneOf', 'prefixItems'] as const;
/** Keywords whose value maps names to subschemas. */
export const MAP_SUBSCHEMAS = ['properties', 'patternProperties', '$defs', 'definitions', 'dependentSchemas'] as const;

/**
 * Keywords that change nothing about which instances are valid. The checker
 * ignores them when comparing versions, so a new description or example is
 * never a breaking change.
 */
export const ANNOTATIONS = new Set([
  '$schema', '$id', '$anchor', '$dynamicAnchor', '$comment', '$defs', 'definitions', '$vocabulary',
  'title', 'description', 'default', 'examples', 'deprecated', 'readOnly', 'writeOnly',
  'contentEncoding', 'contentMediaType', 'contentSchema',
]);

export function isSchema(value: unknown): value is JsonSchema {
  return typeof value === 'boolean' || isJsonObject(value);
}

/** The direct subschemas of a schema object, with their JSON-pointer suffix. */
export function subschemas(node: JsonObject): [string, JsonSchema][] {
  const out: [string, JsonSchema][] = [];
  for (const key of SINGLE_SUBSCHEMA) {
    const v = node[key];
    if (isSchema(v)) out.push([`/${key}`, v]);
  }
  for (const key of ARRAY_SUBSCHEMAS) {
    const v = node[key];
    if (Array.isArray(v)) v.forEach((s, i) => isSchema(s) && out.push([`/${key}/${i}`, s]));
  }
  for (const key of MAP_SUBSCHEMAS) {
    const v = node[key];
    if (isJsonObject(v)) for (const [name, s] of Object.entries(v)) if (isSchema(s)) out.push([`/${key}/${escapePointer(name)}`, s]);
  }
  return out;
}
