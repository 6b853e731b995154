// CEL conditions: what compiles, what is refused at compile time (reaching
// process state, unbounded cost), and what fails closed at evaluation.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { CONDITION_LIMITS, compileCondition } from '../../../lib/policy/conditions';
import type { ConditionInput, ConditionResult } from '../../../lib/policy/conditions';

const input: ConditionInput = {
  payload: { weightKg: 12.5, count: 3, status: 'delivered', tags: ['a', 'b'], carrier: { name: 'DHL' }, nothing: null },
  cdm: { entity: 'shipment', version: '1.1.0', site: 'site-a' },
  byteSize: 120,
};

function run(source: string, on: ConditionInput = input): ConditionResult {
  const compiled = compileCondition(source);
  assert.ok(compiled.ok, compiled.ok ? '' : compiled.message);
  return compiled.condition.evaluate(on);
}

describe('conditions: evaluation', () => {
  const table: [string, boolean][] = [
    ['payload.weightKg > 1000.0', false],
    ['payload.weightKg > 10', true], // a double compared with an int
    ['payload.count == 3', true], // JSON numbers are doubles in CEL; 3.0 == 3
    ['payload.status in ["delivered", "lost"]', true],
    ['cdm.entity == "shipment" && cdm.site.startsWith("site-")', true],
    ['byteSize < 1024', true],
    ['has(payload.carrier.scac)', false],
    ['!has(payload.reserved) || payload.reserved <= payload.count', true],
    ['payload.tags.exists(t, t == "b")', true],
    ['size(payload.tags) == 2', true],
    ['payload.nothing == null', true],
    ['payload.status.matches("^del[a-z]+$")', true],
  ];
  for (const [source, expected] of table) {
    it(`${source} -> ${expected}`, () => assert.deepEqual(run(source), { ok: true, value: expected }));
  }

  // A condition that cannot be evaluated is an outcome, not an exception:
  // the engine turns it into a rejection.
  const failing: [string, RegExp][] = [
    ['payload.missing > 1.0', /No such key: missing/],
    ['payload.carrier.scac == "DHL"', /No such key: scac/],
    ['payload.status > 1', /no such overload/],
    ['payload.nothing > 1', /no such overload/],
    ['1 / (int(payload.count) - 3) > 0', /division by zero/],
    ['payload.tags[5] == "x"', /out of bounds|index/i],
    ['payload.status', /yielded a string, not a bool/],
    ['payload.constructor == null', /No such key: constructor/],
    ['payload["__proto__"] == null', /No such key: __proto__/],
    ['payload.status.constructor == null', /No such key|no such|not/i],
  ];
  for (const [source, message] of failing) {
    it(`cannot evaluate: ${source}`, () => {
      const result = run(source);
      assert.equal(result.ok, false, JSON.stringify(result));
      assert.match(result.ok ? '' : result.message, message);
    });
  }

  it('a payload that is not an object fails the same way', () => {
    const result = run('payload.weightKg > 1.0', { ...input, payload: 'just a string' });
    assert.equal(result.ok, false);
  });
});

describe('conditions: refused at compile time', () => {
  const refused: [string, string, RegExp][] = [
    ['process state', 'process.exit()', /Unknown variable: process/],
    ['this', 'this.constructor', /Unknown variable: this/],
    ['globalThis', 'globalThis.process.env.SECRET == "x"', /Unknown variable: globalThis/],
    ['require', 'require("child_process") == null', /require|no matching overload|Unknown/],
    ['an undeclared variable', 'msg.payload.x > 1', /Unknown variable: msg/],
    ['a constructor call through a string', '"".constructor("return process")()', /./],
    ['a syntax error', 'payload.weightKg >', /does not parse/],
    ['an empty condition', '   ', /empty/],
    ['a non-bool type', '1 + 2', /must yield a bool/],
    ['a nested comprehension (cost n^2)', 'payload.tags.exists(a, payload.tags.exists(b, a == b))', /may not be nested/],
    ['a comprehension in a comprehension range', 'payload.tags.map(a, payload.tags).all(x, x.all(y, y == ""))', /may not be nested/],
    ['a triple comprehension (the "huge comprehension")', 'payload.tags.all(a, payload.tags.all(b, payload.tags.all(c, a + b + c != "")))', /may not be nested/],
    ['cel.bind (doubling strings)', 'cel.bind(s, payload.status + payload.status, size(s) > 0)', /cel.bind is not available/],
    ['a regex with nested quantifiers (ReDoS)', 'payload.status.matches("(a+)+$")', /catastrophic/],
    ['an alternation under a quantifier', 'payload.status.matches("^(a|a)*$")', /catastrophic/],
    ['a back-reference', 'payload.status.matches("(a)\\\\1")', /back-reference/],
    ['a pattern that is not a literal', 'payload.status.matches(payload.status)', /string literal/],
    ['an invalid pattern', 'payload.status.matches("(")', /not a valid regular expression|does not parse/],
    ['an overlong expression', `payload.count == 1 ${'|| payload.count == 1 '.repeat(60)}`, /characters long/],
    ['too deep', `${'('.repeat(40)}true${')'.repeat(40)}`, /maxDepth|does not parse/],
    ['too many nodes', Array.from({ length: 100 }, (_, i) => `payload.count != ${i}`).join(' && ').slice(0, 1000), /maxAstNodes|does not parse/],
    ['a huge list literal', `payload.count in [${Array.from({ length: 100 }, (_, i) => i).join(',')}]`, /maxListElements|maxAstNodes|does not parse/],
  ];
  for (const [name, source, message] of refused) {
    it(name, () => {
      const compiled = compileCondition(source);
      assert.equal(compiled.ok, false, `${source} compiled`);
      assert.match(compiled.ok ? '' : compiled.message, message);
    });
  }

  it('the documented limits are what is enforced', () => {
    assert.equal(compileCondition(`${'true && '.repeat(100)}true`).ok, true);
    assert.ok(compileCondition('x'.repeat(CONDITION_LIMITS.maxLength + 1)).ok === false);
  });
});

describe('conditions: bounded cost', () => {
  it('one comprehension over a large list is linear and fast', () => {
    const big = { ...input, payload: { tags: Array.from({ length: 50_000 }, (_, i) => `t${i}`) } };
    const start = performance.now();
    assert.deepEqual(run('payload.tags.exists(t, t == "t49999")', big), { ok: true, value: true });
    assert.ok(performance.now() - start < 1000, 'a single comprehension over 50k elements took over a second');
  });

  it('a regex on a long adversarial string stays fast (only linear patterns are allowed)', () => {
    const evil = { ...input, payload: { status: `${'a'.repeat(50_000)}!` } };
    const start = performance.now();
    assert.equal(run('payload.status.matches("^a+$")', evil).ok, true);
    assert.ok(performance.now() - start < 1000);
  });
});
