// The centre's heartbeat-monitor in a real Node-RED process on a real broker
// process, watching a real Node-RED site (tectonic-bus with a site id) and
// simulated sites (MQTT.js clients that publish what a site publishes: a
// state with a will, heartbeats in lib/fleet/heartbeat-format.ts's format).
// Every alert is read where a person or a site reads it: on
// tectonic/alerts/{site}. SIGKILL: offline at once; SIGSTOP: within 1.5
// keep-alive intervals plus the monitor's check period (both delays printed);
// a silent site: missing after 3 of its intervals; an expected site never
// seen: missing; a drifted site: drift; a failed canary: canary-failed naming
// the stage; each clears with a recovered alert.
import { after, before, describe, it } from 'mocha';
import assert from 'node:assert/strict';
import mqtt, { type MqttClient } from 'mqtt';
import type { FleetAlert } from '../../lib/fleet/alert-format';
import type { Heartbeat } from '../../lib/fleet/heartbeat-format';
import type { FleetView } from '../../lib/fleet/monitor-view';
import { type BrokerProcess, startBrokerProcess } from '../support/broker-process';
import { type FlowNode, type NodeRedProcess, startNodeRed, waitFor } from '../support/node-red-process';

const KEEPALIVE_S = 2;
const CHECK_S = 0.25;
const BEAT_MS = 300;

interface Seen { at: number; alert: FleetAlert }

/** A site as the wire sees it: a connection with a will, a retained online state, heartbeats on a timer. */
class SimulatedSite {
  seq = 0;
  private timer: NodeJS.Timeout | undefined;
  extra: Partial<Heartbeat> = {};
  constructor(readonly id: string, readonly client: MqttClient) {}

  static async connect(url: string, id: string): Promise<SimulatedSite> {
    const will = { topic: `tectonic/health/${id}/state`, payload: Buffer.from(JSON.stringify({ state: 'offline', session: 1, since: new Date().toISOString(), reason: 'connection-lost' })), qos: 1 as const, retain: true };
    const client = await mqtt.connectAsync(url, { clientId: `sim-${id}`, protocolVersion: 4, reconnectPeriod: 0, will });
    await client.publishAsync(`tectonic/health/${id}/state`, JSON.stringify({ state: 'online', session: 1, since: new Date().toISOString() }), { qos: 1, retain: true });
    return new SimulatedSite(id, client);
  }

  beat(): Promise<void> {
    const hb: Heartbeat = {
      format: 1, site: this.id, session: 1, seq: this.seq++, sentAt: new Date().toISOString(), intervalMs: BEAT_MS, uptimeSeconds: this.seq,
      stages: { publish: { in: this.seq * 5, out: this.seq * 5, rejected: {} } }, outboxDepth: 0,
      versions: { pack: '0.1.0', nodeRed: '4.1.15', node: process.version }, cdmPublished: [],
      flows: { fingerprint: 'a'.repeat(64), template: { name: 'site-agent', version: '1.0.0' } },
      ...this.extra,
    };
    return this.client.publishAsync(`tectonic/health/${this.id}/heartbeat`, JSON.stringify(hb), { qos: 1, retain: true }).then(() => undefined);
  }

