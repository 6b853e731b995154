import { readOptions } from '../options';
import { type TransformCompiler, fail, ok, syncTransform } from '../transform-types';
import { typeName } from '../values';

/**
 * `trim`, `upper`, `lower`: text in, text out; anything else is a reason
 * (put `{ "string": {} }` first to turn a number into text). Case mapping is
 * locale-independent (toUpperCase), so a Turkish server maps "i" as every
 * other site does.
 */
function textTransform(name: string, change: (s: string) => string): TransformCompiler {
  return (raw, cx) => {
    if (!readOptions(raw, cx.path, [], cx.reasons)) return undefined;
    return syncTransform((value, ctx) => (typeof value === 'string' ? ok(change(value)) : fail(ctx, name, `expects text, got ${typeName(value)}`)));
  };
}

export const compileTrim = textTransform('trim', (s) => s.trim());
export const compileUpper = textTransform('upper', (s) => s.toUpperCase());
export const compileLower = textTransform('lower', (s) => s.toLowerCase());
