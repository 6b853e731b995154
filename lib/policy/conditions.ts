import { Environment } from '@marcbachmann/cel-js';
import type { ASTNode } from '@marcbachmann/cel-js';
import { repeatsRepetition } from '../regex-guard';

/**
 * Policy conditions (`deny.when`, `require.when`) are CEL expressions
 * (https://github.com/google/cel-spec), evaluated by @marcbachmann/cel-js.
 * CEL has no loops, no recursion, no assignment and no I/O; an expression
 * sees only the variables declared here. On top of that the bundle's
 * expressions are bounded at compile time (CONDITION_LIMITS), because the
 * bundle comes over the network and a condition runs once per record.
 */
export const CONDITION_LIMITS = {
  /** Characters of expression source. */
  maxLength: 1024,
  /** Nodes of the parsed expression. */
  maxAstNodes: 256,
  /** Nesting of calls, member selections, indexes and literals. */
  maxDepth: 24,
  maxListElements: 64,
  maxMapEntries: 64,
  maxCallArguments: 8,
  /**
   * Comprehensions (all, exists, exists_one, map, filter) may not nest: one
   * comprehension costs at most the size of the list it walks, two nested
   * ones the square of it, and k nested ones the k-th power, which is how a
   * loop-free language is still made to spin.
   */
  maxComprehensionNesting: 1,
} as const;

/** The variables a condition sees. `bytes` is CEL's byte-string type, so the size is `byteSize`. */
export const CONDITION_VARIABLES = ['payload', 'cdm', 'byteSize'] as const;

export interface ConditionInput {
  /** The canonical record, as it stands at the rule (after the masks before it). */
  payload: unknown;
  /** The envelope, msg.cdm. */
  cdm: unknown;
  /** UTF-8 bytes of the payload's JSON at the rule. */
  byteSize: number;
}

export type ConditionResult = { ok: true; value: boolean } | { ok: false; message: string };

export interface CompiledCondition {
  readonly source: string;
  /** Whether the expression reads `byteSize`: measuring a masked record costs a serialisation, done only when needed. */
  readonly usesByteSize: boolean;
  evaluate(input: ConditionInput): ConditionResult;
}

const COMPREHENSIONS = new Set(['all', 'exists', 'exists_one', 'map', 'filter']);

// One environment for every bundle: building one is the expensive part, and
// it holds nothing per bundle. Only the three variables are declared, so an
// expression naming anything else (process, this, globalThis, require) fails
// its type check and the bundle is refused before it is in force.
const environment = new Environment({
  unlistedVariablesAreDyn: false,
  homogeneousAggregateLiterals: true,
  enableOptionalTypes: false,
  limits: {
    maxAstNodes: CONDITION_LIMITS.maxAstNodes,
    maxDepth: CONDITION_LIMITS.maxDepth,
    maxListElements: CONDITION_LIMITS.maxListElements,
    maxMapEntries: CONDITION_LIMITS.maxMapEntries,
    maxCallArguments: CONDITION_LIMITS.maxCallArguments,
  },
})
  .registerVariable('payload', 'dyn', { description: 'the canonical record' })
  .registerVariable('cdm', 'dyn', { description: 'the envelope (msg.cdm)' })
  .registerVariable('byteSize', 'int', { description: 'UTF-8 bytes of the JSON payload' });

/** Compiles one condition, or says in plain words why it cannot be used. */
export function compileCondition(source: string): { ok: true; condition: CompiledCondition } | { ok: false; message: string } {
  if (source.trim() === '') return { ok: false, message: 'the condition is empty' };
  if (source.length > CONDITION_LIMITS.maxLength) return { ok: false, message: `the condition is ${source.length} characters long; at most ${CONDITION_LIMITS.maxLength} are allowed` };
  let parsed: ReturnType<Environment['parse']>;
  try {
    parsed = environment.parse(source);
  } catch (err) {
    return { ok: false, message: `the condition does not parse: ${firstLine(err)}` };
  }
  const checked = parsed.check();
  if (!checked.valid) return { ok: false, message: `the condition does not type-check: ${firstLine(checked.error)}` };
  if (checked.type !== 'bool' && checked.type !== 'dyn') return { ok: false, message: `the condition must yield a bool, but yields ${checked.type ?? 'an unknown type'}` };
  const refused = refuseCostlyConstructs(parsed.ast, 0);
  if (refused !== undefined) return { ok: false, message: refused };

  const run = parsed;
  return {
    ok: true,
    condition: {
      source,
      usesByteSize: mentions(parsed.ast, 'byteSize'),
      evaluate(input) {
        let value: unknown;
        try {
          // CEL integers are BigInt; JSON numbers in payload stay doubles, and
          // CEL compares int and double across types.
          value = run({ payload: input.payload, cdm: input.cdm, byteSize: BigInt(input.byteSize) });
        } catch (err) {
          return { ok: false, message: firstLine(err) };
        }
        if (typeof value !== 'boolean') return { ok: false, message: `the condition yielded ${describe(value)}, not a bool` };
        return { ok: true, value };
      },
    },
  };
}

