// The regional hub of issue 21. Two broker processes (the pack's embedded
// aedes, disk persistence): a regional bus and a global one. Two sites, each
// a process with the pack's own bus connection (SharedBus with its birth and
// will) publishing structured CloudEvents on the regional bus; the hub, a
// Node-RED process whose bus-bridge joins the two buses; a central
// subscriber on the global bus (raw MQTT.js, persistent session) collecting
// envelope ids. The hub is SIGKILLed mid-run and restarted: no record may be
// lost, and after dropping copies by envelope id (as the centre's
// bus-subscribe does) each is there once. A site SIGKILLed behind the hub
// reaches the centre as offline; the hub's own death shows on its state
// topic, its sites list still retained. Prints
//   sent N, received R, unique U, lost L, duplicates D
import { after, before, describe, it } from 'mocha';
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { type BrokerProcess, startBrokerProcess } from '../support/broker-process';
import { type FlowNode, type NodeRedProcess, delay, freePort, repoRoot, startNodeRed, tempDir, waitFor } from '../support/node-red-process';
import { parseSiteState, type SiteState } from '../../lib/fleet/site-state';

const HUB = 'hub-north';
const SITES = ['site-ra', 'site-rb'];
const RECORDS_PER_SITE = 400;
const INTERVAL_MS = 10;
/** The hub is killed once the centre has this many records: mid-run. */
const KILL_AFTER = 150;
const HUB_DOWN_MS = 1_000;
const DRAIN_BOUND_MS = 90_000;

// A site: the pack's SharedBus with a site id (birth on connect, will offline),
// records as the pack encodes them. Prints `sent <id>` per acknowledged record.
const SITE_SCRIPT = `
const dist = ${JSON.stringify(join(repoRoot, 'dist', 'lib'))};
const { SharedBus } = require(dist + '/bus/shared-bus.js');
const { resolveBusSettings } = require(dist + '/bus/bus-settings.js');
const { BirthAndDeath } = require(dist + '/fleet/birth-death.js');
const { SessionCounter } = require(dist + '/fleet/session-counter.js');
const { newEnvelope } = require(dist + '/envelope/new-envelope.js');
const { encodeMessage } = require(dist + '/envelope/cloudevents.js');
const { canonicalTopic } = require(dist + '/envelope/topics.js');
const [url, site, count, intervalMs, dir] = process.argv.slice(1); // node -e: the arguments start at argv[1]
const settings = resolveBusSettings({ mode: 'external', url, protocolVersion: '4', clientId: 'c-' + site, keepalive: '2', session: 'persistent' });
if (!settings.ok) throw new Error(JSON.stringify(settings.reasons));
const bus = new SharedBus({ settings: settings.value, health: new BirthAndDeath(site, new SessionCounter(dir + '/' + site + '.session')) });
bus.register('site');
(async () => {
  for (let i = 0; i < Number(count); i++) {
    const envelope = newEnvelope({ entity: 'shipment', version: '1.0.0', site, source: 'urn:tectonic:' + site });
    const wire = encodeMessage(envelope, { shipmentId: site + '-' + i }, 'structured');
    await bus.publish(canonicalTopic(envelope), wire.value.payload, { qos: 1 });
    process.stdout.write('sent ' + envelope.id + '\\n');
    await new Promise((resolve) => setTimeout(resolve, Number(intervalMs)));
  }
  process.stdout.write('done\\n');
})();
setInterval(() => undefined, 60000);
`;

interface Site { name: string; child: ChildProcess; sent: string[]; done: boolean }

