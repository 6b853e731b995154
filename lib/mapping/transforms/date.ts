import { DateTime, type DateTimeOptions, FixedOffsetZone, Info, type TokenParser, type Zone } from 'luxon';
import { type Reason, reason } from '../../reasons';
import { optionalString, readOptions } from '../options';
import { type RunContext, type Step, type TransformCompiler, fail, ok, syncTransform } from '../transform-types';
import { describeValue, typeName } from '../values';
import { type DateWriter, compileDateOutput } from './date-output';
import { type NumericFormat, compileNumericFormat } from './numeric-format';

/**
 * `date`: a local date-time into an ISO 8601 instant in UTC with milliseconds
 * (`2026-11-24T07:00:00.000Z`), the one form every site publishes, or into
 * the `output` form date-output.ts describes. Exactly one way to read the
 * input:
 *
 * - `format`: Unicode TR35 tokens as Luxon reads them (`dd/MM/yyyy HH:mm`),
 *   with `zone` (IANA name, "UTC", or "UTC+2") for text that carries no offset,
 *   and `locale` for month and day names (default "en-US");
 * - `iso: true`: ISO 8601 text; `zone` is then needed only for text without
 *   an offset (text without one and no `zone` is a reason, not a guess);
 * - `epoch: "s" | "ms"`: seconds or milliseconds since 1970 (number or digits).
 *
 * Impossible dates (31/02) and wall-clock times that do not exist in the zone
 * (the hour skipped when daylight saving starts) are reasons. A wall-clock time
 * that happens twice (the hour repeated when it ends) is resolved by
 * `ambiguous`: "earlier" (default: the first occurrence, still on summer time,
 * as java.time and Python's fold=0 do), "later", or "reject".
 */

const MODES = ['format', 'iso', 'epoch'] as const;
const AMBIGUOUS = ['earlier', 'later', 'reject'] as const;
type Ambiguous = (typeof AMBIGUOUS)[number];
const DAY_MS = 86_400_000;
/** 0000-01-01T00:00:00.000Z and 9999-12-31T23:59:59.999Z: RFC 3339 years have four digits. */
const MIN_INSTANT = -62_167_219_200_000;
const MAX_INSTANT = 253_402_300_799_999;
/** No date text is longer; a longer one is refused before any parsing. */
const MAX_DATE_TEXT = 100;
const UTC = FixedOffsetZone.utcInstance;

/** Two instants in different years, months and days, to check a format writes and reads them back. */
const PROBES = [Date.UTC(2026, 10, 24, 7, 5, 9, 123), Date.UTC(1999, 1, 3, 13, 14, 15, 678)];

const OFFSET_CACHE_SIZE = 4096;

/** A UTC day's offsets: `before` until the instant `change`, `after` from it (equal on a day without a transition). */
interface DayOffsets {
  readonly before: number;
  readonly after: number;
  readonly change: number;
}

/**
 * The day's offsets, from its first and last millisecond. A day whose two
 * differ holds a transition, whose millisecond is found by bisection: about
 * 27 more questions to Intl, once per such day, rather than one for every
 * record that falls on it (the records of the days around a transition cost
 * more than all the others together).
 */
function offsetsOfDay(zone: Zone, day: number): DayOffsets {
  const start = day * DAY_MS;
  const before = zone.offset(start);
  const after = zone.offset(start + DAY_MS - 1);
  if (before === after) return { before, after, change: start };
  let unchanged = start;
  let changed = start + DAY_MS - 1;
  while (changed - unchanged > 1) {
    const middle = Math.floor((unchanged + changed) / 2);
    if (zone.offset(middle) === before) unchanged = middle;
    else changed = middle;
  }
  return { before, after, change: changed };
}

/**
 * A zone's offset at an instant, memoised per UTC day. Luxon asks Intl for
 * every IANA offset (about 20 µs a call), which made the zone lookup the
 * most expensive step of a mapping. Offsets change at most once in any real
 * day, so a day is known by its offset before and after that change and the
 * millisecond it happens. A day, not an hour: records of a backlog spread
 * over a year need 365 entries, not 8,760.
 */
export function offsetLookup(zone: Zone): (instant: number) => number {
  if (zone.isUniversal) {
    const fixed = zone.offset(0);
    return () => fixed;
  }
  const cache = new Map<number, DayOffsets>();
  return (instant) => {
    const day = Math.floor(instant / DAY_MS);
    let offsets = cache.get(day);
    if (offsets === undefined) {
      offsets = offsetsOfDay(zone, day);
      if (cache.size >= OFFSET_CACHE_SIZE) cache.clear();
      cache.set(day, offsets);
    }
    return instant < offsets.change ? offsets.before : offsets.after;
  };
}

