import { reason } from '../../reasons';
import { optionalBoolean, optionalInteger, optionalString, readOptions } from '../options';
import { type Getter, compileGetter, parsePath } from '../paths';
import { type TransformCompiler, fail, ok, syncTransform } from '../transform-types';
import { describeValue, typeName } from '../values';

/**
 * `concat` and `split`: joining fields a site keeps apart, and splitting one
 * a site keeps together.
 */

const MAX_SEPARATOR = 16;

function piece(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean') return String(value);
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}

/**
 * `{ "concat": { "with": ["last_name"], "separator"?: " ", "skipMissing"?: false } }`:
 * the rule's value, then each `with` path (read from the same record, or the
 * same array element inside `each`), as text joined by `separator` (default
 * ""). A missing (`undefined` or null) `with` field is a reason unless
 * `skipMissing`, which leaves it out (and its separator with it).
 */
export const compileConcat: TransformCompiler = (raw, cx) => {
  const { path, reasons } = cx;
  const options = readOptions(raw, path, ['with', 'separator', 'skipMissing'], reasons);
  if (!options) return undefined;
  const separator = optionalString(options, 'separator', path, reasons) ?? '';
  const skipMissing = optionalBoolean(options, 'skipMissing', path, reasons) ?? false;
  const paths = options.with;
  if (!Array.isArray(paths) || paths.length === 0 || paths.length > 32) {
    reasons.push(reason(`${path}.with`, paths === undefined ? 'required' : 'type', 'must be an array of 1 to 32 source paths'));
    return undefined;
  }
  const getters: { text: string; get: Getter }[] = [];
  paths.forEach((p, i) => {
    const parsed = parsePath(p, `${path}.with[${i}]`, 'source', reasons);
    if (parsed) getters.push({ text: parsed.text, get: compileGetter(parsed) });
  });
  if (separator === null || skipMissing === null || getters.length !== paths.length) return undefined;
  if (separator.length > MAX_SEPARATOR) {
    reasons.push(reason(`${path}.separator`, 'type', `must be at most ${MAX_SEPARATOR} characters`));
    return undefined;
  }
  return syncTransform((value, ctx) => {
    const first = piece(value);
    if (first === undefined) return fail(ctx, 'concat', `expects text or a number, got ${typeName(value)}`);
    const parts = [first];
    for (const { text, get } of getters) {
      const other = get(ctx.scope);
      if (other === undefined || other === null) {
        if (skipMissing) continue;
        return fail(ctx, 'concat', `the field "${text}" to join is missing`);
      }
      const p = piece(other);
      if (p === undefined) return fail(ctx, 'concat', `the field "${text}" to join is ${typeName(other)}, not text or a number`);
      parts.push(p);
    }
    return ok(parts.join(separator));
  });
};

/**
 * `{ "split": { "separator": ",", "index"?: 0, "trim"?: false } }`: text into
 * an array of parts, or with `index` the one part at that position (negative
 * counts from the end: -1 is the last). `trim` trims every part. An index past
 * the end is a reason.
 */
export const compileSplit: TransformCompiler = (raw, cx) => {
  const { path, reasons } = cx;
  const options = readOptions(raw, path, ['separator', 'index', 'trim'], reasons);
  if (!options) return undefined;
  const separator = optionalString(options, 'separator', path, reasons);
  const index = optionalInteger(options, 'index', path, reasons, -1000, 1000);
  const trim = optionalBoolean(options, 'trim', path, reasons) ?? false;
  if (separator === undefined) reasons.push(reason(`${path}.separator`, 'required', 'is required'));
  else if (separator === '' || (typeof separator === 'string' && separator.length > MAX_SEPARATOR)) {
    reasons.push(reason(`${path}.separator`, 'type', `must be 1 to ${MAX_SEPARATOR} characters`));
    return undefined;
  }
  if (typeof separator !== 'string' || index === null || trim === null) return undefined;
  return syncTransform((value, ctx) => {
    if (typeof value !== 'string') return fail(ctx, 'split', `expects text, got ${typeName(value)}`);
    const parts = value.split(separator);
    if (index === undefined) return ok(trim ? parts.map((p) => p.trim()) : parts);
    const at = index < 0 ? parts.length + index : index;
    const part = parts[at];
    if (part === undefined) return fail(ctx, 'split', `${describeValue(value)} has ${parts.length} part(s) separated by ${JSON.stringify(separator)}, so there is no part ${index}`);
    return ok(trim ? part.trim() : part);
  });
};
