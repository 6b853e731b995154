import { type Checked, type Reason, reason } from '../reasons';
import { chainCompiler } from './chain';
import { type KeyOutcome, type RecordKey, compileRecordKey } from './envelope-key';
import { overlaps } from './paths';
import { ABSENT, type CompiledRule, type Outcome, compileRule } from './rule';
import { checkSpecShape } from './spec-format';
import type { CompileOptions, NestedRules, Prefix } from './transform-types';
import { typeName } from './values';

/**
 * compileMappingSpec: a mapping spec (docs/mapping-spec.md) checked and
 * compiled once into plain closures. Per record nothing of the spec's JSON is
 * looked at again: map() runs the rule closures, collects every reason (not
 * just the first) and builds a fresh output object.
 */
export type MapResult =
  /** `key`: when the spec has an `id`, the record's key values as text, for keyEnvelopeId (lib/envelope/derived-id.ts). */
  | { ok: true; value: Record<string, unknown>; key?: string }
  | { ok: false; reasons: Reason[] };

export interface CompiledMapping {
  readonly entity: string;
  readonly version: string;
  /** true when no rule uses an expression: map() then returns synchronously. */
  readonly sync: boolean;
  /** true when the spec names the record's key (`id`): every mapped result then carries `key`. */
  readonly keyed: boolean;
  /** Never throws and never rejects: a record that cannot be mapped is `{ ok: false, reasons }`. */
  map(record: unknown): MapResult | Promise<MapResult>;
}

export const DEFAULT_COMPILE_OPTIONS: CompileOptions = { expressionTimeoutMs: 1000, expressionMaxDepth: 300 };

interface RuleSet extends NestedRules {
  apply(scope: unknown, at: Prefix | undefined): MapResult | Promise<MapResult>;
}

function internal(err: unknown, path: string): MapResult {
  // Only a bug in a transform gets here; the record is refused with the
  // error's words rather than taking the caller's handler down.
  return { ok: false, reasons: [reason(path, 'internal', `the mapper failed unexpectedly: ${err instanceof Error ? err.message : String(err)}`)] };
}

function where(rule: CompiledRule, at: Prefix | undefined): string {
  return at ? `${at.target}.${rule.target.text}` : rule.target.text;
}

/** One rule's outcome; a rule that throws (a bug in a transform) is refused at its own path and the others still run. */
function evaluate(rule: CompiledRule, scope: unknown, at: Prefix | undefined): Outcome | Promise<Outcome> {
  let outcome: Outcome | Promise<Outcome>;
  try {
    outcome = rule.evaluate(scope, at);
  } catch (err) {
    return internal(err, where(rule, at));
  }
  return outcome instanceof Promise ? outcome.catch((err: unknown) => internal(err, where(rule, at)) as Outcome) : outcome;
}

function place(rule: CompiledRule, outcome: Outcome, out: Record<string, unknown>, reasons: Reason[]): void {
  if (outcome === ABSENT) return;
  if (outcome.ok) rule.set(out, outcome.value);
  else for (const r of outcome.reasons) reasons.push(r);
}

function result(out: Record<string, unknown>, reasons: Reason[]): MapResult {
  return reasons.length > 0 ? { ok: false, reasons } : { ok: true, value: out };
}

/**
 * The rules from the first one that answered with a promise: the others start
 * at once (an expression's time is mostly waiting), and all are placed in the
 * rules' order once every one has answered.
 */
function settleFrom(rules: readonly CompiledRule[], first: number, pending: Promise<Outcome>, scope: unknown, at: Prefix | undefined, out: Record<string, unknown>, reasons: Reason[]): Promise<MapResult> {
  const outcomes: (Outcome | Promise<Outcome>)[] = [pending];
  let more: Promise<Outcome>[] | undefined;
  for (let i = first + 1; i < rules.length; i++) {
    const outcome = evaluate(rules[i] as CompiledRule, scope, at);
    if (outcome instanceof Promise) (more ??= [pending]).push(outcome);
    outcomes.push(outcome);
  }
  // Only the promises are waited for, and one alone without Promise.all: a spec with one expression is the common case (issue 19).
  const waited: Promise<unknown> = more === undefined ? pending : Promise.all(more);
  return waited.then(async () => {
    for (let k = 0; k < outcomes.length; k++) {
      const outcome = outcomes[k] as Outcome | Promise<Outcome>;
      place(rules[first + k] as CompiledRule, outcome instanceof Promise ? await outcome : outcome, out, reasons);
    }
    return result(out, reasons);
  });
}

