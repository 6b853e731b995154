import jsonata from 'jsonata';
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
 * length, so a runaway expression becomes a reason rather than a hang. A
 * single slow built-in call (a catastrophic regex inside $match) cannot be
 * interrupted by any in-process guard; the docs say so.
 */
export const MAX_EXPRESSION_LENGTH = 10_000;
const MAX_SEQUENCE = 100_000;

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
    expression = jsonata(text, { timeout: options.expressionTimeoutMs, stack: options.expressionMaxDepth, sequence: MAX_SEQUENCE });
  } catch (err) {
    const e = err as JsonataError;
    reasons.push(reason(path, 'expression', `is not valid JSONata: ${String(e.message ?? err)}${typeof e.position === 'number' ? ` (at character ${e.position})` : ''}`));
    return undefined;
  }
  return {
    evaluate: async (input) => {
      try {
        const value = (await expression.evaluate(input)) as unknown;
        // A JSONata function value is an object of the interpreter's own.
        if (typeof value === 'object' && value !== null && (Object.hasOwn(value, '_jsonata_lambda') || Object.hasOwn(value, '_jsonata_function'))) {
          return { ok: false, message: 'returned a function, not data' };
        }
        return { ok: true, value };
      } catch (err) {
        return { ok: false, message: describeFailure(err, options) };
      }
    },
  };
}

function describeFailure(err: unknown, options: CompileOptions): string {
  if (err instanceof RangeError) return `failed: ${err.message} (the input or the expression is nested too deeply)`;
  const e = (typeof err === 'object' && err !== null ? err : {}) as JsonataError;
  if (e.code === 'D1012') return `ran longer than ${options.expressionTimeoutMs} ms and was stopped`;
  if (e.code === 'D1011') return `went deeper than ${options.expressionMaxDepth} evaluation levels and was stopped`;
  if (e.code === 'D2015') return `built a sequence longer than ${MAX_SEQUENCE} items and was stopped`;
  const code = typeof e.code === 'string' ? ` [${e.code}]` : '';
  return `failed${code}: ${typeof e.message === 'string' ? e.message : String(err)}`;
}
