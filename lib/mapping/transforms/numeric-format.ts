import { Settings } from 'luxon';

/**
 * A fast reader for the date formats most sites use, made only of numbers and
 * separators (`dd.MM.yyyy HH:mm`, `yyyy-MM-dd'T'HH:mm:ss`, `yyyyMMddHHmmss`).
 * Luxon's own path (TokenParser, fromFormatParser, fromObject) cost more than
 * the rest of a mapping together; this one is a single anchored RegExp and a
 * few comparisons, compiled once per format.
 *
 * It must give exactly Luxon's outcome, so it copies Luxon 3.7's rules
 * (src/impl/tokenParser.js, formatter.js parseFormat, conversions.js) rather
 * than what the tokens would mean in TR35:
 *
 * - one-letter tokens (`d`, `M`, `H`, `m`, `s`) take one or two digits, the
 *   doubled ones exactly two, `yyyy` exactly four, `SSS` exactly three, `yy`
 *   two to four (two are completed around `Settings.twoDigitCutoffYear`);
 * - the whole text must match: no blanks are trimmed, no extra digits are
 *   ignored; literals match case-insensitively (Luxon's RegExp has the `i` flag);
 * - `24:00:00.000` is a valid hour (the end of the day), any other hour 24 is not;
 * - the first field out of range, in the order year, month, day, hour,
 *   minute, second, millisecond, is explained in Luxon's words.
 *
 * Only ASCII digits are read, as Luxon does for a locale whose numbering
 * system is Latin; the caller checks that Luxon agrees before using it.
 * Anything else (names, meridiem, offsets, zones, 12-hour clock, macro
 * tokens, a field given twice, a format missing the year, month or day) is
 * not compiled, and the caller keeps Luxon's path.
 */

/** Why a text has no time: `explanation` (Luxon's words) when it matches but names an impossible date or time. */
export interface NumericMiss {
  readonly ok: false;
  readonly explanation?: string;
}

/** Where a text is, read with a numeric format. */
export type NumericReading =
  /** The wall-clock time, as if it were UTC, in milliseconds since 1970. */
  { ok: true; wall: number } | NumericMiss;

export interface NumericFormat {
  read(text: string): NumericReading;
  /** read() for the mapping hot path: the wall-clock time as a bare number, so a date that reads allocates no result. */
  readWall(text: string): number | NumericMiss;
}

const NO_MATCH: NumericMiss = Object.freeze({ ok: false });

type Field = 'year' | 'twoDigitYear' | 'month' | 'day' | 'hour' | 'minute' | 'second' | 'millisecond';

/**
 * The tokens read here, with Luxon's RegExp for each (tokenParser.js
 * unitForToken, Latin digits), and the number of digits when it is fixed.
 */
const UNITS: Readonly<Record<string, { field: Field; pattern: string; width?: number }>> = {
  yyyy: { field: 'year', pattern: '\\d{4}', width: 4 },
  yy: { field: 'twoDigitYear', pattern: '\\d{2,4}' },
  MM: { field: 'month', pattern: '\\d{2}', width: 2 },
  M: { field: 'month', pattern: '\\d{1,2}' },
  dd: { field: 'day', pattern: '\\d{2}', width: 2 },
  d: { field: 'day', pattern: '\\d{1,2}' },
  HH: { field: 'hour', pattern: '\\d{2}', width: 2 },
  H: { field: 'hour', pattern: '\\d{1,2}' },
  mm: { field: 'minute', pattern: '\\d{2}', width: 2 },
  m: { field: 'minute', pattern: '\\d{1,2}' },
  ss: { field: 'second', pattern: '\\d{2}', width: 2 },
  s: { field: 'second', pattern: '\\d{1,2}' },
  SSS: { field: 'millisecond', pattern: '\\d{3}', width: 3 },
};

/** The fields in the order readFixed stores them. */
const FIXED_FIELDS: readonly Field[] = ['year', 'month', 'day', 'hour', 'minute', 'second', 'millisecond'];

/**
 * A format whose every token has a fixed number of digits and whose literals
 * are ASCII, as character positions: the text then has one length, and is
 * read with charCodeAt, not a RegExp and its array of substrings.
 */
