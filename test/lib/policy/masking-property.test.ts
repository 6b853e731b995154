// Property: for random records, no original value of a masked field appears
// anywhere in the serialised message the gate would send (payload, envelope
// and annotations), whatever the shape of the arrays and nested objects.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import fc from 'fast-check';
import { compiled, shipmentCdm } from './policy-fixtures';

// Masked values carry a marker no unmasked value has, and a unique number, so
// "appears in the output" cannot happen by coincidence (a short random
// string would turn up inside a hash or a key by chance).
const MARK = 'SECRET§';
const secret = (n: number, body: string): string => `${MARK}${n}§${body}`;
const body = fc.string({ minLength: 6, maxLength: 24, unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_ .@éü€😀') });
const plain = fc.string({ maxLength: 12 }).map((s) => s.replaceAll('SECRET', 'public'));
// Member names as a site's systems produce them, including awkward ones ("__proto__", ".", "[*]").
const key = fc.oneof(fc.constantFrom('__proto__', 'constructor', 'a.b', '[*]', '*', ''), fc.string({ maxLength: 8 }));

const recordShape = fc.record({
  name: body,
  ids: fc.array(fc.record({ system: plain, value: body }), { maxLength: 5 }),
  email: body,
  nestedEmails: fc.array(body, { maxLength: 3 }),
  items: fc.array(fc.dictionary(key, fc.record({ sku: body, qty: fc.integer() }), { maxKeys: 4 }), { maxLength: 4 }),
  notes: fc.option(body, { nil: undefined }),
  extra: fc.dictionary(key, plain, { maxKeys: 4 }),
});

describe('masking property', () => {
  const policy = compiled([
    { mask: { paths: ['patient.name', 'patient.ids[*].value'], method: 'hash' } },
    { mask: { paths: ['**.email'], method: 'partial', keep: 4 } },
    { mask: { paths: ['items[*].*.sku'], method: 'redact' } },
    { mask: { paths: ['notes'], method: 'drop' } },
    { maxBytes: 1_000_000 },
  ]);

  it('no original value of a masked field survives', () => {
    fc.assert(
      fc.property(recordShape, (shape) => {
        let n = 0;
        const originals: string[] = [];
        const hide = (s: string): string => {
          const v = secret(n++, s);
          originals.push(v);
          return v;
        };
        const built = {
          patient: { name: hide(shape.name), ids: shape.ids.map((id) => ({ system: id.system, value: hide(id.value) })) },
          contact: { email: hide(shape.email), more: shape.nestedEmails.map((e) => ({ deeper: { email: hide(e) } })) },
          items: shape.items.map((item) => Object.fromEntries(Object.entries(item).map(([k, v]) => [k, { sku: hide(v.sku), qty: v.qty }]))),
          ...(shape.notes !== undefined ? { notes: hide(shape.notes) } : {}),
          extra: shape.extra,
        };
        // Through JSON, as a record arrives from the bus or an HTTP node: "__proto__" becomes an own member.
        const payload: unknown = JSON.parse(JSON.stringify(built));
        const verdict = policy.evaluate({ payload, cdm: shipmentCdm, transport: { tls: true } });
        assert.ok(verdict.pass, JSON.stringify(verdict));
        const sent = JSON.stringify({ payload: verdict.payload, cdm: shipmentCdm, policy: verdict.annotations });
        for (const original of originals) assert.ok(!sent.includes(original), `${original} leaked: ${sent}`);
        assert.ok(!sent.includes(MARK), `a masked value leaked in part: ${sent}`);
        assert.equal(verdict.annotations.masked.length, originals.length, 'every masked value is reported once');
      }),
      { numRuns: 300 },
    );
  });
});
