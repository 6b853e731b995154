// Issue 6 inside Node-RED: bus-subscribe's records kind (a site's local JSON
// on any topic) and flow control on a real aedes broker in the test process:
// the entry stops reading the bus while maxInFlight records are unfinished,
// behind a node that holds them and behind the core delay node, and a
// redeploy releases the connection and leaves no message hook behind.
import should from 'should';
import { after, afterEach, before, describe, it } from 'mocha';
import type { MqttClient } from 'mqtt';
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import { type EmbeddedBroker, startEmbeddedBroker } from '../../lib/bus/embedded-broker';
import { encodeMessage } from '../../lib/envelope/cloudevents';
import { HOOK_IDS } from '../../nodes/support/message-hooks';
import { connectRaw, endRaw } from '../lib/bus/mqtt-helpers';
import { coreNodeFile, delay, freePort, waitFor } from '../support/node-red-process';
import { Inbox, type Msg, calls, catchNode, helper, load, logged, node, packNodes, startServer, stopServer } from '../support/red-helper';

interface RuntimeHooks {
  has(hookId: string): boolean;
}
// node-red-node-test-helper 0.3 leaves RED.hooks out of the API it hands the
// nodes, though its runtime runs every message through the hooks engine. The
// engine is the runtime's own, reached through the helper's Node-RED module;
// handing it to the nodes is what a real Node-RED does.
const runtimeHooks = (helper as unknown as { _RED: { hooks: RuntimeHooks } })._RED.hooks;
const withRuntimeHooks = (red: { hooks?: unknown }): void => {
  red.hooks ??= runtimeHooks;
};
const hooksRegistered = (): boolean[] => HOOK_IDS.map((id) => runtimeHooks.has(id));

/** Node-RED takes a node without x and y for a config node (no wires, no catch); every flow node here gets a place. */
function placed(flow: Msg[]): Msg[] {
  return flow.map((n, i) => (typeof n.z === 'string' && n.z !== '' ? { x: 200, y: 40 * (i + 1), ...n } : n));
}

function deploy(flow: Msg[]): Promise<void> {
  return load(placed(flow), {}, nodes);
}

/** A redeploy of the running runtime: "nodes" restarts only what changed, "full" everything. */
function setFlows(flow: Msg[], type: 'full' | 'nodes'): Promise<void> {
  return (helper as unknown as { setFlows(flow: Msg[], type: string): Promise<void> }).setFlows(placed(flow), type);
}

// eslint-disable-next-line @typescript-eslint/no-require-imports
const delayNode = require(coreNodeFile('function/89-delay.js')) as unknown;

/** A node whose done() the test controls: it keeps what arrives until released, then finishes each after a millisecond. */
interface Gate {
  arrived: unknown[];
  probes: number;
  /** Received and not done yet; and the most there ever were at once. */
  open: number;
  maxOpen: number;
  release(): void;
}
const gates = new Map<string, Gate>();
const passed = new Map<string, number>();

