import assert from 'node:assert/strict';
import { createCatalogAjv } from '../../lib/catalog/ajv-setup';
import { compileLinearRegex } from '../../lib/linear-regex';
import { compileMappingSpec } from '../../lib/mapping/index';
import type { MapResult } from '../../lib/mapping/index';

/**
 * Issue 20's regex attacks, replayed where configuration puts a regex: a
 * schema's `pattern` and `patternProperties`, a mapping regex rule, and a
 * JSONata `$match` / `$replace` / `$split` / `$contains`. On JavaScript's
 * backtracking engine `^(a|a)*$` and `^(.*a){12}$` took 6 to 10 s on 28 to
 * 31 characters; here each case, on those inputs and on inputs a thousand
 * times longer, must finish well under a second.
 */
const ATTACKS = ['^(a|a)*$', '^(.*a){12}$', '^(a+)+$', '(\\w*\\s?)*x$'];
const INPUTS = [28, 29, 30, 31].flatMap((n) => ['a'.repeat(n) + '!', 'a'.repeat(n * 1000) + '!']);
const BUDGET_MS = 500;

/** The slowest run per place, printed after each case as the evidence. */
let slowest = { ms: 0, label: '' };

function record(label: string, ms: number): void {
  assert.ok(ms < BUDGET_MS, `${label} took ${ms.toFixed(0)} ms`);
  if (ms > slowest.ms) slowest = { ms, label };
}

function timed<T>(label: string, run: () => T): T {
  const start = process.hrtime.bigint();
  const out = run();
  record(label, Number(process.hrtime.bigint() - start) / 1e6);
  return out;
}

async function timedAsync<T>(label: string, run: () => Promise<T>): Promise<T> {
  const start = process.hrtime.bigint();
  const out = await run();
  record(label, Number(process.hrtime.bigint() - start) / 1e6);
  return out;
}

beforeEach(() => {
  slowest = { ms: 0, label: '' };
});
afterEach(() => {
  if (slowest.label !== '') console.log(`      slowest: ${slowest.label}, ${slowest.ms.toFixed(1)} ms`);
});

function mapping(rule: object): { map(record: unknown): MapResult | Promise<MapResult> } {
  const compiled = compileMappingSpec({ entity: 'test', version: '1.0.0', rules: [rule] });
  if (!compiled.ok) assert.fail(`spec does not compile: ${JSON.stringify(compiled.reasons)}`);
  return compiled.value;
}