/**
 * Walks the parsed expression for what the parser's limits do not catch:
 * nested comprehensions (polynomial cost), `cel.bind` (each nested bind can
 * double a string, so a short expression builds a huge one), and regular
 * expressions that are not literals or that nest quantifiers (catastrophic
 * backtracking in the JavaScript regex engine `matches` uses).
 */
function refuseCostlyConstructs(node: ASTNode, comprehensionDepth: number): string | undefined {
  switch (node.op) {
    case 'rcall': {
      const [name, receiver, args] = node.args;
      if (name === 'bind' && receiver.op === 'id' && receiver.args === 'cel') return 'cel.bind is not available in policy conditions';
      if (name === 'matches') {
        const pattern = args[0];
        if (pattern?.op !== 'value' || typeof pattern.args !== 'string') return 'matches() takes a string literal as its pattern';
        const unsafe = unsafeRegex(pattern.args);
        if (unsafe !== undefined) return `the pattern ${JSON.stringify(pattern.args)} ${unsafe}`;
      }
      const depth = COMPREHENSIONS.has(name) ? comprehensionDepth + 1 : comprehensionDepth;
      if (depth > CONDITION_LIMITS.maxComprehensionNesting) return `comprehensions (${[...COMPREHENSIONS].join(', ')}) may not be nested`;
      return refuseCostlyConstructs(receiver, comprehensionDepth) ?? firstOf(args, (a) => refuseCostlyConstructs(a, depth));
    }
    case 'call': {
      const [name, args] = node.args;
      if (name === 'matches') return 'use the method form: value.matches("pattern")';
      return firstOf(args, (a) => refuseCostlyConstructs(a, comprehensionDepth));
    }
    case 'value':
    case 'id':
      return undefined;
    case '.':
    case '.?':
      return refuseCostlyConstructs(node.args[0], comprehensionDepth);
    case 'list':
      return firstOf(node.args, (a) => refuseCostlyConstructs(a, comprehensionDepth));
    case 'map':
      return firstOf(node.args.flat(), (a) => refuseCostlyConstructs(a, comprehensionDepth));
    case '!_':
    case '-_':
      return refuseCostlyConstructs(node.args, comprehensionDepth);
    default:
      // Binary operators, ?:, ||, &&, [] and [?]: every operand is a node.
      return firstOf(node.args as readonly ASTNode[], (a) => refuseCostlyConstructs(a, comprehensionDepth));
  }
}

function mentions(node: ASTNode, name: string): boolean {
  if (node.op === 'id') return node.args === name;
  if (node.op === 'value') return false;
  const stack: unknown[] = [node.args];
  while (stack.length > 0) {
    const item = stack.pop();
    if (Array.isArray(item)) stack.push(...(item as unknown[]));
    else if (typeof item === 'object' && item !== null && 'op' in item && 'args' in item) {
      const child = item as ASTNode;
      if (child.op === 'id' && child.args === name) return true;
      if (child.op !== 'value') stack.push(child.args);
    }
  }
  return false;
}

function firstOf<T>(items: readonly T[], check: (item: T) => string | undefined): string | undefined {
  for (const item of items) {
    const found = check(item);
    if (found !== undefined) return found;
  }
  return undefined;
}

/**
 * A conservative check for super-linear regexes: no back-references or
 * lookaround, and no quantified group that itself contains a quantifier or an
 * alternation (the `(a+)+`, `(a|a)*` shapes). It refuses some safe patterns;
 * a policy needs simple ones.
 */
function unsafeRegex(pattern: string): string | undefined {
  if (pattern.length > 256) return 'is longer than 256 characters';
  try {
    new RegExp(pattern, 'u');
  } catch {
    return 'is not a valid regular expression';
  }
  if (/\\[1-9]|\\k</.test(pattern)) return 'uses a back-reference';
  if (/\(\?<?[=!]/.test(pattern)) return 'uses lookaround';
  if (repeatsRepetition(pattern)) return 'repeats a group that itself repeats or alternates (catastrophic backtracking)';
  return undefined;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return `a ${typeof value}`;
}

function firstLine(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.split('\n')[0] ?? message;
}
