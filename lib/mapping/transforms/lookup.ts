import { reason } from '../../reasons';
import { optionalBoolean, readOptions } from '../options';
import { type TransformCompiler, fail, ok, syncTransform } from '../transform-types';
import { copyJsonValue, describeValue, typeName } from '../values';

/**
 * `{ "lookup": { "table": { "DLV": "delivered" }, "otherwise": "reject" | "keep" | { "value": x }, "ignoreCase"?: boolean } }`
 *
 * Codes are matched as text (the number 7 looks up "7"); with `ignoreCase`
 * "dlv" finds "DLV". A code not in the table is refused by default, kept as it
 * is with "keep", or replaced with `{ "value": x }`. The table is held in a
 * Map, so a code such as "constructor" cannot find Object.prototype members.
 */
export const compileLookup: TransformCompiler = (raw, cx) => {
  const { path, reasons } = cx;
  const options = readOptions(raw, path, ['table', 'otherwise', 'ignoreCase'], reasons);
  if (!options) return undefined;
  const ignoreCase = optionalBoolean(options, 'ignoreCase', path, reasons) ?? false;
  const table = options.table;
  if (typeof table !== 'object' || table === null || Array.isArray(table)) {
    reasons.push(reason(`${path}.table`, table === undefined ? 'required' : 'type', 'must be an object from local codes to canonical values'));
    return undefined;
  }
  const entries = new Map<string, unknown>();
  let good = ignoreCase !== null;
  for (const [code, value] of Object.entries(table)) {
    const copied = copyJsonValue(value);
    const key = ignoreCase ? code.toLowerCase() : code;
    if (!copied.ok) {
      reasons.push(reason(`${path}.table.${code}`, 'type', `the value ${copied.reasons[0]?.message ?? 'is not JSON data'}`));
      good = false;
    } else if (entries.has(key)) {
      reasons.push(reason(`${path}.table.${code}`, 'conflict', `"${code}" is the same code as another entry when case is ignored`));
      good = false;
    } else if (typeof copied.value === 'object' && copied.value !== null) {
      reasons.push(reason(`${path}.table.${code}`, 'type', 'must be a string, number, boolean or null (a code maps to one value)'));
      good = false;
    } else {
      entries.set(key, copied.value);
    }
  }
  if (entries.size === 0 && good) {
    reasons.push(reason(`${path}.table`, 'required', 'must have at least one entry'));
    good = false;
  }
  const otherwise = options.otherwise ?? 'reject';
  let fallback: { kind: 'reject' } | { kind: 'keep' } | { kind: 'value'; value: unknown };
  if (otherwise === 'reject' || otherwise === 'keep') fallback = { kind: otherwise };
  else if (typeof otherwise === 'object' && otherwise !== null && !Array.isArray(otherwise) && Object.keys(otherwise).length === 1 && Object.hasOwn(otherwise, 'value')) {
    const value = (otherwise as { value: unknown }).value;
    if (typeof value === 'object' && value !== null) {
      reasons.push(reason(`${path}.otherwise.value`, 'type', 'must be a string, number, boolean or null'));
      return undefined;
    }
    fallback = { kind: 'value', value };
  } else {
    reasons.push(reason(`${path}.otherwise`, 'enum', `must be "reject", "keep" or { "value": ... }, got ${typeName(otherwise)}`));
    return undefined;
  }
  if (!good) return undefined;

  return syncTransform((value, ctx) => {
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
      return fail(ctx, 'lookup', `expects a code (text or a number), got ${typeName(value)}`);
    }
    const code = String(value);
    const found = entries.get(ignoreCase ? code.toLowerCase() : code);
    if (found !== undefined || entries.has(ignoreCase ? code.toLowerCase() : code)) return ok(found);
    if (fallback.kind === 'keep') return ok(value);
    if (fallback.kind === 'value') return ok(fallback.value);
    return fail(ctx, 'lookup', `unknown code ${describeValue(value)}`);
  });
};
