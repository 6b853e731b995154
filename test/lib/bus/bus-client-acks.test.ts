// Withheld PUBACKs (BusClient.deferAck) against a real embedded broker: they
// go out in arrival order as records finish, MQTT.js reads on meanwhile, and
// what was never acknowledged comes back on the next connection of the
// persistent session.
import assert from 'node:assert/strict';
import { after, describe, it } from 'mocha';
import mqtt, { type IPublishPacket, type MqttClient, type Packet } from 'mqtt';
import { BusClient, type ConnectFunction, type ReleaseAck } from '../../../lib/bus/bus-client';
import { type EmbeddedBroker, startEmbeddedBroker } from '../../../lib/bus/embedded-broker';
import { delay, waitFor } from '../../support/node-red-process';
import { LOOPBACK, connectRaw, endRaw } from './mqtt-helpers';

describe('lib/bus/bus-client: PUBACKs withheld until the record has finished', () => {
  const WAIT = { timeoutMs: 5000 };
  let serial = 0;
  const buses: BusClient[] = [];
  const raws: MqttClient[] = [];
  const brokers: EmbeddedBroker[] = [];

  after(async () => {
    await Promise.all(buses.map((b) => b.close()));
    await Promise.all(raws.map((r) => endRaw(r)));
    await Promise.all(brokers.map((b) => b.close()));
  });

  async function broker(): Promise<EmbeddedBroker> {
    const started = await startEmbeddedBroker({ host: LOOPBACK, port: 0 });
    brokers.push(started);
    return started;
  }

  interface Watched {
    bus: BusClient;
    /** The MQTT.js client under it, to cut its socket. */
    mqtt: () => MqttClient;
    /** Packet ids of the PUBACKs written, in order. */
    pubacks: number[];
    /** What the handler got, each with the way to finish its record. */
    received: Array<{ payload: string; packet: IPublishPacket; release: ReleaseAck }>;
  }

  async function deferring(port: number, clientId: string, topic: string): Promise<Watched> {
    const pubacks: number[] = [];
    let underlying: MqttClient | undefined;
    const connect: ConnectFunction = (url, opts) => {
      const client = mqtt.connect(url, opts);
      client.on('packetsend', (packet: Packet) => {
        if (packet.cmd === 'puback') pubacks.push(packet.messageId ?? -1);
      });
      underlying = client;
      return client;
    };
    const bus = new BusClient({ url: `mqtt://${LOOPBACK}:${port}`, clientId, protocolVersion: 4, clean: false, reconnectPeriodMs: 100, connectTimeoutMs: 2000 }, connect);
    buses.push(bus);
    const received: Watched['received'] = [];
    // Subscribed before the CONNACK, as SharedBus does: what a resumed session redelivers then has its route.
    await bus.subscribe(topic, 1, (_topic, payload, packet, deferAck) => received.push({ payload: payload.toString('utf8'), packet, release: deferAck() }));
    return { bus, mqtt: () => underlying as MqttClient, pubacks, received };
  }

  async function publish(port: number, topic: string, payloads: string[]): Promise<void> {
    const publisher = await connectRaw(`mqtt://${LOOPBACK}:${port}`);
    raws.push(publisher);
    for (const payload of payloads) await publisher.publishAsync(topic, payload, { qos: 1 });
  }

  function clientId(): string {
    serial += 1;
    return `deferred-acks-${process.pid}-${serial}`;
  }

  it('records finishing out of order: the PUBACKs go out in the order the PUBLISHes arrived, each once those before it have finished [MQTT-4.6.0-2]', async () => {
    const started = await broker();
    const topic = 'acks/order';
    const site = await deferring(started.port, clientId(), topic);
    await publish(started.port, topic, ['1', '2', '3', '4', '5']);
    await waitFor(() => site.received.length === 5, { ...WAIT, message: 'five messages' });
    const ids = site.received.map((r) => r.packet.messageId);
    const release = (payload: string): void => site.received.find((r) => r.payload === payload)?.release();
    await delay(50);
    assert.deepEqual(site.pubacks, [], 'nothing acknowledged while every record is open');
    release('3');
    release('5');
    assert.deepEqual(site.pubacks, [], 'finished behind an open head: withheld');
    release('1');
    assert.deepEqual(site.pubacks, ids.slice(0, 1));
    release('2');
    assert.deepEqual(site.pubacks, ids.slice(0, 3), '2 releases 3 behind it');
    release('4');
    assert.deepEqual(site.pubacks, ids);
    assert.equal(site.bus.deferredAcks, 0);
  });

  it('reading is not serialised: 100 records in flight at once before any has finished', async () => {
    const started = await broker();
    const topic = 'acks/many';
    const site = await deferring(started.port, clientId(), topic);
    await publish(started.port, topic, Array.from({ length: 100 }, (_, i) => String(i)));
    await waitFor(() => site.received.length === 100, { ...WAIT, message: '100 messages routed with none acknowledged' });
    assert.deepEqual(site.pubacks, []);
    assert.equal(site.bus.deferredAcks, 100);
    for (const r of site.received) r.release();
    assert.equal(site.pubacks.length, 100);
    assert.deepEqual(site.received.map((r) => r.payload), Array.from({ length: 100 }, (_, i) => String(i)), 'in order');
  });

  it('a connection cut with records unfinished: their PUBACKs are forgotten (never sent on the next connection) and the broker redelivers them', async () => {
    const started = await broker();
    const topic = 'acks/redeliver';
    const site = await deferring(started.port, clientId(), topic);
    await publish(started.port, topic, ['a', 'b', 'c']);
    await waitFor(() => site.received.length === 3, { ...WAIT, message: 'three messages' });
    site.received[0]?.release();
    assert.equal(site.pubacks.length, 1, 'a finished and is acknowledged');
    // Let the PUBACK leave the corked socket (coalesce-writes) before the cut.
    await delay(100);
    const before = site.received.slice();
    site.mqtt().stream.destroy();
    await waitFor(() => site.received.length >= 5, { ...WAIT, message: `b and c redelivered on the next connection (got ${site.received.length})` });
    assert.deepEqual(site.received.slice(3).map((r) => r.payload), ['b', 'c']);
    const pubacksBefore = site.pubacks.length;
    for (const r of before) r.release();
    assert.equal(site.pubacks.length, pubacksBefore, "releases from the old connection write nothing on the new one");
    for (const r of site.received.slice(3)) r.release();
    assert.equal(site.pubacks.length, pubacksBefore + 2);
    await delay(100);
    // Acknowledged now: a further reconnect brings nothing back.
    site.mqtt().stream.destroy();
    await waitFor(() => site.bus.state.kind !== 'connected', { ...WAIT, message: 'the cut' });
    await waitFor(() => site.bus.state.kind === 'connected', { ...WAIT, message: 'connected again' });
    await delay(200);
    assert.equal(site.received.length, 5);
  });

  it('close: the PUBACKs of finished records go out, the unfinished stay with the broker for the session', async () => {
    const started = await broker();
    const topic = 'acks/close';
    const id = clientId();
    const site = await deferring(started.port, id, topic);
    await publish(started.port, topic, ['x', 'y', 'z']);
    await waitFor(() => site.received.length === 3, { ...WAIT, message: 'three messages' });
    site.received[0]?.release();
    site.received[2]?.release();
    await site.bus.close();
    assert.deepEqual(site.pubacks, [site.received[0]?.packet.messageId], 'z finished but is behind the open y');
    const next = await deferring(started.port, id, topic);
    await waitFor(() => next.received.length >= 2, { ...WAIT, message: 'y and z again' });
    await delay(100);
    assert.deepEqual(next.received.map((r) => r.payload), ['y', 'z']);
  });
});
