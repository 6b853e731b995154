import { reason } from '../../reasons';
import { optionalInteger, readOptions } from '../options';
import { type TransformCompiler, fail, ok, syncTransform } from '../transform-types';
import { typeName } from '../values';

/**
 * `{ "round": 2 }` or `{ "round": { "decimals": 2 } }`: rounds a number to
 * 0..15 decimals, halves away from zero, on the decimal value people read
 * (1.005 to 2 decimals is 1.01, where Math.round(1.005 * 100) / 100 gives 1).
 */
export const MAX_DECIMALS = 15;

/** 10 ** n for n = 0..MAX_DECIMALS, each exact. */
const POWERS_OF_TEN = Array.from({ length: MAX_DECIMALS + 1 }, (_, n) => 10 ** n);

export function roundHalfAway(value: number, decimals: number): number {
  const magnitude = Math.abs(value);
  const scale = POWERS_OF_TEN[decimals] ?? 10 ** decimals;
  // Past 2^53 a double has no fraction left to round at this many decimals.
  if (magnitude * scale >= Number.MAX_SAFE_INTEGER) return value;
  // Most values already have no more decimals than asked (a weight read as
  // "1.234,56"), and then the answer is the value: when k / 10^d is exactly
  // the magnitude for an integer k, the magnitude is the double nearest to a
  // decimal with at most d decimals, so its shortest text has at most d too
  // and the text shifting below gives it back unchanged. Checking that costs
  // a multiplication and a division instead of three conversions to text.
  if (Math.round(magnitude * scale) / scale === magnitude) return value < 0 && magnitude !== 0 ? -magnitude : magnitude;
  // Shifting by exponent notation works on the shortest decimal text of the
  // number, which is what a person sees, so binary fractions do not leak in.
  const [mantissa, exponent = '0'] = String(magnitude).split('e');
  const shifted = Math.round(Number(`${mantissa}e${Number(exponent) + decimals}`));
  const rounded = Number(`${shifted}e-${decimals}`);
  return value < 0 && rounded !== 0 ? -rounded : rounded;
}

export const compileRound: TransformCompiler = (raw, cx) => {
  const { path, reasons } = cx;
  let decimals: number | undefined | null;
  if (typeof raw === 'number') {
    if (!Number.isInteger(raw) || raw < 0 || raw > MAX_DECIMALS) {
      reasons.push(reason(path, 'type', `must be a number of decimals from 0 to ${MAX_DECIMALS}, got ${raw}`));
      return undefined;
    }
    decimals = raw;
  } else {
    const options = readOptions(raw, path, ['decimals'], reasons);
    if (!options) return undefined;
    decimals = optionalInteger(options, 'decimals', path, reasons, 0, MAX_DECIMALS);
    if (decimals === undefined) reasons.push(reason(`${path}.decimals`, 'required', 'is required (0 to 15)'));
    if (decimals === undefined || decimals === null) return undefined;
  }
  const d = decimals ?? 0;
  return syncTransform((value, ctx) => {
    if (typeof value !== 'number') return fail(ctx, 'round', `expects a number, got ${typeName(value)}`);
    if (!Number.isFinite(value)) return fail(ctx, 'round', `${String(value)} is not a finite number`);
    return ok(roundHalfAway(value, d));
  });
};
