// The logistics scenario of issue 4 at library level: a German warehouse
// system and a US carrier system report the same shipment events, each in
// its own field names, date format, time zone, status codes and units. Their
// specs must turn both into byte-identical canonical records that validate
// against shipment 1.1.0 (1.0.0 is deprecated in the sample catalog).
//
// `siteId` is the hub where the event happened, which both systems record
// (as "FRA1" and "Frankfurt"); who published a record is the envelope's
// `site`, not part of the payload.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { type CatalogValidators, compileCatalogValidators, loadCatalogFromDirectory } from '../../../lib/catalog/index';
import type { MapResult } from '../../../lib/mapping/index';
import { compiled, mapNow } from './helpers';

const berlinSpec = {
  entity: 'shipment',
  version: '1.1.0',
  description: 'Warehouse FRA (German WMS export)',
  rules: [
    { to: 'shipmentId', from: 'Sendung', transforms: [{ trim: {} }] },
    { to: 'occurredAt', from: 'Zeitpunkt', transforms: [{ date: { format: 'dd.MM.yyyy HH:mm', zone: 'Europe/Berlin' } }] },
    { to: 'status', from: 'Status', transforms: [{ lookup: { table: { ZU: 'delivered', UW: 'in_transit', AN: 'created', RT: 'returned' } } }] },
    { to: 'weightKg', from: 'Gewicht', transforms: [{ number: { decimal: ',', thousands: '.' } }, { round: 2 }] },
    { to: 'siteId', from: 'Standort', transforms: [{ lookup: { table: { FRA1: 'hub-fra' } } }] },
    { to: 'carrier.name', from: 'Spediteur', optional: true, transforms: [{ trim: {} }, { upper: {} }] },
  ],
};

const chicagoSpec = {
  entity: 'shipment',
  version: '1.1.0',
  description: 'Carrier feed (US, pounds, 12-hour clock, Chicago time)',
  rules: [
    { to: 'shipmentId', from: 'ref', transforms: [{ regex: { pattern: '^#?(shp-\\d+)$', flags: 'i' } }, { upper: {} }] },
    { to: 'occurredAt', from: 'event.time', transforms: [{ date: { format: 'M/d/yyyy h:mm a', zone: 'America/Chicago' } }] },
    { to: 'status', from: 'event.code', transforms: [{ lookup: { table: { 30: 'delivered', 20: 'in_transit', 10: 'created', 40: 'returned' } } }] },
    { to: 'weightKg', from: 'weight_lb', transforms: [{ number: { thousands: ',' } }, { unit: { from: 'lb', to: 'kg' } }, { round: 2 }] },
    { to: 'siteId', from: 'event.location', transforms: [{ lookup: { table: { Frankfurt: 'hub-fra' }, ignoreCase: true } }] },
    { to: 'carrier.name', from: 'carrier', optional: true, transforms: [{ upper: {} }] },
  ],
};

// The same four real-world events. 24 Nov is winter time on both sides
// (Berlin UTC+1, Chicago UTC-6); 20 March falls between the US (8 March) and
// EU (29 March) clock changes, so Chicago is already on UTC-5 and Berlin
// still on UTC+1; 2 July is summer time on both sides.
const berlinRecords = [
  { Sendung: ' SHP-1001 ', Zeitpunkt: '24.11.2026 08:00', Status: 'AN', Gewicht: '1.234,5', Standort: 'FRA1', Spediteur: ' dhl ' },
  { Sendung: 'SHP-1001', Zeitpunkt: '24.11.2026 14:30', Status: 'UW', Gewicht: '1.234,5', Standort: 'FRA1', Spediteur: 'DHL' },
  { Sendung: 'SHP-1002', Zeitpunkt: '20.03.2026 13:00', Status: 'ZU', Gewicht: '5,67', Standort: 'FRA1' },
  { Sendung: 'SHP-1003', Zeitpunkt: '02.07.2026 09:15', Status: 'RT', Gewicht: '0,45', Standort: 'FRA1', Spediteur: 'ups' },
];
const chicagoRecords = [
  { ref: '#shp-1001', event: { time: '11/24/2026 1:00 AM', code: 10, location: 'FRANKFURT' }, weight_lb: '2,721.61', carrier: 'dhl' },
  { ref: 'SHP-1001', event: { time: '11/24/2026 7:30 AM', code: '20', location: 'Frankfurt' }, weight_lb: 2721.61, carrier: 'DHL' },
  { ref: 'shp-1002', event: { time: '3/20/2026 7:00 AM', code: 30, location: 'Frankfurt' }, weight_lb: '12.5' },
  { ref: 'SHP-1003', event: { time: '7/2/2026 2:15 AM', code: 40, location: 'frankfurt' }, weight_lb: '0.99', carrier: 'UPS' },
];

const expected = [
  '{"shipmentId":"SHP-1001","occurredAt":"2026-11-24T07:00:00.000Z","status":"created","weightKg":1234.5,"siteId":"hub-fra","carrier":{"name":"DHL"}}',
  '{"shipmentId":"SHP-1001","occurredAt":"2026-11-24T13:30:00.000Z","status":"in_transit","weightKg":1234.5,"siteId":"hub-fra","carrier":{"name":"DHL"}}',
  '{"shipmentId":"SHP-1002","occurredAt":"2026-03-20T12:00:00.000Z","status":"delivered","weightKg":5.67,"siteId":"hub-fra"}',
  '{"shipmentId":"SHP-1003","occurredAt":"2026-07-02T07:15:00.000Z","status":"returned","weightKg":0.45,"siteId":"hub-fra","carrier":{"name":"UPS"}}',
];

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

  test('both specs compile to synchronous mappings of shipment 1.1.0', () => {
    assert.deepEqual([berlin.entity, berlin.version, berlin.sync, chicago.entity, chicago.version, chicago.sync], ['shipment', '1.1.0', true, 'shipment', '1.1.0', true]);
  });

  expected.forEach((canonical, i) => {
    test(`event ${i + 1}: byte-identical canonical JSON that validates`, () => {
      const fromBerlin = json(mapNow(berlin, berlinRecords[i]));
      const fromChicago = json(mapNow(chicago, chicagoRecords[i]));
      assert.equal(fromBerlin, canonical);
      assert.equal(fromChicago, canonical);
      assert.deepEqual(validators.validateRecord('shipment', '1.1.0', JSON.parse(fromBerlin)), { ok: true });
    });
  });

  test('a record each site cannot map is refused with reasons that name target and source', () => {
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
