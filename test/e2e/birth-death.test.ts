// The site's birth and death belong to its bus connection (tectonic-bus with
// a site id): a real Node-RED process on a real broker process announces
// itself online with a session number kept on disk; SIGKILL closes its socket
// and the broker publishes the will at once; SIGSTOP leaves the socket half
// open, as a power cut or a partition would, and the broker publishes the will
// once the keep-alive runs out (1.5 intervals); a clean stop says so itself.
// Prints the measured delays.
import { after, before, describe, it } from 'mocha';
import assert from 'node:assert/strict';
import mqtt, { type MqttClient } from 'mqtt';
import { type BrokerProcess, startBrokerProcess } from '../support/broker-process';
import { type FlowNode, type NodeRedProcess, startNodeRed, waitFor } from '../support/node-red-process';
import { parseSiteState, type SiteState } from '../../lib/fleet/site-state';

const SITE = 'site-bd';
const KEEPALIVE_S = 2;

describe('tectonic-bus: birth and death of a site', function () {
  this.timeout(120_000);
  let broker: BrokerProcess;
  let site: NodeRedProcess;
  let observer: MqttClient;
  const states: Array<{ at: number; state: SiteState }> = [];

  const flows = (url: string): FlowNode[] => [
    { id: 'bd-tab', type: 'tab', label: 'site' },
    { id: 'bd-bus', type: 'tectonic-bus', mode: 'external', url, protocolVersion: '4', keepalive: String(KEEPALIVE_S), session: 'clean', siteId: '${SITE_ID}' },
    { id: 'bd-sub', type: 'bus-subscribe', z: 'bd-tab', bus: 'bd-bus', entity: 'shipment', versions: '1', site: '', siteType: 'str', group: '', qos: '1', maxBytes: '', wires: [] },
  ];

  /** The next state after `index`, waited for. */
  async function stateAfter(index: number, timeoutMs: number): Promise<{ at: number; state: SiteState }> {
    return waitFor(() => states[index], { timeoutMs, intervalMs: 20, message: `site state #${index + 1}` });
  }

  before(async () => {
    broker = await startBrokerProcess({ persistence: 'memory' });
    observer = mqtt.connect(broker.url, { clientId: 'bd-observer', clean: true, reconnectPeriod: 200 });
    observer.on('message', (topic, payload) => {
      if (topic !== `tectonic/health/${SITE}/state`) return;
      const parsed = parseSiteState(payload);
      assert.ok(parsed.ok, `a state the pack published does not parse: ${payload.toString()}`);
      states.push({ at: Date.now(), state: parsed.value });
    });
    await new Promise<void>((resolve, reject) => observer.once('connect', () => observer.subscribe('tectonic/health/+/state', { qos: 1 }, (err) => (err ? reject(err) : resolve()))));
    site = await startNodeRed({ flows: flows(broker.url), env: { SITE_ID: SITE } });
  });

  after(async () => {
    if (site !== undefined) {
      try { process.kill(site.pid, 'SIGCONT'); } catch { /* not running */ }
      await site.stop();
    }
    await new Promise<void>((resolve) => (observer ? observer.end(true, {}, () => resolve()) : resolve()));
    await broker?.stop();
  });

  it('announces online with session 1, retained', async () => {
    const first = await stateAfter(0, 30_000);
    assert.deepEqual({ state: first.state.state, session: first.state.session }, { state: 'online', session: 1 });
    // Retained: a client arriving later reads it at once.
    const late = await mqtt.connectAsync(broker.url, { clientId: 'bd-late', clean: true });
    try {
      const retained = await new Promise<SiteState>((resolve) => {
        late.on('message', (_t, payload) => { const p = parseSiteState(payload); if (p.ok) resolve(p.value); });
        void late.subscribeAsync(`tectonic/health/${SITE}/state`, { qos: 1 });
      });
      assert.equal(retained.state, 'online');
    } finally {
      await late.endAsync();
    }
  });

  it('SIGKILL: the broker publishes the will (offline, connection-lost, session 1) at once; the restart is session 2', async () => {
    const before = states.length;
    const killedAt = Date.now();
    await site.kill();
    const death = await stateAfter(before, 10_000);
    const delay = death.at - killedAt;
    console.log(`      offline after SIGKILL: ${delay} ms`);
    assert.deepEqual({ state: death.state.state, reason: death.state.reason, session: death.state.session }, { state: 'offline', reason: 'connection-lost', session: 1 });
    assert.ok(delay < 3_000, `the will took ${delay} ms after a SIGKILL`);
    await site.restart();
    const birth = await stateAfter(before + 1, 30_000);
    assert.deepEqual({ state: birth.state.state, session: birth.state.session }, { state: 'online', session: 2 });
  });

  it('SIGSTOP: offline within 1.5 keep-alive intervals (plus a second of slack); SIGCONT brings a new session', async () => {
    const before = states.length;
    const stoppedAt = Date.now();
    process.kill(site.pid, 'SIGSTOP');
    try {
      const death = await stateAfter(before, 15_000);
      const delay = death.at - stoppedAt;
      console.log(`      offline after SIGSTOP: ${delay} ms (keep-alive ${KEEPALIVE_S} s, bound ${1.5 * KEEPALIVE_S * 1000 + 1000} ms)`);
      assert.equal(death.state.state, 'offline');
      assert.equal(death.state.reason, 'connection-lost');
      assert.equal(death.state.session, 2, 'the will names the session that was lost');
      assert.ok(delay <= 1.5 * KEEPALIVE_S * 1000 + 1000, `the will took ${delay} ms after a SIGSTOP`);
    } finally {
      process.kill(site.pid, 'SIGCONT');
    }
    const birth = await stateAfter(before + 1, 30_000);
    assert.deepEqual({ state: birth.state.state, session: birth.state.session }, { state: 'online', session: 3 });
  });

  it('a clean stop publishes offline with reason shutdown before it goes', async () => {
    const before = states.length;
    await site.stop();
    const death = await stateAfter(before, 10_000);
    assert.deepEqual({ state: death.state.state, reason: death.state.reason, session: death.state.session }, { state: 'offline', reason: 'shutdown', session: 3 });
  });
});