function testNodes(RED: NodeAPI): void {
  RED.nodes.registerType('test-hold', function (this: Node, config: NodeDef) {
    RED.nodes.createNode(this, config);
    let passing = false;
    const held: Array<() => void> = [];
    const gate: Gate = {
      arrived: [],
      probes: 0,
      open: 0,
      maxOpen: 0,
      release: () => {
        passing = true;
        for (const finish of held.splice(0)) finish();
      },
    };
    gates.set(config.id, gate);
    this.on('input', (msg: NodeMessageInFlow, _send: unknown, done: () => void) => {
      // Probes that show the subscription is in place pass straight through and are not counted.
      if ((msg.payload as { probe?: boolean } | undefined)?.probe === true) {
        gate.probes += 1;
        return done();
      }
      gate.arrived.push(msg.payload);
      gate.open += 1;
      gate.maxOpen = Math.max(gate.maxOpen, gate.open);
      const finish = (): void => {
        gate.open -= 1;
        done();
      };
      if (passing) setTimeout(finish, 1);
      else held.push(finish);
    });
  });
  // Refuses each record's first arrival as transient (the site not ready: msg.reject.transient), in place, as bus-publish does; passes it on after.
  RED.nodes.registerType('test-not-ready', function (this: Node, config: NodeDef) {
    RED.nodes.createNode(this, config);
    const seen = new Set<string>();
    this.on('input', (msg: NodeMessageInFlow, send: (msg: NodeMessageInFlow) => void, done: () => void) => {
      const key = JSON.stringify(msg.payload);
      if (!seen.has(key)) {
        seen.add(key);
        (msg as { reject?: unknown }).reject = { stage: 'bus-publish', reasons: [{ path: '', rule: 'outbox-unavailable', message: 'not ready' }], transient: true };
        (msg.payload as { touched?: boolean }).touched = true;
        return done();
      }
      send(msg);
      done();
    });
  });
  // Passes each message on and counts it: what entered the part of the flow behind it.
  RED.nodes.registerType('test-count', function (this: Node, config: NodeDef) {
    RED.nodes.createNode(this, config);
    passed.set(config.id, 0);
    this.on('input', (msg: NodeMessageInFlow, send: (msg: NodeMessageInFlow) => void, done: () => void) => {
      passed.set(config.id, (passed.get(config.id) ?? 0) + 1);
      send(msg);
      done();
    });
  });
}

const nodes = [withRuntimeHooks, ...packNodes, catchNode, delayNode, testNodes];

function gate(id: string): Gate {
  const found = gates.get(id);
  if (found === undefined) throw new Error(`no test-hold ${id}`);
  return found;
}

async function stats(id: string): Promise<Record<string, number>> {
  const res = await helper.request().get(`/tectonic/stats/${id}`);
  should(res.status).equal(200, JSON.stringify(res.body));
  return res.body as Record<string, number>;
}

let serial = 0;
function canonical(id: string): { topic: string; payload: Buffer } {
  const encoded = encodeMessage(
    { entity: 'shipment', version: '1.1.0', site: 'site-a', id: `${id}-${process.pid}-${++serial}`, time: '2026-11-24T07:00:00Z', source: 'urn:tectonic:test' },
    { shipmentId: id },
    'structured',
  );
  if (!encoded.ok) throw new Error('test envelope does not encode');
  return { topic: 'cdm/shipment/v1/site-a', payload: Buffer.from(encoded.value.payload, 'utf8') };
}

