// cdm-map with its spec from a file or a URL (issue 21), inside Node-RED: it
// waits (status and readiness) for a first spec, maps by the spec in force,
// follows a change on disk, keeps the previous spec through one that does not
// compile (with a warning), and reads a spec from a real HTTP server on 127.0.0.1.
import should from 'should';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'mocha';
import type { MqttClient } from 'mqtt';
import { type EmbeddedBroker, startEmbeddedBroker } from '../../lib/bus/embedded-broker';
import { connectRaw, endRaw } from '../lib/bus/mqtt-helpers';
import { Inbox, type Msg, calls, catchNode, helper, load, logged, node, packNodes, startServer, stopServer } from '../support/red-helper';
import { coreNodeFile, delay, waitFor } from '../support/node-red-process';

// node-red-node-test-helper leaves RED.hooks out of the API it hands the nodes
// (see ready-before-reading.test.ts): bus-subscribe's hold needs them.
const runtimeHooks = (helper as unknown as { _RED: { hooks: unknown } })._RED.hooks;
const withRuntimeHooks = (red: { hooks?: unknown }): void => {
  red.hooks ??= runtimeHooks;
};
// eslint-disable-next-line @typescript-eslint/no-require-imports -- core's status node: sees every status the entry shows
const statusNode = require(coreNodeFile('common/25-status.js')) as unknown;

const specV1 = { entity: 'shipment', version: '1.0.0', rules: [{ to: 'shipmentId', from: 'shp_no' }] };
const specV2Yaml = 'entity: shipment\nversion: 1.1.0\nrules:\n  - to: shipmentId\n    from: shipment_number\n';

