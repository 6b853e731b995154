import { type Reason, reason } from '../reasons';
import { type ChainCompilerDeps, type Chain } from './chain';
import { type CompiledExpression, compileExpression } from './expression';
import { type CompiledPath, type Getter, type Setter, compileGetter, compileSetter, parsePath } from './paths';
import { type Prefix, type RuleInfo, type RunContext, type Step, fail, ok } from './transform-types';
import { copyJsonValue } from './values';

/**
 * One rule compiled into a closure that computes the target value from a
 * record: read the source (path, constant or expression), handle a missing
 * source, run the transform chain, and hand back a JSON value the mapper can
 * place. Writing is left to the caller, so the output's key order is the
 * rules' order even when expressions finish in any order.
 *
 * Missing means `undefined` (absent) or `null`: local systems write an empty
 * column as either, and no CDM field takes null, so both mean "no data here".
 * An empty string is a value (a transform such as `number` then refuses it).
 */
export const ABSENT: unique symbol = Symbol('absent');
export type Outcome = Step | typeof ABSENT;

export interface CompiledRule {
  readonly target: CompiledPath;
  readonly set: Setter;
  readonly sync: boolean;
  evaluate(scope: unknown, at: Prefix | undefined): Outcome | Promise<Outcome>;
}

export interface RuleCompileDeps extends ChainCompilerDeps {
  compileChain(raw: unknown, path: string): Chain | undefined;
}

/** A copy of a JSON constant from the spec, made per record, so records never share objects. */
function constant(value: unknown): () => unknown {
  if (typeof value !== 'object' || value === null) return () => value;
  const json = JSON.stringify(value);
  return () => JSON.parse(json) as unknown;
}

function checkedConstant(value: unknown, path: string, reasons: Reason[]): (() => unknown) | undefined {
  const copied = copyJsonValue(value);
  if (!copied.ok) {
    reasons.push(reason(path, 'type', `must be JSON data: it ${copied.reasons[0]?.message ?? 'is not'}`));
    return undefined;
  }
  return constant(copied.value);
}

/** What leaves a rule: JSON data only, copied when structured. */
function finish(step: Step, ctx: RunContext): Outcome {
  if (!step.ok) return step;
  const value = step.value;
  if (value === undefined) return ABSENT;
  if (typeof value === 'string' || typeof value === 'boolean' || value === null) return step;
  if (typeof value === 'number') return Number.isFinite(value) ? step : fail(ctx, 'json', `${String(value)} is not a finite number`);
  const copied = copyJsonValue(value);
  return copied.ok ? ok(copied.value) : fail(ctx, 'json', `the value ${copied.reasons[0]?.message ?? 'is not JSON data'}`);
}

export function compileRule(raw: Record<string, unknown>, path: string, deps: RuleCompileDeps): CompiledRule | undefined {
  const { reasons } = deps;
  const before = reasons.length;
  const target = parsePath(raw.to, `${path}.to`, 'target', reasons);
  const optional = raw.optional === true;
  const fallback = Object.hasOwn(raw, 'default') ? checkedConstant(raw.default, `${path}.default`, reasons) : undefined;

  if (Object.hasOwn(raw, 'value')) {
    const value = checkedConstant(raw.value, `${path}.value`, reasons);
    if (!target || !value || reasons.length !== before) return undefined;
    return { target, set: compileSetter(target), sync: true, evaluate: () => ok(value()) };
  }

  const chain = raw.transforms === undefined ? undefined : deps.compileChain(raw.transforms, `${path}.transforms`);
  let get: Getter | undefined;
  let expression: CompiledExpression | undefined;
  let from = '';
  if (Object.hasOwn(raw, 'from')) {
    const source = parsePath(raw.from, `${path}.from`, 'source', reasons);
    if (source) {
      get = compileGetter(source);
      from = source.text;
    }
  } else {
    expression = compileExpression(raw.expression, `${path}.expression`, deps.options, reasons);
  }
  if (!target || reasons.length !== before || (!get && !expression)) return undefined;

  const info: RuleInfo = { to: target.text, from, sourceKind: get ? 'from' : 'expression' };
  const missing = (ctx: RunContext, value: unknown): Outcome => {
    if (fallback) return ok(fallback());
    if (optional) return ABSENT;
    return fail(ctx, 'missing', value === null ? 'is null' : 'is missing');
  };
  const transform = (value: unknown, ctx: RunContext): Outcome | Promise<Outcome> => {
    if (value === undefined || value === null) return missing(ctx, value);
    if (!chain) return finish(ok(value), ctx);
    const step = chain.run(value, ctx);
    return step instanceof Promise ? step.then((s) => finish(s, ctx)) : finish(step, ctx);
  };

  if (get) {
    const read = get;
    return {
      target,
      set: compileSetter(target),
      sync: chain?.sync ?? true,
      evaluate: (scope, at) => {
        const ctx: RunContext = { scope, rule: info, at };
        return transform(read(scope), ctx);
      },
    };
  }
  const evaluator = expression as CompiledExpression;
  return {
    target,
    set: compileSetter(target),
    sync: false,
    // A promise's then, not an async function: one wait fewer per record (issue 19).
    evaluate: (scope, at) =>
      evaluator.evaluate(scope).then((result) => {
        const ctx: RunContext = { scope, rule: info, at };
        if (!result.ok) return fail(ctx, 'expression', result.message);
        return transform(result.value, ctx);
      }),
  };
}