function buildRuleSet(rules: readonly CompiledRule[]): RuleSet {
  const sync = rules.every((r) => r.sync);
  // Outcomes are placed as they come, in the rules' order, so a record that
  // maps synchronously needs no array of outcomes; values placed before a
  // reason turns up are simply dropped with the output object.
  const apply = (scope: unknown, at: Prefix | undefined): MapResult | Promise<MapResult> => {
    if (typeof scope !== 'object' || scope === null || Array.isArray(scope)) {
      const what = at ? `from "${at.source}": the element` : 'the record';
      return { ok: false, reasons: [reason(at?.target ?? '', 'type', `${what} must be an object, got ${typeName(scope)}`)] };
    }
    const out: Record<string, unknown> = {};
    const reasons: Reason[] = [];
    for (let i = 0; i < rules.length; i++) {
      const rule = rules[i] as CompiledRule;
      const outcome = evaluate(rule, scope, at);
      if (outcome instanceof Promise) return settleFrom(rules, i, outcome, scope, at, out, reasons);
      place(rule, outcome, out, reasons);
    }
    return result(out, reasons);
  };
  return { sync, apply };
}

/** Two rules writing the same place, or one inside the other, would overwrite each other depending on order. */
function checkTargets(rules: readonly CompiledRule[], paths: readonly string[], reasons: Reason[]): void {
  for (let j = 1; j < rules.length; j++) {
    const b = (rules[j] as CompiledRule).target;
    for (let i = 0; i < j; i++) {
      const a = (rules[i] as CompiledRule).target;
      if (overlaps(a, b)) {
        reasons.push(reason(`${paths[j]}.to`, 'conflict', `"${b.text}" ${a.text === b.text ? 'is also written by' : 'overlaps'} ${paths[i]} ("${a.text}")`));
        continue;
      }
      // Siblings under a common prefix must agree on array index vs field name.
      const k = a.segments.findIndex((s, n) => s !== b.segments[n]);
      if (k > 0 && (a.indexes[k] as number) >= 0 !== (b.indexes[k] as number) >= 0) {
        reasons.push(reason(`${paths[j]}.to`, 'conflict', `"${b.text}" treats "${b.segments.slice(0, k).join('.')}" as ${(b.indexes[k] as number) >= 0 ? 'an array' : 'an object'}, ${paths[i]} ("${a.text}") as ${(a.indexes[k] as number) >= 0 ? 'an array' : 'an object'}`));
      }
    }
  }
}

function compileRuleList(spec: unknown, path: string, nested: boolean, options: CompileOptions, reasons: Reason[]): RuleSet | undefined {
  const before = reasons.length;
  const raw = checkSpecShape(spec, path, nested, reasons);
  if (!raw) return undefined;
  const compileNested = (inner: unknown, innerPath: string): NestedRules | undefined => compileRuleList(inner, innerPath, true, options, reasons);
  const deps = { options, reasons, compileNested };
  const compileChain = chainCompiler(deps);
  const rulePrefix = path === '' ? 'rules' : `${path}.rules`;
  const paths = raw.map((_, i) => `${rulePrefix}[${i}]`);
  const compiled = raw.map((rule, i) => rule && compileRule(rule, paths[i] as string, { ...deps, compileChain }));
  const rules = compiled.filter((r): r is CompiledRule => r !== undefined);
  if (rules.length === compiled.length) checkTargets(rules, paths, reasons);
  return reasons.length === before && rules.length === compiled.length ? buildRuleSet(rules) : undefined;
}

/** A mapping's result with the record's key: on it when both succeeded, its reasons after the rules' otherwise. */
function withKey(result: MapResult, key: KeyOutcome | undefined): MapResult {
  if (key === undefined) return result;
  if (key.ok) {
    if (result.ok) result.key = key.text;
    return result;
  }
  if (result.ok) return { ok: false, reasons: key.reasons };
  for (const r of key.reasons) result.reasons.push(r);
  return result;
}

function isRecord(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Checks and compiles a spec. Every problem is reported, each with the path
 * of the offending part (`rules[3].transforms[1].date.format`). `options`
 * bounds expression evaluation; the defaults suit a site agent.
 */
export function compileMappingSpec(spec: unknown, options: Partial<CompileOptions> = {}): Checked<CompiledMapping> {
  const settings: CompileOptions = { ...DEFAULT_COMPILE_OPTIONS, ...options };
  const reasons: Reason[] = [];
  const ruleSet = compileRuleList(spec, '', false, settings, reasons);
  const recordKey: RecordKey | undefined = isRecord(spec) ? compileRecordKey((spec as { id?: unknown }).id, reasons) : undefined;
  if (!ruleSet || reasons.length > 0) return { ok: false, reasons };
  const { entity, version } = spec as { entity: string; version: string };
  const map = (record: unknown): MapResult | Promise<MapResult> => {
    try {
      const result = ruleSet.apply(record, undefined);
      // The key is read before an expression's wait, from the same record; a record that is not an object already has its reason.
      const key = recordKey !== undefined && isRecord(record) ? recordKey(record) : undefined;
      return result instanceof Promise ? result.then((r) => withKey(r, key), (err: unknown) => internal(err, '')) : withKey(result, key);
    } catch (err) {
      return internal(err, '');
    }
  };
  return { ok: true, value: { entity, version, sync: ruleSet.sync, keyed: recordKey !== undefined, map } };
}
