import { fullFormats } from 'ajv-formats/dist/formats';

/**
 * ajv-formats' "date-time" (full mode), with a quick answer for the form the
 * pack itself writes, `2026-11-24T07:05:09.123Z`: every canonical timestamp
 * is checked against the schema, and ajv-formats splits the text and runs
 * two regular expressions per value, allocating for each. The quick path
 * reads the digits in place and answers only when the value is a plain one;
 * anything else (offsets, leap seconds, spoiled texts) is ajv-formats' own
 * function, so the answers are its answers.
 */
const ajvDateTime = fullFormats['date-time'] as { validate: (text: string) => boolean; compare: (a: string, b: string) => number | undefined };

const DAYS = [0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function isLeapYear(year: number): boolean {
  return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
}

/** The two digits at `at` as a number, or -1. */
function twoDigits(text: string, at: number): number {
  const high = text.charCodeAt(at) - 48;
  const low = text.charCodeAt(at + 1) - 48;
  return high >= 0 && high <= 9 && low >= 0 && low <= 9 ? high * 10 + low : -1;
}

/** True when `YYYY-MM-DDTHH:MM:SS[.fraction]Z` names a real instant, false for a plain form that does not, undefined for any other form. */
function plainUtc(text: string): boolean | undefined {
  const n = text.length;
  if (n < 20) return undefined;
  const last = text.charCodeAt(n - 1);
  const t = text.charCodeAt(10);
  if ((last !== 0x5a && last !== 0x7a) || (t !== 0x54 && t !== 0x74)) return undefined;
  if (text.charCodeAt(4) !== 0x2d || text.charCodeAt(7) !== 0x2d || text.charCodeAt(13) !== 0x3a || text.charCodeAt(16) !== 0x3a) return undefined;
  if (n > 20) {
    // ajv-formats reads the seconds as a number, and fifteen nines round up to 60:
    // fractions longer than a double holds exactly are its call.
    if (n === 21 || n > 33 || text.charCodeAt(19) !== 0x2e) return undefined;
    for (let i = 20; i < n - 1; i++) {
      const c = text.charCodeAt(i);
      if (c < 0x30 || c > 0x39) return undefined;
    }
  }
  const century = twoDigits(text, 0);
  const yy = twoDigits(text, 2);
  const month = twoDigits(text, 5);
  const day = twoDigits(text, 8);
  const hour = twoDigits(text, 11);
  const minute = twoDigits(text, 14);
  const second = twoDigits(text, 17);
  if (century < 0 || yy < 0 || month < 0 || day < 0 || hour < 0 || minute < 0 || second < 0) return undefined;
  // A second of 60 may be a leap second: that is ajv-formats' call.
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  return month >= 1 && month <= 12 && day >= 1 && day <= (month === 2 && isLeapYear(century * 100 + yy) ? 29 : (DAYS[month] as number));
}

export const dateTimeFormat = {
  type: 'string' as const,
  validate: (text: string): boolean => plainUtc(text) ?? ajvDateTime.validate(text),
  compare: ajvDateTime.compare,
};
