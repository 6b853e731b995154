// The edit dialog's catalog picker reads a source once: what it lists, the
// reasons it gives instead, and that the source is closed in every case.
import { describe, it } from 'mocha';
import assert from 'node:assert/strict';
import { type CatalogListing, listCatalogOnce } from '../../../lib/catalog/catalog-listing';
import type { CatalogSource, CatalogSourceEvent } from '../../../lib/catalog/catalog-source';

const SCHEMA = JSON.stringify({ $schema: 'https://json-schema.org/draft/2020-12/schema', $id: 'https://example.test/parcel/1.0.0', type: 'object' });
const CATALOG = JSON.stringify({ format: 1, name: 'listing-test', entities: { parcel: { title: 'Parcel', compatibility: 'NONE', versions: { '1.0.0': {}, '1.1.0': {} } } } });
const SCHEMA_11 = SCHEMA.replace('1.0.0', '1.1.0');

/** A source that reports `event` (or nothing) and counts its closes. */
function sourceOf(event: CatalogSourceEvent | undefined): CatalogSource & { closed: number } {
  return {
    origin: 'test source',
    closed: 0,
    start(listener) {
      if (event) setImmediate(() => listener(event));
    },
    close() {
      this.closed += 1;
      return Promise.resolve();
    },
  };
}

const cases: Array<{ name: string; event: CatalogSourceEvent | undefined; expected: (l: CatalogListing) => void }> = [
  {
    name: 'files: the entities with their title and versions, oldest first',
    event: { kind: 'files', digest: 'd', files: new Map([['catalog.json', CATALOG], ['parcel/1.1.0.schema.json', SCHEMA_11], ['parcel/1.0.0.schema.json', SCHEMA]]) },
    expected: (l) => assert.deepEqual(l, { ok: true, origin: 'test source', entities: [{ name: 'parcel', title: 'Parcel', versions: ['1.0.0', '1.1.0'] }] }),
  },
  {
    name: 'files that are no catalog: the loader\'s reasons',
    event: { kind: 'files', digest: 'd', files: new Map([['parcel/1.0.0.schema.json', SCHEMA]]) },
    expected: (l) => assert.ok(!l.ok && l.reasons.length > 0),
  },
  {
    name: 'unavailable: the source\'s reasons',
    event: { kind: 'unavailable', reasons: [{ path: '/srv/cdm', rule: 'unreadable', message: 'no such folder' }] },
    expected: (l) => assert.deepEqual(l, { ok: false, reasons: [{ path: '/srv/cdm', rule: 'unreadable', message: 'no such folder' }] }),
  },
  {
    name: 'silence: a timeout that names the source',
    event: undefined,
    expected: (l) => assert.deepEqual(l, { ok: false, reasons: [{ path: 'test source', rule: 'timeout', message: 'test source: no catalog within 50 ms' }] }),
  },
];

describe('listCatalogOnce', () => {
  for (const c of cases) {
    it(`${c.name}; the source is closed`, async () => {
      const source = sourceOf(c.event);
      c.expected(await listCatalogOnce(source, 50));
      assert.equal(source.closed, 1);
    });
  }
});
