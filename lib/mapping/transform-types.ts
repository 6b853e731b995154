import { type Reason, reason } from '../reasons';

/**
 * What a compiled transform is, and what it gets when it runs. Transforms are
 * plain closures built once from their options; at run time they see the
 * value, the scope the rule reads from (the record, or an array element) and
 * enough about the rule to write a reason a technician can act on.
 */

/** The static facts about a rule that a reason names. */
export interface RuleInfo {
  /** The target path as written in the rule (relative inside an `each` spec). */
  readonly to: string;
  /** `from "stat"`, `expression` or `value`, without any array prefix. */
  readonly sourceKind: 'from' | 'expression' | 'value';
  /** The source path as written, for `from` rules. */
  readonly from: string;
}

/** Where an `each` spec is being applied: the element's target and source paths. */
export interface Prefix {
  readonly target: string;
  readonly source: string;
}

export interface RunContext {
  /** What relative source paths read from: the record, or the current array element. */
  readonly scope: unknown;
  readonly rule: RuleInfo;
  readonly at: Prefix | undefined;
}

export type Step = { ok: true; value: unknown } | { ok: false; reasons: Reason[] };

export type TransformFn = (value: unknown, ctx: RunContext) => Step | Promise<Step>;

export interface CompiledTransform {
  readonly run: TransformFn;
  /** False when the transform may return a promise (an `array` whose nested spec uses an expression). */
  readonly sync: boolean;
}

/** A nested rule set, as `array` with `each.rules` needs it; built by compile.ts. */
export interface NestedRules {
  readonly sync: boolean;
  apply(scope: unknown, at: Prefix): { ok: true; value: Record<string, unknown> } | { ok: false; reasons: Reason[] } | Promise<{ ok: true; value: Record<string, unknown> } | { ok: false; reasons: Reason[] }>;
}

export interface CompileOptions {
  /** Wall-clock bound of one JSONata evaluation; past it the rule fails with a reason. */
  readonly expressionTimeoutMs: number;
  /** Bound on JSONata's evaluation depth (recursion), so a runaway function is a reason, not a stack overflow. */
  readonly expressionMaxDepth: number;
}

export interface TransformCompileContext {
  /** Where the transform's options sit in the spec, e.g. `rules[3].transforms[1].date`. */
  readonly path: string;
  readonly reasons: Reason[];
  readonly options: CompileOptions;
  compileNested(spec: unknown, path: string): NestedRules | undefined;
}

export type TransformCompiler = (options: unknown, cx: TransformCompileContext) => CompiledTransform | undefined;

export function targetOf(ctx: RunContext): string {
  return ctx.at ? `${ctx.at.target}.${ctx.rule.to}` : ctx.rule.to;
}

/** The source a reason names: `from "lines.2.code"`, `expression`, `value`. */
export function sourceOf(ctx: RunContext): string {
  if (ctx.rule.sourceKind === 'from') return `from "${ctx.at ? `${ctx.at.source}.` : ''}${ctx.rule.from}"`;
  return ctx.at ? `${ctx.rule.sourceKind} at "${ctx.at.source}"` : ctx.rule.sourceKind;
}

/** A failed step: one reason on the rule's target, naming its source and the transform. */
export function fail(ctx: RunContext, rule: string, detail: string): Step {
  return { ok: false, reasons: [reason(targetOf(ctx), rule, `${sourceOf(ctx)}: ${detail}`)] };
}

export function ok(value: unknown): Step {
  return { ok: true, value };
}

/** A transform whose run never returns a promise. */
export function syncTransform(run: (value: unknown, ctx: RunContext) => Step): CompiledTransform {
  return { run, sync: true };
}
