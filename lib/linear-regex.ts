import { RE2JS } from 're2js';
import { TectonicError } from './errors';

/**
 * Regexes from configuration (schema `pattern` and `patternProperties`,
 * mapping regex rules, regexes inside JSONata expressions) run here, on
 * re2js, a port of RE2: matching is linear in the input, whatever the
 * pattern, so `^(a|a)*$` or `^(.*a){12}$` cannot hold the event loop
 * (issue 20; JavaScript's backtracking engine took 6 to 10 s on 30
 * characters). What RE2 cannot do in linear time (back-references,
 * lookahead, lookbehind) fails to compile, and callers refuse the pattern
 * with a reason instead of falling back to RegExp.
 *
 * LinearRegExp has the parts of RegExp that ajv (`test`) and jsonata
 * (`exec` with `lastIndex` under the `g` flag) call.
 */
export type LinearCompile = { ok: true; regex: LinearRegExp } | { ok: false; message: string };

// `u` changes nothing: RE2 always matches by code point. `y` has no RE2 counterpart.
const FLAG_BITS: Record<string, number> = { i: RE2JS.CASE_INSENSITIVE, m: RE2JS.MULTILINE, s: RE2JS.DOTALL, u: 0, g: 0 };

export function compileLinearRegex(pattern: string, flags = ''): LinearCompile {
  const re = compileRe2(pattern, flags);
  return typeof re === 'string' ? { ok: false, message: re } : { ok: true, regex: new LinearRegExp(pattern, flags, re) };
}

// JavaScript's long General_Category names; RE2 knows only the short ones.
const CATEGORY_ALIASES: Record<string, string> = {
  Letter: 'L', Cased_Letter: 'L', Lowercase_Letter: 'Ll', Uppercase_Letter: 'Lu', Titlecase_Letter: 'Lt', Modifier_Letter: 'Lm', Other_Letter: 'Lo',
  Mark: 'M', Number: 'N', Decimal_Number: 'Nd', digit: 'Nd', Letter_Number: 'Nl', Other_Number: 'No',
  Punctuation: 'P', punct: 'P', Symbol: 'S', Math_Symbol: 'Sm', Currency_Symbol: 'Sc', Separator: 'Z', Space_Separator: 'Zs', Other: 'C', Control: 'Cc',
};

function shortCategories(pattern: string): string {
  return pattern.replace(/\\([pP])\{(?:General_Category=|gc=)?([A-Za-z_]+)\}/g, (whole, p: string, name: string) => {
    const short = CATEGORY_ALIASES[name];
    return short === undefined ? whole : `\\${p}{${short}}`;
  });
}

function compileRe2(pattern: string, flags: string): RE2JS | string {
  let bits = 0;
  for (const flag of new Set(flags)) {
    const bit = FLAG_BITS[flag];
    if (bit === undefined) return `flag "${flag}" is not supported (i, m, s, u and g are)`;
    bits |= bit;
  }
  try {
    return RE2JS.compile(RE2JS.translateRegExp(shortCategories(pattern)), bits);
  } catch (err) {
    return `cannot run on the linear-time regex engine (RE2 syntax: no back-references, no lookaround): ${(err as Error).message}`;
  }
}

export class LinearRegExp {
  readonly source: string;
  readonly flags: string;
  readonly global: boolean;
  /** As RegExp's: where the next `exec` of a global regex starts, moved past each match. */
  lastIndex = 0;
  readonly #re: RE2JS;
  readonly #names: Array<[string, number]>;

  /** Throws TectonicError BAD_CONFIG for a pattern RE2 cannot run; compileLinearRegex returns that as a value. */
  constructor(source: string, flags: string, compiled?: RE2JS) {
    const re = compiled ?? compileRe2(source, flags);
    if (typeof re === 'string') throw new TectonicError('BAD_CONFIG', `regex /${source}/${flags} ${re}`);
    this.#re = re;
    this.source = source;
    this.flags = flags;
    this.global = flags.includes('g');
    this.#names = Object.entries(re.namedGroups());
  }

  /** The number of capture groups, without matching anything. */
  get groupCount(): number {
    return this.#re.groupCount();
  }

  get groupNames(): string[] {
    return this.#names.map(([name]) => name);
  }

  /** ajv keys its compiled patterns by this text, as RegExp's: two patterns must never share it. */
  toString(): string {
    return `/${this.source}/${this.flags}`;
  }

  test(input: string): boolean {
    if (!this.global) return this.#re.test(input);
    return this.exec(input) !== null;
  }

  exec(input: string): RegExpExecArray | null {
    const start = this.global ? this.lastIndex : 0;
    if (start > input.length) {
      this.lastIndex = 0;
      return null;
    }
    // RE2's DFA answers "no match" without tracking groups, several times faster than the matcher
    // that finds them; a refused value (the common case for a hostile one) costs only that.
    if (start === 0 && !this.#re.test(input)) {
      if (this.global) this.lastIndex = 0;
      return null;
    }
    const matcher = this.#re.matcher(input);
    if (!matcher.find(start)) {
      if (this.global) this.lastIndex = 0;
      return null;
    }
    const groups: Array<string | undefined> = [];
    for (let i = 0; i <= this.groupCount; i++) groups.push(matcher.group(i) ?? undefined);
    const result = Object.assign(groups, { index: matcher.start(), input }) as unknown as RegExpExecArray;
    if (this.#names.length > 0) {
      const named: Record<string, string | undefined> = Object.create(null) as Record<string, string | undefined>;
      for (const [name, index] of this.#names) named[name] = groups[index];
      result.groups = named as Record<string, string>;
    }
    if (this.global) this.lastIndex = matcher.end();
    return result;
  }
}

/**
 * ajv's `code.regExp` engine: called once per schema pattern when a schema
 * compiles, so a pattern RE2 cannot run makes the schema fail to compile
 * (the catalog refuses it as `invalid-schema`, with this message).
 */
export function linearRegExpEngine(pattern: string, flags: string): LinearRegExp {
  return new LinearRegExp(pattern, flags);
}
// ajv reads `code` only to write standalone validation code, which the pack never does.
linearRegExpEngine.code = 'require("@tectonic/node-red-hybrid/dist/lib/linear-regex").linearRegExpEngine';

/**
 * jsonata's `RegexEngine` option: jsonata's parser turns each regex literal
 * into a RegExp (which only compiles it: a native RegExp never runs here) and
 * the evaluator calls `new RegexEngine(thatRegExp)` and then only `exec` and
 * `lastIndex`. Expressions are checked when compiled (jsonataRegexProblems
 * in lib/mapping/expression.ts), so this throw is for a regex that slipped
 * past that walk.
 */
export class JsonataLinearRegExp extends LinearRegExp {
  constructor(native: RegExp) {
    super(native.source, native.flags);
  }
}