function hubFlow(regionalUrl: string, globalUrl: string): FlowNode[] {
  return [
    { id: 'hub-tab', type: 'tab', label: 'regional hub' },
    { id: 'hub-rb', type: 'tectonic-bus', name: 'regional', mode: 'external', url: regionalUrl, protocolVersion: '4', clientId: 'hub-north-regional', keepalive: '2', session: 'persistent', siteId: '' },
    { id: 'hub-gb', type: 'tectonic-bus', name: 'global', mode: 'external', url: globalUrl, protocolVersion: '4', clientId: 'hub-north-global', keepalive: '2', session: 'persistent', siteId: '${HUB_ID}' },
    { id: 'hub-bridge', type: 'bus-bridge', z: 'hub-tab', regionalBus: 'hub-rb', globalBus: 'hub-gb', hubId: 'HUB_ID', hubIdType: 'env', sites: 'HUB_SITES', sitesType: 'env' },
  ];
}

describe('regional hub: two sites behind a bus-bridge, the centre on the global bus', function () {
  this.timeout(240_000);
  let regional: BrokerProcess;
  let global: BrokerProcess;
  let hub: NodeRedProcess;
  let centre: MqttClient;
  let scratch: { path: string; remove(): Promise<void> };
  const sites: Site[] = [];
  /** Envelope ids in arrival order, with the site of the topic they came on. */
  const received: Array<{ id: string; topicSite: string; source: string }> = [];
  const states = new Map<string, Array<{ at: number; state: SiteState }>>();
  const sitesLists: string[] = [];

  function startSite(name: string): Site {
    const child = spawn(process.execPath, ['-e', SITE_SCRIPT, regional.url, name, String(RECORDS_PER_SITE), String(INTERVAL_MS), scratch.path], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'] });
    const site: Site = { name, child, sent: [], done: false };
    let rest = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      const lines = (rest + chunk.toString()).split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) {
        if (line.startsWith('sent ')) site.sent.push(line.slice(5));
        else if (line === 'done') site.done = true;
      }
    });
    sites.push(site);
    return site;
  }

  const stateOf = (site: string): Array<{ at: number; state: SiteState }> => states.get(site) ?? [];

  before(async () => {
    scratch = await tempDir('tectonic-hub-');
    [regional, global] = await Promise.all([startBrokerProcess({ persistence: 'disk' }), startBrokerProcess({ persistence: 'disk' })]);
    centre = mqtt.connect(global.url, { clientId: 'centre-e2e', clean: false, reconnectPeriod: 200 });
    centre.on('message', (topic, payload) => {
      const parts = topic.split('/');
      if (parts[0] === 'cdm') {
        const event = JSON.parse(payload.toString()) as { id: string; source: string };
        received.push({ id: event.id, topicSite: parts[3] as string, source: event.source });
      } else if (parts[3] === 'state') {
        const parsed = parseSiteState(payload);
        if (parsed.ok) states.set(parts[2] as string, [...stateOf(parts[2] as string), { at: Date.now(), state: parsed.value }]);
      } else if (parts[3] === 'sites') {
        sitesLists.push(payload.toString());
      }
    });
    await new Promise<void>((resolve, reject) => centre.once('connect', () => centre.subscribe(['cdm/+/+/+', 'tectonic/health/+/state', 'tectonic/health/+/sites'], { qos: 1 }, (err) => (err ? reject(err) : resolve()))));
    hub = await startNodeRed({ flows: hubFlow(regional.url, global.url), env: { HUB_ID: HUB, HUB_SITES: SITES.join(',') } });
  });

  after(async () => {
    for (const site of sites) if (site.child.exitCode === null && site.child.signalCode === null && site.child.pid !== undefined) process.kill(site.child.pid, 'SIGKILL');
    await hub?.stop();
    await new Promise<void>((resolve) => (centre ? centre.end(true, {}, () => resolve()) : resolve()));
    await Promise.all([regional?.stop(), global?.stop()]);
    await scratch?.remove();
  });

  it("announces the hub online on the global bus with its sites list, retained", async () => {
    await waitFor(() => stateOf(HUB).some((s) => s.state.state === 'online'), { timeoutMs: 30_000, message: 'the hub online' });
    const list = await waitFor(() => sitesLists[0], { timeoutMs: 10_000, message: 'the sites list' });
    assert.deepEqual(JSON.parse(list), { hub: HUB, sites: SITES });
  });

  it('every record of both sites reaches the centre, across a SIGKILL and restart of the hub: none lost, each once after dedup by id', async () => {
    for (const name of SITES) startSite(name);
    // Each site's birth crosses the hub like its records (retained, so even one published before the hub subscribed).
    await waitFor(() => SITES.every((name) => stateOf(name).some((s) => s.state.state === 'online')), { timeoutMs: 15_000, message: 'both sites online at the centre' }).catch((err: Error) => {
      throw new Error(`${err.message}; states seen: ${JSON.stringify([...states.entries()])}; records received: ${received.length}`);
    });
    await waitFor(() => received.length >= KILL_AFTER, { timeoutMs: 30_000, message: `${KILL_AFTER} records at the centre` });
    const hubStatesBefore = stateOf(HUB).length;
    await hub.kill();
    const killedAt = Date.now();

    // The hub's death: its will on the global bus, its sites list still there for a monitor.
    const death = await waitFor(() => stateOf(HUB)[hubStatesBefore], { timeoutMs: 10_000, message: "the hub's death" });
    assert.deepEqual({ state: death.state.state, reason: death.state.reason }, { state: 'offline', reason: 'connection-lost' });
    console.log(`      hub offline at the centre ${death.at - killedAt} ms after its SIGKILL`);
    const late = await mqtt.connectAsync(global.url, { clientId: 'centre-late', clean: true });
    try {
      const retained = new Map<string, string>();
      late.on('message', (topic, payload) => retained.set(topic, payload.toString()));
      await late.subscribeAsync([`tectonic/health/${HUB}/state`, `tectonic/health/${HUB}/sites`], { qos: 1 });
      await waitFor(() => retained.size === 2, { timeoutMs: 5_000, message: "the hub's retained state and sites" });
      assert.equal((JSON.parse(retained.get(`tectonic/health/${HUB}/state`) ?? '{}') as SiteState).state, 'offline');
      assert.deepEqual(JSON.parse(retained.get(`tectonic/health/${HUB}/sites`) ?? '{}'), { hub: HUB, sites: SITES });
    } finally {
      await late.endAsync();
    }

    await delay(HUB_DOWN_MS);
    const receivedWhileDown = received.length;
    await hub.restart();
    await waitFor(() => sites.every((s) => s.done), { timeoutMs: 60_000, message: 'the sites done sending' });
    const sent = new Set(sites.flatMap((s) => s.sent));
    assert.equal(sent.size, RECORDS_PER_SITE * SITES.length);
    const uniqueNow = (): number => new Set(received.map((r) => r.id)).size;
    await waitFor(() => uniqueNow() >= sent.size, { timeoutMs: DRAIN_BOUND_MS, intervalMs: 100, message: `all ${sent.size} records at the centre` }).catch(() => undefined);
    // Copies still in flight land within a moment; let them, so the count is complete.
    await delay(1_000);

    const unique = new Set(received.map((r) => r.id));
    const lost = [...sent].filter((id) => !unique.has(id));
    const duplicates = received.length - unique.size;
    console.log(`      sent ${sent.size}, received ${received.length}, unique ${unique.size}, lost ${lost.length}, duplicates ${duplicates} (received before the kill's restart: ${receivedWhileDown})`);
    assert.deepEqual(lost, [], `lost ${lost.length} records across the hub's restart`);
    assert.equal(unique.size, sent.size, 'the centre received ids no site sent');
    // Records keep their site: the topic's site is the one whose source it names.
    for (const record of received) assert.equal(record.source, `urn:tectonic:${record.topicSite}`);
  });

  it("a site's SIGKILL behind the hub reaches the centre as its offline state", async () => {
    const site = sites.find((s) => s.name === SITES[0]);
    assert.ok(site?.child.pid !== undefined);
    await waitFor(() => stateOf(site.name).some((s) => s.state.state === 'online'), { timeoutMs: 10_000, message: `${site.name} online at the centre` }).catch((err: Error) => {
      throw new Error(`${err.message}; states seen: ${JSON.stringify([...states.entries()])}; site exit: ${String(site.child.exitCode ?? site.child.signalCode)}`);
    });
    const before = stateOf(site.name).length;
    const killedAt = Date.now();
    process.kill(site.child.pid, 'SIGKILL');
    const death = await waitFor(() => stateOf(site.name).slice(before).find((s) => s.state.state === 'offline'), { timeoutMs: 10_000, message: `${site.name} offline at the centre` });
    console.log(`      ${site.name} offline at the centre ${death.at - killedAt} ms after its SIGKILL`);
    assert.equal(death.state.reason, 'connection-lost');
    // The other site is still online there.
    const other = stateOf(SITES[1] as string);
    assert.equal(other[other.length - 1]?.state.state, 'online');
  });
});

