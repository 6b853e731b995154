import { reason } from '../../reasons';
import type { Reason } from '../../reasons';
import { optionalInteger, optionalString, readOptions } from '../options';
import { type TransformCompiler, fail, ok, syncTransform } from '../transform-types';
import { describeValue, typeName } from '../values';
import { repeatsRepetition } from '../../regex-guard';

/**
 * `{ "regex": { "pattern": "^SHP-(\\d+)$", "group"?: 1 | "name", "flags"?: "i", "maxLength"?: 10000 } }`:
 * the text of one capture group (default: group 1 when the pattern has one,
 * else the whole match). No match is a reason.
 *
 * The RegExp is built once when the spec is compiled. JavaScript regexes
 * backtrack, so a hostile pattern can hang the process on a crafted input:
 * patterns with a quantified group that itself holds a quantifier or an
 * alternation (`(a+)+`, `(\w*\s?)*`, `(a|a)*`), the catastrophic shapes, are
 * refused (lib/regex-guard.ts), and the input is
 * capped (`maxLength`, default 10,000 characters) to bound what is left.
 * Flags are limited to i, m, s and u: `g` and `y` make a RegExp stateful
 * (lastIndex), which would make one record's result depend on the previous.
 */
const MAX_PATTERN = 500;
const DEFAULT_MAX_INPUT = 10_000;

function captureGroups(regex: RegExp): { count: number; names: string[] } {
  // An alternation with the empty string always matches, which reveals the
  // group count and names without knowing any input.
  const probe = new RegExp(`${regex.source}|`, regex.flags).exec('');
  return { count: probe ? probe.length - 1 : 0, names: Object.keys(probe?.groups ?? {}) };
}

function compilePattern(pattern: string, flags: string, path: string, reasons: Reason[]): RegExp | undefined {
  if (pattern.length === 0 || pattern.length > MAX_PATTERN) {
    reasons.push(reason(`${path}.pattern`, 'regex', `must be 1 to ${MAX_PATTERN} characters`));
    return undefined;
  }
  if (!/^[imsu]*$/.test(flags) || new Set(flags).size !== flags.length) {
    reasons.push(reason(`${path}.flags`, 'regex', `may only combine i, m, s and u (g and y make a RegExp stateful), got "${flags}"`));
    return undefined;
  }
  if (repeatsRepetition(pattern)) {
    reasons.push(reason(`${path}.pattern`, 'regex', 'has a quantified group that contains a quantifier or an alternation, e.g. (a+)+ or (a|a)*, which can backtrack for ever; rewrite it without the nesting'));
    return undefined;
  }
  try {
    return new RegExp(pattern, flags);
  } catch (err) {
    reasons.push(reason(`${path}.pattern`, 'regex', `is not a valid regular expression: ${(err as Error).message}`));
    return undefined;
  }
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
