// registry-announce and registry-lookup inside Node-RED (node-red-node-test-helper),
// on an embedded broker: the announce needs the bus's site id; a lookup sets
// msg.url and msg.endpoint; feedback cools an endpoint down and, with retry,
// sends the message on to the backup; no endpoint goes to the second output
// (or, unwired, to a catch node); a failing health check withdraws the entry;
// a closed announce clears it; the admin API serves the snapshot.
import should from 'should';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'mocha';
import { freePort, repoRoot, waitFor } from '../support/node-red-process';
import { type HelperNode, Inbox, type Msg, catchNode, helper, load, logged, node, packNodes, startServer, stopServer } from '../support/red-helper';
import type { RegistrySnapshot } from '../../lib/fleet/registry-format';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const registryNodes = ['registry-announce', 'registry-lookup'].map((name) => require(join(repoRoot, 'dist', 'nodes', `${name}.js`)) as unknown);
const nodes = [...packNodes, catchNode, ...registryNodes];

describe('registry-announce and registry-lookup', () => {
  let server: Server;
  let serviceUrl = '';
  let healthy = true;
  before(async () => {
    await startServer();
    server = createServer((_req, res) => {
      res.statusCode = healthy ? 200 : 503;
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    serviceUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterEach(() => helper.unload());
  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await stopServer();
  });

  const tab: Msg = { id: 'f1', type: 'tab', label: 'test' };
  const bus = (port: number, siteId = 'hq'): Msg => ({ id: 'bus', type: 'tectonic-bus', z: '', mode: 'embedded', host: '127.0.0.1', port: String(port), siteId });
  const announce = (id: string, instance: string, weight: number, extra: Msg = {}): Msg => ({
    id, type: 'registry-announce', z: 'f1', bus: 'bus', service: 'pricing', serviceType: 'str', instance, instanceType: 'str',
    url: `${serviceUrl}/${instance}`, urlType: 'str', weight: String(weight), weightType: 'num', ttl: '30', ttlType: 'num', metadata: '{"v":1}', metadataType: 'json', ...extra,
  });
  const lookup = (extra: Msg = {}): Msg => ({ id: 'lookup', type: 'registry-lookup', z: 'f1', bus: 'bus', service: 'pricing', serviceType: 'str', strategy: 'failover', coolDown: '30', wires: [['found'], ['none']], ...extra });
  const sinks: Msg[] = [{ id: 'found', type: 'helper', z: 'f1' }, { id: 'none', type: 'helper', z: 'f1' }];

  async function ask(msg: Msg = { payload: 'price?' }): Promise<{ found?: Msg; none?: Msg }> {
    const found = node('found');
    const none = node('none');
    return new Promise((resolve) => {
      const onFound = (m: Msg): void => { off(); resolve({ found: m }); };
      const onNone = (m: Msg): void => { off(); resolve({ none: m }); };
      const off = (): void => { found.off('input', onFound); none.off('input', onNone); };
      found.on('input', onFound);
      none.on('input', onNone);
      node('lookup').receive(msg);
    });
  }
  const untilFound = (instance: string | undefined): Promise<Msg> =>
    waitFor(async () => {
      const answer = await ask();
      const got = (answer.found?.endpoint as { instance?: string } | undefined)?.instance;
      return got === instance ? (answer.found ?? answer.none) : undefined;
    }, { timeoutMs: 8_000, intervalMs: 100, message: `lookup answering ${String(instance)}` });

  it('registry-announce refuses a bus without a site id, saying why', async () => {
    await load([tab, bus(await freePort(), ''), announce('a1', 'main', 100)], {}, nodes);
    await waitFor(() => logged('registry-announce', 20).length > 0, { timeoutMs: 3_000, message: 'the refusal' });
    should(logged('registry-announce', 20).join()).match(/no site id/);
  });

  it('resolves the primary with msg.url and msg.endpoint; the snapshot lists both endpoints', async () => {
    await load([tab, bus(await freePort()), announce('a1', 'main', 100), announce('a2', 'backup', 50), lookup(), ...sinks], {}, nodes);
    const msg = await untilFound('main');
    should(msg.url).equal(`${serviceUrl}/main`);
    should(msg.payload).equal('price?');
    should(msg.endpoint).eql({ service: 'pricing', site: 'hq', instance: 'main', key: 'hq/main', url: `${serviceUrl}/main`, weight: 100, metadata: { v: 1 } });
    const res = await helper.request().get('/tectonic/fleet/registry');
    should(res.status).equal(200);
    const pricing = (res.body as RegistrySnapshot).services.find((s) => s.service === 'pricing');
    should(pricing?.endpoints.map((e) => `${e.instance}:${e.state}`)).eql(['main:up', 'backup:up']);
  });

  it('feedback from a catch (msg.error with msg.endpoint) cools the primary down; with retry the message goes on to the backup', async () => {
    await load([tab, bus(await freePort()), announce('a1', 'main', 100), announce('a2', 'backup', 50), lookup({ retry: true }), ...sinks], {}, nodes);
    const first = await untilFound('main');
    const retried = await ask({ ...first, error: { message: 'connect ECONNREFUSED' } });
    should((retried.found?.endpoint as { instance: string }).instance).equal('backup');
    should((retried.found?.registry as { attempts: number }).attempts).equal(2);
    should(retried.found?.error).be.undefined();
    should((await ask()).found?.url).equal(`${serviceUrl}/backup`);
    // The backup fails too: nothing left, so the feedback ends there and a lookup answers "none".
    node('lookup').receive({ registry: { failed: `${serviceUrl}/backup` } });
    const none = await ask();
    should((none.none?.reject as { reasons: Array<{ rule: string }> }).reasons[0]?.rule).equal('no-endpoint');
    should((none.none?.error as { message: string }).message).match(/no healthy endpoint of service pricing/);
  });

  it('takes the service from msg.service when the node names none, and follows at most 64 such names', async () => {
    await load([tab, bus(await freePort()), announce('a1', 'main', 100), lookup({ service: '' }), ...sinks], {}, nodes);
    const found = await waitFor(async () => (await ask({ service: 'pricing' })).found, { timeoutMs: 8_000, intervalMs: 100, message: 'pricing via msg.service' });
    should(found.url).equal(`${serviceUrl}/main`);
    const none = new Inbox(node('none'));
    for (let i = 0; i < 63; i++) node('lookup').receive({ service: `svc-${i}` });
    await none.count(63, 8_000);
    const refused = await ask({ service: 'one-too-many' });
    should((refused.none?.reject as { reasons: Array<{ rule: string }> }).reasons[0]?.rule).equal('too-many');
  });

  it('with the second output unwired, no endpoint is an error a catch node sees', async () => {
    const flow = [tab, bus(await freePort()), lookup({ service: 'nothing', wires: [['found']] }), { id: 'catch', type: 'catch', z: 'f1', x: 100, y: 200, scope: null, uncaught: false, wires: [['caught']] }, { id: 'caught', type: 'helper', z: 'f1' }, ...sinks];
    await load(flow, {}, nodes);
    const caught = new Inbox(node('caught'));
    node('lookup').receive({ payload: 1 });
    const msg = await caught.next(() => true, 8_000);
    should((msg.error as { message: string }).message).match(/no healthy endpoint of service nothing/);
  });

  it('a failing health check withdraws the entry while the site stays up; recovery announces it again', async () => {
    healthy = true;
    const checked = announce('a1', 'main', 100, { healthUrl: `${serviceUrl}/health`, healthUrlType: 'str', healthInterval: '1', healthTimeout: '0.5', healthFailures: '1' });
    await load([tab, bus(await freePort()), checked, announce('a2', 'backup', 50), lookup(), ...sinks], {}, nodes);
    await untilFound('main');
    healthy = false;
    await untilFound('backup');
    healthy = true;
    await untilFound('main');
  });

  it('a closed registry-announce clears its entry', async () => {
    await load([tab, bus(await freePort()), announce('a1', 'main', 100), announce('a2', 'backup', 50), lookup(), ...sinks], {}, nodes);
    await untilFound('main');
    await (node('a1') as HelperNode & { close(removed: boolean): Promise<void> }).close(true);
    await untilFound('backup');
  });
});