describe('lib/linear-regex: configuration regexes run in linear time', () => {
  it('matches like RegExp on ordinary patterns: groups, named groups, flags, global exec', () => {
    const cases: Array<[string, string, string]> = [
      ['^SHP-(\\d+)$', '', 'SHP-123'],
      ['(?<year>\\d{4})-(?<month>\\d\\d)', '', 'on 2026-12 and 2027-01'],
      ['^abc$', 'i', 'ABC'],
      ['^b', 'm', 'a\nb'],
      ['a.b', 's', 'a\nb'],
      ['^\\p{Letter}+$', 'u', 'Grüße'],
      ['x(y)?', '', 'x'],
    ];
    for (const [pattern, flags, input] of cases) {
      const linear = compileLinearRegex(pattern, flags);
      assert.ok(linear.ok, `${pattern}: ${linear.ok ? '' : linear.message}`);
      const native = new RegExp(pattern, flags).exec(input);
      const got = linear.regex.exec(input);
      assert.deepEqual(got && [...got], native && [...native], pattern);
      assert.equal(got?.index, native?.index);
      assert.deepEqual({ ...got?.groups }, { ...native?.groups });
    }
    const global = compileLinearRegex('a+', 'g');
    assert.ok(global.ok);
    const starts: number[] = [];
    for (let m = global.regex.exec('aa b aaa'); m; m = global.regex.exec('aa b aaa')) starts.push(m.index);
    assert.deepEqual(starts, [0, 5]);
  });

  it('refuses what RE2 cannot run in linear time, with a reason', () => {
    for (const [pattern, flags] of [['(a)\\1', ''], ['a(?=b)', ''], ['(?<!x)a', ''], ['a', 'y']] as const) {
      const compiled = compileLinearRegex(pattern, flags);
      assert.equal(compiled.ok, false, pattern);
      if (!compiled.ok) assert.match(compiled.message, /linear-time|not supported/);
    }
  });

  for (const attack of ATTACKS) {
    it(`schema pattern and patternProperties ${attack}`, () => {
      const ajv = createCatalogAjv();
      const byPattern = ajv.compile({ type: 'string', pattern: attack });
      const byProperties = ajv.compile({ type: 'object', patternProperties: { [attack]: { type: 'number' } } });
      for (const input of INPUTS) {
        assert.equal(timed(`pattern ${attack} on ${input.length} chars`, () => byPattern(input)), false);
        assert.equal(timed(`patternProperties ${attack} on ${input.length} chars`, () => byProperties({ [input]: 'not a number' })), true);
      }
      assert.equal(byPattern('aaaa'), /^(a|a)*$|^(a+)+$/.test(attack) ? true : attack.endsWith('x$') ? false : byPattern('aaaa'));
    });

    it(`mapping regex rule ${attack}`, () => {
      const spec = mapping({ to: 'out', from: 'in', transforms: [{ regex: { pattern: attack, group: 0, maxLength: 1_000_000 } }] });
      for (const input of INPUTS) {
        const result = timed(`regex rule ${attack} on ${input.length} chars`, () => spec.map({ in: input }));
        assert.ok(!(result instanceof Promise));
        assert.equal(result.ok, false);
        if (!result.ok) assert.match(result.reasons[0]?.message ?? '', /does not match/);
      }
    });

    it(`JSONata $match, $replace, $split and $contains with /${attack}/`, async () => {
      const literal = `/${attack}/`;
      for (const fn of [`$match(s, ${literal})`, `$replace(s, ${literal}, 'y')`, `$split(s, ${literal})`, `$contains(s, ${literal})`]) {
        const spec = mapping({ to: 'out', expression: fn.replace(/\bs\b/, 'in') });
        for (const input of INPUTS) {
          const result = await timedAsync(`${fn} on ${input.length} chars`, async () => spec.map({ in: input }));
          assert.ok(result.ok || result.reasons.length > 0);
        }
      }
    });
  }

  it('a JSONata regex RE2 cannot run is refused when the spec compiles', () => {
    const compiled = compileMappingSpec({ entity: 'test', version: '1.0.0', rules: [{ to: 'out', expression: '$match(in, /(a)\\1/)' }] });
    assert.equal(compiled.ok, false);
    if (!compiled.ok) assert.match(compiled.reasons[0]?.message ?? '', /linear-time/);
  });
});

describe('lib/mapping/expression: results have a size bound', () => {
  const cases: Array<[string, string]> = [
    ['$pad of 100,000,000', "$pad('x', 100000000)"],
    ['$pad to the left', "$pad('x', -100000000)"],
    ['a text doubled 30 times', "$reduce([1..30], function($acc, $v) { $acc & $acc }, 'xxxxxxxx')"],
    ['$join of a long list', "$join([1..60000].('xxxxxxxxxxxxxxxxxxxx'))"],
  ];
  for (const [label, expression] of cases) {
    it(`refuses ${label} with a reason`, async () => {
      const spec = mapping({ to: 'out', expression });
      const result = await spec.map({});
      assert.equal(result.ok, false);
      if (!result.ok) assert.match(result.reasons[0]?.message ?? '', /more than the 1048576 an expression may/);
    });
  }

  it('passes results under the bound', async () => {
    const result = await mapping({ to: 'out', expression: "$pad('x', 5, '-')" }).map({});
    assert.ok(result.ok);
    if (result.ok) assert.equal(result.value.out, 'x----');
  });
});
