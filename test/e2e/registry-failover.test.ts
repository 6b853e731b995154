// The registry over a real broker process and real Node-RED processes (issue 17):
// two sites announce the pricing service (primary weight 100, backup 50), a
// third (a store) looks it up through an `http in` → registry-lookup →
// `http response` chain. The primary's process is SIGKILLed (the broker
// publishes its site's will: lookups move to the backup at once), frozen with
// SIGSTOP (the will after 1.5 keep-alive intervals), and brought back (the
// failover strategy returns it again). The broker restarts with its retained
// state on disk, and an entry left behind by a raw client without a will
// expires after its TTL. Prints the measured switch-over times.
import { after, before, describe, it } from 'mocha';
import assert from 'node:assert/strict';
import mqtt from 'mqtt';
import { type BrokerProcess, startBrokerProcess } from '../support/broker-process';
import { type FlowNode, type NodeRedProcess, delay, startNodeRed, waitFor } from '../support/node-red-process';
import { encodeEntry, parseEntry, registryTopic } from '../../lib/registry/entry-format';
import type { RegistrySnapshot } from '../../lib/fleet/registry-format';

const KEEPALIVE_S = 2;
const TTL_S = 20;
const PRIMARY = 'pricing-hq';
const BACKUP = 'pricing-dr';

function siteFlows(url: string): FlowNode[] {
  return [
    { id: 'rs-tab', type: 'tab', label: 'site' },
    { id: 'rs-bus', type: 'tectonic-bus', mode: 'external', url, protocolVersion: '4', keepalive: String(KEEPALIVE_S), session: 'clean', siteId: '${SITE_ID}' },
    {
      id: 'rs-announce', type: 'registry-announce', z: 'rs-tab', bus: 'rs-bus',
      service: 'pricing', serviceType: 'str', instance: 'main', instanceType: 'str',
      url: 'PRICING_URL', urlType: 'env', weight: 'PRICING_WEIGHT', weightType: 'env',
      region: 'eu', regionType: 'str', ttl: String(TTL_S), ttlType: 'num', metadata: '{"tier":"gold"}', metadataType: 'json',
    },
  ];
}

function storeFlows(url: string): FlowNode[] {
  const chain = (path: string, service: string, n: string): FlowNode[] => [
    { id: `in-${n}`, type: 'http in', z: 'st-tab', url: path, method: 'get', wires: [[`lk-${n}`]] },
    { id: `lk-${n}`, type: 'registry-lookup', z: 'st-tab', bus: 'st-bus', service, serviceType: 'str', strategy: 'failover', coolDown: '30', wires: [[`ok-${n}`], [`none-${n}`]] },
    { id: `ok-${n}`, type: 'change', z: 'st-tab', rules: [{ t: 'set', p: 'payload', pt: 'msg', to: 'endpoint', tot: 'msg' }], wires: [[`resp-${n}`]] },
    {
      id: `none-${n}`, type: 'change', z: 'st-tab',
      rules: [{ t: 'set', p: 'payload', pt: 'msg', to: 'reject', tot: 'msg' }, { t: 'set', p: 'statusCode', pt: 'msg', to: '503', tot: 'num' }],
      wires: [[`resp-${n}`]],
    },
    { id: `resp-${n}`, type: 'http response', z: 'st-tab', wires: [] },
  ];
  return [
    { id: 'st-tab', type: 'tab', label: 'store' },
    { id: 'st-bus', type: 'tectonic-bus', mode: 'external', url, protocolVersion: '4', keepalive: String(KEEPALIVE_S), session: 'clean', siteId: 'store-1' },
    ...chain('/lookup', 'pricing', 'p'),
    ...chain('/stale', 'stale', 's'),
  ];
}

