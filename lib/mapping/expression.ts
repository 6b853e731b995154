import jsonata from 'jsonata';
import { JsonataLinearRegExp, compileLinearRegex } from '../linear-regex';
import { type Reason, reason } from '../reasons';
import type { CompileOptions } from './transform-types';

/**
 * The escape hatch: a JSONata expression (the language Node-RED's change node
 * speaks) per rule, compiled once, evaluated with the local record (or the
 * array element) as input. JSONata is an interpreter over its own syntax
 * tree: it never hands spec text to eval or new Function, and it reads only
 * own properties of the input, so `constructor` and `__proto__` lead nowhere.
 *
 * Bounded with jsonata's own guardrails: `timeout` (checked at every
 * evaluation step) and `stack` (evaluation depth), plus a cap on sequence
 * length, so a runaway expression becomes a reason rather than a hang.
 *
 * Two guards of the pack's own (issue 20), since one built-in call runs to
 * its end whatever the timeout:
 * - regexes (`/.../` literals, the only regexes $match, $replace, $split and
 *   $contains take) run on RE2 through jsonata's `RegexEngine` option, and
 *   one RE2 cannot run is refused when the spec compiles;
 * - no value the expression builds may be a text or a list longer than
 *   MAX_RESULT_LENGTH: jsonata's `__evaluate_exit` hook sees every step's
 *   value, so doubling a text stops one step past the bound, and `$pad`,
 *   which would allocate its whole width in one call, checks the width first.
 */
export const MAX_EXPRESSION_LENGTH = 10_000;
const MAX_SEQUENCE = 100_000;
/** The most characters (or items) one value may have; a record's own strings have the same cap (lib/catalog/record-limits.ts). */
export const MAX_RESULT_LENGTH = 1_048_576;

/** Thrown inside jsonata's evaluation to stop it; jsonata passes it through to evaluate's caller. */
class ResultTooLarge extends Error {
  readonly code = 'TECTONIC-SIZE';
  constructor(readonly length: number) {
    super(`a value of ${length} characters or items`);
  }
}

const EVALUATE_EXIT = Symbol.for('jsonata.__evaluate_exit');

function tooLong(value: unknown): number | undefined {
  if (typeof value === 'string' || Array.isArray(value)) return value.length > MAX_RESULT_LENGTH ? value.length : undefined;
  return undefined;
}

function checkSize(_expr: unknown, _input: unknown, _env: unknown, result: unknown): void {
  const length = tooLong(result);
  if (length !== undefined) throw new ResultTooLarge(length);
}

// jsonata's own $pad, reached through an expression because jsonata does not export its functions.
type Pad = (str: string | undefined, width: number, char?: string) => string | undefined;
let builtinPad: Pad | undefined;
async function originalPad(): Promise<Pad> {
  builtinPad ??= ((await jsonata('$pad').evaluate({})) as { implementation: Pad }).implementation;
  return builtinPad;
}

async function boundedPad(str: string | undefined, width: number, char?: string): Promise<string | undefined> {
  if (Math.abs(width) > MAX_RESULT_LENGTH) throw new ResultTooLarge(Math.abs(width));
  return (await originalPad())(str, width, char);
}

/** Every regex literal in the expression's syntax tree that RE2 cannot run, as reasons. */
function regexProblems(ast: unknown, path: string): Reason[] {
  const found: Reason[] = [];
  const seen = new Set<object>();
  const walk = (node: unknown, depth: number): void => {
    if (typeof node !== 'object' || node === null || seen.has(node) || depth > 500) return;
    seen.add(node);
    if (node instanceof RegExp) {
      const compiled = compileLinearRegex(node.source, node.flags);
      if (!compiled.ok) found.push(reason(path, 'expression', `regex /${node.source}/ ${compiled.message}`));
      return;
    }
    for (const child of Object.values(node)) walk(child, depth + 1);
  };
  walk(ast, 0);
  return found;
}

export type ExpressionResult = { ok: true; value: unknown } | { ok: false; message: string };

export interface CompiledExpression {
  evaluate(input: unknown): Promise<ExpressionResult>;
}

interface JsonataError {
  code?: unknown;
  message?: unknown;
  position?: unknown;
}

export function compileExpression(text: unknown, path: string, options: CompileOptions, reasons: Reason[]): CompiledExpression | undefined {
  if (typeof text !== 'string' || text.trim() === '' || text.length > MAX_EXPRESSION_LENGTH) {
    reasons.push(reason(path, 'type', `must be a JSONata expression of 1 to ${MAX_EXPRESSION_LENGTH} characters`));
    return undefined;
  }
  let expression: jsonata.Expression;
  try {
    expression = jsonata(text, {
      timeout: options.expressionTimeoutMs,
      stack: options.expressionMaxDepth,
      sequence: MAX_SEQUENCE,
      RegexEngine: JsonataLinearRegExp as unknown as RegExpConstructor,
    });
  } catch (err) {
    const e = err as JsonataError;
    reasons.push(reason(path, 'expression', `is not valid JSONata: ${String(e.message ?? err)}${typeof e.position === 'number' ? ` (at character ${e.position})` : ''}`));
    return undefined;
  }
  const problems = regexProblems(expression.ast(), path);
  if (problems.length > 0) {
    reasons.push(...problems);
    return undefined;
  }
  expression.assign(EVALUATE_EXIT as unknown as string, checkSize);
  expression.registerFunction('pad', boundedPad, '<s-ns?:s>');
  return {
    // jsonata 2.x evaluates asynchronously whatever the expression; its promise is answered directly, without a wait of the pack's own (issue 19).
    evaluate: (input) => {
      let pending: Promise<unknown>;
      try {
        pending = expression.evaluate(input) as Promise<unknown>;
      } catch (err) {
        return Promise.resolve<ExpressionResult>({ ok: false, message: describeFailure(err, options) });
      }
      return pending.then(
        (value): ExpressionResult => {
          // A JSONata function value is an object of the interpreter's own.
          if (typeof value === 'object' && value !== null && (Object.hasOwn(value, '_jsonata_lambda') || Object.hasOwn(value, '_jsonata_function'))) {
            return { ok: false, message: 'returned a function, not data' };
          }
          return { ok: true, value };
        },
        (err: unknown): ExpressionResult => ({ ok: false, message: describeFailure(err, options) }),
      );
    },
  };
}

function describeFailure(err: unknown, options: CompileOptions): string {
  if (err instanceof RangeError) return `failed: ${err.message} (the input or the expression is nested too deeply)`;
  const e = (typeof err === 'object' && err !== null ? err : {}) as JsonataError & { length?: unknown };
  if (e.code === 'TECTONIC-SIZE') return `built a value of ${String(e.length)} characters or items, more than the ${MAX_RESULT_LENGTH} an expression may, and was stopped`;
  if (e.code === 'D1012') return `ran longer than ${options.expressionTimeoutMs} ms and was stopped`;
  if (e.code === 'D1011') return `went deeper than ${options.expressionMaxDepth} evaluation levels and was stopped`;
  if (e.code === 'D2015') return `built a sequence longer than ${MAX_SEQUENCE} items and was stopped`;
  const code = typeof e.code === 'string' ? ` [${e.code}]` : '';
  return `failed${code}: ${typeof e.message === 'string' ? e.message : String(err)}`;
}