interface FixedLayout {
  length: number;
  /** Position, character code (lower case for letters) and whether case is ignored, of each literal character. */
  literals: { at: number; code: number; letter: boolean }[];
  /** Position, digits and index in FIXED_FIELDS of each field. */
  digits: { at: number; width: number; field: number }[];
}

/** The letter Luxon files a field's value under. */
const KEY: Readonly<Record<Field, string>> = { year: 'y', twoDigitYear: 'y', month: 'M', day: 'd', hour: 'H', minute: 'm', second: 's', millisecond: 'S' };

interface FormatToken {
  literal: boolean;
  val: string;
}

/**
 * A format split as Luxon's Formatter.parseFormat splits it: runs of one
 * character, 'quoted' text as literals, `''` as a single quote. Copied
 * quirks and all: `'it''s'` is "its", an unclosed quote runs to the end.
 */
export function splitFormat(format: string): FormatToken[] {
  const splits: FormatToken[] = [];
  let current: string | null = null;
  let currentFull = '';
  let bracketed = false;
  for (const c of format.split('')) {
    if (c === "'") {
      if (currentFull.length > 0 || bracketed) {
        splits.push({ literal: bracketed || /^\s+$/.test(currentFull), val: currentFull === '' ? "'" : currentFull });
      }
      current = null;
      currentFull = '';
      bracketed = !bracketed;
    } else if (bracketed) {
      currentFull += c;
    } else if (c === current) {
      currentFull += c;
    } else {
      if (currentFull.length > 0) splits.push({ literal: /^\s+$/.test(currentFull), val: currentFull });
      currentFull = c;
      current = c;
    }
  }
  if (currentFull.length > 0) splits.push({ literal: bracketed || /^\s+$/.test(currentFull), val: currentFull });
  return splits;
}

function escapeLiteral(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}

function isLeapYear(year: number): boolean {
  return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
}

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function daysInMonth(year: number, month: number): number {
  return month === 2 && isLeapYear(year) ? 29 : (MONTH_DAYS[month - 1] ?? 0);
}

function outOfRange(unit: string, value: number): NumericMiss {
  return { ok: false, explanation: `you specified ${value} (of type number) as a ${unit}, which is invalid` };
}

/** Luxon's util.untruncateYear, read at each call as Luxon reads the setting. */
function untruncateYear(year: number): number {
  if (year > 99) return year;
  return year > Settings.twoDigitCutoffYear ? 1900 + year : 2000 + year;
}

/** Luxon's objToLocalTS: Date.UTC, except that years 0 to 99 are not taken as 19xx. */
function wallClock(year: number, month: number, day: number, hour: number, minute: number, second: number, millisecond: number): number {
  const ms = Date.UTC(year, month - 1, day, hour, minute, second, millisecond);
  if (year >= 100) return ms;
  // As Luxon does, the date is set again after the time, so 24:00 in these
  // years stays on its own day rather than the next.
  const d = new Date(ms);
  d.setUTCFullYear(year, month - 1, day);
  return d.getTime();
}

/**
 * The wall-clock time of fields read from a text, or Luxon's words for the
 * first one out of range: conversions.js hasInvalidGregorianData, then
 * hasInvalidTimeData. The year (four digits, or completed from two) and the
 * millisecond (three digits) cannot be out of range.
 */
function checkedWall(year: number, month: number, day: number, hour: number, minute: number, second: number, millisecond: number): number | NumericMiss {
  if (month < 1 || month > 12) return outOfRange('month', month);
  if (day < 1 || day > daysInMonth(year, month)) return outOfRange('day', day);
  if (hour > 23 && !(hour === 24 && minute === 0 && second === 0 && millisecond === 0)) return outOfRange('hour', hour);
  if (minute > 59) return outOfRange('minute', minute);
  if (second > 59) return outOfRange('second', second);
  return wallClock(year, month, day, hour, minute, second, millisecond);
}

/**
 * Adds a literal to a fixed layout; undefined (no layout) when it has a
 * character outside ASCII. ASCII letters match in either case, as the
 * RegExp's `i` flag makes them, and nothing else: without the `u` flag
 * case folding never maps a character outside ASCII to one inside.
 */
