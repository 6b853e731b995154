import { unescapePointer } from './json-text';
import { subschemas } from './schema-keywords';
import { isJsonObject } from './types';
import type { JsonSchema, JsonValue } from './types';

/**
 * Finds `$ref` targets the way draft 2020-12 does: by absolute URI, against
 * the base set by the nearest `$id`, with JSON-pointer and `$anchor`
 * fragments. The checker needs this because it compares what a schema means,
 * and a `$ref` into `common/` means whatever that file says.
 */
export interface SchemaIndex {
  readonly resources: Map<string, JsonSchema>;
  readonly anchors: Map<string, { schema: JsonSchema; base: string }>;
  readonly parent?: SchemaIndex;
}

/** A subschema with what is needed to resolve the `$ref`s inside it. */
export interface Located {
  schema: JsonSchema;
  base: string;
  index: SchemaIndex;
}

let anonymous = 0;

export function createSchemaIndex(parent?: SchemaIndex): SchemaIndex {
  return parent ? { resources: new Map(), anchors: new Map(), parent } : { resources: new Map(), anchors: new Map() };
}

/**
 * Adds a document and its embedded resources; returns the document located at
 * its base URI. A schema without `$id` gets a private base so its local
 * `#/...` refs still resolve.
 */
export function addSchemaDocument(index: SchemaIndex, schema: JsonSchema, retrievalUri?: string): Located {
  const fallback = retrievalUri ?? `https://tectonic.invalid/anonymous/${++anonymous}.json`;
  const base = typeof schema === 'object' && typeof schema.$id === 'string' ? resolveUri(schema.$id, fallback) : fallback;
  index.resources.set(stripFragment(fallback), schema);
  register(index, schema, base);
  return { schema, base: stripFragment(base), index };
}

function register(index: SchemaIndex, node: JsonSchema, base: string): void {
  if (!isJsonObject(node)) return;
  let here = base;
  if (typeof node.$id === 'string') {
    here = stripFragment(resolveUri(node.$id, base));
    index.resources.set(here, node);
  }
  if (typeof node.$anchor === 'string') index.anchors.set(`${here}#${node.$anchor}`, { schema: node, base: here });
  for (const [, sub] of subschemas(node)) register(index, sub, here);
}

/** Moves into a subschema, taking its `$id` as the new base. */
export function enter(from: Located, schema: JsonSchema): Located {
  if (typeof schema === 'object' && typeof schema.$id === 'string') {
    return { schema, base: stripFragment(resolveUri(schema.$id, from.base)), index: from.index };
  }
  return { schema, base: from.base, index: from.index };
}

export type RefResolution = { ok: true; target: Located } | { ok: false; message: string };

export function resolveRef(ref: string, from: Located): RefResolution {
  let absolute: string;
  try {
    absolute = resolveUri(ref, from.base);
  } catch {
    return { ok: false, message: `"${ref}" is not a valid URI reference` };
  }
  const hash = absolute.indexOf('#');
  const uri = hash < 0 ? absolute : absolute.slice(0, hash);
  const fragment = hash < 0 ? '' : decodeURIComponent(absolute.slice(hash + 1));
  if (fragment !== '' && !fragment.startsWith('/')) {
    const anchor = lookup(from.index, (i) => i.anchors.get(`${uri}#${fragment}`));
    if (!anchor) return { ok: false, message: `anchor "${fragment}" not found in ${uri}` };
    return { ok: true, target: { schema: anchor.schema, base: anchor.base, index: from.index } };
  }
  const root = lookup(from.index, (i) => i.resources.get(uri));
  if (root === undefined) return { ok: false, message: `no schema with $id ${uri} in the catalog` };
  let located: Located = { schema: root, base: uri, index: from.index };
  if (fragment === '') return { ok: true, target: located };
  let node: JsonValue = root;
  for (const token of fragment.slice(1).split('/').map(unescapePointer)) {
    const next: JsonValue | undefined = Array.isArray(node) ? node[Number(token)] : isJsonObject(node) && Object.hasOwn(node, token) ? node[token] : undefined;
    if (next === undefined) return { ok: false, message: `${ref} points at nothing (no "${token}")` };
    node = next;
    if (isJsonObject(node) || typeof node === 'boolean') located = enter(located, node);
  }
  if (!isJsonObject(node) && typeof node !== 'boolean') return { ok: false, message: `${ref} does not point at a schema` };
  return { ok: true, target: { schema: node, base: located.base, index: from.index } };
}

function lookup<T>(index: SchemaIndex | undefined, get: (i: SchemaIndex) => T | undefined): T | undefined {
  for (let i = index; i; i = i.parent) {
    const found = get(i);
    if (found !== undefined) return found;
  }
  return undefined;
}

export function resolveUri(ref: string, base: string): string {
  return new URL(ref, base).href;
}

export function stripFragment(uri: string): string {
  const hash = uri.indexOf('#');
  return hash < 0 ? uri : uri.slice(0, hash);
}

/** Every `$ref` in a document that does not resolve, with its location. */
export function findUnresolvedRefs(doc: Located): { pointer: string; ref: string; message: string }[] {
  const found: { pointer: string; ref: string; message: string }[] = [];
  const walk = (at: Located, node: JsonSchema, pointer: string): void => {
    if (!isJsonObject(node)) return;
    const here = enter(at, node);
    if (typeof node.$ref === 'string') {
      const r = resolveRef(node.$ref, here);
      if (!r.ok) found.push({ pointer: `${pointer}/$ref`, ref: node.$ref, message: r.message });
    }
    for (const [suffix, sub] of subschemas(node)) walk(here, sub, `${pointer}${suffix}`);
  };
  walk(doc, doc.schema, '');
  return found;
}
