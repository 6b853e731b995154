// Rule-level behaviour: sources, missing values, optional and default,
// concat across fields, arrays with nested specs, expressions, and that every
// reason of a record is reported.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { type CompiledMapping, compileMappingSpec } from '../../../lib/mapping/index';
import { compiled, mapNow, spec } from './helpers';

describe('missing sources', () => {
  const cases: [label: string, rule: Record<string, unknown>, record: Record<string, unknown>, expected: unknown][] = [
    ['absent rejects', { to: 'a', from: 'x' }, {}, { ok: false, reasons: [{ path: 'a', rule: 'missing', message: 'from "x": is missing' }] }],
    ['null rejects', { to: 'a', from: 'x' }, { x: null }, { ok: false, reasons: [{ path: 'a', rule: 'missing', message: 'from "x": is null' }] }],
    ['empty string is a value', { to: 'a', from: 'x' }, { x: '' }, { ok: true, value: { a: '' } }],
    ['optional leaves the target out', { to: 'a', from: 'x', optional: true }, { x: null }, { ok: true, value: {} }],
    ['default is written as it is, untransformed', { to: 'a', from: 'x', default: 'n/a', transforms: [{ upper: {} }] }, {}, { ok: true, value: { a: 'n/a' } }],
    ['default does not hide bad data', { to: 'a', from: 'x', default: 0, transforms: [{ number: {} }] }, { x: 'abc' }, { ok: false, reasons: [{ path: 'a', rule: 'number', message: 'from "x": "abc" is not a number (digit grouping needs a "thousands" option; the decimal mark is ".")' }] }],
    ['optional does not hide bad data', { to: 'a', from: 'x', optional: true, transforms: [{ number: {} }] }, { x: '' }, { ok: false, reasons: [{ path: 'a', rule: 'number', message: 'from "x": is an empty string, not a number' }] }],
    ['a nested path through a missing object', { to: 'a', from: 'x.y.0.z' }, { x: { y: [] } }, { ok: false, reasons: [{ path: 'a', rule: 'missing', message: 'from "x.y.0.z": is missing' }] }],
    ['inherited members are not data', { to: 'a', from: 'toString' }, {}, { ok: false, reasons: [{ path: 'a', rule: 'missing', message: 'from "toString": is missing' }] }],
  ];
  for (const [label, rule, record, expected] of cases) {
    it(label, () => assert.deepEqual(compiled(spec([rule])).map(record), expected));
  }
});

