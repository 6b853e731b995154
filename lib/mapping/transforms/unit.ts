import { reason } from '../../reasons';
import { optionalString, readOptions } from '../options';
import { type TransformCompiler, fail, ok, syncTransform } from '../transform-types';
import { typeName } from '../values';
import { UNITS, converter } from './units';

/**
 * `{ "unit": { "from": "lb", "to": "kg" } }`: converts a number between two
 * units of one dimension (mass, length, temperature, volume; see units.ts).
 * Units of different dimensions are refused when the spec is compiled. The
 * input must already be a number: put `{ "number": {} }` first for text.
 */
export const compileUnit: TransformCompiler = (raw, cx) => {
  const { path, reasons } = cx;
  const options = readOptions(raw, path, ['from', 'to'], reasons);
  if (!options) return undefined;
  const known = [...UNITS.keys()].join(', ');
  const names = (['from', 'to'] as const).map((key) => {
    const name = optionalString(options, key, path, reasons);
    if (name === undefined) reasons.push(reason(`${path}.${key}`, 'required', `is required (one of ${known})`));
    else if (typeof name === 'string' && !UNITS.has(name)) reasons.push(reason(`${path}.${key}`, 'unit', `"${name}" is not a unit this mapper knows (${known})`));
    return typeof name === 'string' ? UNITS.get(name) : undefined;
  });
  const [from, to] = names;
  if (!from || !to) return undefined;
  if (from.dimension !== to.dimension) {
    reasons.push(reason(path, 'unit', `cannot convert ${from.dimension} (${String(options.from)}) to ${to.dimension} (${String(options.to)})`));
    return undefined;
  }
  const convert = converter(from, to);
  const label = `${String(options.from)} to ${String(options.to)}`;
  return syncTransform((value, ctx) => {
    if (typeof value !== 'number') return fail(ctx, 'unit', `expects a number to convert ${label}, got ${typeName(value)}${typeof value === 'string' ? ' (put { "number": {} } first)' : ''}`);
    if (!Number.isFinite(value)) return fail(ctx, 'unit', `${String(value)} is not a finite number`);
    const converted = convert(value);
    return Number.isFinite(converted) ? ok(converted) : fail(ctx, 'unit', `${value} ${label} is out of range`);
  });
};
