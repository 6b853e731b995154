// "Ready before reading" inside Node-RED, on a real aedes broker in the test
// process: a site whose persistent session holds a backlog starts with a
// catalog that takes 2 s to load (a cdm-catalog on a URL served by a slow
// local HTTP server). bus-subscribe waits with its inbound lane held (status:
// what it waits for) until cdm-validate has its catalog, policy-gate its
// policy and bus-publish its outbox; then every backlog record goes through
// the pipeline to bus-publish's output, and none is refused as no-catalog.
import should from 'should';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'mocha';
import type { MqttClient } from 'mqtt';
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import { encodeCatalogBundle } from '../../lib/catalog/catalog-bundle';
import { readCatalogFolder } from '../../lib/catalog/catalog-source';
import { type EmbeddedBroker, startEmbeddedBroker } from '../../lib/bus/embedded-broker';
import { generatePolicyKeyPair, signBundle } from '../../lib/policy/signature';
import type { JsonObject } from '../../lib/catalog/types';
import { fraRecords, fraSpec } from '../fixtures/logistics';
import { connectRaw, endRaw } from '../lib/bus/mqtt-helpers';
import { coreNodeFile, delay, repoRoot, tempDir, waitFor } from '../support/node-red-process';
import { Inbox, type Msg, catchNode, helper, load, node, packNodes, startServer, stopServer } from '../support/red-helper';

// node-red-node-test-helper 0.3 leaves RED.hooks out of the API it hands the
// nodes (see bus-subscribe-records.test.ts): flow control, and so the wait, needs them.
const runtimeHooks = (helper as unknown as { _RED: { hooks: unknown } })._RED.hooks;
const withRuntimeHooks = (red: { hooks?: unknown }): void => {
  red.hooks ??= runtimeHooks;
};
// eslint-disable-next-line @typescript-eslint/no-require-imports -- core's status node: sees every status the entry shows, from its start
const statusNode = require(coreNodeFile('common/25-status.js')) as unknown;

/** Refuses each record transiently the first time it sees it (output 2, msg.reject.transient), and passes it the second time. */
function testNodes(RED: NodeAPI): void {
  RED.nodes.registerType('test-refuse-once', function (this: Node, config: NodeDef) {
    RED.nodes.createNode(this, config);
    const seen = new Set<string>();
    this.on('input', (msg, send, done) => {
      const key = JSON.stringify(msg.payload);
      if ((msg.payload as { probe?: boolean }).probe === true || seen.has(key)) {
        send([msg, null]);
      } else {
        seen.add(key);
        (msg as NodeMessageInFlow & { reject?: unknown }).reject = { stage: 'test', reasons: [{ path: '', rule: 'outbox-full', message: 'not now' }], transient: true };
        send([null, msg]);
      }
      done();
    });
  });
}
const nodes = [withRuntimeHooks, ...packNodes, catchNode, statusNode, testNodes];

const DAY = 24 * 3600 * 1000;
const CATALOG_DELAY_MS = 2000;
const BACKLOG = 24;
const keys = generatePolicyKeyPair();

/** Node-RED takes a node without x and y for a config node: every flow node here gets a place. */
function placed(flow: Msg[]): Msg[] {
  return flow.map((n, i) => (typeof n.z === 'string' && n.z !== '' ? { x: 200, y: 40 * (i + 1), ...n } : n));
}

