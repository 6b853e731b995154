// parseJson takes JSON.parse alone for texts that cannot hold a prototype key
// and secure-json-parse for the rest; exceedsDepth walks recursively up to
// its limit. Both must answer exactly what the plain definitions do.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import fc from 'fast-check';
import sjson from 'secure-json-parse';
import { parseJson } from '../../../lib/envelope/cloudevents';
import { exceedsDepth } from '../../../lib/untrusted-json';

/** What secure-json-parse alone makes of the text: the value, or whether it refused a prototype key. */
function reference(text: string): { value: unknown } | { refused: 'json' | 'prototype-key' } {
  try {
    return { value: sjson.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' }) };
  } catch (err) {
    return { refused: /prototype/i.test((err as Error).message) ? 'prototype-key' : 'json' };
  }
}

function viaParseJson(text: string): { value: unknown } | { refused: string } {
  const parsed = parseJson(Buffer.from(text, 'utf8'), 'payload');
  return parsed.ok ? { value: parsed.value } : { refused: parsed.reasons[0]?.rule ?? '?' };
}

describe('parseJson', () => {
  const cases: [string, string][] = [
    ['a plain record', '{"Sendung":"SHP-1","Gewicht":"1.234,5"}'],
    ['a __proto__ key', '{"a":1,"__proto__":{"polluted":true}}'],
    ['an escaped __proto__ key', '{"\\u005f_proto__":{"polluted":true}}'],
    ['constructor.prototype', '{"constructor":{"prototype":{"polluted":true}}}'],
    ['an escaped constructor', '{"\\u0063onstructor":{"prototype":{"x":1}}}'],
    ['a constructor key without prototype', '{"constructor":"acme"}'],
    ['__proto__ inside a value only', '{"note":"__proto__ is not a key here"}'],
    ['escapes that are not a prototype key', '{"path":"C:\\\\temp","quote":"\\"x\\""}'],
    ['a byte-order mark', '\ufeff{"a":1}'],
    ['not JSON', '{"a":'],
    ['a scalar', '42'],
  ];
  for (const [name, text] of cases) it(name, () => assert.deepStrictEqual(viaParseJson(text), reference(text)));

  it('random JSON with the dangerous names mixed in, property-based', () => {
    const key = fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom('__proto__', 'constructor', 'prototype', '\\u005f_proto__', 'c\\u006fnstructor'));
    const value = fc.letrec((tie) => ({
      node: fc.oneof({ depthSize: 'small' }, fc.jsonValue({ maxDepth: 1 }), fc.array(tie('node'), { maxLength: 3 }), fc.dictionary(key, tie('node'), { maxKeys: 3 })),
    })).node;
    fc.assert(
      fc.property(value, (v) => {
        // Keys are written raw so that escaped names stay escaped in the text.
        const text = JSON.stringify(v).replace(/\\\\u/g, '\\u');
        assert.deepStrictEqual(viaParseJson(text), reference(text), text);
      }),
      { numRuns: 3000 },
    );
  });
});

describe('exceedsDepth', () => {
  const nested = (depth: number): unknown => {
    let v: unknown = 1;
    for (let i = 0; i < depth; i++) v = i % 2 === 0 ? [v] : { k: v };
    return v;
  };
  it('objects and arrays count, scalars do not', () => {
    assert.equal(exceedsDepth(nested(3), 3), false);
    assert.equal(exceedsDepth(nested(4), 3), true);
    assert.equal(exceedsDepth('text', 0), false);
    assert.equal(exceedsDepth({}, 0), true);
  });

  it('the recursive walk answers what the iterative one does', () => {
    const iterative = (value: unknown, maxDepth: number): boolean => {
      const stack: Array<[unknown, number]> = [[value, 1]];
      while (stack.length > 0) {
        const [node, depth] = stack.pop() as [unknown, number];
        if (typeof node !== 'object' || node === null) continue;
        if (depth > maxDepth) return true;
        for (const child of Object.values(node)) if (typeof child === 'object' && child !== null) stack.push([child, depth + 1]);
      }
      return false;
    };
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 8 }), fc.integer({ min: 0, max: 10 }), (value, max) => assert.equal(exceedsDepth(value, max), iterative(value, max))),
      { numRuns: 2000 },
    );
  });

  it('a limit deeper than any record takes the walk that needs no stack', () => {
    assert.equal(exceedsDepth(nested(100_000), 50_000), true);
    assert.equal(exceedsDepth(nested(1_000), 50_000), false);
  });
});