/**
 * The instant a wall-clock time (given as if it were UTC) denotes in `zone`,
 * or why there is none. Zone offsets are sampled a day either side, so both
 * offsets around a transition are tried; an offset counts when the instant it
 * gives really has that offset. None: the time falls in a gap. Two: it is
 * ambiguous. A string, not an object, so the common case allocates nothing.
 */
export function resolveWallClock(wall: number, offsetAt: (instant: number) => number, ambiguous: Ambiguous): number | 'gap' | 'ambiguous' {
  const dayBefore = offsetAt(wall - DAY_MS);
  const sameDay = offsetAt(wall);
  const dayAfter = offsetAt(wall + DAY_MS);
  // Nearly always: no transition within a day either side, one candidate.
  if (dayBefore === sameDay && sameDay === dayAfter) {
    const instant = wall - sameDay * 60_000;
    return offsetAt(instant) === sameDay ? instant : 'gap';
  }
  let first: number | undefined;
  let second: number | undefined;
  for (const offset of [dayBefore, sameDay, dayAfter]) {
    const instant = wall - offset * 60_000;
    if (offsetAt(instant) !== offset || instant === first || instant === second) continue;
    if (first === undefined) first = instant;
    else second = instant;
  }
  if (first === undefined) return 'gap';
  if (second === undefined) return first;
  if (ambiguous === 'reject') return 'ambiguous';
  return ambiguous === 'earlier' ? Math.min(first, second) : Math.max(first, second);
}

function toOutput(instant: number, value: unknown, ctx: RunContext, write: DateWriter): Step {
  if (!(instant >= MIN_INSTANT && instant <= MAX_INSTANT)) return fail(ctx, 'date', `${describeValue(value)} is outside the years 0000 to 9999`);
  return ok(write(instant));
}

function fromWall(wall: number, value: unknown, zone: Zone, offsetAt: (instant: number) => number, ambiguous: Ambiguous, ctx: RunContext, write: DateWriter): Step {
  const instant = resolveWallClock(wall, offsetAt, ambiguous);
  if (typeof instant === 'number') return toOutput(instant, value, ctx, write);
  return fail(
    ctx,
    'date',
    instant === 'gap'
      ? `${describeValue(value)} does not exist in ${zone.name}: the clocks skip that time (daylight saving starts)`
      : `${describeValue(value)} happens twice in ${zone.name} (daylight saving ends) and the rule says "ambiguous": "reject"`,
  );
}

/** Letters of a format outside its 'quoted literals'. */
function unquotedTokens(format: string): string {
  return format.replace(/'[^']*'?/g, '');
}

function readZone(options: Record<string, unknown>, path: string, reasons: Reason[], key = 'zone'): Zone | undefined | null {
  const name = optionalString(options, key, path, reasons);
  if (typeof name !== 'string') return name;
  const zone = Info.normalizeZone(name);
  if (!zone.isValid || name.trim() === '') {
    reasons.push(reason(`${path}.${key}`, 'zone', `"${name}" is not a time zone Luxon knows (use an IANA name such as "Europe/Berlin", or "UTC")`));
    return null;
  }
  return zone;
}

/**
 * The `date` compiler. `numericFastPath: false` reads every format with
 * Luxon; only the tests that hold the fast path to Luxon's outcome use it.
 * @internal
 */
export function dateCompiler({ numericFastPath }: { numericFastPath: boolean }): TransformCompiler {
  return (raw, cx) => compile(raw, cx, numericFastPath);
}

export const compileDate: TransformCompiler = dateCompiler({ numericFastPath: true });