describe('bus-subscribe: local records and flow control', () => {
  let port = 0;
  let broker: EmbeddedBroker | undefined;
  let publisher: MqttClient | undefined;
  let tag = 0;

  const bus = (): Msg => ({ id: 'bus', type: 'tectonic-bus', mode: 'external', url: `mqtt://127.0.0.1:${port}`, protocolVersion: '4', clientId: `records-${process.pid}-${++tag}`, session: 'clean' });
  const records = (extra: Msg = {}): Msg => ({
    id: 'sub',
    type: 'bus-subscribe',
    z: 'f1',
    bus: 'bus',
    kind: 'records',
    topic: 'site/fra/wms/#',
    qos: '1',
    maxBytes: '',
    maxInFlight: '10',
    wires: [['gate']],
    ...extra,
  });
  const publish = async (topic: string, payload: string | Buffer): Promise<void> => {
    await publisher?.publishAsync(topic, payload, { qos: 1 });
  };
  /** Publishes probes until `arrived` says one got through: the subscription is then in place. */
  const primed = async (topic: string, arrived: () => boolean, payload: () => string | Buffer = () => '{"probe":true}'): Promise<void> => {
    await waitFor(
      async () => {
        await publish(topic, payload());
        await delay(100);
        return arrived();
      },
      { timeoutMs: 10_000, message: `a probe on ${topic} to arrive` },
    );
  };

  before(async () => {
    port = await freePort();
    broker = await startEmbeddedBroker({ host: '127.0.0.1', port });
    publisher = await connectRaw(`mqtt://127.0.0.1:${port}`, { clientId: `records-publisher-${process.pid}` });
    await startServer();
  });
  afterEach(async () => {
    await helper.unload();
    gates.clear();
    passed.clear();
  });
  after(async () => {
    await stopServer();
    await endRaw(publisher);
    await broker?.close();
  });

  it('records: msg.payload is the parsed JSON, msg.topic the topic, and there is no msg.cdm', async () => {
    await deploy([{ id: 'f1', type: 'tab' }, bus(), records({ wires: [['received']] }), { id: 'received', type: 'helper', z: 'f1', wires: [] }]);
    const received = new Inbox(node('received'));
    await primed('site/fra/wms/probe', () => received.messages.length > 0);
    const real = (): Msg[] => received.messages.filter((m) => m.topic !== 'site/fra/wms/probe');

    await publish('site/fra/wms/orders', JSON.stringify({ shp_no: 'A-1', wt: '12,5', lines: [{ sku: 'X', qty: 2 }] }));
    await publish('site/fra/wms/counts', '[1,2,3]');
    await publish('site/fra/erp/orders', '{"not":"mine"}');
    await received.next(() => real().length >= 2);
    const [order, counts] = real();
    should(order?.payload).eql({ shp_no: 'A-1', wt: '12,5', lines: [{ sku: 'X', qty: 2 }] });
    should(order?.topic).equal('site/fra/wms/orders');
    should(order?.cdm).equal(undefined, 'cdm-map makes the envelope');
    should(typeof order?._msgid).equal('string');
    should(counts?.payload).eql([1, 2, 3]);
    await delay(200);
    should(real().length).equal(2, 'nothing outside the filter');
  });

  it('records: malformed payloads go to a catch node with msg.reject and do not stop the next good one', async () => {
    await deploy([
        { id: 'f1', type: 'tab' },
        bus(),
        records({ maxBytes: '200', wires: [['received']] }),
        { id: 'received', type: 'helper', z: 'f1', wires: [] },
        { id: 'catch', type: 'catch', z: 'f1', scope: null, uncaught: false, wires: [['caught']] },
        { id: 'caught', type: 'helper', z: 'f1', wires: [] },
      ]);
    const received = new Inbox(node('received'));
    const caught = new Inbox(node('caught'));
    await primed('site/fra/wms/probe', () => received.messages.length > 0);

    const bad: Array<[string, string, string]> = [
      ['site/fra/wms/a', 'shp_no=A-1;wt=12', 'json'],
      ['site/fra/wms/b', JSON.stringify({ pad: 'x'.repeat(300) }), 'maxBytes'],
      ['site/fra/wms/c', '{"a":{"__proto__":{"admin":true}}}', 'prototype-key'],
      ['site/fra/wms/d', '['.repeat(65) + ']'.repeat(65), 'maxDepth'],
    ];
    for (const [topic, payload] of bad) await publish(topic, payload);
    await publish('site/fra/wms/good', '{"ok":true}');

    const good = await received.next((m) => m.topic === 'site/fra/wms/good');
    should(good.payload).eql({ ok: true });
    const errors = await caught.count(4);
    should(errors.map((m) => [m.topic, (m.reject as { stage: string }).stage, (m.reject as { reasons: Array<{ rule: string }> }).reasons[0]?.rule])).eql(bad.map(([topic, , rule]) => [topic, 'bus-subscribe', rule]));
    should(String((errors[0]?.error as { message: string }).message)).match(/malformed message on site\/fra\/wms\/a/);
    should(typeof errors[0]?.payload).equal('string', 'the start of the raw payload');
    const counters = await stats('sub');
    should(counters.malformed).equal(4);
    should(counters.received).equal(received.messages.length, 'the probes and the good one');
    await waitFor(async () => (await stats('sub')).inFlight === 0, { message: 'nothing left in flight' });
  });

  it('flow control: at most 10 in flight behind a node that holds them; reading waits; after release all 200 arrive once, in order', async () => {
    await deploy([
        { id: 'f1', type: 'tab' },
        bus(),
        records(),
        { id: 'gate', type: 'test-hold', z: 'f1', wires: [] },
        // Another node of the same bus, without flow control of its own: it uses the shared connection, not the held inbound lane.
        { id: 'canon', type: 'bus-subscribe', z: 'f1', bus: 'bus', kind: 'canonical', entity: 'shipment', versions: '1', site: '', siteType: 'str', group: '', qos: '1', maxInFlight: '0', wires: [['canonReceived']] },
        { id: 'canonReceived', type: 'helper', z: 'f1', wires: [] },
      ]);
    should(hooksRegistered()).eql([true, true, true], 'the hooks are in place while a node uses them');
    const statuses = calls(node('sub'), 'status');
    const canonReceived = new Inbox(node('canonReceived'));
    const held = gate('gate');
    await primed('site/fra/wms/probe', () => held.probes > 0);
    await primed(canonical('probe').topic, () => canonReceived.messages.length > 0, () => canonical('probe').payload);
    await waitFor(async () => (await stats('sub')).inFlight === 0, { message: 'the probes finished' });

    for (let i = 0; i < 200; i++) await publish(`site/fra/wms/r${i}`, JSON.stringify({ n: i }));
    await waitFor(() => held.arrived.length >= 10, { message: 'the first 10' });
    const late = canonical('late');
    await publish(late.topic, late.payload);
    await delay(500);
    // The bound: the record that reaches maxInFlight takes the hold before its
    // acknowledgement is sent, and nothing more is read, so never more than maxInFlight.
    should(held.arrived.length).equal(10, 'exactly maxInFlight reached the holding node');
    should(held.maxOpen).equal(10);
    const holding = await stats('sub');
    should(holding.inFlight).equal(10);
    should((holding.held ?? 0) >= 1).be.true(`held ${holding.held}`);
    should(canonReceived.messages.filter((m) => (m.payload as { shipmentId?: string }).shipmentId === 'late').length).equal(1, 'the other subscriber of the bus is not held: it is on the shared connection');
    await waitFor(
      () => statuses.some((c) => {
        const status = c.args[0] as { fill?: string; shape?: string; text?: string };
        return status.fill === 'yellow' && status.shape === 'ring' && /^holding: 10 in flight/.test(status.text ?? '');
      }),
      { message: 'a yellow "holding: 10 in flight" status' },
    );

    held.release();
    await waitFor(() => held.arrived.length >= 200, { timeoutMs: 20_000, message: 'all 200' });
    await delay(200);
    should(held.arrived).eql(Array.from({ length: 200 }, (_, n) => ({ n })), 'each once, in publish order');
    should(held.maxOpen <= 10).be.true(`never more than 10 open at once (saw ${held.maxOpen})`);
    const done = await stats('sub');
    should((done.held ?? 0) >= 1).be.true();
    should(done.inFlight).equal(0);
    should(done.expired).equal(0);
  });

  it('flow control: a record is acknowledged only once it has finished; Node-RED gone before that, the broker redelivers it to the next connection', async () => {
    // A persistent session, so the broker keeps what was not acknowledged for the next connection.
    const persistentBus = { ...bus(), session: 'persistent', clientId: `records-acks-${process.pid}` };
    const flow = [{ id: 'f1', type: 'tab' }, persistentBus, records(), { id: 'gate', type: 'test-hold', z: 'f1', wires: [] }];
    await deploy(flow);
    const first = gate('gate');
    await primed('site/fra/wms/probe', () => first.probes > 0);
    await waitFor(async () => (await stats('sub')).inFlight === 0, { message: 'the probes finished' });
    for (let i = 0; i < 3; i++) await publish(`site/fra/wms/a${i}`, JSON.stringify({ n: i }));
    await waitFor(() => first.arrived.length === 3, { message: 'three records held' });
    // Node-RED stops with the three records unfinished (no done()): no PUBACK may have gone.
    await helper.unload();
    gates.clear();

    await deploy(flow);
    const second = gate('gate');
    second.release();
    await waitFor(() => second.arrived.length >= 3, { message: 'the three records redelivered' });
    should(second.arrived.slice(0, 3)).eql([{ n: 0 }, { n: 1 }, { n: 2 }]);
    await waitFor(async () => (await stats('sub')).inFlight === 0, { message: 'finished this time' });
    await delay(200);
    await helper.unload();
    gates.clear();

    // Finished records were acknowledged: the next connection gets nothing of them.
    await deploy(flow);
    const third = gate('gate');
    third.release();
    await primed('site/fra/wms/probe', () => third.probes > 0);
    should(third.arrived).eql([], 'nothing redelivered once the records had finished');
  });

  it('flow control: a record refused as transient comes again about a second later, as it first entered', async () => {
    await deploy([
      { id: 'f1', type: 'tab' },
      bus(),
      records({ wires: [['notReady']] }),
      { id: 'notReady', type: 'test-not-ready', z: 'f1', wires: [['gate']] },
      { id: 'gate', type: 'test-hold', z: 'f1', wires: [] },
    ]);
    const held = gate('gate');
    held.release();
    await primed('site/fra/wms/probe', () => held.probes > 0);
    const started = Date.now();
    await publish('site/fra/wms/t1', JSON.stringify({ n: 1 }));
    await waitFor(() => held.arrived.length === 1, { message: 'the record, on its second try' });
    const waited = Date.now() - started;
    should(held.arrived).eql([{ n: 1 }], 'as it first entered, not as the refusing node left it');
    should(waited >= 900).be.true(`tried again after about 1 s (${waited} ms)`);
    await waitFor(async () => (await stats('sub')).inFlight === 0, { message: 'finished' });
  });

  it('flow control behind the core delay node (rate limit): its queue never holds more than maxInFlight', async () => {
    await deploy([
        { id: 'f1', type: 'tab' },
        bus(),
        records({ wires: [['count']] }),
        { id: 'count', type: 'test-count', z: 'f1', wires: [['delay']] },
        { id: 'delay', type: 'delay', z: 'f1', pauseType: 'rate', timeout: '5', timeoutUnits: 'seconds', rate: '250', nbRateUnits: '1', rateUnits: 'second', randomFirst: '1', randomLast: '5', randomUnits: 'seconds', drop: false, allowrate: false, outputs: 1, wires: [['sink']] },
        { id: 'sink', type: 'helper', z: 'f1', wires: [] },
      ]);
    const sink = new Inbox(node('sink'));
    await primed('site/fra/wms/probe', () => sink.messages.length > 0);
    await waitFor(async () => (await stats('sub')).inFlight === 0, { message: 'the probes finished' });
    const probes = sink.messages.length;
    const throttled = node('delay') as unknown as { buffer: unknown[] };
    let deepest = 0;
    let widest = 0;
    const sample = setInterval(() => {
      deepest = Math.max(deepest, throttled.buffer.length);
      widest = Math.max(widest, (passed.get('count') ?? 0) - sink.messages.length);
    }, 2);
    try {
      for (let i = 0; i < 200; i++) await publish(`site/fra/wms/r${i}`, JSON.stringify({ n: i }));
      await sink.count(probes + 200, 20_000);
    } finally {
      clearInterval(sample);
    }
    should(sink.messages.slice(probes).map((m) => m.payload)).eql(Array.from({ length: 200 }, (_, n) => ({ n })));
    should(deepest <= 10).be.true(`the delay node's queue held ${deepest}`);
    should(widest <= 10).be.true(`${widest} records between the counter and the sink`);
    should(((await stats('sub')).held ?? 0) >= 1).be.true('reading was held');
  });

  it('a held inbound lane never holds the shared connection, and a redeploy that removes the holding node leaves no hook', async () => {
    const flow = (withRecords: boolean): Msg[] => [
      { id: 'f1', type: 'tab' },
      { ...bus(), clientId: `records-redeploy-${process.pid}` },
      ...(withRecords ? [records(), { id: 'gate', type: 'test-hold', z: 'f1', wires: [] }] : []),
      { id: 'canon', type: 'bus-subscribe', z: 'f1', bus: 'bus', kind: 'canonical', entity: 'shipment', versions: '1', site: '', siteType: 'str', group: '', qos: '1', maxInFlight: '0', wires: [['canonReceived']] },
      { id: 'canonReceived', type: 'helper', z: 'f1', wires: [] },
    ];
    await deploy(flow(true));
    const canonReceived = new Inbox(node('canonReceived'));
    await primed('site/fra/wms/probe', () => gate('gate').probes > 0);
    await primed(canonical('probe').topic, () => canonReceived.messages.length > 0, () => canonical('probe').payload);
    for (let i = 0; i < 30; i++) await publish(`site/fra/wms/r${i}`, JSON.stringify({ n: i }));
    await waitFor(() => gate('gate').arrived.length === 10, { message: 'the hold' });
    const waiting = canonical('waiting');
    await publish(waiting.topic, waiting.payload);
    const during = await canonReceived.next((m) => (m.payload as { shipmentId?: string }).shipmentId === 'waiting', 10_000);
    should(during).be.ok(); // the canonical subscriber receives while the records lane is held
    should(gate('gate').arrived.length).equal(10, 'the records lane is still held');
    should(hooksRegistered()).eql([true, true, true]);

    // Deploy "modified nodes": the records node and its gate are deleted, the bus and the canonical node stay.
    await setFlows(flow(false), 'nodes');
    const after = canonical('after');
    await publish(after.topic, after.payload);
    should(await canonReceived.next((m) => (m.payload as { shipmentId?: string }).shipmentId === 'after', 10_000)).be.ok();
    should(hooksRegistered()).eql([false, false, false], 'no bus-subscribe with flow control left, so no hooks');
  });

  it('redeploys and a restart of the flows register the hooks once each time and remove them at the end', async () => {
    const flow = (maxInFlight: string): Msg[] => [
      { id: 'f1', type: 'tab' },
      bus(),
      records({ maxInFlight, wires: [['received']] }),
      { id: 'received', type: 'helper', z: 'f1', wires: [] },
    ];
    await deploy(flow('10'));
    should(hooksRegistered()).eql([true, true, true]);
    await setFlows(flow('20'), 'nodes');
    should(hooksRegistered()).eql([true, true, true]);
    await setFlows(flow('30'), 'full');
    should(hooksRegistered()).eql([true, true, true]);
    const received = new Inbox(node('received'));
    await primed('site/fra/wms/probe', () => received.messages.length > 0);
    should(logged('bus-subscribe', 20).filter((m) => /hooks/.test(m)).length).equal(0, 'no "already registered"');
    await setFlows(flow('0'), 'nodes');
    should(hooksRegistered()).eql([false, false, false], 'maxInFlight 0: no flow control, no hooks');
    await setFlows(flow(''), 'nodes');
    should(hooksRegistered()).eql([true, true, true], 'empty: the default, 1000');
    await setFlows([{ id: 'f1', type: 'tab' }, { id: 'received', type: 'helper', z: 'f1', wires: [] }], 'full');
    should(hooksRegistered()).eql([false, false, false], 'the last bus-subscribe is gone');
  });

  it('records: a bad topic filter or max in flight is a red status with the reason, before anything subscribes', async () => {
    await deploy([{ id: 'f1', type: 'tab' }, bus(), records({ topic: 'site/#/wms' }), records({ id: 'sub2', maxInFlight: '1.5' }), { id: 'gate', type: 'test-hold', z: 'f1', wires: [] }]);
    const errors = logged('bus-subscribe', 20);
    should(errors.some((m) => /"site\/#\/wms": "#" must be the whole last level/.test(m))).be.true(errors.join('\n'));
    should(errors.some((m) => /max in flight must be a whole number of records \(0: no limit\), got "1.5"/.test(m))).be.true(errors.join('\n'));
  });
});
