// The catalog's date-time format answers plain UTC timestamps itself and
// hands every other text to ajv-formats; either way the answer must be
// ajv-formats' own (the official suite's date-time cases run through it in
// json-schema-test-suite.test.ts).
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { fullFormats } from 'ajv-formats/dist/formats';
import fc from 'fast-check';
import { dateTimeFormat } from '../../../lib/catalog/date-time-format';

describe('lib/catalog/date-time-format', () => {
  const reference = (fullFormats['date-time'] as { validate: (text: string) => boolean }).validate;

  it('the same answer as ajv-formats, on timestamps plain and spoiled', () => {
    const digit = fc.constantFrom(...'0123456789');
    const digits = (n: number): fc.Arbitrary<string> => fc.array(digit, { minLength: n, maxLength: n }).map((d) => d.join(''));
    const plain = fc
      .tuple(digits(4), digits(2), digits(2), fc.constantFrom('T', 't', ' '), digits(2), digits(2), digits(2), fc.option(fc.oneof(fc.array(digit, { minLength: 0, maxLength: 18 }).map((d) => `.${d.join('')}`), fc.integer({ min: 10, max: 18 }).map((k) => `.${'9'.repeat(k)}`)), { nil: '' }), fc.constantFrom('Z', 'z', '', '+01:00', '-23:59', '+2400'))
      .map(([y, mo, d, t, h, mi, s, frac, zone]) => `${y}-${mo}-${d}${t}${h}:${mi}:${s}${frac}${zone}`);
    const real = fc.date({ min: new Date(Date.UTC(0, 0, 1)), max: new Date(Date.UTC(9999, 11, 31)), noInvalidDate: true }).map((d) => d.toISOString());
    const spoiled = fc.tuple(fc.oneof(real, plain), fc.nat(30), fc.string({ maxLength: 2 })).map(([text, at, junk]) => text.slice(0, at) + junk + text.slice(at + junk.length));
    fc.assert(
      fc.property(fc.oneof(real, plain, spoiled, fc.string({ maxLength: 30 })), (text) => assert.equal(dateTimeFormat.validate(text), reference(text), text)),
      { numRuns: 30_000 },
    );
  });

  it('the edges: leap days, leap seconds, a bare fraction point', () => {
    for (const text of ['2024-02-29T12:00:00Z', '2023-02-29T12:00:00Z', '2000-02-29T00:00:00z', '1900-02-29T00:00:00Z', '2026-12-31T23:59:60Z', '2026-12-31T23:58:60Z', '2026-11-24T07:05:09.Z', '2026-11-24T07:05:59.999999999999999Z', '2026-11-24T07:05:59.999999999999Z', '2026-11-24T24:00:00Z', '2026-00-10T00:00:00Z']) {
      assert.equal(dateTimeFormat.validate(text), reference(text), text);
    }
  });
});
