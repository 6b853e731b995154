import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'mocha';
import { catalogDocs } from '../../../lib/catalog/catalog-docs';
import { loadCatalogFromDirectory } from '../../../lib/catalog/catalog-loader';
import { compileCatalogValidators } from '../../../lib/catalog/catalog-validators';
import type { JsonValue } from '../../../lib/catalog/types';

describe('catalog docs: the CDM documentation a site reads', () => {
  it('documents every entity version of the sample catalog with fields, standing and an example that is valid', async () => {
    const loaded = await loadCatalogFromDirectory(join(__dirname, '../../../cdm'));
    assert.ok(loaded.ok);
    const compiled = compileCatalogValidators(loaded.catalog);
    assert.ok(compiled.ok);
    const text = catalogDocs(loaded.catalog, { now: new Date('2026-12-07T00:00:00Z') });
    let examples = 0;
    for (const [name, entity] of loaded.catalog.entities) {
      for (const version of entity.versions) {
        const section = text.split(`### ${name} ${version.version}\n`)[1]?.split('\n### ')[0];
        assert.ok(section !== undefined, `${name} ${version.version} has a section`);
        const block = /```json\n([\s\S]*?)\n```/.exec(section)?.[1];
        assert.ok(block !== undefined, `${name} ${version.version} has an example`);
        const verdict = compiled.validators.validateRecord(name, version.version, JSON.parse(block) as JsonValue);
        assert.deepEqual(verdict, { ok: true }, `the example of ${name} ${version.version} is valid`);
        examples += 1;
      }
    }
    assert.ok(examples >= 8);
    assert.match(text, /\| 1\.0\.0 \| deprecated, sunset 2027-06-30 \| move to shipment 1\.1\.0/);
    assert.match(text, /\| `carrier\.scac` \| string \| {2}\| pattern `\^\[A-Z\]\{2,4\}\$` \| Standard Carrier Alpha Code\. \|/);
  });

  it('after the sunset the version reads as refused', async () => {
    const loaded = await loadCatalogFromDirectory(join(__dirname, '../../../cdm'));
    assert.ok(loaded.ok);
    const text = catalogDocs(loaded.catalog, { entities: ['shipment'], now: new Date('2027-07-01T00:00:00Z') });
    assert.match(text, /\| 1\.0\.0 \| past its sunset \(2027-06-30\): refused \|/);
    assert.doesNotMatch(text, /## lab-result/);
  });
});