function compile(raw: unknown, cx: Parameters<TransformCompiler>[1], numericFastPath: boolean): ReturnType<TransformCompiler> {
  const { path, reasons } = cx;
  const options = readOptions(raw, path, ['format', 'zone', 'locale', 'iso', 'epoch', 'ambiguous', 'output', 'outputZone'], reasons);
  if (!options) return undefined;
  const modes = MODES.filter((m) => options[m] !== undefined);
  if (modes.length !== 1) {
    reasons.push(reason(path, 'date', modes.length === 0 ? 'needs one of "format", "iso" or "epoch"' : `takes one of "format", "iso" or "epoch", not ${modes.map((m) => `"${m}"`).join(' and ')}`));
    return undefined;
  }
  const zone = readZone(options, path, reasons);
  const ambiguous = optionalString(options, 'ambiguous', path, reasons, AMBIGUOUS) ?? 'earlier';
  const locale = optionalString(options, 'locale', path, reasons) ?? 'en-US';
  if (ambiguous === null || locale === null) return undefined;
  const outputZone = readZone(options, path, reasons, 'outputZone');
  const write = outputZone === null ? null : compileDateOutput(options, outputZone, locale, path, reasons);
  if (write === null) return undefined;
  const mode = modes[0] as (typeof MODES)[number];

  if (mode === 'epoch') {
    const unit = optionalString(options, 'epoch', path, reasons, ['s', 'ms']);
    const extra = ['zone', 'ambiguous', 'locale'].filter((key) => options[key] !== undefined);
    for (const key of extra) reasons.push(reason(`${path}.${key}`, 'unknown-option', 'has no meaning with "epoch": an epoch is an instant already'));
    if (typeof unit !== 'string' || extra.length > 0 || zone === null) return undefined;
    return compileEpoch(unit === 's' ? 1000 : 1, write);
  }
  if (mode === 'iso') {
    if (options.iso !== true) {
      reasons.push(reason(`${path}.iso`, 'type', 'must be true'));
      return undefined;
    }
    return zone === null ? undefined : compileIso(zone, ambiguous as Ambiguous, write);
  }
  const format = optionalString(options, 'format', path, reasons);
  if (typeof format !== 'string') return undefined;
  if (zone === undefined) reasons.push(reason(`${path}.zone`, 'required', 'is required with "format": the time zone the local text is written in (e.g. "Europe/Berlin", or "UTC")'));
  // The format is checked even when the zone is wrong, so both are reported at once.
  const transform = compileFormat(format, zone ?? UTC, locale, ambiguous as Ambiguous, cx.path, reasons, numericFastPath, write);
  return zone ? transform : undefined;
}

function compileEpoch(factor: number, write: DateWriter): ReturnType<TransformCompiler> {
  return syncTransform((value, ctx) => {
    let n: number;
    if (typeof value === 'number') n = value;
    else if (typeof value === 'string' && value.length <= 24 && /^\s*-?\d+(\.\d+)?\s*$/.test(value)) n = Number(value);
    else return fail(ctx, 'date', `expects a number of ${factor === 1 ? 'milliseconds' : 'seconds'} since 1970, got ${describeValue(value)}`);
    if (!Number.isFinite(n)) return fail(ctx, 'date', `${describeValue(value)} is not a finite number`);
    return toOutput(Math.round(n * factor), value, ctx, write);
  });
}

// An offset after a time: "T08:00Z", "T08:00:00.5+01:00", "T0800-0500".
const ISO_OFFSET = /T\d{2}(?::?\d{2}(?::?\d{2}(?:[.,]\d+)?)?)?(?:[zZ]|[+-]\d{2}(?::?\d{2})?)$/;

function compileIso(zone: Zone | undefined, ambiguous: Ambiguous, write: DateWriter): ReturnType<TransformCompiler> {
  const offsetAt = zone && offsetLookup(zone);
  return syncTransform((value, ctx) => {
    if (typeof value !== 'string') return fail(ctx, 'date', `expects ISO 8601 text, got ${typeName(value)}`);
    if (value.length > MAX_DATE_TEXT) return fail(ctx, 'date', `${describeValue(value)} is too long to be a date`);
    const parsed = DateTime.fromISO(value, { zone: UTC, setZone: true });
    if (!parsed.isValid) return fail(ctx, 'date', `${describeValue(value)} is not an ISO 8601 date (${parsed.invalidExplanation ?? parsed.invalidReason})`);
    if (ISO_OFFSET.test(value)) return toOutput(parsed.toMillis(), value, ctx, write);
    if (zone === undefined || offsetAt === undefined) return fail(ctx, 'date', `${describeValue(value)} has no offset and the rule names no "zone"`);
    return fromWall(parsed.toMillis(), value, zone, offsetAt, ambiguous, ctx, write);
  });
}

/**
 * The numeric reader of `format`, if it has one and it reads the probes as
 * Luxon's parser does. The check is what makes it safe for any locale: Luxon
 * reads digits of the locale's numbering system only, and Latin digits are
 * the only kind both read, so a locale with other digits fails it and keeps
 * Luxon's path.
 */
