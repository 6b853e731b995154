import { type Reason, reason } from '../reasons';
import type { CompileOptions, CompiledTransform, NestedRules, RunContext, Step, TransformCompiler } from './transform-types';
import { transformRegistry } from './transforms/index';
import { typeName } from './values';

/**
 * A rule's transform chain, compiled once: each `{ name: options }` entry
 * becomes a closure, and the chain runs them in order, stopping at the first
 * reason (later transforms would only fail on what the failed one left).
 */
export interface Chain {
  readonly sync: boolean;
  run(value: unknown, ctx: RunContext): Step | Promise<Step>;
}

export interface ChainCompilerDeps {
  readonly options: CompileOptions;
  readonly reasons: Reason[];
  compileNested(spec: unknown, path: string): NestedRules | undefined;
}

export function chainCompiler(deps: ChainCompilerDeps): (raw: unknown, path: string) => Chain | undefined {
  let registry: ReadonlyMap<string, TransformCompiler> | undefined;
  const compileChain = (raw: unknown, path: string): Chain | undefined => {
    registry ??= transformRegistry(compileChain);
    const { reasons } = deps;
    if (!Array.isArray(raw)) {
      reasons.push(reason(path, 'type', `must be an array of transforms, got ${typeName(raw)}`));
      return undefined;
    }
    const compiled: CompiledTransform[] = [];
    raw.forEach((entry: unknown, i) => {
      const at = `${path}[${i}]`;
      const keys = typeof entry === 'object' && entry !== null && !Array.isArray(entry) ? Object.keys(entry) : [];
      const name = keys[0];
      if (keys.length !== 1 || name === undefined) {
        reasons.push(reason(at, 'type', `a transform is an object with one key, its name, e.g. { "number": {} }; got ${keys.length > 1 ? `keys ${keys.join(', ')}` : typeName(entry)}`));
        return;
      }
      const compile = registry?.get(name);
      if (!compile) {
        reasons.push(reason(`${at}.${name}`, 'unknown-transform', `is not a transform (known: ${[...(registry?.keys() ?? [])].join(', ')})`));
        return;
      }
      const transform = compile((entry as Record<string, unknown>)[name], { path: `${at}.${name}`, reasons, options: deps.options, compileNested: (spec, nestedPath) => deps.compileNested(spec, nestedPath) });
      if (transform) compiled.push(transform);
    });
    if (compiled.length !== raw.length) return undefined;
    return buildChain(compiled);
  };
  return compileChain;
}

function buildChain(transforms: readonly CompiledTransform[]): Chain {
  const fns = transforms.map((t) => t.run);
  const sync = transforms.every((t) => t.sync);
  if (fns.length === 0) return { sync: true, run: (value) => ({ ok: true, value }) };
  if (fns.length === 1) return { sync, run: fns[0] as Chain['run'] };
  const runFrom = (start: number, value: unknown, ctx: RunContext): Step | Promise<Step> => {
    let current = value;
    for (let i = start; i < fns.length; i++) {
      const step = (fns[i] as Chain['run'])(current, ctx);
      if (step instanceof Promise) return step.then((s) => (s.ok ? runFrom(i + 1, s.value, ctx) : s));
      if (!step.ok) return step;
      current = step.value;
    }
    return { ok: true, value: current };
  };
  return { sync, run: (value, ctx) => runFrom(0, value, ctx) };
}