function flow(overrides: Msg): Msg[] {
  return [
    { id: 'f1', type: 'tab', label: 'map' },
    { id: 'map', type: 'cdm-map', z: 'f1', x: 100, y: 100, site: 'site-a', siteType: 'str', specRefresh: '0.1', rules: [], wires: [['mapped'], ['rejected']], ...overrides },
    { id: 'mapped', type: 'helper', z: 'f1', x: 300, y: 80, wires: [] },
    { id: 'rejected', type: 'helper', z: 'f1', x: 300, y: 120, wires: [] },
    { id: 'catch', type: 'catch', z: 'f1', x: 100, y: 200, scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', type: 'helper', z: 'f1', x: 300, y: 200, wires: [] },
  ];
}

type Readiness = { ready: boolean; waitingFor: string };
const readiness = (): Readiness => (node('map') as unknown as { readiness: Readiness }).readiness;

describe('cdm-map spec source', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tectonic-map-spec-'));
    process.env.TECTONIC_TEST_MAPPING_SPEC = join(dir, 'from-env.yaml');
    await startServer();
  });
  afterEach(() => helper.unload());
  after(async () => {
    await stopServer();
    await rm(dir, { recursive: true, force: true });
  });

  it('waits for its first spec, then follows the file on disk and keeps the old spec through a bad one', async () => {
    const file = join(dir, 'spec.json');
    await load(flow({ specSource: 'file', specFrom: file, specFromType: 'str' }));
    const statuses = calls(node('map'), 'status');
    const mapped = new Inbox(node('mapped'));
    const rejectedOut = new Inbox(node('rejected'));

    should(readiness().ready).be.false();
    should(readiness().waitingFor).match(/waiting for its mapping spec \(file .*spec\.json\)/);
    node('map').receive({ payload: { shp_no: 'A-0' } });
    // Before its first spec: a transient refusal on the reject output (an entry retries it), not a verdict on the record.
    const early = await rejectedOut.next();
    should((early.reject as Msg).transient).be.true();
    should(((early.reject as { reasons: Msg[] }).reasons[0] as Msg).rule).equal('no-spec');
    should(String(((early.reject as { reasons: Msg[] }).reasons[0] as Msg).message)).match(/waiting for its mapping spec/);

    await writeFile(file, JSON.stringify(specV1));
    await waitFor(() => readiness().ready, { timeoutMs: 5000 });
    node('map').receive({ payload: { shp_no: 'A-1' } });
    const first = await mapped.next();
    should(first.payload).eql({ shipmentId: 'A-1' });
    should((first.cdm as Msg).version).equal('1.0.0');

    await writeFile(file, specV2Yaml);
    await waitFor(() => statuses.some((c) => /1\.1\.0/.test(JSON.stringify(c.args))), { timeoutMs: 5000 });
    node('map').receive({ payload: { shipment_number: 'B-2' } });
    const second = await mapped.next((m) => (m.payload as Msg).shipmentId === 'B-2');
    should((second.cdm as Msg).version).equal('1.1.0', 'the envelope follows the spec in force');

    await writeFile(file, JSON.stringify({ entity: 'shipment', version: '2.0.0', rules: [{ to: 'x' }] }));
    await waitFor(() => logged('cdm-map', 30).some((w) => /does not compile, the previous one stays in force/.test(w)), { timeoutMs: 5000 });
    node('map').receive({ payload: { shipment_number: 'C-3' } });
    const third = await mapped.next((m) => (m.payload as Msg).shipmentId === 'C-3');
    should((third.cdm as Msg).version).equal('1.1.0', 'the previous spec stays in force');
    should(readiness().ready).be.true();
  });

  it('reads the path from an environment variable', async () => {
    await writeFile(String(process.env.TECTONIC_TEST_MAPPING_SPEC), specV2Yaml);
    await load(flow({ specSource: 'file', specFrom: 'TECTONIC_TEST_MAPPING_SPEC', specFromType: 'env' }));
    await waitFor(() => readiness().ready, { timeoutMs: 5000 });
    const mapped = new Inbox(node('mapped'));
    node('map').receive({ payload: { shipment_number: 'E-1' } });
    should((await mapped.next()).payload).eql({ shipmentId: 'E-1' });
  });

  it('a bus-subscribe entry holds its records until the first spec is in force, then every one is mapped', async function () {
    this.timeout(30_000);
    const broker: EmbeddedBroker = await startEmbeddedBroker({ host: '127.0.0.1', port: 0 });
    const publisher: MqttClient = await connectRaw(`mqtt://127.0.0.1:${broker.port}`, { clientId: `spec-publisher-${process.pid}` });
    const file = join(dir, 'held.json');
    try {
      await load(
        [
          { id: 'f1', type: 'tab', label: 'site' },
          { id: 'bus', type: 'tectonic-bus', name: 'site bus', mode: 'external', url: `mqtt://127.0.0.1:${broker.port}`, protocolVersion: '4', clientId: `spec-site-${process.pid}`, session: 'clean' },
          { id: 'sub', type: 'bus-subscribe', z: 'f1', x: 100, y: 40, name: 'wms records', bus: 'bus', kind: 'records', topic: 'site/a/wms/#', qos: '1', maxBytes: '', maxInFlight: '100', wires: [['map']] },
          ...flow({ specSource: 'file', specFrom: file, specFromType: 'str' }).filter((n) => n.type !== 'tab'),
          { id: 'watch', type: 'status', z: 'f1', x: 100, y: 300, scope: ['sub'], wires: [['statuses']] },
          { id: 'statuses', type: 'helper', z: 'f1', x: 300, y: 300, wires: [] },
        ],
        {},
        [withRuntimeHooks, ...packNodes, catchNode, statusNode],
      );
      const statuses = new Inbox(node('statuses'));
      const mapped = new Inbox(node('mapped'));
      const caught = new Inbox(node('caught'));
      await statuses.next((m) => /waiting for its mapping spec/.test(String((m.status as { text?: string } | undefined)?.text)), 10_000);
      await delay(300);
      for (let i = 0; i < 5; i++) await publisher.publishAsync('site/a/wms/shipments', JSON.stringify({ shp_no: `H-${i}` }), { qos: 1 });
      await delay(500);
      should(mapped.messages.length).equal(0, 'nothing is read while no spec is in force');
      should(caught.messages.length).equal(0, 'and nothing is refused for it');
      await writeFile(file, JSON.stringify(specV1));
      const all = await mapped.count(5, 10_000);
      should(all.map((m) => (m.payload as Msg).shipmentId).sort()).eql(['H-0', 'H-1', 'H-2', 'H-3', 'H-4']);
      should(caught.messages.length).equal(0);
    } finally {
      await helper.unload();
      await endRaw(publisher);
      await broker.close();
    }
  });

  describe('a URL', () => {
    let server: Server;
    let base = '';
    before(async () => {
      server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(specV1)));
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    after(() => new Promise<void>((resolve) => server.close(() => resolve())));

    it('maps by the spec served on 127.0.0.1', async () => {
      await load(flow({ specSource: 'url', specFrom: `${base}/spec.json`, specFromType: 'str', specRefresh: '1' }));
      await waitFor(() => readiness().ready, { timeoutMs: 5000 });
      const mapped = new Inbox(node('mapped'));
      node('map').receive({ payload: { shp_no: 'U-1' } });
      should((await mapped.next()).payload).eql({ shipmentId: 'U-1' });
    });

    it('refuses a file: URL at deploy, in the node\'s words', async () => {
      await load(flow({ specSource: 'url', specFrom: 'file:///etc/passwd', specFromType: 'str' }));
      await waitFor(() => logged('cdm-map', 20).some((e) => /must be http or https/.test(e)), { timeoutMs: 5000 });
    });
  });
});
