// For random and hostile records, map() never throws and never rejects, and
// returns exactly one of { ok: true, value } or { ok: false, reasons }; and
// no record, however crafted, changes Object.prototype.
import assert from 'node:assert/strict';
import { after, describe, it } from 'mocha';
import fc from 'fast-check';
import type { CompiledMapping, MapResult } from '../../../lib/mapping/index';
import { compiled } from './helpers';

describe('lib/mapping/property', () => {
  const rules = [
    { to: 'shipmentId', from: 'shp_no', transforms: [{ string: {} }, { trim: {} }] },
    { to: 'occurredAt', from: 'dt', transforms: [{ date: { format: 'dd/MM/yyyy HH:mm', zone: 'Europe/Berlin' } }] },
    { to: 'status', from: 'stat', transforms: [{ lookup: { table: { DLV: 'delivered', TRN: 'in_transit' } } }] },
    { to: 'weightKg', from: 'wt_lb', transforms: [{ number: { thousands: ',' } }, { unit: { from: 'lb', to: 'kg' } }, { round: 2 }] },
    { to: 'flag', from: 'f', optional: true, transforms: [{ boolean: {} }] },
    { to: 'carrier', from: 'carrier', optional: true },
    { to: 'code', from: '__', default: 'none', transforms: [{ regex: { pattern: '^([A-Z]+)-' } }] },
    { to: 'name', from: 'a', optional: true, transforms: [{ concat: { with: ['b', 'c.0'], separator: ' ' } }] },
    { to: 'parts', from: 'p', optional: true, transforms: [{ split: { separator: ',', index: 0 } }] },
    { to: 'when', from: 'iso', optional: true, transforms: [{ date: { iso: true, zone: 'UTC' } }] },
    { to: 'lines', from: 'items', optional: true, transforms: [{ array: { each: { rules: [{ to: 'sku', from: 'sku', transforms: [{ upper: {} }] }, { to: 'all', from: 'x', optional: true }] } } }] },
    { to: 'siteId', value: 'site-a' },
  ];
  const syncMapping = compiled({ entity: 'shipment', version: '1.0.0', rules });
  const asyncMapping = compiled({ entity: 'shipment', version: '1.0.0', rules: [...rules, { to: 'e', expression: '$string($count($keys($)))', optional: true }, { to: 'deep', expression: '**.x', optional: true }] });

  const hostileKey = fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'valueOf', 'hasOwnProperty', 'shp_no', 'dt', 'stat', 'wt_lb', 'carrier', 'items', 'a', 'b', 'c', 'x', 'sku');
  const value = fc.oneof(
    fc.anything({ withNullPrototype: true, withBigInt: true, withDate: true, withMap: true, withSet: true, withTypedArray: true, withSparseArray: true, withBoxedValues: true, maxDepth: 4 }),
    fc.constantFrom('', ' ', '1,234.5', '12,5', 'NaN', '31/02/2026 10:00', '29/03/2026 02:30', 'DLV', 'XYZ', 'x'.repeat(20_000), '-0', '1e400'),
    fc.double(),
  );
  const hostileRecord = fc.oneof(
    fc.anything({ withNullPrototype: true, withObjectString: true, maxDepth: 5 }),
    fc.dictionary(hostileKey, value, { maxKeys: 12 }),
    // Parsed JSON is how __proto__ arrives as an own key from the outside world.
    fc.dictionary(hostileKey, fc.jsonValue({ maxDepth: 4 })).map((d) => JSON.parse(JSON.stringify(d).replace(/"(constructor|prototype|toString)"/g, '"__proto__"')) as unknown),
    fc.integer({ min: 50, max: 5000 }).map((depth) => {
      let deep: unknown = { x: 1 };
      for (let i = 0; i < depth; i++) deep = { carrier: deep, items: [deep], x: i };
      return deep;
    }),
  );

  function assertShape(result: MapResult): void {
    assert.equal(typeof result, 'object');
    if (result.ok === true) {
      assert.deepEqual(Object.keys(result).sort(), ['ok', 'value']);
      assert.equal(typeof result.value, 'object');
      assert.doesNotThrow(() => JSON.stringify(result.value));
    } else {
      assert.equal(result.ok, false);
      assert.deepEqual(Object.keys(result).sort(), ['ok', 'reasons']);
      assert.ok(result.reasons.length > 0);
      for (const r of result.reasons) assert.deepEqual([typeof r.path, typeof r.rule, typeof r.message], ['string', 'string', 'string']);
    }
  }

  function assertPrototypeClean(): void {
    assert.deepEqual(Object.getOwnPropertyNames(Object.prototype).sort(), prototypeNames);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  }
  const prototypeNames = Object.getOwnPropertyNames(Object.prototype).sort();

  async function outcome(mapping: CompiledMapping, record: unknown): Promise<MapResult> {
    let returned: MapResult | Promise<MapResult>;
    try {
      returned = mapping.map(record);
    } catch (err) {
      return assert.fail(`map() threw: ${String(err)}`);
    }
    if (mapping.sync) assert.ok(!(returned instanceof Promise), 'a sync mapping returned a promise');
    return returned;
  }

  after(assertPrototypeClean);

  describe('map() on random and hostile records', () => {
    it('a synchronous spec', async () => {
      await fc.assert(
        fc.asyncProperty(hostileRecord, async (record) => {
          assertShape(await outcome(syncMapping, record));
          assertPrototypeClean();
        }),
        { numRuns: 400 },
      );
    });

    it('a spec with expressions (asynchronous)', async () => {
      await fc.assert(
        fc.asyncProperty(hostileRecord, async (record) => {
          assertShape(await outcome(asyncMapping, record));
          assertPrototypeClean();
        }),
        { numRuns: 200 },
      );
    });

    it('the same record always maps to the same result', async () => {
      await fc.assert(
        fc.asyncProperty(fc.dictionary(hostileKey, fc.jsonValue({ maxDepth: 3 })), async (record) => {
          assert.equal(JSON.stringify(await outcome(syncMapping, record)), JSON.stringify(await outcome(syncMapping, record)));
        }),
        { numRuns: 200 },
      );
    });
  });
});
