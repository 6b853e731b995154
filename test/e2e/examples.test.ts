// Every example in examples/, as imported (issue 21): one headless Node-RED
// deploys each in turn against the embedded broker on TECTONIC_BUS_PORT, the
// test presses the inject buttons the example's text tells a person to press,
// and sees messages flow where the example says: on the bus (an MQTT.js client
// subscribed to everything) and at its debug nodes (the editor's own comms
// websocket). No error may be logged. The table is driven by the files: an
// example added later is covered by default (deploys cleanly, and its inject
// buttons make at least one debug node receive something); it may say more
// in an `<!-- expect {...} -->` hint in its tab's info, or in SIDECAR below.
import { after, before, describe, it } from 'mocha';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { type Server, createServer, request } from 'node:http';
import { join } from 'node:path';
import { type MqttClient, connect } from 'mqtt';
import WebSocket from 'ws';
import { type BrokerProcess, startBrokerProcess } from '../support/broker-process';
import { type FlowNode, type NodeRedProcess, delay, freePort, repoRoot, startNodeRed, waitFor } from '../support/node-red-process';

/** What an example promises once deployed as imported. */
interface Expect {
  /** Inject nodes to press, by name, in order (default: every inject that does not fire on its own). */
  inject?: string[];
  /** Topic (exact, or an MQTT filter) → at least this many messages on the bus. */
  bus?: Record<string, number>;
  /** Topic filter → text some message on it contains. */
  busContains?: Record<string, string>;
  /** Texts no message on the bus may contain (what a policy masks). */
  absentOnBus?: string[];
  /** Debug node name → at least this many messages in the debug sidebar. */
  debug?: Record<string, number>;
  /** Edge aggregation: readings (the id of a debug node counting them in its status) against summaries on a topic. */
  aggregation?: { readings: string; summaries: string; maxRatio: number };
  /** The bus the example's messages travel on: its own embedded broker (default), or the external one behind MQTT_URL. */
  broker?: 'embedded' | 'external';
}

/** What the examples written before hints existed promise (their texts say so). */
const SIDECAR: Record<string, Expect> = {
  '01': { bus: { 'cdm/shipment/v1/site-a': 2 }, debug: { 'received at centre': 2 } },
  // "no envelope" is a deliberate error (a catch node takes it); pack.test.ts checks it.
  '02': { inject: ['shipment from site-a'], bus: { 'cdm/shipment/v1/site-a': 1 }, debug: { 'acknowledged by the broker': 1, 'shipment v1': 1, 'from site-a': 1 } },
  '03': { broker: 'external', inject: ['shipment from site-b'], bus: { 'cdm/shipment/v1/site-b': 1 }, debug: { acknowledged: 1, received: 1 } },
  // "deprecated version" passes, with a warning, until its sunset.
  '04': { debug: { valid: 2, rejected: 1 } },
  '05': { debug: { canonical: 1, 'could not map': 1 } },
  '06': { debug: { 'pass (masked)': 1, rejected: 1 } },
  // "primary down" and "up" are the failover drill, checked by registry-failover and registry-example tests.
  '07': { inject: [], bus: { 'tectonic/registry/pricing/+/+': 2 }, debug: { price: 2 } },
};

const HINT = /<!--\s*expect\s+(\{[\s\S]*?\})\s*-->/;

function expectationOf(file: string, flow: FlowNode[]): Expect {
  const fromSidecar = SIDECAR[file.slice(0, 2)] ?? {};
  for (const node of flow) {
    const found = node.type === 'tab' && typeof node.info === 'string' ? HINT.exec(node.info) : null;
    if (found?.[1] !== undefined) return { ...fromSidecar, ...(JSON.parse(found[1]) as Expect) };
  }
  return fromSidecar;
}

/** MQTT topic filter matching ([MQTT-4.7.1]): + one level, # the rest. */
function matches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true;
    if (i >= t.length || (f[i] !== '+' && f[i] !== t[i])) return false;
  }
  return f.length === t.length;
}

interface Seen { topic: string; text: string; at: number }