describe('bus-subscribe: ready before reading', () => {
  let broker: EmbeddedBroker | undefined;
  let publisher: MqttClient | undefined;
  let catalogServer: Server | undefined;
  let catalogUrl = '';
  let catalogRequests = 0;
  let userDir: Awaited<ReturnType<typeof tempDir>>;
  let policyFile = '';

  before(async () => {
    broker = await startEmbeddedBroker({ host: '127.0.0.1', port: 0 });
    publisher = await connectRaw(`mqtt://127.0.0.1:${broker.port}`, { clientId: `ready-publisher-${process.pid}` });

    // The bundled sample catalog as a bundle, answered only after 2 s: a slow catalog server.
    const folder = await readCatalogFolder(join(repoRoot, 'cdm'));
    if (!folder.ok) throw new Error('the bundled catalog does not read');
    const bundle = encodeCatalogBundle(folder.files).text;
    catalogServer = createServer((_req, res) => {
      catalogRequests += 1;
      setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end(bundle), CATALOG_DELAY_MS);
    });
    await new Promise<void>((resolve) => catalogServer?.listen(0, '127.0.0.1', resolve));
    catalogUrl = `http://127.0.0.1:${(catalogServer.address() as AddressInfo).port}/cdm.json`;

    userDir = await tempDir('tectonic-ready-userdir-');
    (helper as unknown as { settings(settings: Record<string, unknown>): unknown }).settings({ userDir: userDir.path });
    const doc = {
      id: 'ready-policy',
      version: 1,
      issuedAt: new Date(Date.now() - DAY).toISOString(),
      expiresAt: new Date(Date.now() + 30 * DAY).toISOString(),
      rules: [{ allow: { entities: { shipment: '>=1.0.0 <2.0.0' } } }, { validation: 'required' }],
    } as JsonObject;
    const signed = signBundle(doc, keys.privateKeyPem);
    if (!signed.ok) throw new Error(signed.reason.message);
    policyFile = join(userDir.path, 'policy.signed.json');
    await writeFile(policyFile, JSON.stringify(signed.signed));
    await startServer();
  });
  afterEach(() => helper.unload());
  after(async () => {
    await stopServer();
    await endRaw(publisher);
    await broker?.close();
    await new Promise((resolve) => catalogServer?.close(resolve));
    await userDir.remove();
  });

  const clientId = `ready-site-${process.pid}`;
  const tab: Msg = { id: 'f1', type: 'tab', label: 'site' };
  const bus: Msg = { id: 'bus', type: 'tectonic-bus', name: 'site bus', mode: 'external', url: '', protocolVersion: '4', clientId, session: 'persistent' };
  const entry = (wires: string[][]): Msg => ({ id: 'sub', type: 'bus-subscribe', z: 'f1', name: 'wms records', bus: 'bus', kind: 'records', topic: 'site/fra/wms/#', qos: '1', maxBytes: '', maxInFlight: '100', wires });

  it('a backlog queued at the broker waits for the slow catalog, then every record is published and none is refused', async function () {
    this.timeout(30_000);
    const busConfig = { ...bus, url: `mqtt://127.0.0.1:${broker?.port}` };

    // 1. The site's entry subscribes once, so its persistent session (the inbound lane, clientId-in) exists at the broker.
    await load(placed([tab, busConfig, entry([['seen']]), { id: 'seen', type: 'helper', z: 'f1', wires: [] }]), {}, nodes);
    const seen = new Inbox(node('seen'));
    await waitFor(
      async () => {
        await publisher?.publishAsync('site/fra/wms/probe', '{"probe":true}', { qos: 1 });
        await delay(100);
        return seen.messages.length > 0;
      },
      { timeoutMs: 10_000, message: 'the entry to subscribe' },
    );
    await helper.unload();

    // 2. While the site is away, the WMS publishes the backlog; the broker queues it for the session.
    const records = Array.from({ length: BACKLOG }, (_, i) => ({ ...fraRecords[i % fraRecords.length], Sendung: `SHP-${3000 + i}` }));
    for (const record of records) await publisher?.publishAsync('site/fra/wms/shipments', JSON.stringify(record), { qos: 1 });

    // 3. The site starts with its whole pipeline; the catalog answers only after 2 s.
    const requestsBefore = catalogRequests;
    const started = Date.now();
    await load(
      placed([
        tab,
        busConfig,
        { id: 'catalog', type: 'cdm-catalog', name: 'site catalog', source: 'url', folder: '', folderType: 'str', url: catalogUrl, urlType: 'str', bus: '', refresh: '', publishToBus: '', policy: 'STRICT' },
        {
          id: 'policy', type: 'tectonic-policy', name: 'site policy', source: 'file', file: policyFile, fileType: 'str', url: '', urlType: 'str', bus: '', bundle: '', bundleType: 'str',
          refresh: '', site: 'site-fra', siteType: 'str', publicKeyFile: '', publicKeyFileType: 'str', trustDemoKey: false, maxBytes: '', publishToBus: '',
        },
        entry([['map']]),
        { id: 'map', type: 'cdm-map', z: 'f1', catalog: 'catalog', entity: fraSpec.entity, version: fraSpec.version, site: 'site-fra', siteType: 'str', source: 'urn:tectonic:site-fra:wms', rules: fraSpec.rules, wires: [['validate'], ['rejected']] },
        { id: 'validate', type: 'cdm-validate', z: 'f1', catalog: 'catalog', entity: '', entityType: 'str', version: '', versionType: 'str', castTo: '', castToType: 'str', wires: [['gate'], ['rejected']] },
        { id: 'gate', type: 'policy-gate', z: 'f1', policy: 'policy', bus: '', tls: 'unknown', wires: [['publish'], ['rejected']] },
        { id: 'publish', type: 'bus-publish', z: 'f1', name: 'to the hub', bus: 'bus', qos: '1', wireMode: 'structured', mode: 'canonical', site: '', siteType: 'str', outboxMaxCount: '', outboxMaxBytes: '', whenFull: 'reject', policy: '', wires: [['published'], ['rejected']] },
        { id: 'published', type: 'helper', z: 'f1', wires: [] },
        { id: 'rejected', type: 'helper', z: 'f1', wires: [] },
        { id: 'watch', type: 'status', z: 'f1', scope: ['sub'], wires: [['statuses']] },
        { id: 'statuses', type: 'helper', z: 'f1', wires: [] },
      ]),
      { policy: { publicKeys: keys.publicKeyPem } },
      nodes,
    );
    const statuses = new Inbox(node('statuses'));
    const textOf = (m: Msg): string => String((m.status as { text?: string } | undefined)?.text);
    const published = new Inbox(node('published'));
    const rejected = new Inbox(node('rejected'));

    // The entry says what it waits for while the catalog loads.
    await statuses.next((m) => /^waiting for catalog cdm-catalog 'site catalog'/.test(textOf(m)), 5000);
    await published.count(BACKLOG, 20_000);
    await delay(300);

    should(Date.now() - started).be.aboveOrEqual(CATALOG_DELAY_MS - 100, 'nothing went through before the catalog was served');
    should(catalogRequests).be.above(requestsBefore);
    should(rejected.messages.map((m) => m.reject)).eql([], 'nothing refused (in particular no no-catalog)');
    should(published.messages.length).equal(BACKLOG);
    const ids = published.messages.map((m) => (m.payload as { shipmentId?: string }).shipmentId).sort();
    should(ids).eql(records.map((r) => r.Sendung).sort());
    for (const msg of published.messages) should((msg.cdm as { validated?: string }).validated).equal('shipment@1.1.0');
    await waitFor(() => /^connected · \d+ received/.test(textOf(statuses.messages.at(-1) ?? {})), { timeoutMs: 5000, message: 'the entry to show what it received, no longer waiting' });
  });

  it('a record refused transiently downstream is sent through again, not lost', async function () {
    this.timeout(20_000);
    const busConfig = { ...bus, url: `mqtt://127.0.0.1:${broker?.port}`, clientId: `${clientId}-retry` };
    await load(
      placed([
        tab,
        busConfig,
        entry([['refuse']]),
        { id: 'refuse', type: 'test-refuse-once', z: 'f1', wires: [['passed'], ['refused']] },
        { id: 'passed', type: 'helper', z: 'f1', wires: [] },
        { id: 'refused', type: 'helper', z: 'f1', wires: [] },
      ]),
      {},
      nodes,
    );
    const passed = new Inbox(node('passed'));
    const refused = new Inbox(node('refused'));
    await waitFor(
      async () => {
        await publisher?.publishAsync('site/fra/wms/probe', '{"probe":true}', { qos: 1 });
        await delay(100);
        return passed.messages.length > 0;
      },
      { timeoutMs: 10_000, message: 'the entry to subscribe' },
    );
    const real = (inbox: Inbox): Msg[] => inbox.messages.filter((m) => m.topic !== 'site/fra/wms/probe');
    const count = 10;
    for (let i = 0; i < count; i += 1) await publisher?.publishAsync('site/fra/wms/shipments', JSON.stringify({ n: i }), { qos: 1 });
    await passed.next(() => real(passed).length >= count, 10_000);
    await delay(300);
    should(real(refused).length).equal(count, 'each record was refused once, transiently');
    should(real(passed).map((m) => (m.payload as { n: number }).n).sort((a, b) => a - b)).eql(Array.from({ length: count }, (_, i) => i));
    const stats = await helper.request().get('/tectonic/stats/sub');
    should((stats.body as { retried: number; received: number }).retried).equal(count);
  });
});
