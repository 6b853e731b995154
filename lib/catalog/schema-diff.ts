import { breaking } from './compat-rules';
import type { DiffContext } from './compat-rules';
import { diffArrays, diffNumbers, diffStrings } from './diff-scalars';
import { diffObjects } from './diff-object';
import { sameKeywordValue, nodeId } from './schema-equality';
import { ALL_TYPES, acceptsNothing, isLocated, mergeViews, normalize } from './schema-view';
import type { JsonType, SchemaRef, SchemaView } from './schema-view';
import type { CompatibilityReason, JsonValue } from './types';
import { viewAccepts } from './value-check';

export type Recurse = (writer: SchemaRef, reader: SchemaRef, path: string) => CompatibilityReason[];

const MAX_DEPTH = 64;

/**
 * Every way an instance valid under `writer` can be invalid under `reader`,
 * i.e. the evidence against "writer ⊆ reader". Sound by construction:
 * where the answer is not certain the reason is `undecidable`, never silence.
 */
export function diffSchemas(writer: SchemaRef, reader: SchemaRef, ctx: DiffContext, path = '$'): CompatibilityReason[] {
  const pair = `${refKey(writer)}=>${refKey(reader)}`;
  // Recursive schemas (a tree of nodes) meet the same pair again deeper
  // down; assuming it holds there is the standard co-inductive argument:
  // any difference is found on the first visit.
  if (ctx.seen.has(pair)) return [];
  if (ctx.depth > MAX_DEPTH) return [breaking(ctx, 'undecidable', path, `schemas nest deeper than ${MAX_DEPTH} levels`)];
  const inner: DiffContext = { ...ctx, seen: new Set([...ctx.seen, pair]), depth: ctx.depth + 1 };
  const recurse: Recurse = (w, r, p) => diffSchemas(w, r, inner, p);
  return dedupe(diffViews(normalize(writer), normalize(reader), inner, path, recurse));
}

function refKey(ref: SchemaRef): string {
  if (!isLocated(ref)) return `(${ref.all.map(refKey).join('&')})`;
  return typeof ref.schema === 'boolean' ? String(ref.schema) : `${nodeId(ref.schema)}`;
}

/**
 * `writerTypes`: when w is one branch of a writer union, the types of the
 * whole union, so a branch that adds `null` is named a widening, as the
 * change from the older to the newer schema is, not a type change.
 */
export function diffViews(w: SchemaView, r: SchemaView, ctx: DiffContext, path: string, recurse: Recurse, writerTypes?: Set<JsonType>): CompatibilityReason[] {
  const reasons: CompatibilityReason[] = [];
  for (const p of [...w.problems, ...r.problems]) reasons.push(breaking(ctx, p.rule === 'ref-unresolved' ? 'refUnresolved' : 'undecidable', path, p.message));
  if (acceptsNothing(w)) return reasons;
  if (acceptsNothing(r)) return [...reasons, breaking(ctx, 'forbidden', path, 'the value is forbidden (schema false or no value left)')];

  const writerUnion = w.unions[0];
  if (writerUnion) {
    const shared = r.unions.findIndex((u) => u.keyword === writerUnion.keyword && sameKeywordValue(u.keyword, writerUnion.value, writerUnion.at, u.value, u.at));
    if (shared >= 0) {
      // The same union on both sides: compare what is left around it.
      return [...reasons, ...diffViews({ ...w, unions: w.unions.slice(1) }, { ...r, unions: r.unions.filter((_, i) => i !== shared) }, ctx, path, recurse)];
    }
    // A writer union is the set of its branches: each must be readable.
    const rest = { ...w, unions: w.unions.slice(1) };
    const branches = writerUnion.branches.map((b) => mergeViews(rest, normalize(b)));
    const unionTypes = branches.every((b) => b.types) ? new Set(branches.flatMap((b) => [...(b.types ?? [])])) : undefined;
    for (const branch of branches) reasons.push(...diffViews(branch, r, ctx, path, recurse, unionTypes));
    return dedupe(reasons);
  }
  const readerUnion = r.unions[0];
  if (readerUnion) return [...reasons, ...diffReaderUnion(w, r, ctx, path, recurse)];

  for (const o of r.opaque) {
    const same = w.opaque.some((x) => x.keyword === o.keyword && sameKeywordValue(o.keyword, x.value, x.at, o.value, o.at));
    if (!same) reasons.push(breaking(ctx, 'undecidable', path, `"${o.keyword}" differs between the versions and its effect cannot be compared`));
  }

  if (w.values) return [...reasons, ...diffWriterValues(w.values, w.fromConst, r, ctx, path)];

  const wTypes = w.types ?? new Set(ALL_TYPES);
  const rTypes = r.types ?? new Set(ALL_TYPES);
  const readable = (t: JsonType): boolean => rTypes.has(t) || (t === 'integer' && rTypes.has('number'));
  const lost = [...wTypes].filter((t) => !readable(t));
  if (lost.length > 0) {
    const naming = writerTypes ?? wTypes;
    const changed = [...rTypes].some((t) => !naming.has(t) && !(t === 'integer' && naming.has('number')));
    reasons.push(breaking(ctx, changed ? 'typeChanged' : 'type', path, `type ${lost.join(', ')} is accepted by one version and not the other`, typesValue(w.types), typesValue(r.types)));
  }
  const common = new Set([...wTypes].filter(readable));
  if (r.values) {
    reasons.push(...diffReaderValues(common, r, ctx, path));
    return reasons;
  }
  if (common.has('number') || common.has('integer') || (wTypes.has('number') && rTypes.has('integer'))) reasons.push(...diffNumbers(w, r, ctx, path));
  if (common.has('string')) reasons.push(...diffStrings(w, r, ctx, path));
  if (common.has('array')) reasons.push(...diffArrays(w, r, ctx, path, recurse));
  if (common.has('object')) reasons.push(...diffObjects(w, r, ctx, path, recurse));
  return reasons;
}

