import { describe, it } from 'mocha';
import assert from 'node:assert/strict';
import { loadCatalogFromDirectory, loadCatalogFromFiles } from '../../../lib/catalog/catalog-loader';
import type { CatalogLoadResult } from '../../../lib/catalog/catalog-loader';
import { SAMPLE_CATALOG_DIR, editJson, sampleFiles } from './helpers';

function rulesOf(result: CatalogLoadResult): string[] {
  assert.equal(result.ok, false, 'the catalog must be refused');
  return result.ok ? [] : result.reasons.map((r) => r.rule);
}

describe('loading the sample catalog', () => {
  it('from its folder: four entities, versions sorted by semver, shared schema, migrations, deprecations', async () => {
    const result = await loadCatalogFromDirectory(SAMPLE_CATALOG_DIR);
    assert.ok(result.ok, JSON.stringify(!result.ok && result.reasons));
    const { catalog } = result;
    assert.deepEqual([...catalog.entities.keys()].sort(), ['inventory-level', 'lab-result', 'quality-measurement', 'shipment']);
    for (const e of catalog.entities.values()) assert.ok(e.versions.length >= 2, `${e.name} has at least two versions`);
    assert.deepEqual(catalog.entities.get('inventory-level')?.versions.map((v) => v.version), ['1.0.0', '1.1.0', '1.2.0']);
    assert.equal(catalog.entities.get('shipment')?.compatibility, 'BACKWARD');
    assert.deepEqual(catalog.entities.get('shipment')?.versions[0]?.deprecation?.sunset, '2027-06-30');
    assert.equal(catalog.entities.get('shipment')?.versions[1]?.deprecation, undefined);
    assert.deepEqual(catalog.shared.map((s) => s.id), ['https://tectonic.example/cdm/common/1.0.0']);
    assert.deepEqual(catalog.entities.get('shipment')?.migrations.map((m) => `${m.from}->${m.to}`), ['1.0.0->1.1.0']);
    assert.equal(catalog.schemasById.get('https://tectonic.example/cdm/shipment/1.0.0')?.title, 'Shipment event 1.0.0');
    assert.equal(catalog.sourceFiles.get('catalog.json'), sampleFiles().get('catalog.json'));
  });

  it('from an in-memory file map (a catalog received over the bus) gives the same catalog', async () => {
    const fromDisk = await loadCatalogFromDirectory(SAMPLE_CATALOG_DIR);
    const fromMemory = loadCatalogFromFiles(Object.fromEntries(sampleFiles()));
    assert.ok(fromDisk.ok && fromMemory.ok);
    assert.deepEqual([...fromMemory.catalog.schemasById.keys()].sort(), [...fromDisk.catalog.schemasById.keys()].sort());
  });

  it('versions sort by semver precedence, not as text', () => {
    let files = sampleFiles();
    const v1 = files.get('shipment/1.1.0.schema.json') ?? '';
    files.set('shipment/1.10.0.schema.json', v1.replace('shipment/1.1.0', 'shipment/1.10.0'));
    files.set('shipment/1.2.0.schema.json', v1.replace('shipment/1.1.0', 'shipment/1.2.0'));
    files = new Map(files);
    const result = loadCatalogFromFiles(files);
    assert.ok(result.ok, JSON.stringify(!result.ok && result.reasons));
    assert.deepEqual(result.catalog.entities.get('shipment')?.versions.map((v) => v.version), ['1.0.0', '1.1.0', '1.2.0', '1.10.0']);
  });
});

