// Mask paths and methods: where a mask reaches (arrays, nested objects,
// any depth) and what it leaves behind.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'mocha';
import { parseMaskPath } from '../../../lib/policy/mask-path';
import type { MaskStep } from '../../../lib/policy/mask-path';
import { applyMask, hashValue, MAX_MASK_DEPTH, maskTransform, partialValue } from '../../../lib/policy/masks';
import type { MaskMethodSpec } from '../../../lib/policy/masks';

describe('parseMaskPath', () => {
  const valid: [string, MaskStep[]][] = [
    ['customerEmail', [{ kind: 'member', name: 'customerEmail' }]],
    ['patient.name', [{ kind: 'member', name: 'patient' }, { kind: 'member', name: 'name' }]],
    ['patient.ids[*].value', [{ kind: 'member', name: 'patient' }, { kind: 'member', name: 'ids' }, { kind: 'elements' }, { kind: 'member', name: 'value' }]],
    ['items[*].*.sku', [{ kind: 'member', name: 'items' }, { kind: 'elements' }, { kind: 'children' }, { kind: 'member', name: 'sku' }]],
    ['lines[2].note', [{ kind: 'member', name: 'lines' }, { kind: 'index', index: 2 }, { kind: 'member', name: 'note' }]],
    ['**.email', [{ kind: 'descendants' }, { kind: 'member', name: 'email' }]],
    ['["odd.key"].x', [{ kind: 'member', name: 'odd.key' }, { kind: 'member', name: 'x' }]],
    ['a["b]c"]', [{ kind: 'member', name: 'a' }, { kind: 'member', name: 'b]c' }]],
    ['[*]', [{ kind: 'elements' }]],
  ];
  for (const [text, steps] of valid) {
    it(`"${text}"`, () => assert.deepEqual(parseMaskPath(text), { ok: true, steps }));
  }
  const invalid: [string, RegExp][] = [
    ['', /empty/],
    ['a.', /ends with "."/],
    ['.a', /member name/],
    ['a..b', /member name/],
    ['a[', /unclosed/],
    ['a[x]', /not \[\*\], an index or a quoted name/],
    ['a[-1]', /not \[\*\]/],
    ['a b', /expected "." or "\["/],
    ['**', /must be followed/],
    ['a[""]', /not a quoted member name/],
    ['x'.repeat(300), /longer than/],
  ];
  for (const [text, message] of invalid) {
    it(`refuses "${text.slice(0, 20)}"`, () => {
      const parsed = parseMaskPath(text);
      assert.equal(parsed.ok, false);
      assert.match(parsed.ok ? '' : parsed.message, message);
    });
  }
});

const KEY = Buffer.from('k');
const hmac = (data: string): string => `hmac:${createHmac('sha256', KEY).update(data).digest('base64url')}`;

function masked(record: unknown, path: string, spec: MaskMethodSpec): { record: unknown; touched: string[] } {
  const parsed = parseMaskPath(path);
  assert.ok(parsed.ok);
  const copy: unknown = structuredClone(record);
  const applied = applyMask(copy, parsed.steps, maskTransform(spec, KEY));
  assert.ok(applied.ok);
  return { record: copy, touched: applied.touched };
}