function numericReader(format: string, parser: TokenParser, options: DateTimeOptions): NumericFormat | undefined {
  const numeric = compileNumericFormat(format);
  if (!numeric) return undefined;
  for (const probe of PROBES) {
    const text = DateTime.fromMillis(probe, { zone: UTC, locale: 'en-US', numberingSystem: 'latn' }).toFormat(format);
    const theirs = DateTime.fromFormatParser(text, parser, options);
    const mine = numeric.read(text);
    if (!theirs.isValid || !mine.ok || mine.wall !== theirs.toMillis()) return undefined;
  }
  return numeric;
}

function unmatched(value: string, format: string, ctx: RunContext): Step {
  return fail(ctx, 'date', `${describeValue(value)} does not match the format "${format}"`);
}

function impossible(value: string, explanation: string | null | undefined, ctx: RunContext): Step {
  return fail(ctx, 'date', `${describeValue(value)} is not a real date or time (${explanation ?? 'a field is out of range'})`);
}

function compileFormat(format: string, zone: Zone, locale: string, ambiguous: Ambiguous, path: string, reasons: Reason[], numericFastPath: boolean, write: DateWriter): ReturnType<TransformCompiler> {
  const tokens = unquotedTokens(format);
  if (/[Xx]/.test(tokens)) {
    reasons.push(reason(`${path}.format`, 'format', 'uses an epoch token (X or x); use { "epoch": "s" } or { "epoch": "ms" } instead'));
    return undefined;
  }
  // With an offset token the text says its own offset and `zone` is only the
  // fallback Luxon applies; without one the text is a wall-clock time in `zone`.
  const carriesOffset = /[Zz]/.test(tokens);
  let parser: TokenParser;
  try {
    parser = DateTime.buildFormatParser(format, { locale });
  } catch (err) {
    reasons.push(reason(`${path}.format`, 'format', `cannot be used: ${(err as Error).message}`));
    return undefined;
  }
  // A format that cannot read back what it writes (or that lacks the year,
  // month or day, which Luxon would then take from today) is refused now,
  // not discovered on the first record.
  for (const probe of PROBES) {
    const expected = DateTime.fromMillis(probe, { zone: UTC, locale });
    let text: string;
    let back: DateTime;
    try {
      text = expected.toFormat(format);
      back = DateTime.fromFormatParser(text, parser, { zone: UTC, locale, setZone: true });
    } catch (err) {
      reasons.push(reason(`${path}.format`, 'format', `cannot be used: ${(err as Error).message}`));
      return undefined;
    }
    if (!back.isValid) {
      reasons.push(reason(`${path}.format`, 'format', `cannot read back "${text}", which it writes itself (${back.invalidExplanation ?? back.invalidReason})`));
      return undefined;
    }
    if (back.year !== expected.year || back.month !== expected.month || back.day !== expected.day) {
      reasons.push(reason(`${path}.format`, 'format', `must name the year, month and day ("${text}" reads back as ${back.toISODate()})`));
      return undefined;
    }
  }
  const options: DateTimeOptions = { zone: carriesOffset ? zone : UTC, locale, setZone: carriesOffset };
  const offsetAt = offsetLookup(zone);
  // Luxon's parsing was the dearest step of a mapping (about 7 µs a date);
  // formats made only of numbers take a single RegExp instead.
  const numeric = numericFastPath && !carriesOffset ? numericReader(format, parser, options) : undefined;
  return syncTransform((value, ctx) => {
    if (typeof value !== 'string') return fail(ctx, 'date', `expects text in format "${format}", got ${typeName(value)}`);
    if (value.length > MAX_DATE_TEXT) return fail(ctx, 'date', `${describeValue(value)} is too long to be a date`);
    if (numeric) {
      const wall = numeric.readWall(value);
      if (typeof wall === 'number') return fromWall(wall, value, zone, offsetAt, ambiguous, ctx, write);
      return wall.explanation === undefined ? unmatched(value, format, ctx) : impossible(value, wall.explanation, ctx);
    }
    let parsed: DateTime;
    try {
      parsed = DateTime.fromFormatParser(value, parser, options);
    } catch (err) {
      // Luxon throws for contradictory text, e.g. a meridiem with a 24-hour token.
      return fail(ctx, 'date', `${describeValue(value)} cannot be read with "${format}": ${(err as Error).message}`);
    }
    if (!parsed.isValid) return parsed.invalidReason === 'unit out of range' ? impossible(value, parsed.invalidExplanation, ctx) : unmatched(value, format, ctx);
    return carriesOffset ? toOutput(parsed.toMillis(), value, ctx, write) : fromWall(parsed.toMillis(), value, zone, offsetAt, ambiguous, ctx, write);
  });
}