describe('examples/12 Regional hub.json, imported as it is', function () {
  this.timeout(120_000);
  let nodeRed: NodeRedProcess;
  let observer: MqttClient | undefined;

  after(async () => {
    await observer?.endAsync(true);
    await nodeRed?.stop();
  });

  it("deploys without an error; both sites' records reach the global bus through the hub, the centre reads them, the hub announces its sites", async () => {
    const flows = JSON.parse(await readFile(join(repoRoot, 'examples', '12 Regional hub.json'), 'utf8')) as FlowNode[];
    const [globalPort, regionalPort] = [await freePort(), await freePort()];
    nodeRed = await startNodeRed({ flows, env: { TECTONIC_BUS_PORT: String(globalPort), TECTONIC_REGIONAL_BUS_PORT: String(regionalPort) } });
    const seen: Array<{ topic: string; payload: string }> = [];
    observer = await waitFor(() => mqtt.connectAsync(`mqtt://127.0.0.1:${globalPort}`, { clientId: 'ex08-observer', clean: true, reconnectPeriod: 0 }).catch(() => undefined), { timeoutMs: 20_000, intervalMs: 200, message: 'the global bus' });
    observer.on('message', (topic, payload) => seen.push({ topic, payload: payload.toString() }));
    await observer.subscribeAsync(['cdm/#', 'tectonic/health/#'], { qos: 1 });
    for (const site of ['site-ra', 'site-rb']) {
      await waitFor(() => seen.some((m) => m.topic === `cdm/shipment/v1/${site}`), { timeoutMs: 20_000, message: `a record of ${site} on the global bus` });
      await waitFor(() => seen.some((m) => m.topic === `tectonic/health/${site}/state` && m.payload.includes('"online"')), { timeoutMs: 10_000, message: `${site} online on the global bus` });
    }
    const list = seen.find((m) => m.topic === 'tectonic/health/hub-north/sites');
    assert.deepEqual(JSON.parse(list?.payload ?? '{}'), { hub: 'hub-north', sites: ['site-ra', 'site-rb'] });
    assert.ok(seen.some((m) => m.topic === 'tectonic/health/hub-north/state' && m.payload.includes('"online"')), 'the hub online on the global bus');
    // The centre's subscriber (on the global bus) received records, as its stats say.
    const received = await waitFor(async () => {
      const res = await nodeRed.api('/tectonic/stats/ex08-centre');
      const stats = res.ok ? ((await res.json()) as { received?: number }) : {};
      return (stats.received ?? 0) > 0 ? stats.received : undefined;
    }, { timeoutMs: 10_000, intervalMs: 250, message: "the centre's subscriber receiving" });
    console.log(`      the centre's subscriber received ${received} records`);
    assert.doesNotMatch(nodeRed.logs(), /\[error\]/);
  });
});
