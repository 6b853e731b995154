import type { TransformCompiler } from '../transform-types';
import { type ChainCompiler, compileArrayWith } from './array';
import { compileBoolean, compileInteger, compileNumber, compileString } from './coerce';
import { compileConcat, compileSplit } from './concat-split';
import { compileDate } from './date';
import { compileLookup } from './lookup';
import { compileMask } from './mask';
import { compileRegex } from './regex';
import { compileRound } from './round';
import { compileLower, compileTrim, compileUpper } from './text';
import { compileUnit } from './unit';

/**
 * Every transform a spec may name, by its public name. These names are a
 * contract (docs/mapping-spec.md): once released they keep their meaning.
 * A Map, so a transform named "constructor" is simply unknown.
 */
export function transformRegistry(compileChain: ChainCompiler): ReadonlyMap<string, TransformCompiler> {
  return new Map<string, TransformCompiler>([
    ['string', compileString],
    ['number', compileNumber],
    ['integer', compileInteger],
    ['boolean', compileBoolean],
    ['trim', compileTrim],
    ['upper', compileUpper],
    ['lower', compileLower],
    ['date', compileDate],
    ['lookup', compileLookup],
    ['unit', compileUnit],
    ['round', compileRound],
    ['concat', compileConcat],
    ['split', compileSplit],
    ['regex', compileRegex],
    ['mask', compileMask],
    ['array', compileArrayWith(compileChain)],
  ]);
}

export const TRANSFORM_NAMES: readonly string[] = ['string', 'number', 'integer', 'boolean', 'trim', 'upper', 'lower', 'date', 'lookup', 'unit', 'round', 'concat', 'split', 'regex', 'mask', 'array'];