  start(): void {
    this.stop();
    this.timer = setInterval(() => void this.beat().catch(() => undefined), BEAT_MS);
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  async end(): Promise<void> {
    this.stop();
    await this.client.endAsync(true);
  }
}

describe('heartbeat-monitor: the fleet\'s alerts from real processes', function () {
  this.timeout(180_000);
  let broker: BrokerProcess;
  let centre: NodeRedProcess;
  let site: NodeRedProcess;
  let observer: MqttClient;
  const sims: SimulatedSite[] = [];
  const seen: Seen[] = [];

  const centreFlows = (url: string): FlowNode[] => [
    { id: 'c-tab', type: 'tab', label: 'centre' },
    { id: 'c-bus', type: 'tectonic-bus', mode: 'external', url, protocolVersion: '4', keepalive: '10', session: 'clean' },
    { id: 'c-mon', type: 'heartbeat-monitor', z: 'c-tab', bus: 'c-bus', expected: 'ghost', checkPeriod: String(CHECK_S), missingAfter: '3', defaultInterval: '1', maxAlerts: '20', alertWindow: '60', alertSites: true, wires: [[]] },
  ];
  const siteFlows = (url: string): FlowNode[] => [
    { id: 's-tab', type: 'tab', label: 'site' },
    { id: 's-bus', type: 'tectonic-bus', mode: 'external', url, protocolVersion: '4', keepalive: String(KEEPALIVE_S), session: 'clean', siteId: '${SITE_ID}' },
    { id: 's-sub', type: 'bus-subscribe', z: 's-tab', bus: 's-bus', entity: 'shipment', versions: '1', site: '', siteType: 'str', group: '', qos: '1', maxBytes: '', wires: [] },
  ];

  function find(site: string, kind: string, of?: string, after = 0): Seen | undefined {
    return seen.find((s) => s.at >= after && s.alert.site === site && s.alert.kind === kind && (of === undefined || s.alert.of === of));
  }
  function alertFor(site: string, kind: string, options: { of?: string; after?: number; timeoutMs?: number } = {}): Promise<Seen> {
    return waitFor(() => find(site, kind, options.of, options.after ?? 0), { timeoutMs: options.timeoutMs ?? 15_000, intervalMs: 10, message: `${kind}${options.of ? ` of ${options.of}` : ''} for ${site}` });
  }

  before(async () => {
    broker = await startBrokerProcess({ persistence: 'memory' });
    observer = await mqtt.connectAsync(broker.url, { clientId: 'fleet-observer', protocolVersion: 4 });
    observer.on('message', (_topic, payload) => seen.push({ at: Date.now(), alert: JSON.parse(payload.toString()) as FleetAlert }));
    await observer.subscribeAsync('tectonic/alerts/#', { qos: 1 });
    centre = await startNodeRed({ flows: centreFlows(broker.url) });
    site = await startNodeRed({ flows: siteFlows(broker.url), env: { SITE_ID: 'site-nr' } });
  });

  after(async () => {
    for (const sim of sims) await sim.end().catch(() => undefined);
    if (site !== undefined) {
      try { process.kill(site.pid, 'SIGCONT'); } catch { /* not running */ }
      await site.stop();
    }
    await centre?.stop();
    await observer?.endAsync(true);
    await broker?.stop();
  });

  it('an expected site never seen is reported missing; recovered when it appears', async () => {
    const missing = await alertFor('ghost', 'missing');
    assert.match(missing.alert.reason, /never heard/);
    const ghost = await SimulatedSite.connect(broker.url, 'ghost');
    sims.push(ghost);
    await alertFor('ghost', 'recovered', { of: 'missing' });
  });

  it('SIGKILL of a site\'s Node-RED: offline at once; back: recovered (and a restart)', async () => {
    await waitFor(async () => ((await (await centre.api('/tectonic/fleet/data')).json()) as FleetView).sites.some((s) => s.site === 'site-nr' && s.state === 'online'), { timeoutMs: 30_000, message: 'site-nr online at the centre' });
    const killedAt = Date.now();
    await site.kill();
    const offline = await alertFor('site-nr', 'offline', { after: killedAt, timeoutMs: 10_000 });
    const delay = offline.at - killedAt;
    console.log(`      offline alert after SIGKILL: ${delay} ms`);
    assert.equal(offline.alert.severity, 'critical');
    assert.ok(delay < 2_000, `the offline alert took ${delay} ms after a SIGKILL`);
    const restartedAt = Date.now();
    await site.restart();
    await alertFor('site-nr', 'recovered', { of: 'offline', after: restartedAt, timeoutMs: 30_000 });
    await alertFor('site-nr', 'restart', { after: restartedAt });
  });

  it('SIGSTOP: offline within 1.5 keep-alive intervals plus the check period; SIGCONT: recovered', async () => {
    const stoppedAt = Date.now();
    process.kill(site.pid, 'SIGSTOP');
    let delay: number;
    try {
      const offline = await alertFor('site-nr', 'offline', { after: stoppedAt, timeoutMs: 15_000 });
      delay = offline.at - stoppedAt;
    } finally {
      process.kill(site.pid, 'SIGCONT');
    }
    const bound = 1.5 * KEEPALIVE_S * 1000 + CHECK_S * 1000;
    console.log(`      offline alert after SIGSTOP: ${delay} ms (keep-alive ${KEEPALIVE_S} s, check period ${CHECK_S * 1000} ms, bound ${bound} ms + 1 s slack)`);
    assert.ok(delay <= bound + 1_000, `the offline alert took ${delay} ms after a SIGSTOP`);
    await alertFor('site-nr', 'recovered', { of: 'offline', after: stoppedAt, timeoutMs: 30_000 });
  });

  it('a silent site (connected, no more beats) is missing after 3 intervals plus the check period; beats again: recovered', async () => {
    const quiet = await SimulatedSite.connect(broker.url, 'quiet');
    sims.push(quiet);
    quiet.start();
    await waitFor(() => quiet.seq > 3, { timeoutMs: 5_000, message: 'a few beats' });
    quiet.stop();
    const stoppedAt = Date.now();
    const missing = await alertFor('quiet', 'missing', { after: stoppedAt });
    const delay = missing.at - stoppedAt;
    console.log(`      missing alert after the last beat: ${delay} ms (threshold ${3 * BEAT_MS} ms, check period ${CHECK_S * 1000} ms)`);
    assert.ok(delay >= 3 * BEAT_MS - BEAT_MS, `missing came too early: ${delay} ms`);
    assert.ok(delay <= 3 * BEAT_MS + CHECK_S * 1000 + 1_000, `missing came too late: ${delay} ms`);
    assert.equal(find('quiet', 'offline'), undefined, 'the connection stayed up: no offline');
    quiet.start();
    await alertFor('quiet', 'recovered', { of: 'missing', after: stoppedAt });
    quiet.stop();
  });

  it('a site whose flows fingerprint differs from its template\'s: drift; fixed: recovered', async () => {
    const drifter = await SimulatedSite.connect(broker.url, 'drifter');
    sims.push(drifter);
    await observer.publishAsync('tectonic/templates/site-agent', JSON.stringify({ name: 'site-agent', version: '1.0.0', fingerprint: 'b'.repeat(64) }), { qos: 1, retain: true });
    await drifter.beat();
    const drift = await alertFor('drifter', 'drift');
    assert.match(drift.alert.reason, /site-agent@1.0.0/);
    drifter.extra = { flows: { fingerprint: 'b'.repeat(64), template: { name: 'site-agent', version: '1.0.0' } } };
    await drifter.beat();
    await alertFor('drifter', 'recovered', { of: 'drift' });
  });

  it('a failed synthetic transaction: canary-failed naming the stage; passing again: recovered', async () => {
    const broken = await SimulatedSite.connect(broker.url, 'broken');
    sims.push(broken);
    broken.extra = { canary: { ok: false, at: new Date().toISOString(), nonce: 'n-1', stage: 'validate', reason: 'no schema for shipment@9.9.9' } };
    await broken.beat();
    const failed = await alertFor('broken', 'canary-failed');
    assert.equal(failed.alert.details?.stage, 'validate');
    assert.match(failed.alert.reason, /stage validate: no schema for shipment@9.9.9/);
    broken.extra = { canary: { ok: true, at: new Date().toISOString(), nonce: 'n-2', latencyMs: 35, stagesMs: { validate: 3 } } };
    await broken.beat();
    await alertFor('broken', 'recovered', { of: 'canary-failed' });
    const view = (await (await centre.api('/tectonic/fleet/data')).json()) as FleetView;
    assert.equal(view.sites.find((s) => s.site === 'broken')?.canary?.ok, true);
  });
});
