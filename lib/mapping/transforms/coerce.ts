import { type Reason, reason } from '../../reasons';
import { optionalString, readOptions } from '../options';
import { type CompiledTransform, type RunContext, type Step, type TransformCompiler, fail, ok, syncTransform } from '../transform-types';
import { describeValue, typeName } from '../values';

/**
 * Type coercion: `string`, `number`, `integer`, `boolean`.
 *
 * Numbers are parsed strictly: the decimal mark is "." unless the rule says
 * `"decimal": ","`, and digit grouping ("1,234.5", "1.234,5") is accepted
 * only when the rule names the `thousands` separator, with groups of three.
 * Guessing would read the European "1,234" (one point two three four) as one
 * thousand two hundred thirty-four; that is the class of bug this mapper
 * exists to stop. An empty string is a reason, never 0.
 */

const DECIMALS = ['.', ','] as const;
const THOUSANDS = [',', '.', ' ', "'", '_', '\u00a0', '\u202f'] as const;
/** Longer numeric text is not a measurement; refusing it keeps parsing cheap. */
const MAX_NUMBER_TEXT = 64;

function escape(ch: string): string {
  return ch.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

type NumberReader = (value: unknown, ctx: RunContext, rule: string) => Step;

/** Builds the number reader for one rule's options; undefined when they are wrong (reasons pushed). */
function numberReader(raw: unknown, path: string, reasons: Reason[]): NumberReader | undefined {
  const options = readOptions(raw, path, ['decimal', 'thousands'], reasons);
  if (!options) return undefined;
  const decimal = optionalString(options, 'decimal', path, reasons, DECIMALS);
  const thousands = optionalString(options, 'thousands', path, reasons, THOUSANDS);
  if (decimal === null || thousands === null) return undefined;
  const d = decimal ?? '.';
  if (thousands !== undefined && thousands === d) {
    reasons.push(reason(`${path}.thousands`, 'conflict', `must differ from the decimal mark "${d}"`));
    return undefined;
  }
  // Built from the two checked separators only, never from free spec text.
  const integerPart = thousands === undefined ? '\\d+' : `(?:\\d{1,3}(?:${escape(thousands)}\\d{3})+|\\d+)`;
  const pattern = new RegExp(`^[+-]?(?:${integerPart}(?:${escape(d)}\\d+)?|${escape(d)}\\d+)(?:[eE][+-]?\\d{1,3})?$`);
  const hint = thousands === undefined ? ` (digit grouping needs a "thousands" option; the decimal mark is "${d}")` : ` (decimal mark "${d}", thousands "${thousands}")`;

  return (value, ctx, rule) => {
    if (typeof value === 'number') return Number.isFinite(value) ? ok(value) : fail(ctx, rule, `${String(value)} is not a finite number`);
    if (typeof value !== 'string') return fail(ctx, rule, `expects a number or numeric text, got ${typeName(value)}`);
    const text = value.trim();
    if (text === '') return fail(ctx, rule, 'is an empty string, not a number');
    if (text.length > MAX_NUMBER_TEXT) return fail(ctx, rule, `${describeValue(value)} is too long to be a number`);
    if (!pattern.test(text)) return fail(ctx, rule, `${describeValue(value)} is not a number${hint}`);
    // replaceAll, not split and join: no array per record, and most numbers have no separator to drop.
    let normal = thousands === undefined || !text.includes(thousands) ? text : text.replaceAll(thousands, '');
    if (d !== '.') normal = normal.replace(d, '.');
    const n = Number(normal);
    return Number.isFinite(n) ? ok(n) : fail(ctx, rule, `${describeValue(value)} is out of range`);
  };
}

/** `{ "number": { "decimal"?: "." | ",", "thousands"?: "," | "." | " " | "'" | "_" } }` */
export const compileNumber: TransformCompiler = (raw, cx) => {
  const read = numberReader(raw, cx.path, cx.reasons);
  return read && syncTransform((value, ctx) => read(value, ctx, 'number'));
};

/** `{ "integer": { same options as number } }`: a number with no fraction, within ±2^53. */
export const compileInteger: TransformCompiler = (raw, cx) => {
  const read = numberReader(raw, cx.path, cx.reasons);
  if (!read) return undefined;
  return syncTransform((value, ctx) => {
    const step = read(value, ctx, 'integer');
    if (!step.ok) return step;
    const n = step.value as number;
    if (!Number.isInteger(n)) return fail(ctx, 'integer', `${describeValue(value)} is not a whole number`);
    if (!Number.isSafeInteger(n)) return fail(ctx, 'integer', `${describeValue(value)} is too large to be an exact integer`);
    return ok(n === 0 ? 0 : n);
  });
};

/** `{ "string": {} }`: text stays, finite numbers and booleans become their JSON text. */
export const compileString: TransformCompiler = (raw, cx) => {
  if (!readOptions(raw, cx.path, [], cx.reasons)) return undefined;
  return syncTransform((value, ctx) => {
    if (typeof value === 'string') return ok(value);
    if (typeof value === 'boolean') return ok(String(value));
    if (typeof value === 'number') return Number.isFinite(value) ? ok(String(value)) : fail(ctx, 'string', `${String(value)} is not a finite number`);
    return fail(ctx, 'string', `expects text, a number or a boolean, got ${typeName(value)}`);
  });
};

const DEFAULT_TRUE = ['true', 'yes', '1'];
const DEFAULT_FALSE = ['false', 'no', '0'];

function wordList(value: unknown, path: string, reasons: Reason[]): string[] | undefined {
  if (!Array.isArray(value) || value.length === 0 || !value.every((w) => typeof w === 'string' && w.trim() !== '')) {
    reasons.push(reason(path, 'type', 'must be a non-empty array of non-empty strings'));
    return undefined;
  }
  return (value as string[]).map((w) => w.trim().toLowerCase());
}

/**
 * `{ "boolean": { "true"?: [...], "false"?: [...] } }`. Booleans pass; text
 * is matched case-insensitively after trimming against the words (default
 * true/yes/1 and false/no/0; a list given in the rule replaces the default);
 * the numbers 1 and 0 count as the words "1" and "0".
 */
export const compileBoolean: TransformCompiler = (raw, cx): CompiledTransform | undefined => {
  const options = readOptions(raw, cx.path, ['true', 'false'], cx.reasons);
  if (!options) return undefined;
  const yes = options.true === undefined ? DEFAULT_TRUE : wordList(options.true, `${cx.path}.true`, cx.reasons);
  const no = options.false === undefined ? DEFAULT_FALSE : wordList(options.false, `${cx.path}.false`, cx.reasons);
  if (!yes || !no) return undefined;
  const both = yes.filter((w) => no.includes(w));
  if (both.length > 0) {
    cx.reasons.push(reason(cx.path, 'conflict', `${both.map((w) => `"${w}"`).join(', ')} cannot mean both true and false`));
    return undefined;
  }
  const words = new Map<string, boolean>([...yes.map((w): [string, boolean] => [w, true]), ...no.map((w): [string, boolean] => [w, false])]);
  const known = `${yes.join('/')} or ${no.join('/')}`;
  return syncTransform((value, ctx) => {
    if (typeof value === 'boolean') return ok(value);
    if (typeof value !== 'string' && typeof value !== 'number') return fail(ctx, 'boolean', `expects ${known}, got ${typeName(value)}`);
    const word = typeof value === 'number' ? String(value) : value.trim().toLowerCase();
    const found = word.length <= 64 ? words.get(word) : undefined;
    return found === undefined ? fail(ctx, 'boolean', `${describeValue(value)} is not ${known}`) : ok(found);
  });
};
