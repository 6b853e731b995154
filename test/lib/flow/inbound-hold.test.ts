// BusClient.holdInbound(), the back-pressure half of flow control, against a
// real embedded aedes: while a hold is active nothing more is routed or
// acknowledged, release resumes in order, a dropped connection does not
// wedge the next one, a restarting subscriber's filter is parked so nothing
// the release lets in is lost, the keepalive does not give up on a held
// connection, and close() is not held up.
import assert from 'node:assert/strict';
import { after, describe, it } from 'mocha';
import mqtt, { type MqttClient } from 'mqtt';
import { BusClient, type BusClientOptions } from '../../../lib/bus/bus-client';
import { type EmbeddedBroker, startEmbeddedBroker } from '../../../lib/bus/embedded-broker';
import { delay, waitFor } from '../../support/node-red-process';
import { LOOPBACK, connectRaw, endRaw } from '../bus/mqtt-helpers';

describe('lib/flow/inbound-hold', () => {
  const WAIT = { timeoutMs: 8000 };
  let serial = 0;
  const buses: BusClient[] = [];
  const raws: MqttClient[] = [];
  const brokers: EmbeddedBroker[] = [];

  after(async () => {
    await Promise.all(buses.map((b) => b.close()));
    await Promise.all(raws.map((r) => endRaw(r)));
    await Promise.all(brokers.map((b) => b.close()));
  });

  async function broker(port = 0): Promise<EmbeddedBroker> {
    const started = await startEmbeddedBroker({ host: LOOPBACK, port });
    brokers.push(started);
    return started;
  }

  /** A connected BusClient, and the MQTT.js client under it (to cut its socket). */
  async function connected(port: number, options: Partial<BusClientOptions> = {}): Promise<{ bus: BusClient; mqttClient: () => MqttClient }> {
    serial += 1;
    let inner: MqttClient | undefined;
    const bus = new BusClient(
      { url: `mqtt://${LOOPBACK}:${port}`, clientId: `hold-test-${process.pid}-${serial}`, protocolVersion: 4, reconnectPeriodMs: 100, connectTimeoutMs: 2000, ...options },
      (url, opts) => (inner = mqtt.connect(url, opts)),
    );
    buses.push(bus);
    await waitFor(() => bus.state.kind === 'connected', { ...WAIT, message: 'the bus to connect' });
    return { bus, mqttClient: () => inner as MqttClient };
  }

  async function publisher(port: number): Promise<MqttClient> {
    const client = await connectRaw(`mqtt://${LOOPBACK}:${port}`, { clientId: `hold-pub-${process.pid}-${++serial}` });
    raws.push(client);
    return client;
  }

  async function publishAll(client: MqttClient, topic: string, n: number, from = 0): Promise<void> {
    for (let i = from; i < from + n; i++) await client.publishAsync(topic, String(i), { qos: 1 });
  }

  const range = (from: number, n: number): string[] => Array.from({ length: n }, (_, i) => String(from + i));

  describe('BusClient.holdInbound', () => {
    it('a hold taken while routing a message stops everything after it; release resumes in order', async () => {
      const { port } = await broker();
      const { bus } = await connected(port);
      const got: string[] = [];
      let release: (() => void) | undefined;
      await bus.subscribe('hold/a', 1, (_topic, payload) => {
        got.push(payload.toString());
        if (got.length === 5) release = bus.holdInbound();
      });
      const pub = await publisher(port);
      // The broker takes all 50 (its PUBACKs to the publisher do not depend on us).
      await publishAll(pub, 'hold/a', 50);
      await delay(300);
      assert.deepEqual(got, range(0, 5), 'exactly the message that took the hold and those before it');
      assert.equal(bus.inboundHolds, 1);
      release?.();
      release?.(); // twice is harmless
      await waitFor(() => got.length >= 50, { ...WAIT, message: 'the rest after release' });
      assert.deepEqual(got, range(0, 50), 'each once, in order');
      assert.equal(bus.inboundHolds, 0);
    });

    it('the connection is held for every handler on it, and our own publish waits for its PUBACK', async () => {
      const { port } = await broker();
      const { bus } = await connected(port);
      const other: string[] = [];
      await bus.subscribe('hold/other', 1, (_topic, payload) => other.push(payload.toString()));
      const release = bus.holdInbound();
      const pub = await publisher(port);
      await pub.publishAsync('hold/other', 'x', { qos: 1 });
      let acknowledged = false;
      const ours = bus.publish('hold/elsewhere', Buffer.from('y'), { qos: 1 }).then(() => (acknowledged = true));
      await delay(300);
      assert.deepEqual(other, [], 'the other subscriber waits too');
      assert.equal(acknowledged, false, 'the PUBACK for our publish is queued behind the held message');
      release();
      await waitFor(() => other.length === 1 && acknowledged, { ...WAIT, message: 'both after release' });
      await ours;
    });

    it('a connection that drops while held does not wedge the next one; with a persistent session nothing is lost', async () => {
      const { port } = await broker();
      const { bus, mqttClient } = await connected(port, { clean: false });
      const got: string[] = [];
      let release: (() => void) | undefined;
      await bus.subscribe('hold/drop', 1, (_topic, payload) => {
        got.push(payload.toString());
        if (got.length === 3) release = bus.holdInbound();
      });
      const pub = await publisher(port);
      await publishAll(pub, 'hold/drop', 10);
      await waitFor(() => release !== undefined, { ...WAIT, message: 'the hold' });
      const before = mqttClient().stream;
      before.destroy(); // the network goes away under a held message
      await waitFor(() => bus.state.kind === 'connected' && mqttClient().stream !== before, { ...WAIT, message: 'a new connection' });
      await delay(300);
      assert.deepEqual(got, range(0, 3), 'still held on the new connection: the flow is still full');
      release?.();
      await waitFor(() => new Set(got).size === 10, { ...WAIT, message: 'everything after release' });
      // The held message was never acknowledged, so the broker resent it: at least once.
      assert.deepEqual([...new Set(got)], range(0, 10), 'in order');
      await pub.publishAsync('hold/drop', 'after', { qos: 1 });
      await waitFor(() => got.includes('after'), { ...WAIT, message: 'the new connection reads on' });
    });

    it('a subscriber restarting (keepAtBroker) parks its filter: what the release lets in waits for its successor', async () => {
      const { port } = await broker();
      const { bus } = await connected(port, { clean: false });
      const first: string[] = [];
      let release: (() => void) | undefined;
      const unsubscribe = await bus.subscribe('hold/park', 1, (_topic, payload) => {
        first.push(payload.toString());
        if (first.length === 2) release = bus.holdInbound();
      });
      const pub = await publisher(port);
      await publishAll(pub, 'hold/park', 20);
      await waitFor(() => release !== undefined, { ...WAIT, message: 'the hold' });
      await unsubscribe({ keepAtBroker: true }); // the node closes for a redeploy ...
      release?.(); // ... and lets go of its hold
      await delay(300);
      const second: string[] = [];
      await bus.subscribe('hold/park', 1, (_topic, payload) => second.push(payload.toString())); // its successor
      await waitFor(() => second.length >= 18, { ...WAIT, message: 'the successor to get the rest' });
      assert.deepEqual([...first, ...second], range(0, 20), 'nothing lost, nothing twice');
    });

    it('a park expires: with no successor the filter stops holding the connection', async () => {
      const { port } = await broker();
      const { bus } = await connected(port, { parkMs: 200 });
      const unsubscribe = await bus.subscribe('hold/gone/#', 1, () => undefined);
      const other: string[] = [];
      await bus.subscribe('hold/live', 1, (_topic, payload) => other.push(payload.toString()));
      await unsubscribe({ keepAtBroker: true });
      const pub = await publisher(port);
      await pub.publishAsync('hold/gone/x', 'parked', { qos: 1 });
      await pub.publishAsync('hold/live', 'live', { qos: 1 });
      await waitFor(() => other.length === 1, { ...WAIT, message: 'the live subscriber once the park expired' });
    });

    it('the keepalive does not give up on a connection that is only held', async () => {
      const { port } = await broker();
      const { bus } = await connected(port, { keepaliveSeconds: 1 });
      const states: string[] = [];
      bus.onState((state) => states.push(state.kind));
      const got: string[] = [];
      let release: (() => void) | undefined;
      await bus.subscribe('hold/alive', 1, (_topic, payload) => {
        got.push(payload.toString());
        release ??= bus.holdInbound();
      });
      const pub = await publisher(port);
      await publishAll(pub, 'hold/alive', 3);
      await delay(3500); // more than 1.5 keepalives, with the PINGRESPs stuck behind the held message
      assert.deepEqual(states, ['connected'], 'no keepalive timeout, no reconnect');
      release?.();
      await waitFor(() => got.length === 3, { ...WAIT, message: 'the rest after release' });
      assert.deepEqual(got, range(0, 3));
    });

    it('close() while held is not held up, and later handleMessage calls are not routed', async () => {
      const { port } = await broker();
      const { bus } = await connected(port);
      const got: string[] = [];
      await bus.subscribe('hold/close', 1, (_topic, payload) => {
        got.push(payload.toString());
        bus.holdInbound();
      });
      const pub = await publisher(port);
      await publishAll(pub, 'hold/close', 5);
      await waitFor(() => got.length === 1, { ...WAIT, message: 'the first message' });
      const started = Date.now();
      await bus.close();
      assert.ok(Date.now() - started < 1500, `close took ${Date.now() - started} ms`);
      assert.deepEqual(got, ['0']);
    });
  });
});
