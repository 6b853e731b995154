// Migrations between CDM versions are mapping specs (DESIGN.md, issue 4
// item 4): every shipped migration compiles with this compiler, targets the
// version it claims, and turns a valid record of the older version into a
// valid record of the newer one.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, describe, it } from 'mocha';
import { type Catalog, type CatalogValidators, compileCatalogValidators, loadCatalogFromDirectory } from '../../../lib/catalog/index';
import { type MapResult, compileMappingSpec } from '../../../lib/mapping/index';

describe('lib/mapping/migrations', () => {
  /** A valid record of each migration's source version, as a site would have published it. */
  const samples: Record<string, { full: Record<string, unknown>; minimal: Record<string, unknown> }> = {
    'shipment@1.0.0': {
      full: { shipmentId: 'SHP-1', occurredAt: '2026-11-24T07:00:00.000Z', status: 'delivered', weightKg: 4.54, siteId: 'site-a', carrier: { name: 'DHL' } },
      minimal: { shipmentId: 'SHP-2', occurredAt: '2026-11-24T07:00:00Z', status: 'lost', weightKg: 0, siteId: 'site-b' },
    },
    'lab-result@1.0.0': {
      full: { resultId: 'R-1', patient: { name: 'Ada Lovelace', birthDate: '1815-12-10', ids: [{ system: 'mrn', value: '12345' }] }, analyte: '2345-7', result: { value: 5.4, unit: 'mmol/L' }, flag: 'normal', collectedAt: '2026-11-24T08:00:00+01:00', siteId: 'clinic-3' },
      minimal: { resultId: 'R-2', patient: { name: 'Grace Hopper', ids: [{ system: 'national', value: 'X1' }] }, analyte: '718-7', result: { value: 13.1, unit: 'g/dL' }, collectedAt: '2026-11-24T08:00:00Z', siteId: 'clinic-3' },
    },
    'quality-measurement@1.0.0': {
      full: { measurementId: '7c9e6679-7425-40de-944b-e07fc1f90ae7', lineId: 'L2', characteristic: 'bore-diameter', measured: { value: 12.01, unit: 'mm' }, lowerLimit: 11.9, upperLimit: 12.1, verdict: 'pass', measuredAt: '2026-11-24T06:00:00Z', siteId: 'plant-1' },
      minimal: { measurementId: '7c9e6679-7425-40de-944b-e07fc1f90ae8', lineId: 'L3', characteristic: 'length', measured: { value: 100, unit: 'mm' }, verdict: 'fail', measuredAt: '2026-11-24T06:00:00Z', siteId: 'plant-1' },
    },
  };

  let catalog: Catalog;
  let validators: CatalogValidators;
  before(async () => {
    const loaded = await loadCatalogFromDirectory(join(__dirname, '../../../cdm'));
    assert.ok(loaded.ok, JSON.stringify(loaded));
    catalog = loaded.catalog;
    const built = compileCatalogValidators(catalog);
    assert.ok(built.ok, JSON.stringify(built));
    validators = built.validators;
  });

  describe('shipped migrations', () => {
    it('the sample catalog ships the three migrations this test covers', () => {
      const found = [...catalog.entities.values()].flatMap((e) => e.migrations.map((m) => `${m.entity}@${m.from}->${m.to}`)).sort();
      assert.deepEqual(found, ['lab-result@1.0.0->1.1.0', 'quality-measurement@1.0.0->1.0.1', 'shipment@1.0.0->1.1.0']);
    });

    for (const key of Object.keys(samples)) {
      it(`${key}: compiles, targets its version, and maps valid records to valid records`, async () => {
        const [entity] = key.split('@') as [string];
        const migration = catalog.entities.get(entity)?.migrations[0];
        assert.ok(migration);
        const result = compileMappingSpec(migration.spec);
        assert.ok(result.ok, JSON.stringify(!result.ok && result.reasons));
        assert.deepEqual([result.value.entity, result.value.version, result.value.sync], [entity, migration.to, true]);
        for (const record of Object.values(samples[key] ?? {})) {
          assert.deepEqual(validators.validateRecord(entity, migration.from, record), { ok: true }, 'the sample is valid in the source version');
          const mapped: MapResult = await result.value.map(record);
          assert.ok(mapped.ok, JSON.stringify(mapped));
          assert.deepEqual(validators.validateRecord(entity, migration.to, mapped.value), { ok: true });
          // Nothing of the source record is lost on the way up.
          for (const [field, value] of Object.entries(record)) assert.deepEqual(mapped.value[field], value, field);
        }
      });
    }
  });
});
