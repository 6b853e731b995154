// isoInstant must be exactly Date's toISOString, whatever the instant: the
// mapper's dates and the envelope's time are written with it.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import fc from 'fast-check';
import { isoInstant } from '../../../lib/mapping/iso-instant';

function viaDate(instant: number): string {
  return new Date(instant).toISOString();
}

function outcome(write: (instant: number) => string, instant: number): string {
  try {
    return write(instant);
  } catch (err) {
    return `${(err as Error).name}: ${(err as Error).message}`;
  }
}

describe('isoInstant', () => {
  const cases: [string, number][] = [
    ['the epoch', 0],
    ['a minute with no seconds', Date.UTC(2026, 10, 24, 7, 5)],
    ['seconds and milliseconds', Date.UTC(2026, 10, 24, 23, 59, 59, 999)],
    ['a leap day', Date.UTC(2024, 1, 29, 12, 0, 0, 1)],
    ['before the epoch', Date.UTC(1969, 11, 31, 23, 59, 59, 999)],
    ['the first instant of year 0', -62_167_219_200_000],
    ['the last instant of year 9999', 253_402_300_799_999],
    ['past year 9999 (six-digit year)', 253_402_300_800_000],
    ['before year 0 (negative year)', -62_167_219_200_001],
    ['a fraction of a millisecond', 1.75],
    ['the largest instant Date holds', 8.64e15],
  ];
  for (const [name, instant] of cases) it(name, () => assert.equal(isoInstant(instant), viaDate(instant)));

  it('an instant Date cannot hold throws the same RangeError', () => {
    for (const instant of [8.64e15 + 1, Number.NaN, Number.POSITIVE_INFINITY]) {
      assert.equal(outcome(isoInstant, instant), outcome(viaDate, instant));
      assert.match(outcome(isoInstant, instant), /^RangeError/);
    }
  });

  it('any instant, property-based (the day cache fills and clears on the way)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.integer({ min: -8.64e15, max: 8.64e15 }), fc.integer({ min: 0, max: 4_102_444_800_000 }), fc.double({ min: -9e15, max: 9e15, noNaN: true })), (instant) => {
        assert.equal(outcome(isoInstant, instant), outcome(viaDate, instant));
      }),
      { numRuns: 20_000 },
    );
  });
});
