import { breaking } from './compat-rules';
import type { DiffContext, RuleKey } from './compat-rules';
import type { Recurse } from './schema-diff';
import { TRUE_SCHEMA, isFalse } from './schema-view';
import type { Bound, SchemaView } from './schema-view';
import type { CompatibilityReason, JsonValue } from './types';

/** Does the writer's lower bound keep its values at or above the reader's? */
function lowerHolds(w: Bound | undefined, r: Bound | undefined): boolean {
  if (!r) return true;
  if (!w) return false;
  return w.value > r.value || (w.value === r.value && (w.exclusive || !r.exclusive));
}

function upperHolds(w: Bound | undefined, r: Bound | undefined): boolean {
  if (!r) return true;
  if (!w) return false;
  return w.value < r.value || (w.value === r.value && (w.exclusive || !r.exclusive));
}

function boundValue(b: Bound | undefined, side: 'minimum' | 'maximum'): JsonValue | undefined {
  if (!b) return undefined;
  const keyword = b.exclusive ? `exclusive${side[0]?.toUpperCase()}${side.slice(1)}` : side;
  return { [keyword]: b.value };
}

export function diffNumbers(w: SchemaView, r: SchemaView, ctx: DiffContext, path: string): CompatibilityReason[] {
  const out: CompatibilityReason[] = [];
  if (!lowerHolds(w.lower, r.lower)) out.push(breaking(ctx, 'range', path, 'the lower bound of the number differs', boundValue(w.lower, 'minimum'), boundValue(r.lower, 'minimum')));
  if (!upperHolds(w.upper, r.upper)) out.push(breaking(ctx, 'range', path, 'the upper bound of the number differs', boundValue(w.upper, 'maximum'), boundValue(r.upper, 'maximum')));
  for (const m of r.multipleOf) {
    // Every multiple of 10 is a multiple of 5, so the writer's step must be a multiple of the reader's.
    const implied = w.multipleOf.some((wm) => Math.abs(wm / m - Math.round(wm / m)) < 1e-9);
    if (!implied) out.push(breaking(ctx, 'multipleOf', path, `multipleOf ${m} is not implied by the other version`, w.multipleOf[0] ?? undefined, m));
  }
  return out;
}

/** minLength/maxLength, minItems/maxItems, minProperties/maxProperties alike. */
export function diffCount(key: RuleKey, noun: string, w: [number | undefined, number | undefined], r: [number | undefined, number | undefined], ctx: DiffContext, path: string): CompatibilityReason[] {
  const out: CompatibilityReason[] = [];
  const [wMin, wMax] = w;
  const [rMin, rMax] = r;
  if (rMin !== undefined && rMin > 0 && (wMin === undefined || wMin < rMin)) out.push(breaking(ctx, key, path, `the minimum ${noun} differs`, wMin, rMin));
  if (rMax !== undefined && (wMax === undefined || wMax > rMax)) out.push(breaking(ctx, key, path, `the maximum ${noun} differs`, wMax, rMax));
  return out;
}

export function diffStrings(w: SchemaView, r: SchemaView, ctx: DiffContext, path: string): CompatibilityReason[] {
  const out = diffCount('length', 'length', [w.minLength, w.maxLength], [r.minLength, r.maxLength], ctx, path);
  for (const p of r.patterns) {
    if (w.patterns.includes(p)) continue;
    if (w.patterns.length === 0) out.push(breaking(ctx, 'pattern', path, `pattern ${p} applies in one version only`, undefined, p));
    else out.push(breaking(ctx, 'undecidable', path, `pattern changed (${w.patterns.join(', ')} vs ${p}); whether one regular expression covers another is not decided`, w.patterns[0], p));
  }
  for (const f of r.formats) {
    if (w.formats.includes(f)) continue;
    if (w.formats.length === 0) out.push(breaking(ctx, 'format', path, `format "${f}" applies in one version only`, undefined, f));
    else out.push(breaking(ctx, 'formatChanged', path, `format changed between "${w.formats.join(', ')}" and "${f}"`, w.formats[0], f));
  }
  return out;
}

export function diffArrays(w: SchemaView, r: SchemaView, ctx: DiffContext, path: string, recurse: Recurse): CompatibilityReason[] {
  const out = diffCount('itemCount', 'number of items', [w.minItems, w.maxItems], [r.minItems, r.maxItems], ctx, path);
  if (r.uniqueItems && !w.uniqueItems && w.maxItems !== 1 && w.maxItems !== 0) out.push(breaking(ctx, 'uniqueItems', path, 'uniqueItems applies in one version only', false, true));
  const positions = Math.max(w.prefixItems.length, r.prefixItems.length);
  for (let i = 0; i < positions; i++) {
    if (w.maxItems !== undefined && i >= w.maxItems) break;
    const wi = w.prefixItems[i] ?? w.items ?? TRUE_SCHEMA;
    const ri = r.prefixItems[i] ?? r.items ?? TRUE_SCHEMA;
    if (isFalse(wi)) break;
    if (isFalse(ri) && i >= r.prefixItems.length) {
      out.push(breaking(ctx, 'closedTuple', `${path}[${i}]`, `position ${i} exists in one version of the tuple only`));
      break;
    }
    out.push(...recurse(wi, ri, `${path}[${i}]`));
  }
  const tailReachable = w.maxItems === undefined || w.maxItems > positions;
  if (tailReachable && !isFalse(w.items)) {
    const wTail = w.items ?? TRUE_SCHEMA;
    const rTail = r.items ?? TRUE_SCHEMA;
    if (isFalse(rTail) && r.items !== undefined) out.push(breaking(ctx, 'closedTuple', `${path}[${positions}]`, `items beyond position ${positions - 1} are allowed in one version only`));
    else out.push(...recurse(wTail, rTail, `${path}[*]`));
  }
  return out;
}