describe('records', () => {
  it('every reason of a record is reported, in rule order', () => {
    const m = compiled(
      spec([
        { to: 'id', from: 'id' },
        { to: 'n', from: 'n', transforms: [{ number: {} }] },
        { to: 's', from: 's', transforms: [{ lookup: { table: { A: 'a' } } }] },
      ]),
    );
    assert.deepEqual(m.map({ n: '1,5', s: 'B' }), {
      ok: false,
      reasons: [
        { path: 'id', rule: 'missing', message: 'from "id": is missing' },
        { path: 'n', rule: 'number', message: 'from "n": "1,5" is not a number (digit grouping needs a "thousands" option; the decimal mark is ".")' },
        { path: 's', rule: 'lookup', message: 'from "s": unknown code "B"' },
      ],
    });
  });

  it('a record that is not an object is refused as a whole', () => {
    const m = compiled(spec([{ to: 'a', value: 1 }]));
    for (const [record, type] of [[null, 'null'], ['text', 'string'], [[1], 'array'], [3, 'number']] as const) {
      assert.deepEqual(m.map(record), { ok: false, reasons: [{ path: '', rule: 'type', message: `the record must be an object, got ${type}` }] });
    }
  });

  it('output keys follow the rules, and nested targets build objects and arrays', () => {
    const m = compiled(
      spec([
        { to: 'z', value: 1 },
        { to: 'carrier.name', from: 'c' },
        { to: 'tags.1', from: 't' },
        { to: 'a', value: { k: [1, 2] } },
      ]),
    );
    const result = m.map({ c: 'DHL', t: 'fragile' });
    assert.equal(JSON.stringify(result), '{"ok":true,"value":{"z":1,"carrier":{"name":"DHL"},"tags":[null,"fragile"],"a":{"k":[1,2]}}}');
  });

  it('copied and constant objects are fresh for every record', () => {
    const m = compiled(spec([{ to: 'p', from: 'p' }, { to: 'k', value: { list: [1] } }]));
    const record = { p: { name: 'Ada', ids: [{ v: 1 }] } };
    const first = mapNow(m, record);
    const second = mapNow(m, record);
    assert.ok(first.ok && second.ok);
    assert.deepEqual(first.value, { p: { name: 'Ada', ids: [{ v: 1 }] }, k: { list: [1] } });
    assert.notEqual(first.value.p, record.p);
    assert.notEqual(first.value.k, second.value.k);
  });

  it('a copied value with a __proto__ key is refused, and nothing is polluted', () => {
    const m = compiled(spec([{ to: 'p', from: 'p' }]));
    const record = JSON.parse('{"p":{"a":{"__proto__":{"polluted":true}}}}') as unknown;
    assert.deepEqual(m.map(record), { ok: false, reasons: [{ path: 'p', rule: 'json', message: 'from "p": the value holds the key "__proto__" at "a", which is refused' }] });
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  it('a copied value nested deeper than 64 levels is refused', () => {
    let deep: unknown = 'bottom';
    for (let i = 0; i < 10_000; i++) deep = { d: deep };
    const result = mapNow(compiled(spec([{ to: 'p', from: 'p' }])), { p: deep });
    assert.ok(!result.ok);
    assert.equal(result.reasons[0]?.rule, 'json');
    assert.match(result.reasons[0]?.message ?? '', /nested deeper than 64 levels/);
  });

  it('a copied value that is not JSON data is refused', () => {
    const result = compiled(spec([{ to: 'p', from: 'p' }])).map({ p: { when: new Date(0) } });
    assert.deepEqual(result, { ok: false, reasons: [{ path: 'p', rule: 'json', message: 'from "p": the value holds a Date object at "when", which is not JSON data' }] });
  });
});

describe('concat', () => {
  const name = (options: Record<string, unknown>) => compiled(spec([{ to: 'name', from: 'first', transforms: [{ concat: options }] }]));
  it('joins other fields with a separator', () => {
    assert.deepEqual(name({ with: ['last', 'title.0'], separator: ' ' }).map({ first: 'Ada', last: 'Lovelace', title: ['Countess'] }), { ok: true, value: { name: 'Ada Lovelace Countess' } });
  });
  it('numbers join as text', () => {
    assert.deepEqual(name({ with: ['n'], separator: '-' }).map({ first: 'L', n: 7 }), { ok: true, value: { name: 'L-7' } });
  });
  it('a missing field is a reason', () => {
    assert.deepEqual(name({ with: ['last'] }).map({ first: 'Ada' }), { ok: false, reasons: [{ path: 'name', rule: 'concat', message: 'from "first": the field "last" to join is missing' }] });
  });
  it('skipMissing leaves it out', () => {
    assert.deepEqual(name({ with: ['middle', 'last'], separator: ' ', skipMissing: true }).map({ first: 'Ada', last: 'Lovelace', middle: null }), { ok: true, value: { name: 'Ada Lovelace' } });
  });
  it('an object to join is a reason', () => {
    assert.deepEqual(name({ with: ['last'] }).map({ first: 'Ada', last: {} }), { ok: false, reasons: [{ path: 'name', rule: 'concat', message: 'from "first": the field "last" to join is object, not text or a number' }] });
  });
});

describe('array with a nested spec', () => {
  const lines = compiled(
    spec([
      {
        to: 'lines',
        from: 'items',
        transforms: [{ array: { each: { rules: [{ to: 'sku', from: 'code', transforms: [{ upper: {} }] }, { to: 'qty', from: 'q', transforms: [{ integer: {} }] }, { to: 'unit', value: 'each' }] } } }],
      },
    ]),
  );
  it('maps element by element with relative paths', () => {
    assert.deepEqual(lines.map({ items: [{ code: 'a1', q: '2' }, { code: 'b2', q: 3 }] }), {
      ok: true,
      value: { lines: [{ sku: 'A1', qty: 2, unit: 'each' }, { sku: 'B2', qty: 3, unit: 'each' }] },
    });
  });
  it('every element reason names the element, target and source', () => {
    assert.deepEqual(lines.map({ items: [{ code: 'a1', q: 'x' }, 'oops', { q: '1' }] }), {
      ok: false,
      reasons: [
        { path: 'lines.0.qty', rule: 'integer', message: 'from "items.0.q": "x" is not a number (digit grouping needs a "thousands" option; the decimal mark is ".")' },
        { path: 'lines.1', rule: 'type', message: 'from "items.1": the element must be an object, got string' },
        { path: 'lines.2.sku', rule: 'missing', message: 'from "items.2.code": is missing' },
      ],
    });
  });
  it('arrays nest', () => {
    const nested = compiled(spec([{ to: 'a', from: 'a', transforms: [{ array: { each: { rules: [{ to: 'b', from: 'b', transforms: [{ array: { each: { transforms: [{ number: {} }] } } }] }] } } }] }]));
    assert.deepEqual(nested.map({ a: [{ b: ['1', '2'] }, { b: ['x'] }] }), {
      ok: false,
      reasons: [{ path: 'a.1.b.0', rule: 'number', message: 'from "a.1.b.0": "x" is not a number (digit grouping needs a "thousands" option; the decimal mark is ".")' }],
    });
  });
});

describe('expression', () => {
  it('a spec with an expression is asynchronous; one without is not', () => {
    assert.equal(compiled(spec([{ to: 'a', from: 'a' }])).sync, true);
    assert.equal(compiled(spec([{ to: 'a', expression: 'a' }])).sync, false);
    assert.equal(compiled(spec([{ to: 'l', from: 'l', transforms: [{ array: { each: { rules: [{ to: 'x', expression: 'x' }] } } }] }])).sync, false);
  });

  it('evaluates with the record as input, then runs the transforms', async () => {
    const m = compiled(spec([{ to: 'id', from: 'id' }, { to: 'total', expression: '$sum(lines.(qty * price))', transforms: [{ round: 2 }] }, { to: 'first', expression: 'lines[0].sku' }]));
    assert.deepEqual(await m.map({ id: 'o1', lines: [{ qty: 2, price: 1.115, sku: 'A' }, { qty: 1, price: 0.5, sku: 'B' }] }), { ok: true, value: { id: 'o1', total: 2.73, first: 'A' } });
  });

  it('inside an array element the element is the input', async () => {
    const m = compiled(spec([{ to: 'l', from: 'l', transforms: [{ array: { each: { rules: [{ to: 'x', expression: '$string(n * 2)' }] } } }] }]));
    assert.deepEqual(await m.map({ l: [{ n: 1 }, { n: 2 }] }), { ok: true, value: { l: [{ x: '2' }, { x: '4' }] } });
  });

  it('no result is a missing source: optional, default or a reason', async () => {
    const m = compiled(spec([{ to: 'a', expression: 'nope' }, { to: 'b', expression: 'nope', optional: true }, { to: 'c', expression: 'nope', default: 0 }]));
    assert.deepEqual(await m.map({}), { ok: false, reasons: [{ path: 'a', rule: 'missing', message: 'expression: is missing' }] });
  });

  it('a runtime error is a reason', async () => {
    const m = compiled(spec([{ to: 'a', expression: '$number(x)' }]));
    const result = await m.map({ x: 'abc' });
    assert.ok(!result.ok);
    assert.equal(result.reasons[0]?.rule, 'expression');
    assert.match(result.reasons[0]?.message ?? '', /^expression: failed \[D3030\]/);
  });

  it('a function as a result is not JSON data', async () => {
    const result = await compiled(spec([{ to: 'a', expression: 'function($x){ $x }' }])).map({});
    assert.deepEqual(result, { ok: false, reasons: [{ path: 'a', rule: 'expression', message: 'expression: returned a function, not data' }] });
  });

  it('a runaway expression is stopped by the time bound', async () => {
    const result = compileMappingSpecWith({ expressionTimeoutMs: 100 });
    const started = Date.now();
    const outcome = await result.map({});
    assert.ok(Date.now() - started < 5000);
    assert.deepEqual(outcome, { ok: false, reasons: [{ path: 'a', rule: 'expression', message: 'expression: ran longer than 100 ms and was stopped' }] });
  });

  it('runaway recursion is stopped by the depth bound', async () => {
    const result = await compiled(spec([{ to: 'a', expression: '($f := function($n){ $n > 0 ? 1 + $f($n - 1) : 0 }; $f(100000))' }])).map({});
    assert.ok(!result.ok);
    assert.match(result.reasons[0]?.message ?? '', /^expression: (went deeper than 300 evaluation levels|failed: Maximum call stack)/);
  });

  it('constructor and __proto__ lead nowhere inside an expression', async () => {
    const result = await compiled(spec([{ to: 'a', expression: '$type(constructor)', optional: true }, { to: 'b', expression: '$string(__proto__)', default: 'none' }])).map({});
    assert.deepEqual(result, { ok: true, value: { b: 'none' } });
  });
});


function compileMappingSpecWith(options: { expressionTimeoutMs: number }): CompiledMapping {
  const result = compileMappingSpec(spec([{ to: 'a', expression: '($f := function($n){ $f($n + 1) }; $f(0))' }]), options);
  assert.ok(result.ok);
  return result.value;
}
