import type { CompatibilityPolicy, CompatibilityReason, JsonValue } from './types';

/**
 * Rule names are named for the change from the older schema to the newer
 * one, so the same edit has the same name whichever level reports it. A
 * "reader stricter than writer" finding is a narrowing when the newer
 * schema is the reader (BACKWARD) and a widening when the older schema is
 * the reader (FORWARD). These names are a public contract (docs/catalog.md).
 */
export const RULES = {
  type: ['type-narrowed', 'type-widened'],
  required: ['required-added', 'required-removed'],
  enumValues: ['enum-narrowed', 'enum-widened'],
  enumPresence: ['enum-added', 'enum-removed'],
  constPresence: ['const-added', 'const-removed'],
  range: ['range-narrowed', 'range-widened'],
  multipleOf: ['multiple-of-narrowed', 'multiple-of-widened'],
  length: ['length-narrowed', 'length-widened'],
  itemCount: ['item-count-narrowed', 'item-count-widened'],
  propertyCount: ['property-count-narrowed', 'property-count-widened'],
  pattern: ['pattern-added', 'pattern-removed'],
  format: ['format-added', 'format-removed'],
  uniqueItems: ['unique-items-added', 'unique-items-removed'],
  contentModel: ['content-model-closed', 'content-model-opened'],
  additionalProperties: ['additional-properties-narrowed', 'additional-properties-widened'],
  openProperty: ['property-added-to-open-content-model', 'property-removed-from-open-content-model'],
  closedProperty: ['property-removed-from-closed-content-model', 'property-added-to-closed-content-model'],
  closedTuple: ['item-removed-from-closed-tuple', 'item-added-to-closed-tuple'],
  dependentRequired: ['dependent-required-added', 'dependent-required-removed'],
  forbidden: ['value-forbidden', 'value-forbidden'],
  formatChanged: ['format-changed', 'format-changed'],
  typeChanged: ['type-changed', 'type-changed'],
  constChanged: ['const-changed', 'const-changed'],
  undecidable: ['undecidable', 'undecidable'],
  refUnresolved: ['ref-unresolved', 'ref-unresolved'],
} as const satisfies Record<string, readonly [string, string]>;

export type RuleKey = keyof typeof RULES;

/** Comparing "can a reader with schema R read everything schema W allows?" */
export interface DiffContext {
  /** backward: the writer is the older schema; forward: the writer is the newer one. */
  direction: 'backward' | 'forward';
  policy: CompatibilityPolicy;
  /** Pairs of schema nodes being compared, to stop at recursive schemas. */
  seen: Set<string>;
  depth: number;
}

/**
 * Builds a reason from what the writer and the reader say, turning them into
 * old/new terms: `from` is the older schema's value, `to` the newer one's.
 */
export function breaking(ctx: DiffContext, key: RuleKey, path: string, what: string, writer?: JsonValue, reader?: JsonValue): CompatibilityReason {
  const backward = ctx.direction === 'backward';
  const [older, newer] = backward ? [writer, reader] : [reader, writer];
  const consequence = backward ? 'data written with the older schema can be refused by readers using the newer one' : 'data written with the newer schema can be refused by readers using the older one';
  const reason: CompatibilityReason = {
    path,
    rule: RULES[key][backward ? 0 : 1],
    message: key === 'undecidable' || key === 'refUnresolved' ? `${what} (treated as breaking)` : `${what}: ${consequence}`,
    direction: ctx.direction,
  };
  if (older !== undefined) reason.from = older;
  if (newer !== undefined) reason.to = newer;
  return reason;
}

/** Dotted JSON path of a property, bracketed when the name is not an identifier. */
export function childPath(path: string, name: string): string {
  return /^[A-Za-z_$][A-Za-z0-9_$-]*$/.test(name) ? `${path}.${name}` : `${path}[${JSON.stringify(name)}]`;
}
