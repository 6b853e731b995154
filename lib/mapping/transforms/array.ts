import { type Reason, reason } from '../../reasons';
import { optionalInteger, readOptions } from '../options';
import { type CompiledTransform, type RunContext, type Step, type TransformCompileContext, type TransformCompiler, fail, ok, targetOf } from '../transform-types';
import { typeName } from '../values';

/**
 * `{ "array": { "each": { "rules": [...] }, "max"?: 10000 } }` maps every
 * element of an array with a nested spec whose paths are relative to the
 * element (the element must be an object); `{ "array": { "each": { "transforms": [...] } } }`
 * runs a transform chain on every element (for arrays of text or numbers).
 * Every element's reasons are kept, with the element's index in their path
 * (`lines.2.sku`, `from "items.2.code"`). More than `max` elements is a reason,
 * so one record cannot make the mapper allocate without bound.
 */
const DEFAULT_MAX_ITEMS = 10_000;

export interface ElementMapper {
  readonly sync: boolean;
  run(element: unknown, index: number, ctx: RunContext): Step | Promise<Step>;
}

export type ChainCompiler = (transforms: unknown, path: string) => { sync: boolean; run(value: unknown, ctx: RunContext): Step | Promise<Step> } | undefined;

/** The element's source as a path, to prefix nested reasons: `items.2`. */
function elementSource(ctx: RunContext, index: number): string {
  const base = ctx.rule.sourceKind === 'from' ? ctx.rule.from : `(${ctx.rule.sourceKind} of ${ctx.rule.to})`;
  return `${ctx.at ? `${ctx.at.source}.` : ''}${base}.${index}`;
}

export function compileArrayWith(compileChain: ChainCompiler): TransformCompiler {
  return (raw, cx: TransformCompileContext): CompiledTransform | undefined => {
    const { path, reasons } = cx;
    const options = readOptions(raw, path, ['each', 'max'], reasons);
    if (!options) return undefined;
    const max = optionalInteger(options, 'max', path, reasons, 1, 1_000_000) ?? DEFAULT_MAX_ITEMS;
    const each = options.each;
    const eachPath = `${path}.each`;
    if (typeof each !== 'object' || each === null || Array.isArray(each)) {
      reasons.push(reason(eachPath, each === undefined ? 'required' : 'type', 'must be an object: { "rules": [...] } or { "transforms": [...] }'));
      return undefined;
    }
    const hasRules = Object.hasOwn(each, 'rules');
    const hasTransforms = Object.hasOwn(each, 'transforms');
    if (hasRules === hasTransforms) {
      reasons.push(reason(eachPath, 'type', 'must have exactly one of "rules" (elements are objects) or "transforms" (elements are values)'));
      return undefined;
    }
    let element: ElementMapper | undefined;
    if (hasRules) {
      const nested = cx.compileNested(each, eachPath);
      if (nested) {
        element = {
          sync: nested.sync,
          run: (value, index, ctx) => {
            const result = nested.apply(value, { target: `${targetOf(ctx)}.${index}`, source: elementSource(ctx, index) });
            return result instanceof Promise ? result.then(toStep) : toStep(result);
          },
        };
      }
    } else {
      const extra = Object.keys(each).filter((k) => k !== 'transforms');
      for (const k of extra) reasons.push(reason(`${eachPath}.${k}`, 'unknown-option', 'is not an option here (known: transforms)'));
      const chain = compileChain((each as { transforms: unknown }).transforms, `${eachPath}.transforms`);
      if (chain && extra.length === 0) {
        element = {
          sync: chain.sync,
          run: (value, index, ctx) => chain.run(value, { scope: ctx.scope, at: ctx.at, rule: Object.assign({}, ctx.rule, { to: `${ctx.rule.to}.${index}`, from: `${ctx.rule.from}.${index}` }) }),
        };
      }
    }
    if (!element || max === null) return undefined;
    const mapper = element;
    return {
      sync: mapper.sync,
      run: (value, ctx) => {
        if (!Array.isArray(value)) return fail(ctx, 'array', `expects an array, got ${typeName(value)}`);
        if (value.length > max) return fail(ctx, 'array', `has ${value.length} elements, more than the ${max} this rule maps`);
        const steps: (Step | Promise<Step>)[] = [];
        let pending = false;
        for (let i = 0; i < value.length; i++) {
          const step = mapper.run(value[i], i, ctx);
          if (step instanceof Promise) pending = true;
          steps.push(step);
        }
        return pending ? Promise.all(steps.map(async (s) => s)).then(collect) : collect(steps as Step[]);
      },
    };
  };
}

function toStep(result: { ok: true; value: Record<string, unknown> } | { ok: false; reasons: Reason[] }): Step {
  return result.ok ? ok(result.value) : result;
}

function collect(steps: readonly Step[]): Step {
  const out: unknown[] = [];
  const reasons: Reason[] = [];
  for (const step of steps) {
    if (step.ok) out.push(step.value);
    else reasons.push(...step.reasons);
  }
  return reasons.length > 0 ? { ok: false, reasons } : ok(out);
}
