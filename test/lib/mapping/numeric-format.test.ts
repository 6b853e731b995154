// The numeric fast path of `date` must be invisible: the same value or the
// same reason, word for word, as Luxon's path, for every text. Tables pin the
// cases we know Luxon treats in a surprising way; a property compares the two
// paths on random formats, zones and texts.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { mock } from 'node:test';
import fc from 'fast-check';
import { DateTime, Settings } from 'luxon';
import { dateCompiler } from '../../../lib/mapping/transforms/date';
import { type NumericReading, compileNumericFormat, splitFormat } from '../../../lib/mapping/transforms/numeric-format';
import type { CompiledTransform, RunContext, Step, TransformCompileContext } from '../../../lib/mapping/transform-types';
import type { Reason } from '../../../lib/reasons';

describe('which formats take the numeric path', () => {
  const rows: [format: string, qualifies: boolean][] = [
    ['dd.MM.yyyy HH:mm', true],
    ["yyyy-MM-dd'T'HH:mm:ss", true],
    ['d/M/yyyy H:mm', true],
    ['MM/dd/yyyy HH:mm:ss.SSS', true],
    ['yyyyMMddHHmmss', true],
    ['dd.MM.yy', true],
    ["dd.MM.yyyy 'um' HH:mm 'Uhr'", true],
    ["yyyy-MM-dd''HH", true],
    ['yyyy/MM/dd — H.m.s', true],
    ['dd.MM.yyyy\tHH:mm', true],
    ['dd MMM yyyy', false], // month names
    ['EEE dd.MM.yyyy', false], // weekday names
    ['MM/dd/yyyy hh:mm a', false], // 12-hour clock, meridiem
    ['yyyy-MM-dd HH:mm ZZ', false], // offset
    ['yyyy-MM-dd HH:mm Z', false],
    ['yyyy-MM-dd HH:mm z', false], // zone name
    ['yyyy-MM-ddTHH:mm', false], // unquoted T: a macro token in Luxon
    ['yyyy-MM-dd HH:mm:ss.S', false], // one to three digits read as milliseconds, not a fraction
    ['yyyyy-MM-dd', false],
    ['y-MM-dd', false],
    ['dd.LL.yyyy', false], // standalone month
    ['D', false], // macro
    ['dd.MM', false], // no year: Luxon would take this year
    ['MM.yyyy', false], // no day
    ['dd.MM.yyyy M', false], // the month twice: Luxon keeps the last
    ['yy yyyy MM dd', false], // the year twice
    ['dd.MM.yyyy kk', false],
    ['', false],
  ];
  for (const [format, qualifies] of rows) {
    it(`${JSON.stringify(format)}: ${qualifies ? 'numeric' : 'Luxon'}`, () => {
      assert.equal(compileNumericFormat(format) !== undefined, qualifies);
    });
  }

  it("splits a format as Luxon's Formatter.parseFormat does", () => {
    assert.deepEqual(splitFormat("dd.MM.yyyy'T'HH"), [
      { literal: false, val: 'dd' },
      { literal: false, val: '.' },
      { literal: false, val: 'MM' },
      { literal: false, val: '.' },
      { literal: false, val: 'yyyy' },
      { literal: true, val: 'T' },
      { literal: false, val: 'HH' },
    ]);
    // Luxon's quirks, copied: two quotes are one quote, but not inside a quoted literal.
    assert.deepEqual(splitFormat("''"), [{ literal: true, val: "'" }]);
    assert.deepEqual(splitFormat("'it''s'"), [
      { literal: true, val: 'it' },
      { literal: true, val: 's' },
    ]);
    assert.deepEqual(splitFormat("'open"), [{ literal: true, val: 'open' }]);
  });
});

/** What Luxon makes of the text, in the reader's terms: the same reading is expected of both. */
function luxonReading(text: string, format: string): NumericReading {
  const parsed = DateTime.fromFormat(text, format, { zone: 'UTC', locale: 'en-US' });
  if (parsed.isValid) return { ok: true, wall: parsed.toMillis() };
  return parsed.invalidReason === 'unit out of range' ? { ok: false, explanation: parsed.invalidExplanation ?? '' } : { ok: false };
}

