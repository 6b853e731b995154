// Dotted paths: what a getter reads, what a setter builds, and which paths
// are refused before any record is seen.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { compileGetter, compileSetter, parsePath } from '../../../lib/mapping/paths';
import type { Reason } from '../../../lib/reasons';

function path(text: string, kind: 'source' | 'target' = 'source') {
  const reasons: Reason[] = [];
  const parsed = parsePath(text, 'p', kind, reasons);
  assert.ok(parsed, JSON.stringify(reasons));
  return parsed;
}

describe('getters', () => {
  const record = { a: { b: [{ c: 1 }, { c: null }], '0': 'zero' }, list: ['x', 'y'], n: 0, deep: { e: { f: { g: 'G' } } } };
  const cases: [string, unknown][] = [
    ['a.b.0.c', 1],
    ['a.b.1.c', null],
    ['a.b.2.c', undefined],
    ['a.0', 'zero'],
    ['list.1', 'y'],
    ['list.length', undefined],
    ['list.01', undefined],
    ['n', 0],
    ['n.x', undefined],
    ['deep.e.f.g', 'G'],
    ['deep.e.f.g.h', undefined],
    ['a.hasOwnProperty', undefined],
    ['missing.x.y', undefined],
  ];
  for (const [text, expected] of cases) it(text, () => assert.equal(compileGetter(path(text))(record), expected));
  it('a getter on a non-object root', () => {
    assert.equal(compileGetter(path('a'))(null), undefined);
    assert.equal(compileGetter(path('a.b'))('text'), undefined);
    assert.equal(compileGetter(path('length'))('text'), undefined);
  });
});

describe('setters', () => {
  it('build objects and arrays on the way, keeping arrays dense', () => {
    const out: Record<string, unknown> = {};
    compileSetter(path('a.b', 'target'))(out, 1);
    compileSetter(path('a.c.2.d', 'target'))(out, 'x');
    compileSetter(path('a.c.0', 'target'))(out, 'first');
    compileSetter(path('top', 'target'))(out, { k: true });
    assert.equal(JSON.stringify(out), '{"a":{"b":1,"c":["first",null,{"d":"x"}]},"top":{"k":true}}');
  });
});

describe('refused paths', () => {
  const cases: [text: unknown, kind: 'source' | 'target', message: RegExp][] = [
    ['__proto__', 'target', /"__proto__", which is refused/],
    ['a.__proto__.b', 'source', /"__proto__"/],
    ['constructor', 'source', /"constructor"/],
    ['a.constructor.prototype', 'target', /"constructor"/],
    ['x.prototype', 'source', /"prototype"/],
    ['', 'source', /must not be empty/],
    ['a.', 'source', /empty segment/],
    ['.a', 'target', /empty segment/],
    ['3.a', 'target', /starts with an array index/],
    [Array.from({ length: 33 }, () => 'a').join('.'), 'source', /33 segments/],
    [null, 'source', /got null/],
    [['a'], 'source', /got array/],
  ];
  for (const [text, kind, message] of cases) {
    it(`${String(text).slice(0, 20)} (${kind})`, () => {
      const reasons: Reason[] = [];
      assert.equal(parsePath(text, 'rules[0].to', kind, reasons), undefined);
      assert.equal(reasons.length, 1);
      assert.equal(reasons[0]?.path, 'rules[0].to');
      assert.match(reasons[0]?.message ?? '', message);
    });
  }
  it('an index first is fine in a source path', () => {
    assert.deepEqual(path('0.a').indexes, [0, -1]);
  });
});
