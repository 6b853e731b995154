/**
 * The units `unit` converts between, by dimension. Linear units are a factor
 * to the dimension's base unit (kg, m, l), exact by definition: the
 * international pound (0.45359237 kg, 1959) and yard (0.9144 m), and US
 * customary volume (the US gallon is 231 cubic inches = 3.785411784 l).
 * Temperature is affine, so it converts through kelvin.
 */
export type Dimension = 'mass' | 'length' | 'temperature' | 'volume';

interface LinearUnit {
  dimension: Exclude<Dimension, 'temperature'>;
  factor: number;
}
interface TemperatureUnit {
  dimension: 'temperature';
  toKelvin: (v: number) => number;
  fromKelvin: (k: number) => number;
}
export type UnitDefinition = LinearUnit | TemperatureUnit;

const US_GALLON_L = 3.785411784;

export const UNITS: ReadonlyMap<string, UnitDefinition> = new Map<string, UnitDefinition>([
  ['kg', { dimension: 'mass', factor: 1 }],
  ['g', { dimension: 'mass', factor: 1e-3 }],
  ['mg', { dimension: 'mass', factor: 1e-6 }],
  ['t', { dimension: 'mass', factor: 1000 }],
  ['lb', { dimension: 'mass', factor: 0.45359237 }],
  ['oz', { dimension: 'mass', factor: 0.45359237 / 16 }],
  ['m', { dimension: 'length', factor: 1 }],
  ['cm', { dimension: 'length', factor: 1e-2 }],
  ['mm', { dimension: 'length', factor: 1e-3 }],
  ['km', { dimension: 'length', factor: 1000 }],
  ['in', { dimension: 'length', factor: 0.0254 }],
  ['ft', { dimension: 'length', factor: 0.3048 }],
  ['yd', { dimension: 'length', factor: 0.9144 }],
  ['mi', { dimension: 'length', factor: 1609.344 }],
  ['l', { dimension: 'volume', factor: 1 }],
  ['ml', { dimension: 'volume', factor: 1e-3 }],
  ['m3', { dimension: 'volume', factor: 1000 }],
  ['gal', { dimension: 'volume', factor: US_GALLON_L }],
  ['qt', { dimension: 'volume', factor: US_GALLON_L / 4 }],
  ['floz', { dimension: 'volume', factor: US_GALLON_L / 128 }],
  ['C', { dimension: 'temperature', toKelvin: (v) => v + 273.15, fromKelvin: (k) => k - 273.15 }],
  ['F', { dimension: 'temperature', toKelvin: (v) => ((v - 32) * 5) / 9 + 273.15, fromKelvin: (k) => ((k - 273.15) * 9) / 5 + 32 }],
  ['K', { dimension: 'temperature', toKelvin: (v) => v, fromKelvin: (k) => k }],
]);

/** A conversion function between two units of one dimension. */
export function converter(from: UnitDefinition, to: UnitDefinition): (v: number) => number {
  if (from.dimension === 'temperature' && to.dimension === 'temperature') return (v) => to.fromKelvin(from.toKelvin(v));
  if (from.dimension !== 'temperature' && to.dimension !== 'temperature') {
    if (from.factor === to.factor) return (v) => v;
    // Divide when going to the larger unit: 1000 g / 1000 is exactly 1 kg,
    // whereas 1000 * 0.001 is not.
    const ratio = from.factor / to.factor;
    const inverse = to.factor / from.factor;
    return Number.isInteger(inverse) ? (v) => v / inverse : (v) => v * ratio;
  }
  throw new Error('units of different dimensions');
}
