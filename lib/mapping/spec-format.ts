import semver from 'semver';
import { type Reason, reason } from '../reasons';
import { typeName } from './values';

/**
 * The mapping spec (docs/mapping-spec.md): a public, JSON-serialisable
 * contract. The central team ships specs as files, migrations between CDM
 * versions are specs, and the cdm-map editor edits one as a table. This file
 * holds its types and the structural checks; compile.ts checks what each rule
 * means (paths, transforms, expressions).
 */
export interface MappingSpec {
  entity: string;
  version: string;
  description?: string;
  /** Where the envelope id comes from: the record's key (envelope-key.ts). Absent: a ULID, or the input's id (docs/mapping-spec.md, "The envelope id"). */
  id?: EnvelopeIdSpec;
  rules: MappingRule[];
}

/** `"id": { "from": ["shp_no", "dt"] }`: the source paths whose values, in order, identify the record. */
export interface EnvelopeIdSpec {
  from: string[];
  description?: string;
}

/** The spec inside `{ "array": { "each": ... } }`: rules only, paths relative to the element. */
export interface NestedMappingSpec {
  description?: string;
  rules: MappingRule[];
}

export interface MappingRule {
  /** Target path in the canonical record (`carrier.name`, `lines.0.sku`). */
  to: string;
  /** Source path in the local record. Exactly one of from, value, expression. */
  from?: string;
  /** A constant, written as it is (no transforms). */
  value?: unknown;
  /** A JSONata expression evaluated with the local record as input. */
  expression?: string;
  /** A missing source leaves the target out instead of rejecting the record. */
  optional?: boolean;
  /** Written (as it is, untransformed) when the source is missing. */
  default?: unknown;
  transforms?: Transform[];
  /** For people: why the rule exists. Ignored by the compiler. */
  description?: string;
}

/** A one-key object: the transform's name and its options, e.g. `{ "round": 2 }`. */
export type Transform = Record<string, unknown>;

export const SPEC_KEYS = ['entity', 'version', 'description', 'id', 'rules'] as const;
export const NESTED_SPEC_KEYS = ['description', 'rules'] as const;
export const RULE_KEYS = ['to', 'from', 'value', 'expression', 'optional', 'default', 'transforms', 'description'] as const;

/** Bounds that keep a spec something a person can review in the editor. */
export const MAX_RULES = 500;
export const MAX_TRANSFORMS = 32;

// Entity names become MQTT topic levels, as in lib/envelope/envelope.ts.
const ENTITY = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

function unknownKeys(value: object, allowed: readonly string[], path: string, reasons: Reason[]): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) reasons.push(reason(path === '' ? key : `${path}.${key}`, 'unknown-key', `is not part of a mapping spec here (known: ${allowed.join(', ')})`));
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Checks the outer shape of a spec: entity, version, the rules array and
 * each rule's keys, pushing every problem found with its path. Returns the
 * rules, with `undefined` in place of a rule whose shape is wrong, so the
 * caller can still check the others; undefined when there is no rules array.
 */
export function checkSpecShape(spec: unknown, path: string, nested: boolean, reasons: Reason[]): readonly (Record<string, unknown> | undefined)[] | undefined {
  if (!isObject(spec)) {
    reasons.push(reason(path, 'type', `a mapping spec must be an object with ${nested ? '"rules"' : '"entity", "version" and "rules"'}, got ${typeName(spec)}`));
    return undefined;
  }
  unknownKeys(spec, nested ? NESTED_SPEC_KEYS : SPEC_KEYS, path, reasons);
  const at = (key: string): string => (path === '' ? key : `${path}.${key}`);
  if (!nested) {
    if (typeof spec.entity !== 'string') reasons.push(reason(at('entity'), spec.entity === undefined ? 'required' : 'type', 'must be the name of a CDM entity, e.g. "shipment"'));
    else if (!ENTITY.test(spec.entity)) reasons.push(reason(at('entity'), 'pattern', 'must be letters, digits, ".", "_" or "-" (it becomes a topic level)'));
    if (typeof spec.version !== 'string') reasons.push(reason(at('version'), spec.version === undefined ? 'required' : 'type', 'must be the semantic version of the entity, e.g. "1.0.0"'));
    else if (semver.valid(spec.version) === null) reasons.push(reason(at('version'), 'semver', `must be a semantic version such as 1.0.0, got "${spec.version}"`));
  }
  if (spec.description !== undefined && typeof spec.description !== 'string') reasons.push(reason(at('description'), 'type', 'must be a string'));
  const rules = spec.rules;
  if (!Array.isArray(rules) || rules.length === 0 || rules.length > MAX_RULES) {
    reasons.push(reason(at('rules'), rules === undefined ? 'required' : 'type', `must be an array of 1 to ${MAX_RULES} rules, got ${Array.isArray(rules) ? `${rules.length} rules` : typeName(rules)}`));
    return undefined;
  }
  return rules.map((rule: unknown, i) => {
    const before = reasons.length;
    if (!isObject(rule)) {
      reasons.push(reason(`${at('rules')}[${i}]`, 'type', `a rule must be an object with "to" and one of "from", "value" or "expression", got ${typeName(rule)}`));
      return undefined;
    }
    checkRuleShape(rule, `${at('rules')}[${i}]`, reasons);
    return reasons.length === before ? rule : undefined;
  });
}

function checkRuleShape(rule: Record<string, unknown>, path: string, reasons: Reason[]): void {
  unknownKeys(rule, RULE_KEYS, path, reasons);
  if (rule.to === undefined) reasons.push(reason(`${path}.to`, 'required', 'is required: the target field in the canonical record'));
  const sources = (['from', 'value', 'expression'] as const).filter((k) => Object.hasOwn(rule, k));
  if (sources.length !== 1) {
    reasons.push(reason(path, 'source', sources.length === 0 ? 'needs one of "from", "value" or "expression"' : `takes one of "from", "value" or "expression", not ${sources.map((s) => `"${s}"`).join(' and ')}`));
  }
  if (rule.optional !== undefined && typeof rule.optional !== 'boolean') reasons.push(reason(`${path}.optional`, 'type', `must be true or false, got ${typeName(rule.optional)}`));
  if (rule.description !== undefined && typeof rule.description !== 'string') reasons.push(reason(`${path}.description`, 'type', 'must be a string'));
  if (Object.hasOwn(rule, 'value')) {
    // A constant is written as it is, so these would silently do nothing.
    for (const key of ['optional', 'default', 'transforms'] as const) {
      if (Object.hasOwn(rule, key)) reasons.push(reason(`${path}.${key}`, 'constant', `has no effect on a constant "value"; write the canonical value itself`));
    }
  }
  if (rule.transforms !== undefined && (!Array.isArray(rule.transforms) || rule.transforms.length > MAX_TRANSFORMS)) {
    reasons.push(reason(`${path}.transforms`, 'type', `must be an array of at most ${MAX_TRANSFORMS} transforms`));
  }
}
