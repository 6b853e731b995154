import { before, describe, it } from 'mocha';
import assert from 'node:assert/strict';
import { loadCatalogFromDirectory, loadCatalogFromFiles } from '../../../lib/catalog/catalog-loader';
import type { Catalog } from '../../../lib/catalog/catalog-model';
import { compileCatalogValidators } from '../../../lib/catalog/catalog-validators';
import type { CatalogValidators } from '../../../lib/catalog/catalog-validators';
import { SAMPLE_CATALOG_DIR, editJson, sampleFiles } from './helpers';

describe('lib/catalog/catalog-validators', () => {
  const shipment = { shipmentId: 'SHP-1', occurredAt: '2026-11-24T10:15:00Z', status: 'delivered', weightKg: 12.5, siteId: 'site-a', carrier: { name: 'DHL' } };
  const labResult = {
    resultId: 'R-1',
    patient: { name: 'Ada Lovelace', birthDate: '1815-12-10', ids: [{ system: 'mrn', value: '12345' }] },
    analyte: '2345-7',
    result: { value: 5.4, unit: 'mmol/L' },
    flag: 'normal',
    collectedAt: '2026-11-24T08:00:00+01:00',
    siteId: 'clinic-3',
  };

  let catalog: Catalog;
  let validators: CatalogValidators;
  before(async () => {
    const loaded = await loadCatalogFromDirectory(SAMPLE_CATALOG_DIR);
    assert.ok(loaded.ok);
    catalog = loaded.catalog;
    const compiled = compileCatalogValidators(catalog);
    assert.ok(compiled.ok, JSON.stringify(!compiled.ok && compiled.reasons));
    validators = compiled.validators;
  });

  function reasons(entity: string, version: string, record: unknown): { path: string; rule: string; message: string }[] {
    const r = validators.validateRecord(entity, version, record);
    assert.equal(r.ok, false, 'the record must be rejected');
    return r.ok ? [] : r.reasons;
  }

  describe('compiled catalog validators', () => {
    it('compiles every version of every entity', () => {
      assert.equal(validators.versions.length, 9);
      assert.ok(validators.versions.includes('lab-result@1.1.0'));
    });

    it('valid records of each sample entity pass', () => {
      assert.deepEqual(validators.validateRecord('shipment', '1.0.0', shipment), { ok: true });
      assert.deepEqual(validators.validateRecord('shipment', '1.1.0', { ...shipment, status: 'cancelled', trackingUrl: 'https://t.example/1' }), { ok: true });
      assert.deepEqual(validators.validateRecord('inventory-level', '1.2.0', { sku: 'ART-0001', storeId: 'store-12', onHand: 4, reserved: 1, unit: 'each', countedAt: '2026-11-24T06:00:00Z' }), { ok: true });
      assert.deepEqual(validators.validateRecord('quality-measurement', '1.0.1', { measurementId: '7c9e6679-7425-40de-944b-e07fc1f90ae7', lineId: 'L2', characteristic: 'bore-diameter', measured: { value: 12.01, unit: 'mm' }, verdict: 'pass', measuredAt: '2026-11-24T06:00:00Z', siteId: 'plant-1' }), { ok: true });
      assert.deepEqual(validators.validateRecord('lab-result', '1.0.0', labResult), { ok: true });
    });

    it('a wrong-typed id is rejected with its path, rule and plain words', () => {
      assert.deepEqual(reasons('shipment', '1.0.0', { ...shipment, shipmentId: 42 }), [{ path: 'shipmentId', rule: 'type', message: 'must be string, got integer' }]);
    });

    const table: { name: string; entity: string; version: string; record: unknown; expect: { path: string; rule: string; message?: RegExp } }[] = [
      { name: 'missing required field', entity: 'shipment', version: '1.0.0', record: { ...shipment, siteId: undefined }, expect: { path: 'siteId', rule: 'required', message: /required but missing/ } },
      { name: 'status outside the enum', entity: 'shipment', version: '1.0.0', record: { ...shipment, status: 'cancelled' }, expect: { path: 'status', rule: 'enum', message: /must be one of .*"delivered".*got "cancelled"/ } },
      { name: 'negative weight', entity: 'shipment', version: '1.0.0', record: { ...shipment, weightKg: -1 }, expect: { path: 'weightKg', rule: 'minimum', message: /must be >= 0, got -1/ } },
      { name: 'unknown field in a closed model', entity: 'shipment', version: '1.0.0', record: { ...shipment, internalNotes: 'x' }, expect: { path: 'internalNotes', rule: 'additionalProperties', message: /not a field/ } },
      { name: 'nested required field', entity: 'shipment', version: '1.0.0', record: { ...shipment, carrier: {} }, expect: { path: 'carrier.name', rule: 'required' } },
      { name: 'date-time format (shared $ref across files)', entity: 'shipment', version: '1.0.0', record: { ...shipment, occurredAt: '24/11/2026' }, expect: { path: 'occurredAt', rule: 'format', message: /valid date-time/ } },
      { name: 'siteId pattern (shared $ref across files)', entity: 'shipment', version: '1.1.0', record: { ...shipment, siteId: 'Site A' }, expect: { path: 'siteId', rule: 'pattern' } },
      { name: 'identifier too long (shared $ref)', entity: 'shipment', version: '1.0.0', record: { ...shipment, shipmentId: 'x'.repeat(65) }, expect: { path: 'shipmentId', rule: 'maxLength', message: /at most 64 characters long, got 65/ } },
      { name: 'empty identifier', entity: 'shipment', version: '1.0.0', record: { ...shipment, shipmentId: '' }, expect: { path: 'shipmentId', rule: 'minLength' } },
      { name: 'uuid format', entity: 'quality-measurement', version: '1.0.0', record: { measurementId: 'nope', lineId: 'L', characteristic: 'c', measured: { value: 1, unit: 'mm' }, verdict: 'pass', measuredAt: '2026-11-24T06:00:00Z', siteId: 'p' }, expect: { path: 'measurementId', rule: 'format', message: /valid uuid/ } },
      { name: 'email format', entity: 'lab-result', version: '1.1.0', record: { ...labResult, reportedBy: 'lab at example' }, expect: { path: 'reportedBy', rule: 'format', message: /valid email/ } },
      { name: 'personal data inside an array', entity: 'lab-result', version: '1.0.0', record: { ...labResult, patient: { ...labResult.patient, ids: [{ system: 'mrn', value: 7 }] } }, expect: { path: 'patient.ids.0.value', rule: 'type', message: /must be string, got integer/ } },
      { name: 'empty id list', entity: 'lab-result', version: '1.0.0', record: { ...labResult, patient: { ...labResult.patient, ids: [] } }, expect: { path: 'patient.ids', rule: 'minItems', message: /at least 1 items, got 0/ } },
      { name: 'integer expected', entity: 'inventory-level', version: '1.0.0', record: { sku: 'ART-0001', storeId: 's', onHand: 2.5, unit: 'each', countedAt: '2026-11-24T06:00:00Z' }, expect: { path: 'onHand', rule: 'type', message: /must be integer, got number/ } },
      { name: 'record that is not an object', entity: 'shipment', version: '1.0.0', record: 'hello', expect: { path: '', rule: 'type', message: /must be object, got string/ } },
      { name: 'unknown entity', entity: 'invoice', version: '1.0.0', record: {}, expect: { path: '', rule: 'unknown-entity', message: /no entity "invoice" \(known: / } },
      { name: 'unknown version', entity: 'shipment', version: '9.0.0', record: shipment, expect: { path: '', rule: 'unknown-version', message: /no version "9.0.0" \(known: 1.0.0, 1.1.0\)/ } },
    ];
    for (const c of table) {
      it(`rejects: ${c.name}`, () => {
        const found = reasons(c.entity, c.version, JSON.parse(JSON.stringify(c.record)));
        const match = found.find((r) => r.path === c.expect.path && r.rule === c.expect.rule);
        assert.ok(match, `expected ${c.expect.rule} at "${c.expect.path}", got ${JSON.stringify(found)}`);
        if (c.expect.message) assert.match(match.message, c.expect.message);
      });
    }

    it('reports every problem of a record at once', () => {
      const found = reasons('shipment', '1.0.0', { shipmentId: 1, status: 'x', weightKg: -2, siteId: 'site-a', occurredAt: 'never' });
      assert.deepEqual(found.map((r) => r.path).sort(), ['occurredAt', 'shipmentId', 'status', 'weightKg']);
    });

    it('deprecation per version: warning before the sunset, past it after', () => {
      assert.deepEqual(validators.deprecation('shipment', '1.1.0'), { deprecated: false, pastSunset: false });
      const before = validators.deprecation('shipment', '1.0.0', new Date('2027-06-30T23:59:59Z'));
      assert.equal(before?.deprecated, true);
      assert.equal(before?.sunset, '2027-06-30');
      assert.equal(before?.pastSunset, false);
      assert.equal(validators.deprecation('shipment', '1.0.0', new Date('2027-07-01T00:00:00Z'))?.pastSunset, true);
      const noSunset = validators.deprecation('lab-result', '1.0.0', new Date('2099-01-01T00:00:00Z'));
      assert.equal(noSunset?.deprecated, true);
      assert.equal(noSunset?.pastSunset, false);
      assert.match(noSunset?.note ?? '', /specimen/);
      assert.equal(validators.deprecation('shipment', '9.9.9'), undefined);
    });

    it('a schema that ajv cannot compile is a reason, not an exception', () => {
      const files = editJson(sampleFiles(), 'shipment/1.1.0.schema.json', (s) => { (s.properties as Record<string, unknown>).weightKg = { type: 'number', minimum: 'zero' }; });
      const loaded = loadCatalogFromFiles(files);
      assert.ok(loaded.ok);
      const compiled = compileCatalogValidators(loaded.catalog);
      assert.equal(compiled.ok, false);
      if (!compiled.ok) assert.equal(compiled.reasons[0]?.rule, 'invalid-schema');
    });

    it('an unknown format is refused rather than silently ignored', () => {
      const files = editJson(sampleFiles(), 'shipment/1.1.0.schema.json', (s) => { (s.properties as Record<string, unknown>).trackingUrl = { type: 'string', format: 'url-ish' }; });
      const loaded = loadCatalogFromFiles(files);
      assert.ok(loaded.ok);
      const compiled = compileCatalogValidators(loaded.catalog);
      assert.equal(compiled.ok, false);
      if (!compiled.ok) assert.deepEqual(compiled.reasons.map((r) => r.rule), ['unknown-format']);
    });

    it('each compile builds a fresh validator set (a reload never patches the old one)', () => {
      const files = editJson(sampleFiles(), 'shipment/1.1.0.schema.json', (s) => { (s.properties as Record<string, unknown>).weightKg = { type: 'number', minimum: 1 }; });
      const loaded = loadCatalogFromFiles(files);
      assert.ok(loaded.ok);
      const compiled = compileCatalogValidators(loaded.catalog);
      assert.ok(compiled.ok);
      assert.equal(compiled.validators.validateRecord('shipment', '1.1.0', { ...shipment, weightKg: 0.5 }).ok, false);
      assert.equal(validators.validateRecord('shipment', '1.1.0', { ...shipment, weightKg: 0.5 }).ok, true);
    });
  });
});