describe('examples, as imported', function () {
  this.timeout(600_000);
  const files = readdirSync(join(repoRoot, 'examples')).filter((f) => f.endsWith('.json')).sort();
  let nodeRed: NodeRedProcess;
  let external: BrokerProcess;
  let busPort = 0;
  let forwarder: Server;
  let comms: WebSocket;
  const debugs: Array<{ name: string; at: number }> = [];
  /** The last status text of each node, by id. */
  const statuses = new Map<string, string>();

  before(async () => {
    const [port, uiAlias] = await Promise.all([freePort(), freePort()]);
    busPort = port;
    external = await startBrokerProcess({ persistence: 'memory' });
    // Example 07 announces URLs on TECTONIC_UI_PORT; the runtime picks its own port, so this forwards to it.
    let target = 0;
    forwarder = createServer((req, res) => {
      const upstream = request({ host: '127.0.0.1', port: target, path: req.url, method: req.method, headers: req.headers }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      upstream.on('error', () => res.writeHead(502).end());
      req.pipe(upstream);
    });
    await new Promise<void>((resolve) => forwarder.listen(uiAlias, '127.0.0.1', resolve));
    nodeRed = await startNodeRed({ env: { TECTONIC_BUS_PORT: String(busPort), TECTONIC_UI_PORT: String(uiAlias), MQTT_URL: external.url } });
    target = nodeRed.port;
    comms = new WebSocket(`${nodeRed.url.replace(/^http/, 'ws')}/comms`);
    await new Promise<void>((resolve, reject) => {
      comms.once('open', () => resolve());
      comms.once('error', reject);
    });
    comms.send(JSON.stringify({ subscribe: 'debug' }));
    comms.send(JSON.stringify({ subscribe: 'status/#' }));
    comms.on('message', (data: WebSocket.RawData) => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.concat(Array.isArray(data) ? data : [Buffer.from(data)]).toString('utf8'));
      } catch {
        return;
      }
      for (const event of Array.isArray(parsed) ? parsed : [parsed]) {
        const e = event as { topic?: string; data?: { name?: string; id?: string; text?: unknown } };
        if (e.topic === 'debug') debugs.push({ name: e.data?.name ?? e.data?.id ?? '', at: Date.now() });
        else if (e.topic?.startsWith('status/') === true) statuses.set(e.topic.slice('status/'.length), typeof e.data?.text === 'string' || typeof e.data?.text === 'number' ? String(e.data.text) : '');
      }
    });
  });

  after(async () => {
    comms?.close();
    await nodeRed?.stop();
    await external?.stop();
    forwarder?.closeAllConnections();
    await new Promise<void>((resolve) => (forwarder ? forwarder.close(() => resolve()) : resolve()));
  });

  it('every node type of the pack appears in an example', () => {
    const declared = Object.keys((JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { 'node-red': { nodes: Record<string, string> } })['node-red'].nodes);
    const used = new Set(files.flatMap((f) => (JSON.parse(readFileSync(join(repoRoot, 'examples', f), 'utf8')) as FlowNode[]).map((n) => n.type)));
    assert.deepEqual(declared.filter((type) => !used.has(type)), []);
  });

  it('no example hard-codes the embedded broker\'s port', () => {
    for (const f of files) {
      for (const n of JSON.parse(readFileSync(join(repoRoot, 'examples', f), 'utf8')) as FlowNode[]) {
        // TECTONIC_BUS_PORT, or a variable of the example's own (a regional hub's second broker) with its default in the tab's env.
        if (n.type === 'tectonic-bus' && n.mode === 'embedded') assert.match(String(n.port), /^\$\{\w+\}$/, `${f}: ${n.id} hard-codes port ${String(n.port)}`);
      }
    }
  });

  for (const file of files) {
    it(`${file.replace(/\.json$/, '')}: deploys without an error and its messages flow`, async () => {
      const flow = JSON.parse(readFileSync(join(repoRoot, 'examples', file), 'utf8')) as FlowNode[];
      const expect = expectationOf(file, flow);
      // The editor imports an example into a tab; the admin API needs that tab.
      const tabs = new Set(flow.filter((n) => n.type === 'tab').map((n) => n.id));
      const deployed = [...flow];
      for (const z of new Set(flow.map((n) => n.z).filter((z): z is string => typeof z === 'string'))) {
        if (!tabs.has(z)) deployed.unshift({ id: z, type: 'tab', label: file, disabled: false, info: '' });
      }

      const seen: Seen[] = [];
      const brokerUrl = expect.broker === 'external' ? external.url : `mqtt://127.0.0.1:${busPort}`;
      const client: MqttClient = connect(brokerUrl, { clientId: `examples-e2e-${file.slice(0, 2)}`, reconnectPeriod: 200, connectTimeout: 5_000 });
      client.on('message', (topic, body) => seen.push({ topic, text: body.toString('utf8'), at: Date.now() }));
      client.on('connect', () => void client.subscribeAsync('#', { qos: 1 }).catch(() => undefined));
      const logFrom = nodeRed.logs().length;
      const debugFrom = debugs.length;
      try {
        await nodeRed.deploy(deployed);
        // An example without a bus (a validator, a mapper) has no broker to watch.
        if (flow.some((n) => n.type === 'tectonic-bus')) await waitFor(() => client.connected, { timeoutMs: 20_000, message: `a client on ${brokerUrl}` });

        // A person presses a button after the deploy, once the catalog and policy have loaded (about a second).
        await delay(2_000);
        const injects = flow.filter((n) => n.type === 'inject');
        const toPress = expect.inject ?? injects.filter((n) => n.once !== true && !n.repeat).map((n) => String(n.name));
        for (const name of toPress) {
          const node = injects.find((n) => n.name === name);
          assert.ok(node, `${file}: no inject node named "${name}"`);
          const res = await nodeRed.api(`/inject/${node.id}`, { method: 'POST' });
          assert.equal(res.status, 200, `POST /inject/${node.id}`);
          await delay(300);
        }

        const onBus = (filter: string): Seen[] => seen.filter((m) => matches(filter, m.topic));
        const atDebug = (name: string): number => debugs.slice(debugFrom).filter((d) => d.name === name).length;
        const missing = (): string[] => {
          const out: string[] = [];
          for (const [filter, n] of Object.entries(expect.bus ?? {})) if (onBus(filter).length < n) out.push(`${n} on ${filter} (have ${onBus(filter).length})`);
          for (const [filter, text] of Object.entries(expect.busContains ?? {})) if (!onBus(filter).some((m) => m.text.includes(text))) out.push(`"${text}" on ${filter}`);
          for (const [name, n] of Object.entries(expect.debug ?? {})) if (atDebug(name) < n) out.push(`${n} at debug "${name}" (have ${atDebug(name)})`);
          if (expect.bus === undefined && expect.debug === undefined && debugs.length === debugFrom) out.push('any debug message');
          return out;
        };
        await waitFor(() => missing().length === 0, { timeoutMs: 45_000, intervalMs: 200 }).catch(() => {
          assert.fail(`${file}: still waiting for ${missing().join('; ')}\nlog:\n${nodeRed.logs().slice(logFrom)}`);
        });

        for (const text of expect.absentOnBus ?? []) {
          const leaked = seen.find((m) => m.text.includes(text));
          assert.equal(leaked, undefined, `${file}: "${text}" went on the bus on ${leaked?.topic ?? ''}`);
        }
        if (expect.aggregation !== undefined) await measureAggregation(expect.aggregation, seen);

        const log = nodeRed.logs().slice(logFrom);
        assert.doesNotMatch(log, /\[error\]/, `${file} logged an error:\n${log}`);
      } finally {
        await client.endAsync(true);
      }
    });
  }

  /**
   * Issue 21's edge-aggregation figures, from the example as it runs: the
   * ratio of bus messages to readings, and the latency the window adds.
   */
  async function measureAggregation(spec: NonNullable<Expect['aggregation']>, seen: Seen[]): Promise<void> {
    const start = Date.now();
    // The debug node's counter status: how many readings it has seen since the deploy.
    const readingsAt = (): number => Number(statuses.get(spec.readings) ?? Number.NaN);
    const summaries = (): Seen[] => seen.filter((m) => matches(spec.summaries, m.topic) && m.at >= start);
    const readings0 = readingsAt();
    // A bounded window of measurement: at least 4 summaries, or 20 s.
    await waitFor(() => summaries().length >= 4, { timeoutMs: 20_000, intervalMs: 200 });
    const readings = readingsAt() - readings0;
    const got = summaries();
    const ratio = got.length / Math.max(1, readings);
    // Window close (the newest reading, measuredAt) to arrival at the centre's broker.
    const closeToCentre = got.map((m) => m.at - Date.parse((JSON.parse(m.text) as { data: { measuredAt: string } }).data.measuredAt)).sort((a, b) => a - b);
    const p50 = closeToCentre[Math.floor(closeToCentre.length / 2)] ?? Number.NaN;
    const max = closeToCentre.at(-1) ?? Number.NaN;
    console.log(`      edge aggregation: ${readings} readings → ${got.length} bus messages (ratio ${ratio.toFixed(3)}); window close to the centre p50 ${p50} ms, max ${max} ms; the oldest reading of a window waits 19 × 100 ms more`);
    assert.ok(readings > 0, 'readings counted');
    assert.ok(ratio <= spec.maxRatio, `the bus carries ${ratio.toFixed(3)} of the readings, more than ${spec.maxRatio}`);
  }
});