describe('bad catalogs are refused with reasons', () => {
  const cases: { name: string; files: () => Map<string, string>; rule: string }[] = [
    { name: 'no catalog.json', files: () => { const f = sampleFiles(); f.delete('catalog.json'); return f; }, rule: 'missing-catalog-file' },
    { name: 'malformed catalog.json', files: () => new Map(sampleFiles()).set('catalog.json', '{ "format": 1, '), rule: 'malformed-json' },
    { name: 'malformed schema file', files: () => new Map(sampleFiles()).set('shipment/1.1.0.schema.json', '{"type": "object",}'), rule: 'malformed-json' },
    { name: 'unknown compatibility level', files: () => editJson(sampleFiles(), 'catalog.json', (c) => { (c.entities as Record<string, Record<string, unknown>>).shipment!.compatibility = 'SIDEWAYS'; }), rule: 'unknown-level' },
    { name: 'version key that is not semver in catalog.json', files: () => editJson(sampleFiles(), 'catalog.json', (c) => { ((c.entities as Record<string, Record<string, unknown>>).shipment!.versions as Record<string, unknown>)['1.0'] = {}; }), rule: 'invalid-version' },
    { name: 'schema file name that is not semver', files: () => new Map(sampleFiles()).set('shipment/v2.schema.json', '{"$id":"https://x.test/s2"}'), rule: 'invalid-version' },
    { name: '__proto__ key in a schema', files: () => new Map(sampleFiles()).set('shipment/2.0.0.schema.json', '{"$id":"https://x.test/s","properties":{"__proto__":{"type":"string"}}}'), rule: 'forbidden-key' },
    { name: 'constructor.prototype key in a schema', files: () => new Map(sampleFiles()).set('shipment/2.0.0.schema.json', '{"$id":"https://x.test/s","properties":{"constructor":{"prototype":{"type":"string"}}}}'), rule: 'forbidden-key' },
    { name: '__proto__ key in catalog.json', files: () => new Map(sampleFiles()).set('catalog.json', (sampleFiles().get('catalog.json') ?? '').replace('"format": 1,', '"format": 1, "__proto__": { "polluted": true },')), rule: 'forbidden-key' },
    { name: 'unsupported catalog format', files: () => editJson(sampleFiles(), 'catalog.json', (c) => { c.format = 2; }), rule: 'unsupported-format' },
    { name: 'unknown key (a typo) in an entity', files: () => editJson(sampleFiles(), 'catalog.json', (c) => { (c.entities as Record<string, Record<string, unknown>>).shipment!.compatability = 'FULL'; }), rule: 'unknown-key' },
    { name: 'entity name that cannot be a topic level', files: () => editJson(sampleFiles(), 'catalog.json', (c) => { (c.entities as Record<string, unknown>)['Ship/ment'] = { compatibility: 'NONE' }; }), rule: 'invalid-name' },
    { name: 'sunset that is not a calendar date', files: () => editJson(sampleFiles(), 'catalog.json', (c) => { ((c.entities as Record<string, Record<string, Record<string, unknown>>>).shipment!.versions!)['1.0.0'] = { deprecated: { sunset: '2027-02-30' } }; }), rule: 'invalid-date' },
    { name: 'version listed without a schema file', files: () => editJson(sampleFiles(), 'catalog.json', (c) => { ((c.entities as Record<string, Record<string, Record<string, unknown>>>).shipment!.versions!)['3.0.0'] = {}; }), rule: 'missing-schema-file' },
    { name: 'entity without schema files', files: () => editJson(sampleFiles(), 'catalog.json', (c) => { (c.entities as Record<string, unknown>).empty = { compatibility: 'NONE' }; }), rule: 'no-versions' },
    { name: 'schema without $id', files: () => editJson(sampleFiles(), 'shipment/1.1.0.schema.json', (s) => { delete s.$id; }), rule: 'missing-id' },
    { name: 'two files with the same $id', files: () => editJson(sampleFiles(), 'shipment/1.1.0.schema.json', (s) => { s.$id = 'https://tectonic.example/cdm/shipment/1.0.0'; }), rule: 'duplicate-id' },
    { name: 'schema of another draft', files: () => editJson(sampleFiles(), 'shipment/1.1.0.schema.json', (s) => { s.$schema = 'http://json-schema.org/draft-07/schema#'; }), rule: 'unsupported-draft' },
    { name: '$ref to a file the catalog lacks', files: () => editJson(sampleFiles(), 'shipment/1.1.0.schema.json', (s) => { (s.properties as Record<string, unknown>).siteId = { $ref: 'https://tectonic.example/cdm/common/9.9.9#/$defs/siteId' }; }), rule: 'ref-unresolved' },
    { name: '$ref to a definition the shared file lacks', files: () => editJson(sampleFiles(), 'shipment/1.1.0.schema.json', (s) => { (s.properties as Record<string, unknown>).siteId = { $ref: 'https://tectonic.example/cdm/common/1.0.0#/$defs/nope' }; }), rule: 'ref-unresolved' },
    { name: 'folder not declared in catalog.json', files: () => new Map(sampleFiles()).set('invoice/1.0.0.schema.json', '{"$id":"https://x.test/invoice"}'), rule: 'undeclared-folder' },
    { name: 'JSON file in an unexpected place', files: () => new Map(sampleFiles()).set('shipment/notes/readme.json', '{}'), rule: 'unexpected-file' },
    { name: 'path escaping the catalog', files: () => new Map(sampleFiles()).set('../etc/passwd.json', '{}'), rule: 'invalid-path' },
    { name: 'migration to an unknown version', files: () => new Map(sampleFiles()).set('shipment/migrations/1.1.0-to-2.0.0.json', '{"entity":"shipment","version":"2.0.0","rules":[]}'), rule: 'unknown-version' },
    { name: 'migration that is not a mapping spec', files: () => new Map(sampleFiles()).set('shipment/migrations/1.0.0-to-1.1.0.json', '{"entity":"shipment","version":"1.1.0"}'), rule: 'invalid-mapping-spec' },
    { name: 'migration whose target version disagrees with its name', files: () => editJson(sampleFiles(), 'shipment/migrations/1.0.0-to-1.1.0.json', (m) => { m.version = '1.0.0'; }), rule: 'invalid-mapping-spec' },
  ];

  for (const c of cases) {
    it(c.name, () => {
      const result = loadCatalogFromFiles(c.files());
      const rules = rulesOf(result);
      assert.ok(rules.includes(c.rule), `expected ${c.rule}, got ${rules.join(', ')}`);
      if (!result.ok) for (const r of result.reasons) assert.ok(r.message.length > 10 && typeof r.path === 'string');
    });
  }

  it('a missing folder is a reason, not an exception', async () => {
    const result = await loadCatalogFromDirectory('/nonexistent/tectonic-catalog');
    assert.deepEqual(rulesOf(result), ['unreadable']);
  });

  it('__proto__ in a received catalog does not pollute Object.prototype', () => {
    loadCatalogFromFiles(new Map(sampleFiles()).set('shipment/2.0.0.schema.json', '{"__proto__":{"polluted":true}}'));
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });
});