describe('applyMask: where paths reach', () => {
  const record = {
    patient: { name: 'Ada', ids: [{ system: 'mrn', value: 'M1' }, { system: 'ins', value: 'I2' }, 'not-an-object'] },
    items: [{ a: { sku: 'S1', qty: 1 }, b: { sku: 'S2' } }, { c: { qty: 3 } }],
    contact: { email: 'a@x', nested: { email: 'b@x', list: [{ email: 'c@x' }] } },
  };
  const cases: { name: string; path: string; spec: MaskMethodSpec; expect: (r: typeof record) => unknown; touched: string[] }[] = [
    {
      name: 'every element of an array, skipping elements without the member',
      path: 'patient.ids[*].value',
      spec: { method: 'redact' },
      expect: (r) => ({ ...r, patient: { ...r.patient, ids: [{ system: 'mrn', value: '[REDACTED]' }, { system: 'ins', value: '[REDACTED]' }, 'not-an-object'] } }),
      touched: ['patient.ids[1].value', 'patient.ids[0].value'],
    },
    {
      name: 'an index',
      path: 'patient.ids[1].value',
      spec: { method: 'redact', replacement: 'xxx' },
      expect: (r) => ({ ...r, patient: { ...r.patient, ids: [r.patient.ids[0], { system: 'ins', value: 'xxx' }, 'not-an-object'] } }),
      touched: ['patient.ids[1].value'],
    },
    {
      name: 'every member of every element (nested wildcard)',
      path: 'items[*].*.sku',
      spec: { method: 'drop' },
      expect: (r) => ({ ...r, items: [{ a: { qty: 1 }, b: {} }, { c: { qty: 3 } }] }),
      touched: ['items[0].a.sku', 'items[0].b.sku'],
    },
    {
      name: '** reaches every depth, through arrays',
      path: '**.email',
      spec: { method: 'hash' },
      expect: (r) => ({ ...r, contact: { email: hmac('a@x'), nested: { email: hmac('b@x'), list: [{ email: hmac('c@x') }] } } }),
      touched: ['contact.email', 'contact.nested.email', 'contact.nested.list[0].email'],
    },
    {
      name: 'dropping array elements keeps the others in order',
      path: 'patient.ids[*]',
      spec: { method: 'drop' },
      expect: (r) => ({ ...r, patient: { ...r.patient, ids: [] } }),
      touched: ['patient.ids[2]', 'patient.ids[1]', 'patient.ids[0]'],
    },
    {
      name: 'a missing member masks nothing',
      path: 'patient.address.street',
      spec: { method: 'redact' },
      expect: (r) => r,
      touched: [],
    },
    {
      name: 'a path through a string masks nothing (shape is cdm-validate\'s job)',
      path: 'patient.name.first',
      spec: { method: 'redact' },
      expect: (r) => r,
      touched: [],
    },
    {
      name: 'a whole object is masked as one value',
      path: 'contact',
      spec: { method: 'hash' },
      expect: (r) => ({ ...r, contact: hmac('{"email":"a@x","nested":{"email":"b@x","list":[{"email":"c@x"}]}}') }),
      touched: ['contact'],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const result = masked(record, c.path, c.spec);
      assert.deepEqual(result.record, c.expect(structuredClone(record)));
      assert.deepEqual([...result.touched].sort(), [...c.touched].sort());
    });
  }

  it('** does not reach into a value it has already masked', () => {
    const result = masked({ secret: { secret: 'inner', other: 1 } }, '**.secret', { method: 'redact' });
    assert.deepEqual(result.record, { secret: '[REDACTED]' });
  });

  it('an own "__proto__" member (from JSON.parse) is masked, not left in place', () => {
    const record: unknown = JSON.parse('{"__proto__":"MRN-777","x":1}');
    const result = masked(record, '*', { method: 'redact' });
    assert.equal(JSON.stringify(result.record), '{"__proto__":"[REDACTED]","x":"[REDACTED]"}');
    assert.equal(Object.getPrototypeOf(result.record), Object.prototype);
  });

  it(`a record nested deeper than ${MAX_MASK_DEPTH} levels is refused under **, not walked into a stack overflow`, () => {
    let deep: unknown = { email: 'x' };
    for (let i = 0; i < MAX_MASK_DEPTH + 10; i++) deep = { d: deep };
    const parsed = parseMaskPath('**.email');
    assert.ok(parsed.ok);
    const applied = applyMask(deep, parsed.steps, maskTransform({ method: 'redact' }));
    assert.equal(applied.ok, false);
  });
});

describe('mask methods', () => {
  const table: [string, unknown, MaskMethodSpec, unknown][] = [
    ['redact a string', 'Ada', { method: 'redact' }, '[REDACTED]'],
    ['redact with a constant', 42, { method: 'redact', replacement: '<removed>' }, '<removed>'],
    ['partial keeps the last 4 by default', '4111111111111111', { method: 'partial' }, '************1111'],
    ['partial counts code points, not UTF-16 units', '😀😀abc', { method: 'partial', keep: 2 }, '***bc'],
    ['partial of a number uses its decimal form', 123456, { method: 'partial', keep: 2 }, '****56'],
    ['partial stars a value no longer than keep entirely', 'abc', { method: 'partial', keep: 4 }, '***'],
    ['partial of an object redacts it', { a: 1 }, { method: 'partial', keep: 2 }, '[REDACTED]'],
    ['partial with keep 0 stars everything', 'secret', { method: 'partial', keep: 0 }, '******'],
    ['partial keepAfter keeps an e-mail domain', 'jane.doe@example.com', { method: 'partial', keepAfter: '@' }, '***@example.com'],
    ['partial keepAfter keeps what follows the last separator', '"a@b"@example.com', { method: 'partial', keepAfter: '@' }, '***@example.com'],
    ['partial keepAfter without the separator hides all', 'jane.doe', { method: 'partial', keepAfter: '@' }, '***'],
    ['partial keepAfter of a number uses its decimal form', 12.5, { method: 'partial', keepAfter: '.' }, '***.5'],
    ['partial keepAfter of an object redacts it', { a: '@x' }, { method: 'partial', keepAfter: '@' }, '[REDACTED]'],
    ['hash of a string is the HMAC of its UTF-8 bytes', 'MRN-1', { method: 'hash' }, hmac('MRN-1')],
    ['hash of a number is the HMAC of its canonical JSON, unlike the string', 12345, { method: 'hash' }, hmac('12345')],
  ];
  for (const [name, value, spec, expected] of table) {
    it(name, () => {
      const outcome = maskTransform(spec, KEY)(value);
      assert.deepEqual(outcome, { drop: false, value: expected });
    });
  }

  it('hash: equal values stay joinable, different keys do not match', () => {
    assert.equal(hashValue('MRN-1', KEY), hashValue('MRN-1', Buffer.from('k')));
    assert.notEqual(hashValue('MRN-1', KEY), hashValue('MRN-2', KEY));
    assert.notEqual(hashValue('MRN-1', KEY), hashValue('MRN-1', Buffer.from('other')));
    assert.match(hashValue('MRN-1', KEY), /^hmac:[A-Za-z0-9_-]{43}$/);
  });

  it('hash needs a key', () => {
    assert.throws(() => maskTransform({ method: 'hash' }), { code: 'BAD_CONFIG' });
    assert.throws(() => maskTransform({ method: 'hash' }, Buffer.alloc(0)), { code: 'BAD_CONFIG' });
  });

  it('partialValue of null and booleans redacts', () => {
    assert.equal(partialValue(null, 2), '[REDACTED]');
    assert.equal(partialValue(true, 2), '[REDACTED]');
  });
});