describe('registry: failover between two sites over a real broker', function () {
  this.timeout(240_000);
  let broker: BrokerProcess;
  let primary: NodeRedProcess;
  let backup: NodeRedProcess;
  let store: NodeRedProcess;

  interface Answer { status: number; site?: string; url?: string; at: number }
  async function lookup(path = '/lookup'): Promise<Answer> {
    const res = await fetch(`${store.url}${path}`);
    const body = (await res.json()) as { site?: string; url?: string };
    return { status: res.status, site: body.site, url: body.url, at: Date.now() };
  }
  /** Polls the store every 25 ms until the answer names `site` (or the status is `status`); returns when. */
  async function until(test: (a: Answer) => boolean, timeoutMs: number, what: string, path?: string): Promise<Answer> {
    return waitFor(async () => {
      const answer = await lookup(path);
      return test(answer) ? answer : undefined;
    }, { timeoutMs, intervalMs: 25, message: what });
  }

  before(async () => {
    broker = await startBrokerProcess({ persistence: 'disk' });
    [primary, backup, store] = await Promise.all([
      startNodeRed({ flows: siteFlows(broker.url), env: { SITE_ID: PRIMARY, PRICING_URL: 'http://127.0.0.1:9/hq/price', PRICING_WEIGHT: '100' } }),
      startNodeRed({ flows: siteFlows(broker.url), env: { SITE_ID: BACKUP, PRICING_URL: 'http://127.0.0.1:9/dr/price', PRICING_WEIGHT: '50' } }),
      startNodeRed({ flows: storeFlows(broker.url) }),
    ]);
  });

  after(async () => {
    for (const p of [primary, backup, store]) {
      if (p === undefined) continue;
      try { process.kill(p.pid, 'SIGCONT'); } catch { /* not running */ }
    }
    await Promise.all([primary?.stop(), backup?.stop(), store?.stop()]);
    await broker?.stop();
  });

  it('resolves the primary, with its URL and metadata, and serves the snapshot', async () => {
    const first = await until((a) => a.site === PRIMARY, 30_000, 'the primary');
    assert.equal(first.url, 'http://127.0.0.1:9/hq/price');
    const res = await fetch(`${store.url}/lookup`);
    const endpoint = (await res.json()) as { key: string; weight: number; region: string; metadata: unknown };
    assert.deepEqual({ key: endpoint.key, weight: endpoint.weight, region: endpoint.region, metadata: endpoint.metadata }, { key: `${PRIMARY}/main`, weight: 100, region: 'eu', metadata: { tier: 'gold' } });
    const snapshot = await waitFor(async () => {
      const s = (await (await store.api('/tectonic/fleet/registry')).json()) as RegistrySnapshot;
      const pricing = s.services.find((x) => x.service === 'pricing');
      return pricing !== undefined && pricing.endpoints.length === 2 ? pricing : undefined;
    }, { timeoutMs: 10_000, message: 'two endpoints in the snapshot' });
    assert.deepEqual(snapshot.endpoints.map((e) => [e.site, e.state, e.weight]), [[PRIMARY, 'up', 100], [BACKUP, 'up', 50]]);
  });

  it('SIGKILL of the primary: lookups return the backup within seconds (the will); the restarted primary is returned again', async () => {
    const killedAt = Date.now();
    await primary.kill();
    const switched = await until((a) => a.site === BACKUP, 10_000, 'the backup after SIGKILL');
    const took = switched.at - killedAt;
    console.log(`      switch-over after SIGKILL: ${took} ms`);
    assert.ok(took < 3_000, `the backup took ${took} ms after the primary's SIGKILL`);
    const restartAt = Date.now();
    await primary.restart();
    const back = await until((a) => a.site === PRIMARY, 30_000, 'the primary back');
    console.log(`      primary returned ${back.at - restartAt} ms after its restart began (Node-RED start included)`);
  });

  it('SIGSTOP of the primary (socket half open): the backup within 1.5 keep-alive intervals; SIGCONT brings the primary back', async () => {
    const stoppedAt = Date.now();
    process.kill(primary.pid, 'SIGSTOP');
    let took: number;
    try {
      const switched = await until((a) => a.site === BACKUP, TTL_S * 1000, 'the backup after SIGSTOP');
      took = switched.at - stoppedAt;
    } finally {
      process.kill(primary.pid, 'SIGCONT');
    }
    const bound = 1.5 * KEEPALIVE_S * 1000 + 1000;
    console.log(`      switch-over after SIGSTOP: ${took} ms (keep-alive ${KEEPALIVE_S} s, bound ${bound} ms, TTL ${TTL_S} s)`);
    assert.ok(took <= bound, `the backup took ${took} ms after the primary's SIGSTOP`);
    const contAt = Date.now();
    const back = await until((a) => a.site === PRIMARY, 30_000, 'the primary back after SIGCONT');
    console.log(`      primary returned ${back.at - contAt} ms after SIGCONT`);
  });

  it('survives a broker restart: lookups keep answering from the local view, the entries are retained on disk and re-announced', async () => {
    const answers: Answer[] = [];
    let polling = true;
    const poller = (async () => {
      for (let i = 0; polling && i < 2_000; i++) {
        answers.push(await lookup());
        await delay(50);
      }
    })();
    const restartAt = Date.now();
    await broker.restart('SIGTERM');
    console.log(`      broker restarted in ${Date.now() - restartAt} ms`);
    await delay(2_000);
    polling = false;
    await poller;
    assert.ok(answers.length > 10, 'lookups were made while the broker restarted');
    // While the broker is away the view answers as it last knew; when it comes back it may
    // hand over the sites' wills it published as it shut down (retained on disk) until the
    // sites announce themselves again: the backup, or briefly nothing, is then correct.
    const tally = new Map<string, number>();
    for (const a of answers) tally.set(a.site ?? `status ${a.status}`, (tally.get(a.site ?? `status ${a.status}`) ?? 0) + 1);
    console.log(`      lookups during the broker restart: ${[...tally].map(([k, n]) => `${k} ×${n}`).join(', ')}`);
    assert.ok(answers.every((a) => a.status === 200 || a.status === 503), 'every lookup was answered');
    assert.ok((tally.get(PRIMARY) ?? 0) > 0, 'the local view answered while the broker was down');
    // Retained and current: a client arriving after the restart reads both entries.
    const reader = await mqtt.connectAsync(broker.url, { clientId: 'rs-reader', clean: true });
    try {
      const seen = new Map<string, number>();
      reader.on('message', (topic, payload) => {
        const parsed = parseEntry(topic, payload);
        if (parsed.ok && parsed.value !== null) seen.set(parsed.value.site, parsed.value.session ?? -1);
      });
      await reader.subscribeAsync('tectonic/registry/pricing/#', { qos: 1 });
      await waitFor(() => seen.size === 2, { timeoutMs: 10_000, message: 'both retained entries' });
      assert.deepEqual([...seen.keys()].sort(), [BACKUP, PRIMARY].sort());
    } finally {
      await reader.endAsync();
    }
    const restored = await until((a) => a.site === PRIMARY, 10_000, 'the primary after the restart');
    assert.equal(restored.url, 'http://127.0.0.1:9/hq/price');
  });

  it('an entry whose announcer vanished without a will (a clean disconnect, nothing cleared) expires after its TTL', async () => {
    const ttl = 3;
    const raw = await mqtt.connectAsync(broker.url, { clientId: 'rs-ghost', clean: true });
    const fields = { service: 'stale', site: 'ghost', instance: 'x', url: 'http://127.0.0.1:9/ghost', metadata: {}, weight: 10, ttl };
    const publishedAt = Date.now();
    await raw.publishAsync(registryTopic('stale', 'ghost', 'x'), encodeEntry(fields, publishedAt), { qos: 1, retain: true });
    await raw.endAsync();
    const seen = await until((a) => a.site === 'ghost', 5_000, 'the ghost entry', '/stale');
    assert.equal(seen.status, 200);
    const gone = await until((a) => a.status === 503, (ttl + 5) * 1000, 'the ghost entry to expire', '/stale');
    const after = gone.at - publishedAt;
    console.log(`      stale entry (TTL ${ttl} s) no longer returned after ${after} ms`);
    assert.ok(after >= ttl * 1000 - 100 && after <= ttl * 1000 + 2_000, `expired after ${after} ms, TTL ${ttl} s`);
    const snapshot = (await (await store.api('/tectonic/fleet/registry')).json()) as RegistrySnapshot;
    assert.equal(snapshot.services.find((s) => s.service === 'stale')?.endpoints[0]?.state, 'expired');
  });
});
