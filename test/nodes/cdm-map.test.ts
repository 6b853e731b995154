// cdm-map inside Node-RED: the DESIGN example spec, the envelope it sets, the
// reject output, a spec that does not compile, the "try it" endpoint, and a
// property test that every record, however hostile, leaves on exactly one output.
import should from 'should';
import { after, afterEach, before, describe, it } from 'mocha';
import fc from 'fast-check';
import { Inbox, type Msg, helper, load, logged, node, startServer, stopServer } from '../support/red-helper';
import { waitFor } from '../support/node-red-process';
import { designExampleRules } from '../fixtures/mapping/design-example';

const rules = designExampleRules;
const local = { shp_no: 'A-1', dt: '24/11/2026 08:30', stat: 'DLV', wt_lb: '22.05', carrier: 'Rhenus' };
const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;

function flow(overrides: Msg = {}): Msg[] {
  return [
    { id: 'f1', type: 'tab', label: 'map' },
    { id: 'map', type: 'cdm-map', z: 'f1', x: 100, y: 100, entity: 'shipment', version: '1.0.0', site: 'TECTONIC_TEST_SITE', siteType: 'env', source: '', rules, wires: [['mapped'], ['rejected']], ...overrides },
    { id: 'mapped', type: 'helper', z: 'f1', x: 300, y: 80, wires: [] },
    { id: 'rejected', type: 'helper', z: 'f1', x: 300, y: 120, wires: [] },
    { id: 'catch', type: 'catch', z: 'f1', x: 100, y: 200, scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', type: 'helper', z: 'f1', x: 300, y: 200, wires: [] },
  ];
}

describe('cdm-map', () => {
  before(async () => {
    process.env.TECTONIC_TEST_SITE = 'site-a';
    await startServer();
  });
  afterEach(() => helper.unload());
  after(stopServer);

  it('maps the local record and sets the envelope', async () => {
    await load(flow());
    const mapped = new Inbox(node('mapped'));
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    node('map').receive({ payload: local, traceparent, correlationId: 'order-77' });
    const msg = await mapped.next();
    should(msg.payload).eql({ shipmentId: 'A-1', occurredAt: '2026-11-24T07:30:00.000Z', status: 'delivered', weightKg: 10, siteId: 'site-a', carrier: { name: 'Rhenus' } });
    const cdm = msg.cdm as Msg;
    should(cdm.entity).equal('shipment');
    should(cdm.version).equal('1.0.0');
    should(cdm.site).equal('site-a', 'the site id comes from the environment variable');
    should(String(cdm.id)).match(ULID);
    should(!Number.isNaN(Date.parse(String(cdm.time)))).be.true();
    should(cdm.source).equal('urn:tectonic:site-a:node-red');
    should(cdm.correlationId).equal('order-77');
    should(cdm.traceparent).equal(traceparent);
  });

  it('ids sort in the order records were mapped, and a record that came without a correlation id is its own', async () => {
    await load(flow());
    const mapped = new Inbox(node('mapped'));
    for (let i = 0; i < 50; i++) node('map').receive({ payload: { ...local, shp_no: `A-${i}` } });
    const all = await mapped.count(50);
    const ids = all.map((m) => String((m.cdm as Msg).id));
    should([...ids].sort()).eql(ids);
    should(new Set(ids).size).equal(50);
    should(all.every((m) => (m.cdm as Msg).correlationId === (m.cdm as Msg).id)).be.true();
  });

  it('a record a rule cannot map leaves on the reject output with every reason, the record untouched', async () => {
    await load(flow());
    const rejected = new Inbox(node('rejected'));
    const mapped = new Inbox(node('mapped'));
    const bad = { shp_no: 'A-2', dt: '31/02/2026 08:30', stat: 'XYZ', wt_lb: '' };
    node('map').receive({ payload: structuredClone(bad) });
    const msg = await rejected.next();
    should(msg.payload).eql(bad);
    const reasons = (msg.reject as { stage: string; reasons: Array<{ path: string; message: string }> });
    should(reasons.stage).equal('cdm-map');
    const paths = reasons.reasons.map((r) => r.path).sort();
    should(paths).eql(['occurredAt', 'status', 'weightKg']);
    should(reasons.reasons.some((r) => r.path === 'status' && r.message.includes('XYZ'))).be.true(JSON.stringify(reasons.reasons));
    should(mapped.messages.length).equal(0, 'nothing half-mapped went out on the first output');
  });

  it('a spec with a __proto__ path is refused at deploy: red status and an error a catch node sees', async () => {
    await load(flow({ rules: [{ to: '__proto__.polluted', value: true }] }));
    should(logged('cdm-map', 20).some((m) => m.includes('does not compile'))).be.true('the deploy logs why');
    const caught = new Inbox(node('caught'));
    node('map').receive({ payload: local });
    const msg = await caught.next();
    should((msg.error as { message: string }).message).match(/does not compile/);
    should(({} as Msg).polluted).equal(undefined);
  });

  it('an unset site variable is named', async () => {
    await load(flow({ site: 'TECTONIC_TEST_NO_SUCH_VAR' }));
    const caught = new Inbox(node('caught'));
    node('map').receive({ payload: local });
    const msg = await caught.next();
    should((msg.error as { message: string }).message).match(/environment variable TECTONIC_TEST_NO_SUCH_VAR/);
  });

  it('an expression rule (JSONata) maps asynchronously', async () => {
    await load(flow({ rules: [...rules, { to: 'reference', expression: '"REF-" & shp_no' }] }));
    const mapped = new Inbox(node('mapped'));
    node('map').receive({ payload: local });
    const msg = await mapped.next();
    should((msg.payload as Msg).reference).equal('REF-A-1');
  });

  it('"try it": the admin endpoint maps a pasted record with the same compiler', async () => {
    await load(flow());
    const good = await helper.request().post('/tectonic/map/try').send({ spec: { entity: 'shipment', version: '1.0.0', rules }, record: local });
    should(good.status).equal(200);
    should((good.body as { ok: boolean }).ok).equal(true);
    should(((good.body as { value: Msg }).value).status).equal('delivered');
    const bad = await helper.request().post('/tectonic/map/try').send({ spec: { entity: 'shipment', version: '1.0.0', rules }, record: { ...local, stat: 'NOPE' } });
    should((bad.body as { ok: boolean }).ok).equal(false);
    const broken = await helper.request().post('/tectonic/map/try').send({ spec: { entity: 'shipment', version: '1.0.0', rules: [{ to: 'x', from: 'constructor.prototype' }] }, record: local });
    should((broken.body as { ok: boolean }).ok).equal(false);
    should(JSON.stringify(broken.body)).match(/spec:/);
    const nonsense = await helper.request().post('/tectonic/map/try').send({ nothing: true });
    should(nonsense.status).equal(400);
  });

  it('"try it" refuses every body but application/json with 415, so a cross-site form cannot post a spec (issue 20)', async () => {
    await load(flow());
    // supertest's chain, of which test/support/red-helper.ts types only post().send().
    interface Chain extends PromiseLike<{ status: number; body: unknown }> {
      set(name: string, value: string): Chain;
      send(body: unknown): Chain;
    }
    const post = (): Chain => helper.request().post('/tectonic/map/try') as unknown as Chain;
    const form = 'spec[entity]=shipment&spec[version]=1.0.0&spec[rules][0][to]=x&spec[rules][0][expression]=$pad("x",100)&record[a]=1';
    for (const type of ['application/x-www-form-urlencoded', 'text/plain', 'multipart/form-data; boundary=x', '']) {
      const req = post().set('Origin', 'http://evil.example');
      const res = await (type === '' ? req.send(Buffer.from(form)) : req.set('Content-Type', type).send(form));
      should(res.status).equal(415, `${type || 'no type'}: ${JSON.stringify(res.body)}`);
      should((res.body as { message: string }).message).match(/accepts only application\/json/);
    }
    const json = await post().set('Content-Type', 'application/json; charset=utf-8').send(JSON.stringify({ spec: { entity: 'shipment', version: '1.0.0', rules }, record: local }));
    should(json.status).equal(200);
  });

  it('property: every record, random or hostile, leaves on exactly one output and nothing throws', async () => {
    await load(flow({ rules: [...rules, { to: 'tags', from: 'tags', optional: true, transforms: [{ array: { each: { rules: [{ to: 'name', from: 'n', transforms: [{ trim: {} }] }] } } }] }] }));
    const mapped = new Inbox(node('mapped'));
    const rejected = new Inbox(node('rejected'));
    const caught = new Inbox(node('caught'));
    const hostile = fc.oneof(
      fc.anything(),
      fc.record({ shp_no: fc.anything(), dt: fc.oneof(fc.string(), fc.constant('29/02/2027 10:00'), fc.constant('29/03/2026 02:30')), stat: fc.oneof(fc.constantFrom('DLV', 'TRN', 'constructor', '__proto__', 'toString'), fc.string()), wt_lb: fc.oneof(fc.double(), fc.string(), fc.constant('1,234.5')), carrier: fc.anything(), tags: fc.anything() }),
      fc.constant(JSON.parse('{"__proto__":{"polluted":true},"shp_no":"P"}') as unknown),
      fc.constant({ shp_no: 'x'.repeat(100_000), dt: '24/11/2026 08:30', stat: 'DLV', wt_lb: '1' }),
    );
    const records = fc.sample(hostile, { numRuns: 300, seed: 20261125 });
    for (const record of records) node('map').receive({ payload: record });
    await waitFor(() => mapped.messages.length + rejected.messages.length >= records.length, { timeoutMs: 20_000, message: 'every record to leave' });
    should(mapped.messages.length + rejected.messages.length).equal(records.length, 'exactly one output each');
    should(caught.messages.length).equal(0, 'no record raised an error');
    should(mapped.messages.length > 0 && rejected.messages.length > 0).be.true('both outputs were exercised');
    should(({} as Msg).polluted).equal(undefined);
  });
});

describe('the editor\'s catalog suggestions', () => {
  before(startServer);
  afterEach(() => helper.unload());
  after(stopServer);

  it('GET /tectonic/catalogs/:id/entities lists a deployed catalog\'s entities and versions; an unknown id is a 404', async () => {
    await load([
      { id: 'f1', type: 'tab', label: 'catalog' },
      { id: 'catalog', type: 'cdm-catalog', name: 'bundled', source: 'bundled', folder: '', folderType: 'str', url: '', urlType: 'str', bus: '', refresh: '', publishToBus: '', policy: 'STRICT' },
      { id: 'map', type: 'cdm-map', z: 'f1', x: 100, y: 100, catalog: 'catalog', entity: 'shipment', version: '1.1.0', site: 'site-a', siteType: 'str', rules, wires: [[], []] },
    ]);
    const listed = await waitFor(
      async () => {
        const res = await helper.request().get('/tectonic/catalogs/catalog/entities');
        return res.status === 200 ? (res.body as Array<{ name: string; versions: string[] }>) : undefined;
      },
      { message: 'the catalog to load' },
    );
    const shipment = listed.find((e) => e.name === 'shipment');
    should(shipment?.versions).eql(['1.0.0', '1.1.0']);
    should(listed.some((e) => e.name === 'lab-result')).be.true();
    const missing = await helper.request().get('/tectonic/catalogs/no-such-node/entities');
    should(missing.status).equal(404);
  });
});
