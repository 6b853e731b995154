import { describe, it } from 'mocha';
import assert from 'node:assert/strict';
import { checkCatalog, checkCatalogUpdate } from '../../../lib/catalog/catalog-check';
import { loadCatalogFromFiles } from '../../../lib/catalog/catalog-loader';
import type { Catalog } from '../../../lib/catalog/catalog-model';
import { editJson, sampleFiles } from './helpers';

function load(files: Map<string, string>): Catalog {
  const result = loadCatalogFromFiles(files);
  assert.ok(result.ok, JSON.stringify(!result.ok && result.reasons));
  return result.catalog;
}

function setLevel(files: Map<string, string>, entity: string, level: string): Map<string, string> {
  return editJson(files, 'catalog.json', (c) => { (c.entities as Record<string, Record<string, unknown>>)[entity]!.compatibility = level; });
}

describe('checkCatalog: every entity history against its level', () => {
  it('the sample catalog passes, entity by entity', () => {
    const result = checkCatalog(load(sampleFiles()));
    assert.equal(result.compatible, true, JSON.stringify(result.reasons, null, 1));
    assert.deepEqual(result.entities.map((e) => [e.entity, e.level, e.compatible]).sort(), [
      ['inventory-level', 'FORWARD_TRANSITIVE', true],
      ['lab-result', 'BACKWARD_TRANSITIVE', true],
      ['quality-measurement', 'FULL', true],
      ['shipment', 'BACKWARD', true],
    ]);
  });

  it('a new version that breaks its level is reported with entity, version and what it was compared with', () => {
    const files = new Map(sampleFiles());
    const v11 = JSON.parse(files.get('shipment/1.1.0.schema.json') ?? '{}') as Record<string, unknown>;
    const v12 = { ...v11, $id: 'https://tectonic.example/cdm/shipment/1.2.0', properties: { ...(v11.properties as object), weightKg: { type: 'integer', minimum: 0 } } };
    files.set('shipment/1.2.0.schema.json', JSON.stringify(v12));
    const result = checkCatalog(load(files));
    assert.equal(result.compatible, false);
    assert.deepEqual(result.reasons.map((r) => [r.entity, r.version, r.against, r.path, r.rule]), [['shipment', '1.2.0', '1.1.0', '$.weightKg', 'type-narrowed']]);
  });

  it('the same history judged under other levels', () => {
    // inventory-level adds optional properties to an open content model: fine FORWARD, a STRICT surprise BACKWARD.
    assert.equal(checkCatalog(load(setLevel(sampleFiles(), 'inventory-level', 'BACKWARD'))).compatible, false);
    assert.equal(checkCatalog(load(setLevel(sampleFiles(), 'inventory-level', 'BACKWARD')), { policy: 'LENIENT' }).compatible, false, '1.2.0 also makes reserved required');
    assert.equal(checkCatalog(load(setLevel(sampleFiles(), 'inventory-level', 'NONE'))).compatible, true);
    // shipment 1.1.0 adds fields to a closed model: BACKWARD only.
    const full = checkCatalog(load(setLevel(sampleFiles(), 'shipment', 'FULL')));
    assert.equal(full.compatible, false);
    assert.ok(full.reasons.every((r) => r.direction === 'forward'));
    assert.ok(full.reasons.some((r) => r.rule === 'enum-widened' && r.path === '$.status'));
    assert.ok(full.reasons.some((r) => r.rule === 'property-added-to-closed-content-model' && r.path === '$.trackingUrl'));
  });

  it('a changed shared definition is followed through $ref', () => {
    const files = new Map(sampleFiles());
    const common = JSON.parse(files.get('common/1.0.0.schema.json') ?? '{}') as { $defs: Record<string, Record<string, unknown>> };
    common.$defs.identifier = { ...common.$defs.identifier, maxLength: 16 };
    files.set('common/2.0.0.schema.json', JSON.stringify({ ...common, $id: 'https://tectonic.example/cdm/common/2.0.0' }));
    const v11 = (files.get('shipment/1.1.0.schema.json') ?? '').replace('https://tectonic.example/cdm/shipment/1.1.0', 'https://tectonic.example/cdm/shipment/1.2.0').replace('common/1.0.0#/$defs/identifier', 'common/2.0.0#/$defs/identifier');
    files.set('shipment/1.2.0.schema.json', v11);
    const result = checkCatalog(load(files));
    assert.deepEqual(result.reasons.map((r) => [r.version, r.path, r.rule]), [['1.2.0', '$.shipmentId', 'length-narrowed']]);
  });
});

describe('checkCatalogUpdate: what a reload may not do', () => {
  it('the same catalog is a valid update', () => {
    assert.deepEqual(checkCatalogUpdate(load(sampleFiles()), load(sampleFiles())), { ok: true, reasons: [] });
  });

  it('a published version changed in place or removed is refused', () => {
    const previous = load(sampleFiles());
    const edited = load(editJson(sampleFiles(), 'shipment/1.0.0.schema.json', (s) => { s.additionalProperties = true; }));
    assert.deepEqual(checkCatalogUpdate(previous, edited).reasons.map((r) => r.rule), ['version-modified']);
    const files = editJson(sampleFiles(), 'catalog.json', (c) => { delete ((c.entities as Record<string, Record<string, Record<string, unknown>>>)['inventory-level']!.versions!)['1.2.0']; });
    files.delete('inventory-level/1.2.0.schema.json');
    assert.deepEqual(checkCatalogUpdate(previous, load(files)).reasons.map((r) => [r.rule, r.path]), [['version-removed', 'inventory-level/1.2.0.schema.json']]);
  });

  it('an edited shared file is refused (published text is immutable)', () => {
    const previous = load(sampleFiles());
    const shared = load(editJson(sampleFiles(), 'common/1.0.0.schema.json', (s) => { (s.$defs as Record<string, Record<string, unknown>>).siteId!.maxLength = 10; }));
    assert.deepEqual(checkCatalogUpdate(previous, shared).reasons.map((r) => r.rule), ['version-modified']);
  });
});
