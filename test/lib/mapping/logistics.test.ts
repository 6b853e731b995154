// The logistics scenario of issue 4 at library level: a German warehouse
// system and a US carrier system report the same shipment events, each in
// its own field names, date format, time zone, status codes and units. Their
// specs must turn both into byte-identical canonical records that validate
// against shipment 1.1.0 (1.0.0 is deprecated in the sample catalog).
//
// The specs, records and expected JSON are in test/fixtures/logistics/.
// 24 Nov is winter time on both sides (Berlin UTC+1, Chicago UTC-6); 20 March
// falls between the US and EU clock changes; 2 July is summer time on both.
//
// `siteId` is the hub where the event happened, which both systems record
// (as "FRA1" and "Frankfurt"); who published a record is the envelope's
// `site`, not part of the payload.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, describe, it } from 'mocha';
import { type CatalogValidators, compileCatalogValidators, loadCatalogFromDirectory } from '../../../lib/catalog/index';
import type { MapResult } from '../../../lib/mapping/index';
import { compiled, mapNow } from './helpers';
import { chicagoRecords, chicagoSpec, expectedCanonical as expected, fraRecords as berlinRecords, fraSpec as berlinSpec } from '../../fixtures/logistics';

describe('lib/mapping/logistics', () => {
  function json(result: MapResult): string {
    assert.ok(result.ok, JSON.stringify(result));
    return JSON.stringify(result.value);
  }

  let validators: CatalogValidators;
  before(async () => {
    const loaded = await loadCatalogFromDirectory(join(__dirname, '../../../cdm'));
    assert.ok(loaded.ok, JSON.stringify(loaded));
    const built = compileCatalogValidators(loaded.catalog);
    assert.ok(built.ok, JSON.stringify(built));
    validators = built.validators;
  });

  describe('logistics: two sites, the same events', () => {
    const berlin = compiled(berlinSpec);
    const chicago = compiled(chicagoSpec);

    it('both specs compile to synchronous mappings of shipment 1.1.0', () => {
      assert.deepEqual([berlin.entity, berlin.version, berlin.sync, chicago.entity, chicago.version, chicago.sync], ['shipment', '1.1.0', true, 'shipment', '1.1.0', true]);
    });

    expected.forEach((canonical, i) => {
      it(`event ${i + 1}: byte-identical canonical JSON that validates`, () => {
        const fromBerlin = json(mapNow(berlin, berlinRecords[i]));
        const fromChicago = json(mapNow(chicago, chicagoRecords[i]));
        assert.equal(fromBerlin, canonical);
        assert.equal(fromChicago, canonical);
        assert.deepEqual(validators.validateRecord('shipment', '1.1.0', JSON.parse(fromBerlin)), { ok: true });
      });
    });

    it('a record each site cannot map is refused with reasons that name target and source', () => {
      assert.deepEqual(berlin.map({ Sendung: 'SHP-9', Zeitpunkt: '29.03.2026 02:30', Status: 'XX', Gewicht: '', Standort: 'FRA1' }), {
        ok: false,
        reasons: [
          { path: 'occurredAt', rule: 'date', message: 'from "Zeitpunkt": "29.03.2026 02:30" does not exist in Europe/Berlin: the clocks skip that time (daylight saving starts)' },
          { path: 'status', rule: 'lookup', message: 'from "Status": unknown code "XX"' },
          { path: 'weightKg', rule: 'number', message: 'from "Gewicht": is an empty string, not a number' },
        ],
      });
      assert.deepEqual(chicago.map({ ref: 'ORD-1', event: { time: '2/30/2026 1:00 AM', code: 99, location: 'Paris' }, weight_lb: '1,5' }), {
        ok: false,
        reasons: [
          { path: 'shipmentId', rule: 'regex', message: 'from "ref": "ORD-1" does not match /^#?(shp-\\d+)$/i' },
          { path: 'occurredAt', rule: 'date', message: 'from "event.time": "2/30/2026 1:00 AM" is not a real date or time (you specified 30 (of type number) as a day, which is invalid)' },
          { path: 'status', rule: 'lookup', message: 'from "event.code": unknown code 99' },
          { path: 'weightKg', rule: 'number', message: 'from "weight_lb": "1,5" is not a number (decimal mark ".", thousands ",")' },
          { path: 'siteId', rule: 'lookup', message: 'from "event.location": unknown code "Paris"' },
        ],
      });
    });
  });
});
