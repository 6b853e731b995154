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

/** Where a text is, read with a numeric format. */
export type NumericReading =
  /** The wall-clock time, as if it were UTC, in milliseconds since 1970. */
  | { ok: true; wall: number }
  /** `explanation` (Luxon's words) when the text matches but names an impossible date or time. */
  | { ok: false; explanation?: string };

export interface NumericFormat {
  read(text: string): NumericReading;
}

type Field = 'year' | 'twoDigitYear' | 'month' | 'day' | 'hour' | 'minute' | 'second' | 'millisecond';

/** The tokens read here, with Luxon's RegExp for each (tokenParser.js unitForToken, Latin digits). */
const UNITS: Readonly<Record<string, { field: Field; pattern: string }>> = {
  yyyy: { field: 'year', pattern: '\\d{4}' },
  yy: { field: 'twoDigitYear', pattern: '\\d{2,4}' },
  MM: { field: 'month', pattern: '\\d{2}' },
  M: { field: 'month', pattern: '\\d{1,2}' },
  dd: { field: 'day', pattern: '\\d{2}' },
  d: { field: 'day', pattern: '\\d{1,2}' },
  HH: { field: 'hour', pattern: '\\d{2}' },
  H: { field: 'hour', pattern: '\\d{1,2}' },
  mm: { field: 'minute', pattern: '\\d{2}' },
  m: { field: 'minute', pattern: '\\d{1,2}' },
  ss: { field: 'second', pattern: '\\d{2}' },
  s: { field: 'second', pattern: '\\d{1,2}' },
  SSS: { field: 'millisecond', pattern: '\\d{3}' },
};

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

function outOfRange(unit: string, value: number): NumericReading {
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

/** A reader for `format`, or undefined when the format is not made only of the numeric tokens above. */
export function compileNumericFormat(format: string): NumericFormat | undefined {
  const groups: Field[] = [];
  let source = '^';
  for (const token of splitFormat(format)) {
    // Luxon reads every unquoted run that is not a token it knows as a
    // literal; runs of letters are left to Luxon, which knows more tokens.
    if (token.literal || !/^[A-Za-z]/.test(token.val)) {
      source += `(?:${escapeLiteral(token.val)})`;
      continue;
    }
    const unit = UNITS[token.val];
    if (!unit) return undefined;
    // Luxon keys a field by the token's letter and keeps the last of two (M
    // and MM, yy and yyyy); rare enough to leave to Luxon.
    if (groups.some((f) => KEY[f] === KEY[unit.field])) return undefined;
    groups.push(unit.field);
    source += `(${unit.pattern})`;
  }
  const at = (field: Field): number => groups.indexOf(field) + 1;
  const yearAt = at('year') || at('twoDigitYear');
  const twoDigit = at('twoDigitYear') > 0;
  const [monthAt, dayAt, hourAt, minuteAt, secondAt, msAt] = [at('month'), at('day'), at('hour'), at('minute'), at('second'), at('millisecond')];
  // Without the year, month or day Luxon takes them from today; date.ts refuses such formats.
  if (yearAt === 0 || monthAt === 0 || dayAt === 0) return undefined;
  const regex = new RegExp(`${source}$`, 'i');
  const int = (m: RegExpExecArray, index: number): number => (index === 0 ? 0 : parseInt(m[index] ?? '', 10));

  return {
    read(text) {
      const m = regex.exec(text);
      if (!m) return { ok: false };
      const year = twoDigit ? untruncateYear(int(m, yearAt)) : int(m, yearAt);
      const month = int(m, monthAt);
      const day = int(m, dayAt);
      const hour = int(m, hourAt);
      const minute = int(m, minuteAt);
      const second = int(m, secondAt);
      const millisecond = int(m, msAt);
      // conversions.js hasInvalidGregorianData, then hasInvalidTimeData; the
      // year (four digits, or completed from two) and the millisecond (three
      // digits) cannot be out of range.
      if (month < 1 || month > 12) return outOfRange('month', month);
      if (day < 1 || day > daysInMonth(year, month)) return outOfRange('day', day);
      if (hour > 23 && !(hour === 24 && minute === 0 && second === 0 && millisecond === 0)) return outOfRange('hour', hour);
      if (minute > 59) return outOfRange('minute', minute);
      if (second > 59) return outOfRange('second', second);
      return { ok: true, wall: wallClock(year, month, day, hour, minute, second, millisecond) };
    },
  };
}