describe('the numeric reader reads as Luxon does', () => {
  const wall = (iso: string): NumericReading => ({ ok: true, wall: Date.parse(iso) });
  const range = (unit: string, value: number): NumericReading => ({ ok: false, explanation: `you specified ${value} (of type number) as a ${unit}, which is invalid` });
  const unmatched: NumericReading = { ok: false };
  const rows: [label: string, format: string, text: string, expected: NumericReading][] = [
    ['a plain date and time', 'dd.MM.yyyy HH:mm', '24.11.2026 07:05', wall('2026-11-24T07:05:00Z')],
    ['31 February', 'dd.MM.yyyy HH:mm', '31.02.2026 10:00', range('day', 31)],
    ['29 February in a leap year', 'dd.MM.yyyy', '29.02.2024', wall('2024-02-29T00:00:00Z')],
    ['29 February in 2100, not a leap year', 'dd.MM.yyyy', '29.02.2100', range('day', 29)],
    ['29 February in 2000, a leap year', 'dd.MM.yyyy', '29.02.2000', wall('2000-02-29T00:00:00Z')],
    ['month 13', 'dd.MM.yyyy', '01.13.2026', range('month', 13)],
    ['month 00 before day 00: the month is named', 'dd.MM.yyyy', '00.00.2026', range('month', 0)],
    ['day 00', 'dd.MM.yyyy', '00.01.2026', range('day', 0)],
    ['hour 24 at the end of the day is the next midnight', 'dd.MM.yyyy HH:mm', '24.11.2026 24:00', wall('2026-11-25T00:00:00Z')],
    ['hour 24 past midnight', 'dd.MM.yyyy HH:mm', '24.11.2026 24:01', range('hour', 24)],
    ['hour 24 with seconds', 'dd.MM.yyyy HH:mm:ss', '24.11.2026 24:00:01', range('hour', 24)],
    ['hour 25', 'dd.MM.yyyy HH:mm', '24.11.2026 25:00', range('hour', 25)],
    ['minute 60', 'dd.MM.yyyy HH:mm', '24.11.2026 10:60', range('minute', 60)],
    ['second 60: no leap seconds', 'dd.MM.yyyy HH:mm:ss', '24.11.2026 10:00:60', range('second', 60)],
    ['the day before the hour', 'dd.MM.yyyy HH:mm', '31.04.2026 25:00', range('day', 31)],
    ['milliseconds', 'MM/dd/yyyy HH:mm:ss.SSS', '11/24/2026 07:05:09.123', wall('2026-11-24T07:05:09.123Z')],
    ['d takes one digit', 'd/M/yyyy H:mm', '4/2/2026 7:05', wall('2026-02-04T07:05:00Z')],
    ['d takes two digits', 'd/M/yyyy H:mm', '04/02/2026 07:05', wall('2026-02-04T07:05:00Z')],
    ['d takes no third digit', 'd/M/yyyy H:mm', '004/02/2026 07:05', unmatched],
    ['dd takes exactly two digits', 'dd.MM.yyyy', '4.11.2026', unmatched],
    ['yyyy takes exactly four digits', 'dd.MM.yyyy', '24.11.26', unmatched],
    ['yyyy takes no fifth digit', 'dd.MM.yyyy', '24.11.20260', unmatched],
    ['adjacent fields', 'yyyyMMddHHmmss', '20261124070509', wall('2026-11-24T07:05:09Z')],
    ['adjacent fields, one digit short', 'yyyyMMddHHmmss', '2026112407050', unmatched],
    ['a leading blank', 'dd.MM.yyyy HH:mm', ' 24.11.2026 07:05', unmatched],
    ['a trailing blank', 'dd.MM.yyyy HH:mm', '24.11.2026 07:05 ', unmatched],
    ['a trailing newline', 'dd.MM.yyyy HH:mm', '24.11.2026 07:05\n', unmatched],
    ['a tab for the space', 'dd.MM.yyyy HH:mm', '24.11.2026\t07:05', unmatched],
    ['a non-breaking space for the space', 'dd.MM.yyyy HH:mm', '24.11.2026\u00a007:05', unmatched],
    ['a wrong separator', 'dd.MM.yyyy HH:mm', '24/11/2026 07:05', unmatched],
    ['a quoted literal matches in any case', "yyyy-MM-dd'T'HH:mm:ss", '2026-11-24t07:05:09', wall('2026-11-24T07:05:09Z')],
    ['a quoted word matches in any case', "dd.MM.yyyy 'um' HH:mm", '24.11.2026 UM 07:05', wall('2026-11-24T07:05:00Z')],
    ['Arabic-Indic digits are not read in en-US', 'dd.MM.yyyy', '٢٤.11.2026', unmatched],
    ['full-width digits are not read in en-US', 'dd.MM.yyyy', '２４.11.2026', unmatched],
    ['a sign is not a digit', 'dd.MM.yyyy', '+4.11.2026', unmatched],
    ['year 0000', 'dd.MM.yyyy', '01.01.0000', wall('0000-01-01T00:00:00Z')],
    ['year 0050 is not 1950', 'dd.MM.yyyy HH:mm', '24.11.0050 08:00', { ok: true, wall: new Date(0).setUTCFullYear(50, 10, 24) + 8 * 3_600_000 }],
    // Luxon sets the date again after the time for years below 100, so 24:00 stays on its own day.
    ['24:00 in year 0050 stays on the 24th', 'dd.MM.yyyy HH:mm', '24.11.0050 24:00', { ok: true, wall: new Date(0).setUTCFullYear(50, 10, 24) }],
    ['yy: 60 and below is this century', 'dd.MM.yy', '24.11.60', wall('2060-11-24T00:00:00Z')],
    ['yy: above 60 is the last', 'dd.MM.yy', '24.11.61', wall('1961-11-24T00:00:00Z')],
    ['yy takes four digits as they are', 'dd.MM.yy', '24.11.1961', wall('1961-11-24T00:00:00Z')],
    ['yy takes three digits, completed as two', 'dd.MM.yy', '24.11.026', wall('2026-11-24T00:00:00Z')],
  ];
  for (const [label, format, text, expected] of rows) {
    it(label, () => {
      const reader = compileNumericFormat(format);
      assert.ok(reader, `${format} does not take the numeric path`);
      assert.deepEqual(reader.read(text), expected, 'the numeric reader');
      assert.deepEqual(luxonReading(text, format), expected, 'Luxon');
    });
  }

  it('yy follows Settings.twoDigitCutoffYear at the time of reading, as Luxon does', () => {
    const reader = compileNumericFormat('dd.MM.yy');
    assert.ok(reader);
    const before = Settings.twoDigitCutoffYear;
    try {
      Settings.twoDigitCutoffYear = 30;
      assert.deepEqual(reader.read('24.11.45'), luxonReading('24.11.45', 'dd.MM.yy'));
      assert.deepEqual(reader.read('24.11.45'), { ok: true, wall: Date.UTC(1945, 10, 24) });
    } finally {
      Settings.twoDigitCutoffYear = before;
    }
  });
});

