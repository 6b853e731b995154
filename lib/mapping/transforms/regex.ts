import { reason } from '../../reasons';
import type { Reason } from '../../reasons';
import { optionalInteger, optionalString, readOptions } from '../options';
import { type TransformCompiler, fail, ok, syncTransform } from '../transform-types';
import { describeValue, typeName } from '../values';
import { type LinearRegExp, compileLinearRegex } from '../../linear-regex';

/**
 * `{ "regex": { "pattern": "^SHP-(\\d+)$", "group"?: 1 | "name", "flags"?: "i", "maxLength"?: 10000 } }`:
 * the text of one capture group (default: group 1 when the pattern has one,
 * else the whole match). No match is a reason.
 *
 * The regex is compiled once when the spec is compiled, for RE2
 * (lib/linear-regex.ts): matching takes time linear in the input whatever
 * the pattern, so `(a|a)*` or `(.*a){12}` cannot hang the site (issue 20).
 * Back-references and lookaround, which RE2 cannot run in linear time, are
 * refused when the spec compiles. The input is still capped (`maxLength`,
 * default 10,000 characters) so one record's cost stays small.
 * Flags are limited to i, m, s and u: `g` and `y` make a regex stateful
 * (lastIndex), which would make one record's result depend on the previous.
 */
const MAX_PATTERN = 500;
const DEFAULT_MAX_INPUT = 10_000;

function captureGroups(regex: LinearRegExp): { count: number; names: string[] } {
  return { count: regex.groupCount, names: regex.groupNames };
}

function compilePattern(pattern: string, flags: string, path: string, reasons: Reason[]): LinearRegExp | undefined {
  if (pattern.length === 0 || pattern.length > MAX_PATTERN) {
    reasons.push(reason(`${path}.pattern`, 'regex', `must be 1 to ${MAX_PATTERN} characters`));
    return undefined;
  }
  if (!/^[imsu]*$/.test(flags) || new Set(flags).size !== flags.length) {
    reasons.push(reason(`${path}.flags`, 'regex', `may only combine i, m, s and u (g and y make a RegExp stateful), got "${flags}"`));
    return undefined;
  }
  try {
    new RegExp(pattern, flags);
  } catch (err) {
    reasons.push(reason(`${path}.pattern`, 'regex', `is not a valid regular expression: ${(err as Error).message}`));
    return undefined;
  }
  const compiled = compileLinearRegex(pattern, flags);
  if (!compiled.ok) {
    reasons.push(reason(`${path}.pattern`, 'regex', compiled.message));
    return undefined;
  }
  return compiled.regex;
}

export const compileRegex: TransformCompiler = (raw, cx) => {
  const { path, reasons } = cx;
  const options = readOptions(raw, path, ['pattern', 'group', 'flags', 'maxLength'], reasons);
  if (!options) return undefined;
  const pattern = optionalString(options, 'pattern', path, reasons);
  const flags = optionalString(options, 'flags', path, reasons) ?? '';
  const maxLength = optionalInteger(options, 'maxLength', path, reasons, 1, 1_000_000) ?? DEFAULT_MAX_INPUT;
  if (pattern === undefined) reasons.push(reason(`${path}.pattern`, 'required', 'is required'));
  if (typeof pattern !== 'string' || flags === null || maxLength === null) return undefined;
  const regex = compilePattern(pattern, flags, path, reasons);
  if (!regex) return undefined;
  const groups = captureGroups(regex);
  const group = options.group ?? (groups.count > 0 ? 1 : 0);
  if (typeof group === 'number') {
    if (!Number.isInteger(group) || group < 0 || group > groups.count) {
      reasons.push(reason(`${path}.group`, 'regex', `must be a group number from 0 to ${groups.count} (the pattern has ${groups.count} group(s)), got ${group}`));
      return undefined;
    }
  } else if (typeof group !== 'string' || !groups.names.includes(group)) {
    reasons.push(reason(`${path}.group`, 'regex', `must be a group number or one of the named groups (${groups.names.join(', ') || 'none'}), got ${JSON.stringify(group)}`));
    return undefined;
  }
  const shown = `/${pattern}/${flags}`;
  return syncTransform((value, ctx) => {
    if (typeof value !== 'string') return fail(ctx, 'regex', `expects text, got ${typeName(value)}`);
    if (value.length > maxLength) return fail(ctx, 'regex', `${describeValue(value)} is longer than ${maxLength} characters, the most this rule reads`);
    const match = regex.exec(value);
    if (!match) return fail(ctx, 'regex', `${describeValue(value)} does not match ${shown}`);
    const found = typeof group === 'number' ? match[group] : match.groups?.[group];
    return found === undefined ? fail(ctx, 'regex', `${describeValue(value)} matches ${shown} but group ${JSON.stringify(group)} took no part in the match`) : ok(found);
  });
};
