// bus-bridge inside Node-RED (node-red-node-test-helper), between two
// embedded brokers: records and retained health go up with their bytes and
// topic, the catalog comes down retained, an alert only for a served site,
// the hub's sites list is retained on the global bus, nothing loops, and bad
// settings are refused with the reason.
import should from 'should';
import { join } from 'node:path';
import { afterEach, after, before, describe, it } from 'mocha';
import mqtt, { type MqttClient } from 'mqtt';
import { freePort, repoRoot, waitFor } from '../support/node-red-process';
import { type Msg, catchNode, helper, load, logged, packNodes, startServer, stopServer } from '../support/red-helper';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const bridgeNode = require(join(repoRoot, 'dist', 'nodes', 'bus-bridge.js')) as unknown;
const nodes = [...packNodes, catchNode, bridgeNode];

interface Seen { topic: string; payload: string; retain: boolean }

async function watcher(port: number, filters: string[]): Promise<{ client: MqttClient; seen: Seen[] }> {
  // The embedded brokers start with the flow, a moment after load().
  const client = await waitFor(() => mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { clientId: `w_${port}_${Date.now()}`, clean: true, reconnectPeriod: 0 }).catch(() => undefined), { timeoutMs: 5_000, intervalMs: 100, message: `a broker on ${port}` });
  const seen: Seen[] = [];
  client.on('message', (topic, payload, packet) => seen.push({ topic, payload: payload.toString(), retain: packet.retain }));
  await client.subscribeAsync(filters, { qos: 1 });
  return { client, seen };
}

describe('bus-bridge', function () {
  this.timeout(20_000);
  const clients: MqttClient[] = [];
  before(startServer);
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.endAsync(true)));
    await helper.unload();
  });
  after(stopServer);

  const tab: Msg = { id: 'f1', type: 'tab', label: 'hub' };
  const bus = (id: string, port: number, siteId = ''): Msg => ({ id, type: 'tectonic-bus', z: '', mode: 'embedded', host: '127.0.0.1', port: String(port), siteId, session: 'persistent', clientId: `${id}-hub` });
  const bridge = (extra: Msg = {}): Msg => ({ id: 'bridge', type: 'bus-bridge', z: 'f1', regionalBus: 'regional', globalBus: 'global', hubId: 'hub-n', hubIdType: 'str', sites: 'fra,muc', sitesType: 'str', ...extra });

  async function twoBuses(extra: Msg = {}): Promise<{ regional: number; global: number }> {
    const ports = { regional: await freePort(), global: await freePort() };
    await load([tab, bus('regional', ports.regional), bus('global', ports.global, 'hub-n'), bridge(extra)], {}, nodes);
    return ports;
  }

  it('carries records and health up unchanged, the catalog and served alerts down, and announces its sites', async () => {
    const ports = await twoBuses();
    const centre = await watcher(ports.global, ['cdm/#', 'tectonic/health/#', 'tectonic/alerts/#']);
    const site = await watcher(ports.regional, ['tectonic/cdm/#', 'tectonic/alerts/#', 'cdm/#']);
    clients.push(centre.client, site.client);
    // The hub's sites, retained next to its own state.
    await waitFor(() => centre.seen.find((m) => m.topic === 'tectonic/health/hub-n/sites'), { timeoutMs: 5_000, message: 'the sites list' });
    should(JSON.parse(centre.seen.find((m) => m.topic === 'tectonic/health/hub-n/sites')?.payload ?? '{}')).eql({ hub: 'hub-n', sites: ['fra', 'muc'] });
    await waitFor(async () => {
      // Until the bridge's subscriptions are in place, a record may be published before them: send until one crosses.
      await site.client.publishAsync('cdm/shipment/v1/fra', '{"id":"probe"}', { qos: 1 });
      return centre.seen.some((m) => m.topic === 'cdm/shipment/v1/fra');
    }, { timeoutMs: 8_000, intervalMs: 200, message: 'the first record across' });
    const event = JSON.stringify({ specversion: '1.0', id: 'evt-1', source: 'site/fra', type: 'x', data: { a: 1 } });
    await site.client.publishAsync('cdm/shipment/v1/fra', event, { qos: 1 });
    await site.client.publishAsync('cdm/shipment/v1/ber', event, { qos: 1 });
    await site.client.publishAsync('tectonic/health/fra/state', '{"state":"offline","session":3}', { qos: 1, retain: true });
    await waitFor(() => centre.seen.find((m) => m.topic === 'tectonic/health/fra/state'), { timeoutMs: 5_000, message: 'the state up' });
    await waitFor(() => centre.seen.find((m) => m.payload === event), { timeoutMs: 5_000, message: 'the record up' });
    // Retained on the global bus: a late reader gets it.
    const late = await watcher(ports.global, ['tectonic/health/fra/state']);
    clients.push(late.client);
    const retained = await waitFor(() => late.seen[0], { timeoutMs: 5_000, message: 'the retained state' });
    should(retained).eql({ topic: 'tectonic/health/fra/state', payload: '{"state":"offline","session":3}', retain: true });

    await centre.client.publishAsync('tectonic/cdm/shipment/1.0.0', '{"schema":1}', { qos: 1, retain: true });
    await centre.client.publishAsync('tectonic/alerts/muc', '{"alert":"a"}', { qos: 1 });
    await centre.client.publishAsync('tectonic/alerts/ber', '{"alert":"b"}', { qos: 1 });
    await waitFor(() => site.seen.find((m) => m.topic === 'tectonic/cdm/shipment/1.0.0'), { timeoutMs: 5_000, message: 'the catalog down' });
    await waitFor(() => site.seen.find((m) => m.topic === 'tectonic/alerts/muc'), { timeoutMs: 5_000, message: 'the alert down' });
    const lateSite = await watcher(ports.regional, ['tectonic/cdm/#']);
    clients.push(lateSite.client);
    should(await waitFor(() => lateSite.seen[0], { timeoutMs: 5_000, message: 'the retained catalog' })).eql({ topic: 'tectonic/cdm/shipment/1.0.0', payload: '{"schema":1}', retain: true });

    await new Promise((resolve) => setTimeout(resolve, 300));
    should(centre.seen.filter((m) => m.topic === 'cdm/shipment/v1/ber')).have.length(0);
    should(site.seen.filter((m) => m.topic === 'tectonic/alerts/ber')).have.length(0);
    // No loop: the record went up once, nothing of the centre's came back up, no record came down.
    should(centre.seen.filter((m) => m.payload === event)).have.length(1);
    should(centre.seen.filter((m) => m.topic === 'tectonic/alerts/muc')).have.length(1);
    should(site.seen.filter((m) => m.topic === 'cdm/shipment/v1/fra' && m.payload === event)).have.length(1);
  });

  const refusals: Array<[string, Msg, RegExp]> = [
    ['a wildcard among the sites', { sites: 'fra,+' }, /"\+" is not a site id/],
    ['the hub among its own sites', { sites: 'fra,hub-n' }, /the hub's own id/],
    ['a hub id other than the global bus\'s site id', { hubId: 'hub-s' }, /announces site "hub-n"/],
    ['the same bus on both sides', { regionalBus: 'global' }, /the same tectonic-bus/],
  ];
  for (const [name, extra, message] of refusals) {
    it(`refuses ${name}`, async () => {
      await twoBuses(extra);
      const found = await waitFor(() => logged('bus-bridge', 20).find((line) => message.test(line)), { timeoutMs: 3_000, message: 'the refusal' });
      should(found).match(/^bus-bridge: /);
    });
  }
});
