// roundHalfAway answers values that already have few enough decimals without
// going through their text; it must answer exactly what the text shift does.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import fc from 'fast-check';
import { MAX_DECIMALS, roundHalfAway } from '../../../lib/mapping/transforms/round';

describe('lib/mapping/round', () => {
  /** The rounding on the shortest decimal text, for every value (the definition). */
  function byText(value: number, decimals: number): number {
    const magnitude = Math.abs(value);
    if (magnitude * 10 ** decimals >= Number.MAX_SAFE_INTEGER) return value;
    const [mantissa, exponent = '0'] = String(magnitude).split('e');
    const shifted = Math.round(Number(`${mantissa}e${Number(exponent) + decimals}`));
    const rounded = Number(`${shifted}e-${decimals}`);
    return value < 0 && rounded !== 0 ? -rounded : rounded;
  }

  it('values with few decimals, and any double, round as their text does', () => {
    const decimals = fc.integer({ min: 0, max: MAX_DECIMALS });
    const shortDecimal = fc.tuple(fc.integer({ min: -1e12, max: 1e12 }), fc.integer({ min: 0, max: 6 })).map(([m, k]) => m / 10 ** k);
    fc.assert(
      fc.property(fc.oneof(shortDecimal, fc.double({ noNaN: true, noDefaultInfinity: true }), fc.constantFrom(0, -0, 1.005, 2.675, -1.005, 0.1 + 0.2)), decimals, (value, d) => {
        assert.ok(Object.is(roundHalfAway(value, d), byText(value, d)), `${value} to ${d} decimals`);
      }),
      { numRuns: 20_000 },
    );
  });

  it('a half rounds away from zero on the decimal people read', () => {
    assert.equal(roundHalfAway(1.005, 2), 1.01);
    assert.equal(roundHalfAway(-1.005, 2), -1.01);
    assert.equal(roundHalfAway(1234.56, 2), 1234.56);
  });
});