function addLiteral(layout: FixedLayout, text: string): FixedLayout | undefined {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code > 0x7f) return undefined;
    const letter = /[A-Za-z]/.test(text.charAt(i));
    layout.literals.push({ at: layout.length, code: letter ? code | 0x20 : code, letter });
    layout.length += 1;
  }
  return layout;
}

/** The reader of a fixed layout: what the format's RegExp would match, read by position. */
function fixedReader(layout: FixedLayout): (text: string) => number | NumericMiss {
  const { length, literals, digits } = layout;
  // One array per format, refilled per text: the reader runs to completion before the next text.
  const fields = [0, 0, 0, 0, 0, 0, 0];
  return (text) => {
    if (text.length !== length) return NO_MATCH;
    for (const { at, code, letter } of literals) {
      const c = text.charCodeAt(at);
      if ((letter ? c | 0x20 : c) !== code) return NO_MATCH;
    }
    for (const { at, width, field } of digits) {
      let n = 0;
      for (let i = at; i < at + width; i++) {
        const digit = text.charCodeAt(i) - 48;
        if (digit < 0 || digit > 9) return NO_MATCH;
        n = n * 10 + digit;
      }
      fields[field] = n;
    }
    return checkedWall(fields[0] as number, fields[1] as number, fields[2] as number, fields[3] as number, fields[4] as number, fields[5] as number, fields[6] as number);
  };
}

/** A reader for `format`, or undefined when the format is not made only of the numeric tokens above. */
export function compileNumericFormat(format: string): NumericFormat | undefined {
  const groups: Field[] = [];
  let source = '^';
  let fixed: FixedLayout | undefined = { length: 0, literals: [], digits: [] };
  for (const token of splitFormat(format)) {
    // Luxon reads every unquoted run that is not a token it knows as a
    // literal; runs of letters are left to Luxon, which knows more tokens.
    if (token.literal || !/^[A-Za-z]/.test(token.val)) {
      source += `(?:${escapeLiteral(token.val)})`;
      fixed = fixed && addLiteral(fixed, token.val);
      continue;
    }
    const unit = UNITS[token.val];
    if (!unit) return undefined;
    // Luxon keys a field by the token's letter and keeps the last of two (M
    // and MM, yy and yyyy); rare enough to leave to Luxon.
    if (groups.some((f) => KEY[f] === KEY[unit.field])) return undefined;
    groups.push(unit.field);
    source += `(${unit.pattern})`;
    if (fixed && unit.width !== undefined) {
      fixed.digits.push({ at: fixed.length, width: unit.width, field: FIXED_FIELDS.indexOf(unit.field) });
      fixed.length += unit.width;
    } else {
      fixed = undefined;
    }
  }
  const at = (field: Field): number => groups.indexOf(field) + 1;
  const yearAt = at('year') || at('twoDigitYear');
  const twoDigit = at('twoDigitYear') > 0;
  const [monthAt, dayAt, hourAt, minuteAt, secondAt, msAt] = [at('month'), at('day'), at('hour'), at('minute'), at('second'), at('millisecond')];
  // Without the year, month or day Luxon takes them from today; date.ts refuses such formats.
  if (yearAt === 0 || monthAt === 0 || dayAt === 0) return undefined;
  const regex = new RegExp(`${source}$`, 'i');
  const int = (m: RegExpExecArray, index: number): number => (index === 0 ? 0 : parseInt(m[index] ?? '', 10));

  const readWithRegex = (text: string): number | NumericMiss => {
    const m = regex.exec(text);
    if (!m) return NO_MATCH;
    const year = twoDigit ? untruncateYear(int(m, yearAt)) : int(m, yearAt);
    return checkedWall(year, int(m, monthAt), int(m, dayAt), int(m, hourAt), int(m, minuteAt), int(m, secondAt), int(m, msAt));
  };
  const readWall = fixed ? fixedReader(fixed) : readWithRegex;
  return {
    readWall,
    read(text) {
      const wall = readWall(text);
      return typeof wall === 'number' ? { ok: true, wall } : wall;
    },
  };
}