// --- The two paths of the compiled `date` transform, side by side. ---

const fast = dateCompiler({ numericFastPath: true });
const luxon = dateCompiler({ numericFastPath: false });
const ctx: RunContext = { scope: {}, rule: { to: 'out', sourceKind: 'from', from: 'in' }, at: undefined };

function compileWith(compiler: typeof fast, options: unknown): { transform: CompiledTransform | undefined; reasons: Reason[] } {
  const reasons: Reason[] = [];
  const cx: TransformCompileContext = {
    path: 'rules[0].transforms[0].date',
    reasons,
    options: { expressionTimeoutMs: 1000, expressionMaxDepth: 100 },
    compileNested: () => undefined,
  };
  return { transform: compiler(options, cx), reasons };
}

function run(transform: CompiledTransform, value: unknown): Step {
  const step = transform.run(value, ctx);
  assert.ok(!(step instanceof Promise), 'date returned a promise');
  return step;
}

/** A format as parts: tokens, and separators (quoted when they are letters). */
type Part = { token: 'yyyy' | 'yy' | 'MM' | 'M' | 'dd' | 'd' | 'HH' | 'H' | 'mm' | 'm' | 'ss' | 's' | 'SSS' } | { literal: string };
const t = (token: Extract<Part, { token: string }>['token']): Part => ({ token });
const l = (literal: string): Part => ({ literal });
const FORMATS: Part[][] = [
  [t('dd'), l('.'), t('MM'), l('.'), t('yyyy'), l(' '), t('HH'), l(':'), t('mm')],
  [t('yyyy'), l('-'), t('MM'), l('-'), t('dd'), l('T'), t('HH'), l(':'), t('mm'), l(':'), t('ss')],
  [t('d'), l('/'), t('M'), l('/'), t('yyyy'), l(' '), t('H'), l(':'), t('mm')],
  [t('MM'), l('/'), t('dd'), l('/'), t('yyyy'), l(' '), t('HH'), l(':'), t('mm'), l(':'), t('ss'), l('.'), t('SSS')],
  [t('yyyy'), t('MM'), t('dd'), t('HH'), t('mm'), t('ss')],
  [t('d'), l('.'), t('M'), l('.'), t('yy'), l(' '), t('H'), l('.'), t('m'), l('.'), t('s')],
  [t('dd'), l('.'), t('MM'), l('.'), t('yyyy'), l(' um '), t('HH'), l(':'), t('mm'), l(' Uhr')],
];
const formatOf = (parts: Part[]): string => parts.map((p) => ('token' in p ? p.token : /[A-Za-z']/.test(p.literal) ? `'${p.literal}'` : p.literal)).join('');

const WIDTH: Record<string, number> = { yyyy: 4, yy: 2, MM: 2, dd: 2, HH: 2, mm: 2, ss: 2, SSS: 3 };
/** Field values that sit on and around the edges Luxon checks. */
const FIELD: Record<string, fc.Arbitrary<number>> = {
  y: fc.oneof(fc.integer({ min: 1990, max: 2040 }), fc.constantFrom(0, 50, 99, 100, 1900, 2000, 2024, 2025, 2100, 9999), fc.integer({ min: 0, max: 9999 })),
  M: fc.oneof(fc.integer({ min: 1, max: 12 }), fc.constantFrom(0, 2, 3, 10, 13, 99)),
  d: fc.oneof(fc.integer({ min: 1, max: 28 }), fc.constantFrom(0, 29, 30, 31, 32, 99)),
  H: fc.oneof(fc.integer({ min: 0, max: 23 }), fc.constantFrom(0, 1, 2, 3, 23, 24, 25, 99)),
  m: fc.oneof(fc.integer({ min: 0, max: 59 }), fc.constantFrom(0, 30, 59, 60, 99)),
  s: fc.oneof(fc.integer({ min: 0, max: 59 }), fc.constantFrom(0, 59, 60)),
  S: fc.integer({ min: 0, max: 999 }),
};

/** Text written for a format, with field values and the way each one is padded (or spoiled). */
function textFor(parts: Part[]): fc.Arbitrary<string> {
  return fc.tuple(...parts.map((part) => {
    if (!('token' in part)) {
      return fc.oneof({ weight: 8, arbitrary: fc.constant(part.literal) }, fc.constantFrom(part.literal.toUpperCase(), part.literal.toLowerCase(), '/', '-', '', ' ', `${part.literal} `));
    }
    const width = WIDTH[part.token] ?? 1;
    const value = part.token === 'yy' ? fc.oneof(fc.integer({ min: 0, max: 99 }), fc.integer({ min: 0, max: 9999 })) : (FIELD[part.token[0] ?? ''] as fc.Arbitrary<number>);
    // The usual width, or one digit more or less, or unpadded.
    return fc.tuple(value, fc.constantFrom(width, width, width, width + 1, width - 1, 0)).map(([v, w]) => String(v).padStart(w, '0'));
  })).map((pieces) => pieces.join(''));
}

/** Spoil a text the way feeds do: blanks around it, a foreign digit, a character dropped or doubled. */
const spoil = (text: string): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 6, arbitrary: fc.constant(text) },
    fc.constantFrom(` ${text}`, `${text} `, `${text}\n`, `\t${text}`, `${text}Z`),
    fc.tuple(fc.nat(), fc.constantFrom('٣', '３', '߃', ' ', '\u00a0', 'x', '-', '0', '')).map(([i, c]) => {
      const at = text.length === 0 ? 0 : i % text.length;
      return text.slice(0, at) + c + text.slice(at + 1);
    }),
    fc.nat().map((i) => {
      const at = text.length === 0 ? 0 : i % text.length;
      return text.slice(0, at) + text.slice(at, at + 1).repeat(2) + text.slice(at + 1);
    }),
  );

/** Texts near the daylight-saving changes in Berlin and New York, so gaps and repeated hours are compared too. */
const nearTransition = fc.tuple(fc.constantFrom('29.03.2026', '25.10.2026', '08.03.2026', '01.11.2026', '31.03.2024', '27.10.2024'), fc.integer({ min: 0, max: 24 }), fc.constantFrom(0, 30, 59));

const zone = fc.constantFrom('UTC', 'Europe/Berlin', 'America/New_York', 'UTC+2', 'Asia/Kolkata', 'Australia/Lord_Howe');
const ambiguous = fc.constantFrom('earlier', 'later', 'reject');

describe('the date transform gives the same outcome on both paths', () => {
  it('random numeric formats, zones and texts', () => {
    const compiledPairs = new Map<string, [CompiledTransform, CompiledTransform]>();
    const pair = (options: Record<string, unknown>): [CompiledTransform, CompiledTransform] => {
      const key = JSON.stringify(options);
      let found = compiledPairs.get(key);
      if (!found) {
        const a = compileWith(fast, options);
        const b = compileWith(luxon, options);
        assert.deepEqual(a.reasons, b.reasons);
        assert.ok(a.transform && b.transform, `does not compile: ${JSON.stringify(a.reasons)}`);
        found = [a.transform, b.transform];
        compiledPairs.set(key, found);
      }
      return found;
    };
    const format = fc.constantFrom(...FORMATS);
    const input = format.chain((parts) =>
      fc.record({
        parts: fc.constant(parts),
        text: fc.oneof(
          { weight: 6, arbitrary: textFor(parts).chain(spoil) },
          // Any short text over the characters dates are made of.
          fc.string({ unit: fc.constantFrom(...'0123456789.:/- T٣\u00a0'.split('')), maxLength: 24 }),
        ),
        zone,
        ambiguous,
      }),
    );
    fc.assert(
      fc.property(input, ({ parts, text, zone, ambiguous }) => {
        const [viaFast, viaLuxon] = pair({ format: formatOf(parts), zone, ambiguous });
        assert.deepEqual(run(viaFast, text), run(viaLuxon, text), JSON.stringify(text));
      }),
      { numRuns: 3000 },
    );
    const berlin = pair({ format: 'dd.MM.yyyy HH:mm', zone: 'Europe/Berlin', ambiguous: 'reject' });
    const newYork = pair({ format: 'dd.MM.yyyy HH:mm', zone: 'America/New_York', ambiguous: 'later' });
    fc.assert(
      fc.property(nearTransition, ([day, hour, minute]) => {
        const text = `${day} ${String(hour).padStart(2, '0')}:${String(minute).padStart(2, '0')}`;
        for (const [viaFast, viaLuxon] of [berlin, newYork]) assert.deepEqual(run(viaFast, text), run(viaLuxon, text), text);
      }),
      { numRuns: 500 },
    );
  });

  it('values that are not text, and text too long to be a date', () => {
    const options = { format: 'dd.MM.yyyy HH:mm', zone: 'Europe/Berlin' };
    const viaFast = compileWith(fast, options).transform;
    const viaLuxon = compileWith(luxon, options).transform;
    assert.ok(viaFast && viaLuxon);
    for (const value of [20261124, null, undefined, {}, ['24.11.2026 07:05'], '2'.repeat(101), '']) {
      assert.deepEqual(run(viaFast, value), run(viaLuxon, value), JSON.stringify(value) ?? 'undefined');
    }
  });

  it('the fast path does not call Luxon to parse', () => {
    const viaFast = compileWith(fast, { format: 'dd.MM.yyyy HH:mm', zone: 'Europe/Berlin' }).transform;
    assert.ok(viaFast);
    const spy = mock.method(DateTime, 'fromFormatParser');
    try {
      assert.deepEqual(run(viaFast, '24.11.2026 08:00'), { ok: true, value: '2026-11-24T07:00:00.000Z' });
      assert.equal(run(viaFast, '31.02.2026 08:00').ok, false);
      assert.equal(spy.mock.callCount(), 0);
    } finally {
      spy.mock.restore();
    }
  });

  it('a locale with other digits keeps Luxon, and reads them as Luxon does', () => {
    // Luxon reads only the locale's digits: Arabic-Indic for -u-nu-arab, no Latin ones.
    const options = { format: 'dd.MM.yyyy HH:mm', zone: 'UTC', locale: 'ar-EG-u-nu-arab' };
    const a = compileWith(fast, options);
    const b = compileWith(luxon, options);
    assert.deepEqual(a.reasons, b.reasons);
    if (!a.transform || !b.transform) return;
    const spy = mock.method(DateTime, 'fromFormatParser');
    try {
      for (const text of ['٢٤.١١.٢٠٢٦ ٠٨:٠٠', '24.11.2026 08:00', '٣١.٠٢.٢٠٢٦ ٠٨:٠٠']) assert.deepEqual(run(a.transform, text), run(b.transform, text), text);
      assert.ok(spy.mock.callCount() > 0, 'the fast path was taken for a locale with Arabic-Indic digits');
    } finally {
      spy.mock.restore();
    }
  });
});
