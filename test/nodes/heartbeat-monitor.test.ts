// heartbeat-monitor inside Node-RED: on a real embedded bus, a simulated site
// (an MQTT.js client with a will, as a site's tectonic-bus) goes offline and
// comes back; the alerts leave on the output and on tectonic/alerts/{site};
// the fleet page, its data and the metrics show the site.
import { join } from 'node:path';
import should from 'should';
import { after, afterEach, before, describe, it } from 'mocha';
import mqtt, { type MqttClient } from 'mqtt';
import type { FleetAlert } from '../../lib/fleet/alert-format';
import type { FleetView } from '../../lib/fleet/monitor-view';
import { freePort, repoRoot, waitFor } from '../support/node-red-process';
import { Inbox, type Msg, calls, helper, load, node, packNodes, startServer, stopServer } from '../support/red-helper';

// The registry the compiled nodes register on (the one GET /tectonic/metrics serves), not a second copy from the sources.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { metricsRegistry } = require(join(repoRoot, 'dist', 'lib', 'metrics', 'registry.js')) as typeof import('../../lib/metrics/registry');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const monitorNode = require(join(repoRoot, 'dist', 'nodes', 'heartbeat-monitor.js')) as unknown;

describe('heartbeat-monitor node', function () {
  this.timeout(20_000);
  before(startServer);
  // Every client a test opens is ended here too, so a failing test leaves no socket holding mocha open.
  const clients: MqttClient[] = [];
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.endAsync(true).catch(() => undefined)));
    await helper.unload();
  });
  after(stopServer);

  const tab: Msg = { id: 'f1', type: 'tab', label: 'centre' };
  const bus = (port: number): Msg => ({ id: 'bus', type: 'tectonic-bus', z: '', mode: 'embedded', host: '127.0.0.1', port: String(port), persistence: 'memory', session: 'clean' });
  const monitor = (extra: Msg = {}): Msg => ({ id: 'mon', type: 'heartbeat-monitor', z: 'f1', bus: 'bus', checkPeriod: '0.2', missingAfter: '3', defaultInterval: '1', wires: [['out']], ...extra });
  const out: Msg = { id: 'out', type: 'helper', z: 'f1' };

  /** The monitor's bus connected (so its embedded broker listens); probing the port instead could take it from the broker. */
  function busConnected(): Promise<boolean> {
    return waitFor(() => (helper.getNode('bus') as unknown as { bus: { state: { kind: string } } }).bus.state.kind === 'connected', { timeoutMs: 10_000, message: 'the bus connected' });
  }

  async function site(port: number, id: string): Promise<MqttClient> {
    const will = { topic: `tectonic/health/${id}/state`, payload: Buffer.from(JSON.stringify({ state: 'offline', session: 1, since: new Date().toISOString(), reason: 'connection-lost' })), qos: 1 as const, retain: true };
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { clientId: `site-${id}`, protocolVersion: 4, reconnectPeriod: 0, will });
    clients.push(client);
    await client.publishAsync(`tectonic/health/${id}/state`, JSON.stringify({ state: 'online', session: 1, since: new Date().toISOString() }), { qos: 1, retain: true });
    return client;
  }

  it('a site whose connection drops: offline on the output and on tectonic/alerts/{site}; back online: recovered', async () => {
    const port = await freePort();
    await load([tab, bus(port), monitor(), out], {}, [...packNodes, monitorNode]);
    const inbox = new Inbox(node('out'));
    await busConnected();
    const observer = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { clientId: 'observer', protocolVersion: 4 });
    clients.push(observer);
    const told: FleetAlert[] = [];
    observer.on('message', (_topic, payload) => told.push(JSON.parse(payload.toString()) as FleetAlert));
    await observer.subscribeAsync('tectonic/alerts/fra', { qos: 1 });
    let fra = await site(port, 'fra');
    await new Promise((r) => setTimeout(r, 200));
    fra.stream.destroy();
    const offline = await inbox.next((m) => (m.payload as FleetAlert).kind === 'offline');
    should(offline.topic).equal('tectonic/alerts/fra');
    should((offline.payload as FleetAlert).severity).equal('critical');
    fra = await site(port, 'fra');
    await inbox.next((m) => (m.payload as FleetAlert).kind === 'recovered' && (m.payload as FleetAlert).of === 'offline');
    await waitFor(() => told.length >= 2, { timeoutMs: 5000, message: 'the alerts on tectonic/alerts/fra' });
    should(told.map((a) => a.kind)).containDeep(['offline', 'recovered']);

    const data = await helper.request().get('/tectonic/fleet/data');
    const view = data.body as FleetView;
    should(view.sites.map((s) => s.site)).eql(['fra']);
    should(view.sites[0]?.state).equal('online');
    const metrics = await metricsRegistry.metrics();
    should(metrics).match(/tectonic_fleet_site_up\{site="fra"\} 1/);
    should(metrics).match(/tectonic_fleet_site_health_score\{site="fra"\} 100/);
    await fra.endAsync();
    await observer.endAsync();
  });

  it('an expected site never seen is reported missing', async () => {
    const port = await freePort();
    await load([tab, bus(port), monitor({ expected: 'ghost' }), out], {}, [...packNodes, monitorNode]);
    const inbox = new Inbox(node('out'));
    const missing = await inbox.next((m) => (m.payload as FleetAlert).kind === 'missing', 8000);
    should((missing.payload as FleetAlert).site).equal('ghost');
    should((missing.payload as FleetAlert).reason).match(/never heard/);
  });

  it('serves the fleet page shell; a malformed heartbeat is refused with a warning, the node keeps going', async () => {
    const port = await freePort();
    await load([tab, bus(port), monitor(), out], {}, [...packNodes, monitorNode]);
    const warnings = calls(node('mon'), 'warn');
    const page = await helper.request().get('/tectonic/fleet');
    should(page.status).equal(200);
    await busConnected();
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { clientId: 'bad-site', protocolVersion: 4 });
    clients.push(client);
    await client.publishAsync('tectonic/health/bad/heartbeat', '{"format":1,"site":"bad"', { qos: 1 });
    await waitFor(() => warnings.length > 0, { timeoutMs: 5000, message: 'a warning' });
    should(String(warnings[0]?.args[0])).match(/refused a message on tectonic\/health\/bad\/heartbeat/);
    await client.publishAsync('tectonic/health/ok/state', JSON.stringify({ state: 'online', session: 1, since: new Date().toISOString() }), { qos: 1 });
    await waitFor(async () => ((await helper.request().get('/tectonic/fleet/data')).body as FleetView).sites.some((s) => s.site === 'ok'), { timeoutMs: 5000, message: 'the next site' });
    await client.endAsync();
  });

  it('with the centre\'s catalog: a site on another catalog lags, a site publishing a sun-setting version is warned', async () => {
    const port = await freePort();
    const catalog: Msg = { id: 'cat', type: 'cdm-catalog', z: '', source: 'bundled', policy: 'STRICT' };
    await load([tab, bus(port), catalog, monitor({ catalog: 'cat', sunsetWarnDays: '3650' }), out], {}, [...packNodes, monitorNode]);
    const inbox = new Inbox(node('out'));
    await busConnected();
    await waitFor(async () => ((await helper.request().get('/tectonic/fleet/data')).body as FleetView).current.catalog !== undefined, { timeoutMs: 10_000, message: 'the catalog in force' });
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { clientId: 'old-site', protocolVersion: 4 });
    clients.push(client);
    const beat = {
      format: 1, site: 'old', session: 1, seq: 0, sentAt: new Date().toISOString(), intervalMs: 1000, uptimeSeconds: 1, stages: {}, outboxDepth: 0,
      versions: { pack: '0.1.0', nodeRed: '4.1.15', node: process.version, catalog: 'sha256:00000000' }, cdmPublished: ['shipment@1.0.0'], flows: { fingerprint: 'x' },
    };
    await client.publishAsync('tectonic/health/old/heartbeat', JSON.stringify(beat), { qos: 1 });
    const lag = await inbox.next((m) => (m.payload as FleetAlert).kind === 'version-lag');
    should((lag.payload as FleetAlert).reason).match(/catalog sha256:00000000, current sha256:[0-9a-f]{64}/);
    const sunset = await inbox.next((m) => (m.payload as FleetAlert).kind === 'sunset');
    should((sunset.payload as FleetAlert).reason).match(/shipment@1\.0\.0, sunset 2027-06-30/);
  });

  it('bad settings: a red status and one error, no subscription', async () => {
    const port = await freePort();
    await load([tab, bus(port), monitor({ checkPeriod: 'soon' }), out], {}, [...packNodes, monitorNode]);
    const mon = node('mon');
    should(mon.id).equal('mon');
    await new Promise((r) => setTimeout(r, 100));
    should((helper.getNode('bus') as unknown as { bus: { userCount: number } }).bus.userCount).equal(0);
    const logged = helper.log().args.map(([e]) => e).filter((e) => e.type === 'heartbeat-monitor' && e.level === 20);
    should(logged.length).equal(1);
    should(String(logged[0]?.msg)).match(/checkPeriod: "soon" must be a number/);
  });
});