function diffReaderUnion(w: SchemaView, r: SchemaView, ctx: DiffContext, path: string, recurse: Recurse): CompatibilityReason[] {
  const [union, ...others] = r.unions;
  if (!union) return [];
  const rest = { ...r, unions: others };
  if (union.keyword === 'oneOf') {
    return [breaking(ctx, 'undecidable', path, '"oneOf" differs between the versions; exclusive unions cannot be compared')];
  }
  // Sufficient, not necessary: all writer data fits one branch. When no
  // single branch does, the union of branches might still cover it.
  const attempts = union.branches.map((b) => diffViews(w, mergeViews(rest, normalize(b)), ctx, path, recurse));
  if (attempts.some((a) => a.length === 0)) return [];
  if (attempts.length === 1) return attempts[0] ?? [];
  return [breaking(ctx, 'undecidable', path, 'no single branch of the reader\'s "anyOf" accepts all the writer\'s data')];
}

function diffWriterValues(values: JsonValue[], fromConst: boolean, r: SchemaView, ctx: DiffContext, path: string): CompatibilityReason[] {
  const refused: JsonValue[] = [];
  let unknown = false;
  for (const value of values) {
    const verdict = viewAccepts(r, value);
    if (verdict === 'unknown') unknown = true;
    else if (!verdict) refused.push(value);
  }
  const reasons: CompatibilityReason[] = [];
  if (refused.length > 0) {
    const constChange = fromConst && r.fromConst;
    reasons.push(breaking(ctx, constChange ? 'constChanged' : 'enumValues', path, `value(s) ${refused.map((v) => JSON.stringify(v)).join(', ')} accepted by one version are refused by the other`, values, r.values ?? null));
  }
  if (unknown) reasons.push(breaking(ctx, 'undecidable', path, 'some enum values cannot be checked against the other version'));
  return reasons;
}

function diffReaderValues(common: Set<JsonType>, r: SchemaView, ctx: DiffContext, path: string): CompatibilityReason[] {
  const finite = [...common].every((t) => t === 'null' || t === 'boolean');
  if (finite) {
    const candidates: JsonValue[] = [...(common.has('null') ? [null] : []), ...(common.has('boolean') ? [true, false] : [])];
    const refused = candidates.filter((c) => !(r.values ?? []).some((v) => v === c));
    if (refused.length === 0) return [];
  }
  return [breaking(ctx, r.fromConst ? 'constPresence' : 'enumPresence', path, `${r.fromConst ? 'a const' : 'an enum'} restricts values that the other version leaves free`, undefined, r.values ?? null)];
}

function typesValue(types: Set<JsonType> | undefined): JsonValue {
  return types ? [...types] : null;
}

function dedupe(reasons: CompatibilityReason[]): CompatibilityReason[] {
  const seen = new Set<string>();
  return reasons.filter((r) => {
    const key = `${r.path}|${r.rule}|${r.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
