// cdm-map inside Node-RED: the DESIGN example spec, the envelope it sets, the
// reject output, a spec that does not compile, the "try it" endpoint, and a
// property test that every record, however hostile, leaves on exactly one output.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
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

  test('maps the local record and sets the envelope', async () => {
    await load(flow());
    const mapped = new Inbox(node('mapped'));
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    node('map').receive({ payload: local, traceparent, correlationId: 'order-77' });
    const msg = await mapped.next();
    assert.deepEqual(msg.payload, { shipmentId: 'A-1', occurredAt: '2026-11-24T07:30:00.000Z', status: 'delivered', weightKg: 10, siteId: 'site-a', carrier: { name: 'Rhenus' } });
    const cdm = msg.cdm as Msg;
    assert.equal(cdm.entity, 'shipment');
    assert.equal(cdm.version, '1.0.0');
    assert.equal(cdm.site, 'site-a', 'the site id comes from the environment variable');
    assert.match(String(cdm.id), ULID);
    assert.ok(!Number.isNaN(Date.parse(String(cdm.time))));
    assert.equal(cdm.source, 'urn:tectonic:site-a:node-red');
    assert.equal(cdm.correlationId, 'order-77');
    assert.equal(cdm.traceparent, traceparent);
  });

  test('ids sort in the order records were mapped, and a record that came without a correlation id is its own', async () => {
    await load(flow());
    const mapped = new Inbox(node('mapped'));
    for (let i = 0; i < 50; i++) node('map').receive({ payload: { ...local, shp_no: `A-${i}` } });
    const all = await mapped.count(50);
    const ids = all.map((m) => String((m.cdm as Msg).id));
    assert.deepEqual([...ids].sort(), ids);
    assert.equal(new Set(ids).size, 50);
    assert.ok(all.every((m) => (m.cdm as Msg).correlationId === (m.cdm as Msg).id));
  });

  test('a record a rule cannot map leaves on the reject output with every reason, the record untouched', async () => {
    await load(flow());
    const rejected = new Inbox(node('rejected'));
    const mapped = new Inbox(node('mapped'));
    const bad = { shp_no: 'A-2', dt: '31/02/2026 08:30', stat: 'XYZ', wt_lb: '' };
    node('map').receive({ payload: structuredClone(bad) });
    const msg = await rejected.next();
    assert.deepEqual(msg.payload, bad);
    const reasons = (msg.reject as { stage: string; reasons: Array<{ path: string; message: string }> });
    assert.equal(reasons.stage, 'cdm-map');
    const paths = reasons.reasons.map((r) => r.path).sort();
    assert.deepEqual(paths, ['occurredAt', 'status', 'weightKg']);
    assert.ok(reasons.reasons.some((r) => r.path === 'status' && r.message.includes('XYZ')), JSON.stringify(reasons.reasons));
    assert.equal(mapped.messages.length, 0, 'nothing half-mapped went out on the first output');
  });

  test('a spec with a __proto__ path is refused at deploy: red status and an error a catch node sees', async () => {
    await load(flow({ rules: [{ to: '__proto__.polluted', value: true }] }));
    assert.ok(logged('cdm-map', 20).some((m) => m.includes('does not compile')), 'the deploy logs why');
    const caught = new Inbox(node('caught'));
    node('map').receive({ payload: local });
    const msg = await caught.next();
    assert.match((msg.error as { message: string }).message, /does not compile/);
    assert.equal(({} as Msg).polluted, undefined);
  });

  test('an unset site variable is named', async () => {
    await load(flow({ site: 'TECTONIC_TEST_NO_SUCH_VAR' }));
    const caught = new Inbox(node('caught'));
    node('map').receive({ payload: local });
    const msg = await caught.next();
    assert.match((msg.error as { message: string }).message, /environment variable TECTONIC_TEST_NO_SUCH_VAR/);
  });

  test('an expression rule (JSONata) maps asynchronously', async () => {
    await load(flow({ rules: [...rules, { to: 'reference', expression: '"REF-" & shp_no' }] }));
    const mapped = new Inbox(node('mapped'));
    node('map').receive({ payload: local });
    const msg = await mapped.next();
    assert.equal((msg.payload as Msg).reference, 'REF-A-1');
  });

  test('"try it": the admin endpoint maps a pasted record with the same compiler', async () => {
    await load(flow());
    const good = await helper.request().post('/tectonic/map/try').send({ spec: { entity: 'shipment', version: '1.0.0', rules }, record: local });
    assert.equal(good.status, 200);
    assert.equal((good.body as { ok: boolean }).ok, true);
    assert.equal(((good.body as { value: Msg }).value).status, 'delivered');
    const bad = await helper.request().post('/tectonic/map/try').send({ spec: { entity: 'shipment', version: '1.0.0', rules }, record: { ...local, stat: 'NOPE' } });
    assert.equal((bad.body as { ok: boolean }).ok, false);
    const broken = await helper.request().post('/tectonic/map/try').send({ spec: { entity: 'shipment', version: '1.0.0', rules: [{ to: 'x', from: 'constructor.prototype' }] }, record: local });
    assert.equal((broken.body as { ok: boolean }).ok, false);
    assert.match(JSON.stringify(broken.body), /spec:/);
    const nonsense = await helper.request().post('/tectonic/map/try').send({ nothing: true });
    assert.equal(nonsense.status, 400);
  });

  test('property: every record, random or hostile, leaves on exactly one output and nothing throws', async () => {
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
    assert.equal(mapped.messages.length + rejected.messages.length, records.length, 'exactly one output each');
    assert.equal(caught.messages.length, 0, 'no record raised an error');
    assert.ok(mapped.messages.length > 0 && rejected.messages.length > 0, 'both outputs were exercised');
    assert.equal(({} as Msg).polluted, undefined);
  });
});

describe('the editor\'s catalog suggestions', () => {
  before(startServer);
  afterEach(() => helper.unload());
  after(stopServer);

  test('GET /tectonic/catalogs/:id/entities lists a deployed catalog\'s entities and versions; an unknown id is a 404', async () => {
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
    assert.deepEqual(shipment?.versions, ['1.0.0', '1.1.0']);
    assert.ok(listed.some((e) => e.name === 'lab-result'));
    const missing = await helper.request().get('/tectonic/catalogs/no-such-node/entities');
    assert.equal(missing.status, 404);
  });
});
