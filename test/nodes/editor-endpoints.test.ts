// The admin endpoints behind the edit dialogs: the catalog picker reads a
// cdm-catalog config as drafted (no deploy), JSON only, and refuses what is
// not; a deployed cdm-map tells Try it the last record it received.
import should from 'should';
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'mocha';
import { helper, load, node, startServer, stopServer } from '../support/red-helper';
import { waitFor } from '../support/node-red-process';

type Listing = { ok: true; origin: string; entities: Array<{ name: string; versions: string[] }> } | { ok: false; reasons: Array<{ path: string; rule: string; message: string }> };

const PICKER = '/tectonic/catalogs/draft/entities';

/** The little of supertest these tests use beyond red-helper's typing: headers and a form body. */
interface Posting {
  set(name: string, value: string): Posting;
  type(kind: string): Posting;
  send(body: unknown): PromiseLike<{ status: number; body: unknown }>;
}
const post = (path: string): Posting => (helper.request() as unknown as { post(path: string): Posting }).post(path);
const catalogOnly = [{ id: 'f1', type: 'tab', label: 'empty' }, { id: 'cat', type: 'cdm-catalog', source: 'bundled', policy: 'STRICT' }];

describe('the editor\'s admin endpoints', () => {
  let dir = '';
  before(async () => {
    await startServer();
    dir = await mkdtemp(join(tmpdir(), 'tectonic-picker-'));
    await mkdir(join(dir, 'parcel'));
    await writeFile(join(dir, 'catalog.json'), JSON.stringify({ format: 1, name: 'picker-test', entities: { parcel: { compatibility: 'BACKWARD', versions: { '1.0.0': {} } } } }));
    await writeFile(join(dir, 'parcel', '1.0.0.schema.json'), JSON.stringify({ $schema: 'https://json-schema.org/draft/2020-12/schema', $id: 'https://example.test/parcel/1.0.0', type: 'object' }));
  });
  afterEach(() => helper.unload());
  after(async () => {
    await rm(dir, { recursive: true, force: true });
    await stopServer();
  });

  const cases: Array<{ name: string; draft: () => Record<string, unknown>; expect: (l: Listing) => void }> = [
    {
      name: 'the bundled sample catalog',
      draft: () => ({ source: 'bundled' }),
      expect: (l) => {
        should(l.ok).be.true();
        if (!l.ok) return;
        should(l.entities.find((e) => e.name === 'shipment')?.versions).eql(['1.0.0', '1.1.0']);
        should(l.origin).equal('the bundled sample catalog');
      },
    },
    {
      name: 'a folder, named as drafted',
      draft: () => ({ source: 'folder', folder: dir, folderType: 'str' }),
      expect: (l) => should(l).eql({ ok: true, origin: `folder ${dir}`, entities: [{ name: 'parcel', versions: ['1.0.0'] }] }),
    },
    {
      name: 'a folder from an environment variable',
      draft: () => ({ source: 'folder', folder: 'TECTONIC_PICKER_DIR', folderType: 'env' }),
      expect: (l) => should(l.ok && l.entities.map((e) => e.name)).eql(['parcel']),
    },
    {
      name: 'a folder that does not exist: a reason, not an error',
      draft: () => ({ source: 'folder', folder: join(dir, 'missing'), folderType: 'str' }),
      expect: (l) => should(l.ok).be.false(),
    },
    {
      name: 'an unset environment variable, named',
      draft: () => ({ source: 'folder', folder: 'TECTONIC_NO_SUCH_VAR', folderType: 'env' }),
      expect: (l) => should(!l.ok && l.reasons[0]?.message).match(/TECTONIC_NO_SUCH_VAR is not set/),
    },
    {
      name: 'a URL that is not http(s)',
      draft: () => ({ source: 'url', url: 'file:///etc/passwd', urlType: 'str' }),
      expect: (l) => should(l.ok).be.false(),
    },
    {
      name: 'a bus catalog not deployed yet',
      draft: () => ({ source: 'bus', bus: 'b1' }),
      expect: (l) => should(!l.ok && l.reasons[0]?.rule).equal('not-deployed'),
    },
  ];
  for (const c of cases) {
    it(`POST ${PICKER}: ${c.name}`, async () => {
      process.env.TECTONIC_PICKER_DIR = dir;
      await load(catalogOnly);
      const res = await post(PICKER).set('content-type', 'application/json').send(JSON.stringify(c.draft()));
      should(res.status).equal(200);
      c.expect(res.body as Listing);
    });
  }

  it(`POST ${PICKER} refuses a form post (415) and a body that is not an object of text fields (400)`, async () => {
    await load(catalogOnly);
    const form = await post(PICKER).type('form').send({ source: 'bundled' });
    should(form.status).equal(415);
    const array = await post(PICKER).set('content-type', 'application/json').send('[]');
    should(array.status).equal(400);
    const number = await post(PICKER).set('content-type', 'application/json').send(JSON.stringify({ source: 'folder', folder: 42 }));
    should(number.status).equal(400);
    should((number.body as { message: string }).message).equal('folder must be text');
  });

  it('GET /tectonic/map/:id/last-record: nothing before a record, then the last one the deployed cdm-map received', async () => {
    await load([
      { id: 'f1', type: 'tab', label: 'map' },
      { id: 'map', type: 'cdm-map', z: 'f1', x: 100, y: 100, entity: 'parcel', version: '1.0.0', site: 'site-a', siteType: 'str', rules: [{ to: 'id', from: 'no' }], wires: [[], []] },
    ]);
    const empty = await helper.request().get('/tectonic/map/map/last-record');
    should(empty.status).equal(200);
    should(empty.body).eql({});
    node('map').receive({ payload: { no: 'P-1' } });
    node('map').receive({ payload: { no: 'P-2', extra: true } });
    const last = await waitFor(async () => {
      const res = await helper.request().get('/tectonic/map/map/last-record');
      return (res.body as { record?: { no: string } }).record?.no === 'P-2' ? res.body : undefined;
    }, { message: 'the last record' });
    should(last).eql({ record: { no: 'P-2', extra: true } });
  });
});
