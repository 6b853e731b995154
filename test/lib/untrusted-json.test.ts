// lib/untrusted-json.ts: the one set of forbidden keys, the data rule and the
// names rule drawn from it, and the one depth rule, as tables.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import {
  DEFAULT_MAX_DEPTH,
  PROTOTYPE_KEYS,
  exceedsDepth,
  isPollutingMember,
  isPrototypeKey,
  mayHoldPollutingKey,
  parseJsonRefusingPrototypeKeys,
  parseUntrustedJson,
} from '../../lib/untrusted-json';

const refusal = (text: string): string | undefined => {
  const parsed = parseUntrustedJson(text, 'payload');
  return parsed.ok ? undefined : parsed.reasons[0]?.rule;
};

/** `{"k":` n times, then `inner`, then the closing braces. */
const nestedObjects = (n: number, inner: string): string => '{"k":'.repeat(n) + inner + '}'.repeat(n);

describe('untrusted JSON: the forbidden keys', () => {
  it('one set: __proto__, constructor, prototype', () => {
    assert.deepEqual([...PROTOTYPE_KEYS].sort(), ['__proto__', 'constructor', 'prototype']);
  });

  // Names a program walks or writes through: all three refused.
  const names: Array<[string, boolean]> = [
    ['__proto__', true],
    ['constructor', true],
    ['prototype', true],
    ['proto', false],
    ['Constructor', false],
    ['toString', false],
    ['', false],
  ];
  for (const [name, expected] of names) it(`as a name, "${name}" ${expected ? 'is' : 'is not'} refused`, () => assert.equal(isPrototypeKey(name), expected));

  // Members of data: only the arrangements that reach a prototype.
  const members: Array<[string, string, unknown, boolean]> = [
    ['__proto__ holding an object', '__proto__', { polluted: true }, true],
    ['__proto__ holding a scalar', '__proto__', 1, true],
    ['constructor holding prototype', 'constructor', { prototype: { polluted: true } }, true],
    ['constructor holding a scalar', 'constructor', 'acme', false],
    ['constructor holding other members', 'constructor', { name: 'x' }, false],
    ['constructor holding null', 'constructor', null, false],
    ['prototype alone', 'prototype', { polluted: true }, false],
    ['an ordinary key', 'shp_no', 'A-1', false],
  ];
  for (const [name, key, value, expected] of members) it(`as data, ${name}: ${expected ? 'refused' : 'kept'}`, () => assert.equal(isPollutingMember(key, value), expected));

  // Each key at the top and nested, written and escaped, through the parser.
  const texts: Array<[string, string, string | undefined]> = [
    ['__proto__ at the top', '{"__proto__":{"polluted":true}}', 'prototype-key'],
    ['__proto__ nested', '{"a":[{"b":{"__proto__":{"polluted":true}}}]}', 'prototype-key'],
    ['__proto__ escaped', '{"\\u005f_proto__":{"polluted":true}}', 'prototype-key'],
    ['constructor.prototype at the top', '{"constructor":{"prototype":{"polluted":true}}}', 'prototype-key'],
    ['constructor.prototype nested', '{"a":{"b":[{"constructor":{"prototype":{}}}]}}', 'prototype-key'],
    ['constructor.prototype escaped', '{"\\u0063onstructor":{"prototype":{"x":1}}}', 'prototype-key'],
    ['constructor alone at the top', '{"constructor":{"name":"x"}}', undefined],
    ['constructor alone nested', '{"a":{"constructor":"acme"}}', undefined],
    ['prototype alone at the top', '{"prototype":{"polluted":true}}', undefined],
    ['prototype alone nested', '{"a":[{"prototype":true}]}', undefined],
    ['the names inside a string only', '{"note":"__proto__ and constructor"}', undefined],
    ['not JSON', '{"a":', 'json'],
  ];
  for (const [name, text, expected] of texts) it(`parsing ${name}: ${expected ?? 'kept'}`, () => assert.equal(refusal(text), expected));

  it('a refusal is a reason, never a throw', () => {
    assert.deepEqual(parseUntrustedJson('{"__proto__":{}}', 'event'), {
      ok: false,
      reasons: [{ path: 'event', rule: 'prototype-key', message: 'contains a forbidden __proto__ or constructor.prototype key' }],
    });
    assert.throws(() => parseJsonRefusingPrototypeKeys('{"__proto__":{}}'), /prototype/);
  });

  it('nothing parsed pollutes Object.prototype', () => {
    for (const [, text] of texts) parseUntrustedJson(text, '');
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  const scans: Array<[string, string, boolean]> = [
    ['plain text', '{"a":1,"b":"c"}', false],
    ['an escape anywhere', '{"a":"C:\\\\temp"}', true],
    ['the name __proto__', '{"__proto__":1}', true],
    ['the name constructor', '{"constructor":1}', true],
    ['prototype alone cannot pollute', '{"prototype":1}', false],
  ];
  for (const [name, text, expected] of scans) it(`the fast scan: ${name} ${expected ? 'needs' : 'skips'} the full check`, () => assert.equal(mayHoldPollutingKey(text), expected));
});

describe('untrusted JSON: the depth rule', () => {
  it('one bound everywhere: 64', () => assert.equal(DEFAULT_MAX_DEPTH, 64));

  const nested = (levels: number): unknown => JSON.parse('['.repeat(levels) + ']'.repeat(levels)) as unknown;
  const cases: Array<[string, unknown, number, boolean]> = [
    ['a scalar is no level', 'deep', 0, false],
    ['the outermost container is level 1', {}, 1, false],
    ['one level past 0', {}, 0, true],
    ['at the default bound', nested(DEFAULT_MAX_DEPTH), DEFAULT_MAX_DEPTH, false],
    ['one past the default bound', nested(DEFAULT_MAX_DEPTH + 1), DEFAULT_MAX_DEPTH, true],
    ['objects at the bound', JSON.parse(nestedObjects(3, '1')) as unknown, 3, false],
    ['objects one past the bound', JSON.parse(nestedObjects(4, '1')) as unknown, 3, true],
    ['at a bound past the recursive walk', nested(300), 300, false],
    ['one past a bound past the recursive walk', nested(301), 300, true],
  ];
  for (const [name, value, max, expected] of cases) it(`${name}: ${expected ? 'refused' : 'kept'}`, () => assert.equal(exceedsDepth(value, max), expected));
});

describe('untrusted JSON: huge inputs', () => {
  // Each case must answer well inside mocha's timeout: no quadratic scan, no stack growth.
  const within = (ms: number, work: () => void): void => {
    const started = process.hrtime.bigint();
    work();
    const took = Number(process.hrtime.bigint() - started) / 1e6;
    assert.ok(took < ms, `took ${took.toFixed(0)} ms`);
  };

  it('100,000 levels are refused by depth without overflowing the stack', () => {
    within(2000, () => assert.equal(exceedsDepth(nested100k(), DEFAULT_MAX_DEPTH), true));
  });

  it('a __proto__ key under 100,000 levels is refused', () => {
    within(5000, () => assert.equal(refusal(`${'['.repeat(100_000)}{"__proto__":1}${']'.repeat(100_000)}`), 'prototype-key'));
  });

  it('a 10 MB text with a constructor.prototype key at its end is refused', () => {
    const filler = `"${'x'.repeat(10 * 1024 * 1024)}"`;
    within(5000, () => assert.equal(refusal(`{"a":${filler},"constructor":{"prototype":{}}}`), 'prototype-key'));
  });

  it('a 10 MB text with no dangerous name takes the fast path', () => {
    const text = `{"a":"${'x'.repeat(10 * 1024 * 1024)}"}`;
    assert.equal(mayHoldPollutingKey(text), false);
    within(2000, () => assert.equal(refusal(text), undefined));
  });

  it('a million members, one polluting, is refused', () => {
    const members = Array.from({ length: 1_000_000 }, (_, i) => `"k${i}":${i}`).join(',');
    within(10_000, () => assert.equal(refusal(`{${members},"__proto__":{}}`), 'prototype-key'));
  });
});

function nested100k(): unknown {
  let value: unknown = 1;
  for (let i = 0; i < 100_000; i++) value = i % 2 === 0 ? [value] : { k: value };
  return value;
}
