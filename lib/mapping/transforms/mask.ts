import { reason } from '../../reasons';
import { MAX_SEPARATOR_LENGTH, keepAfterValue, partialValue } from '../../policy/masks';
import { optionalInteger, readOptions } from '../options';
import { type TransformCompiler, fail, ok, syncTransform } from '../transform-types';
import { typeName } from '../values';

/**
 * `mask`: hides part of a text at the site, before it is mapped onto the
 * bus, declaratively (issue 18: keeping an e-mail's domain needed JSONata).
 * Exactly one of
 * - `keepAfter`: keep the separator and what follows its last occurrence,
 *   `***` for the rest ("jane@example.com" → "***@example.com");
 * - `keep`: keep the last N characters, `*` for each of the others.
 * The same functions as the policy's `partial` mask, so a value masked by a
 * mapping reads the same as one masked by the gate.
 */
export const compileMask: TransformCompiler = (raw, cx) => {
  const { path, reasons } = cx;
  const options = readOptions(raw, path, ['keepAfter', 'keep'], reasons);
  if (!options) return undefined;
  if ((options.keepAfter === undefined) === (options.keep === undefined)) {
    reasons.push(reason(path, 'mask', options.keep === undefined ? 'needs "keepAfter" (a separator, e.g. "@") or "keep" (a number of characters)' : 'takes "keepAfter" or "keep", not both'));
    return undefined;
  }
  if (options.keepAfter !== undefined) {
    const separator = options.keepAfter;
    if (typeof separator !== 'string' || separator.length === 0 || separator.length > MAX_SEPARATOR_LENGTH) {
      reasons.push(reason(`${path}.keepAfter`, 'type', `must be a separator of 1 to ${MAX_SEPARATOR_LENGTH} characters, e.g. "@"`));
      return undefined;
    }
    return syncTransform((value, ctx) => (typeof value === 'string' ? ok(keepAfterValue(value, separator)) : fail(ctx, 'mask', `expects text, got ${typeName(value)}`)));
  }
  const keep = optionalInteger(options, 'keep', path, reasons, 0, 64);
  if (typeof keep !== 'number') return undefined;
  return syncTransform((value, ctx) => (typeof value === 'string' ? ok(partialValue(value, keep)) : fail(ctx, 'mask', `expects text, got ${typeName(value)}`)));
};
