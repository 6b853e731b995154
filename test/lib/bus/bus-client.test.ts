// BusClient against a real embedded broker on 127.0.0.1: connection state,
// acknowledged publishes, one broker subscription per filter however many
// handlers share it, handler errors, and a close that is bounded when the
// broker is gone.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'mocha';
import mqtt, { type IPublishPacket, type MqttClient, type Packet } from 'mqtt';
import { type BusClientOptions, BusClient, type BusState, type ConnectFunction } from '../../../lib/bus/bus-client';
import { type EmbeddedBroker, startEmbeddedBroker } from '../../../lib/bus/embedded-broker';
import { freePort, waitFor } from '../../support/node-red-process';
import { LOOPBACK, connectRaw, endRaw, tectonicError } from './mqtt-helpers';

describe('lib/bus/bus-client', () => {
  const WAIT = { timeoutMs: 5000 };
  let serial = 0;
  const buses: BusClient[] = [];
  const raws: MqttClient[] = [];
  const brokers: EmbeddedBroker[] = [];

  async function broker(port = 0): Promise<EmbeddedBroker> {
    const started = await startEmbeddedBroker({ host: LOOPBACK, port });
    brokers.push(started);
    return started;
  }

  interface Spied {
    bus: BusClient;
    /** Every packet the bus's MQTT.js client wrote, in order. */
    sent: Packet[];
  }

  /** A BusClient whose MQTT.js client is watched through the injected connect function. */
  function bus(port: number, options: Partial<BusClientOptions> = {}): Spied {
    const sent: Packet[] = [];
    const connect: ConnectFunction = (url, opts) => {
      const client = mqtt.connect(url, opts);
      client.on('packetsend', (packet) => sent.push(packet));
      return client;
    };
    serial += 1;
    const created = new BusClient({ url: `mqtt://${LOOPBACK}:${port}`, clientId: `bus-client-test-${process.pid}-${serial}`, protocolVersion: 4, reconnectPeriodMs: 100, connectTimeoutMs: 2000, ...options }, connect);
    buses.push(created);
    return { bus: created, sent };
  }

  async function connected(port: number, options: Partial<BusClientOptions> = {}): Promise<Spied> {
    const spied = bus(port, options);
    await waitFor(() => spied.bus.state.kind === 'connected', { ...WAIT, message: 'the bus to connect' });
    return spied;
  }

  async function raw(port: number): Promise<MqttClient> {
    const client = await connectRaw(`mqtt://${LOOPBACK}:${port}`);
    raws.push(client);
    return client;
  }

  function count(sent: Packet[], cmd: Packet['cmd']): number {
    return sent.filter((p) => p.cmd === cmd).length;
  }

  /** Collects deliveries to a handler. */
  function handler(): { calls: Array<{ topic: string; payload: string; packet: IPublishPacket }>; fn: (topic: string, payload: Buffer, packet: IPublishPacket) => void } {
    const calls: Array<{ topic: string; payload: string; packet: IPublishPacket }> = [];
    return { calls, fn: (topic, payload, packet) => calls.push({ topic, payload: payload.toString('utf8'), packet }) };
  }

  after(async () => {
    await Promise.all(buses.map((b) => b.close()));
    await Promise.all(raws.map((r) => endRaw(r)));
    await Promise.all(brokers.map((b) => b.close()));
  });

  describe('BusClient: connection state', () => {
    it('connecting -> connected -> disconnected when the broker closes -> connected when a broker is back on the port -> closed', async () => {
      const port = await freePort();
      const first = await broker(port);
      const { bus: client } = bus(port);
      const states: BusState[] = [];
      client.onState((state) => states.push(state));
      assert.deepEqual(states, [{ kind: 'connecting' }], 'onState reports the current state at once');
      await waitFor(() => client.state.kind === 'connected', { ...WAIT, message: 'connected' });

      // Resubscribed after the reconnect: a handler added now gets messages from the next broker.
      const received = handler();
      await client.subscribe('state/test', 1, received.fn);

      await first.close();
      await waitFor(() => client.state.kind === 'disconnected', { ...WAIT, message: 'disconnected' });
      // At least one reconnect attempt fails against the closed port before the broker is back.
      await waitFor(() => states.filter((s) => s.kind === 'disconnected').length >= 2, { ...WAIT, message: 'a refused reconnect' });
      const refused = states.find((s) => s.kind === 'disconnected' && s.error !== undefined);
      assert.match(refused?.kind === 'disconnected' ? (refused.error ?? '') : '', /ECONNREFUSED/);

      const second = await broker(port);
      await waitFor(() => client.state.kind === 'connected', { ...WAIT, message: 'connected again' });
      const publisher = await raw(second.port);
      await waitFor(
        async () => {
          await publisher.publishAsync('state/test', 'after the restart', { qos: 1 });
          return received.calls.length > 0;
        },
        { ...WAIT, message: 'the resubscribed handler to receive' },
      );

      await client.close();
      assert.deepEqual(client.state, { kind: 'closed' });

      const kinds = states.map((s) => s.kind).filter((kind, i, all) => kind !== all[i - 1]);
      assert.deepEqual(kinds.slice(0, 3), ['connecting', 'connected', 'disconnected']);
      assert.deepEqual(kinds.slice(-2), ['connected', 'closed']);
      for (const kind of kinds.slice(3, -2)) assert.ok(kind === 'connecting' || kind === 'disconnected', `unexpected ${kind} while the broker was away`);
    });

    it('a listener that unsubscribes from state changes hears no more', async () => {
      const started = await broker();
      const { bus: client } = bus(started.port);
      const heard: string[] = [];
      const stop = client.onState((state) => heard.push(state.kind));
      stop();
      await waitFor(() => client.state.kind === 'connected', { ...WAIT, message: 'connected' });
      assert.deepEqual(heard, ['connecting']);
    });
  });

  describe('BusClient: publish and subscribe', () => {
    let shared: EmbeddedBroker;
    let port: number;
    before(async () => {
      shared = await broker();
      port = shared.port;
    });

    it('QoS 1 publish resolves once the broker has acknowledged it, and a subscriber gets it', async () => {
      const { bus: client, sent } = await connected(port);
      const subscriber = await raw(port);
      const got: string[] = [];
      subscriber.on('message', (_topic, payload) => got.push(payload.toString('utf8')));
      await subscriber.subscribeAsync('pub/ack', { qos: 1 });
      const acked: number[] = [];
      // The PUBACK is a received packet; the bus must not resolve before it.
      (client as unknown as { client: MqttClient }).client.on('packetreceive', (packet) => {
        if (packet.cmd === 'puback' && packet.messageId !== undefined) acked.push(packet.messageId);
      });
      await client.publish('pub/ack', Buffer.from('ü€'), { qos: 1 });
      const publish = sent.find((p): p is IPublishPacket => p.cmd === 'publish' && p.topic === 'pub/ack');
      assert.ok(publish?.messageId !== undefined);
      assert.ok(acked.includes(publish.messageId), 'the PUBACK arrived before publish() resolved');
      assert.equal(publish.qos, 1);
      assert.equal(publish.retain, false);
      await waitFor(() => got[0], { ...WAIT, message: 'the subscriber to receive' });
      assert.deepEqual(got, ['ü€']);
    });

    it('QoS 0 and retained publishes reach the broker as asked', async () => {
      const { bus: client, sent } = await connected(port);
      await client.publish('pub/zero', Buffer.from('0'), { qos: 0 });
      await client.publish('pub/retained', Buffer.from('r'), { qos: 1, retain: true });
      const late = await raw(port);
      const got: string[] = [];
      late.on('message', (topic, payload) => got.push(`${topic}=${payload.toString('utf8')}`));
      await late.subscribeAsync('pub/retained', { qos: 1 });
      await waitFor(() => got.length > 0, { ...WAIT, message: 'the retained message' });
      assert.deepEqual(got, ['pub/retained=r']);
      const publishes = sent.filter((p): p is IPublishPacket => p.cmd === 'publish').map((p) => [p.topic, p.qos, p.retain]);
      assert.deepEqual(publishes, [['pub/zero', 0, false], ['pub/retained', 1, true]]);
      await client.publish('pub/retained', Buffer.alloc(0), { qos: 1, retain: true });
    });

    it('publish and subscribe after close() reject with BUS_CLOSED', async () => {
      const { bus: client } = await connected(port);
      await client.close();
      await assert.rejects(client.publish('t', Buffer.from('x'), { qos: 1 }), tectonicError('BUS_CLOSED'));
      await assert.rejects(client.subscribe('t', 1, () => undefined), tectonicError('BUS_CLOSED'));
      assert.equal(client.close(), client.close(), 'close() is idempotent');
    });

    it('two handlers on one filter make one broker subscription, and each gets a message once', async () => {
      const { bus: client, sent } = await connected(port);
      const a = handler();
      const b = handler();
      const stopA = await client.subscribe('two/+', 1, a.fn);
      const stopB = await client.subscribe('two/+', 1, b.fn);
      assert.equal(count(sent, 'subscribe'), 1);

      const publisher = await raw(port);
      await publisher.publishAsync('two/x', 'one', { qos: 1 });
      await waitFor(() => a.calls.length === 1 && b.calls.length === 1, { ...WAIT, message: 'both handlers' });
      assert.deepEqual([a.calls[0]?.topic, a.calls[0]?.payload, b.calls[0]?.payload], ['two/x', 'one', 'one']);

      // Removing one handler keeps the broker subscription for the other.
      await stopA();
      await stopA();
      assert.equal(count(sent, 'unsubscribe'), 0);
      await publisher.publishAsync('two/x', 'two', { qos: 1 });
      await waitFor(() => b.calls.length === 2, { ...WAIT, message: 'the remaining handler' });
      assert.equal(a.calls.length, 1);

      // The last one unsubscribes at the broker, and delivery stops: a sentinel
      // published after it arrives while the unsubscribed topic stays silent.
      await stopB();
      assert.equal(count(sent, 'unsubscribe'), 1);
      const sentinel = handler();
      await client.subscribe('sentinel/two', 1, sentinel.fn);
      await publisher.publishAsync('two/x', 'three', { qos: 1 });
      await publisher.publishAsync('sentinel/two', 'done', { qos: 1 });
      await waitFor(() => sentinel.calls.length === 1, { ...WAIT, message: 'the sentinel' });
      assert.equal(a.calls.length, 1);
      assert.equal(b.calls.length, 2);
    });

    it('overlapping filters each get the message', async () => {
      const { bus: client } = await connected(port);
      const byVersion = handler();
      const byEntity = handler();
      const unrelated = handler();
      await client.subscribe('cdm/+/v1/+', 1, byVersion.fn);
      await client.subscribe('cdm/shipment/#', 1, byEntity.fn);
      await client.subscribe('cdm/order/#', 1, unrelated.fn);
      const publisher = await raw(port);
      await publisher.publishAsync('cdm/shipment/v1/site-a', 'r', { qos: 1 });
      await publisher.publishAsync('cdm/order/v2/site-a', 'sentinel', { qos: 1 });
      await waitFor(() => unrelated.calls.length === 1, { ...WAIT, message: 'the sentinel' });
      assert.deepEqual(byVersion.calls.map((c) => c.topic), ['cdm/shipment/v1/site-a']);
      assert.deepEqual(byEntity.calls.map((c) => c.topic), ['cdm/shipment/v1/site-a']);
    });

    it('routes follow the filters as they come and go, on a topic already routed', async () => {
      const { bus: client } = await connected(port);
      const first = handler();
      const second = handler();
      const sentinel = handler();
      await client.subscribe('routes/sentinel', 1, sentinel.fn);
      const leaveFirst = await client.subscribe('routes/+', 1, first.fn);
      const publisher = await raw(port);
      const round = async (n: number): Promise<void> => {
        await publisher.publishAsync('routes/a', `r${n}`, { qos: 1 });
        await publisher.publishAsync('routes/sentinel', `s${n}`, { qos: 1 });
        await waitFor(() => sentinel.calls.length === n, { ...WAIT, message: `sentinel ${n}` });
      };
      await round(1);
      // A second filter matching a topic that has been routed before must get its messages.
      await client.subscribe('routes/#', 1, second.fn);
      await round(2);
      // And a filter that left must get no more.
      await leaveFirst();
      await round(3);
      assert.deepEqual(first.calls.filter((c) => c.topic === 'routes/a').map((c) => c.payload), ['r1', 'r2']);
      assert.deepEqual(second.calls.filter((c) => c.topic === 'routes/a').map((c) => c.payload), ['r2', 'r3']);
    });

    it('a throwing handler reaches onError and the other handlers still run', async () => {
      const { bus: client } = await connected(port);
      const errors: Error[] = [];
      client.onError((err) => errors.push(err));
      const after = handler();
      await client.subscribe('throws', 1, () => {
        throw new Error('handler broke');
      });
      await client.subscribe('throws', 1, after.fn);
      await client.subscribe('throws', 1, () => {
        // eslint-disable-next-line @typescript-eslint/only-throw-error -- a careless flow may throw anything
        throw 'a string';
      });
      const publisher = await raw(port);
      await publisher.publishAsync('throws', 'x', { qos: 1 });
      await waitFor(() => errors.length === 2, { ...WAIT, message: 'both errors reported' });
      assert.deepEqual(errors.map((e) => [e instanceof Error, e.message]), [[true, 'handler broke'], [true, 'a string']]);
      assert.equal(after.calls.length, 1);
      assert.equal(client.state.kind, 'connected', 'the connection survives a throwing handler');
    });

    it('a refused subscription rejects with BUS_SUBSCRIBE_FAILED and leaves no route behind', async () => {
      const { bus: client } = await connected(port);
      const h = handler();
      await assert.rejects(client.subscribe('a/#/b', 1, h.fn), tectonicError('BUS_SUBSCRIBE_FAILED', /^subscribe to a\/#\/b failed: /));
      // A second try is a fresh first subscription, refused again rather than silently accepted.
      await assert.rejects(client.subscribe('a/#/b', 1, h.fn), tectonicError('BUS_SUBSCRIBE_FAILED'));
      const ok = handler();
      await client.subscribe('a/+/b', 1, ok.fn);
      const publisher = await raw(port);
      await publisher.publishAsync('a/x/b', 'fine', { qos: 1 });
      await waitFor(() => ok.calls.length === 1, { ...WAIT, message: 'a valid subscription still works' });
      assert.equal(h.calls.length, 0);
    });

    it('a handler that joins a subscription still in flight shares its refusal', async () => {
      const { bus: client } = await connected(port);
      const results = await Promise.allSettled([client.subscribe('c/#/d', 1, () => undefined), client.subscribe('c/#/d', 1, () => undefined)]);
      assert.deepEqual(results.map((r) => r.status), ['rejected', 'rejected']);
      for (const r of results) if (r.status === 'rejected') assert.ok(tectonicError('BUS_SUBSCRIBE_FAILED')(r.reason));
    });

    it('a handler that joins a subscription still in flight resolves only once the broker has granted it', async () => {
      const { bus: client, sent } = await connected(port);
      const subacks: number[] = [];
      (client as unknown as { client: MqttClient }).client.on('packetreceive', (packet) => {
        if (packet.cmd === 'suback') subacks.push(packet.messageId ?? -1);
      });
      const first = client.subscribe('inflight/+', 1, () => undefined);
      await client.subscribe('inflight/+', 1, () => undefined);
      assert.equal(subacks.length, 1, 'the SUBACK arrived before the second subscribe() resolved');
      await first;
      assert.equal(count(sent, 'subscribe'), 1);
    });
  });

  describe('BusClient: subscribing while the broker is away', () => {
    it('a subscription made before the broker is up is placed on the first CONNACK, and delivers', async () => {
      const port = await freePort();
      const { bus: client, sent } = bus(port);
      const got: string[] = [];
      const subscribed = client.subscribe('early/+', 1, (topic, payload) => got.push(`${topic}=${payload.toString('utf8')}`));
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal(count(sent, 'subscribe'), 0, 'nothing is sent while there is no broker');
      await broker(port);
      await subscribed;
      const publisher = await raw(port);
      await publisher.publishAsync('early/a', 'late broker', { qos: 1 });
      await waitFor(() => got.length === 1, { ...WAIT, message: 'the message through the early subscription' });
      assert.deepEqual(got, ['early/a=late broker']);
    });

    it('after the broker restarts with a fresh session, every subscription is placed again', async () => {
      const port = await freePort();
      const first = await broker(port);
      const { bus: client } = await connected(port);
      const got: string[] = [];
      await client.subscribe('again/+', 1, (topic) => got.push(topic));
      await first.close();
      await waitFor(() => client.state.kind === 'disconnected', { ...WAIT, message: 'disconnected' });
      await broker(port);
      await waitFor(() => client.state.kind === 'connected', { ...WAIT, message: 'reconnected' });
      const publisher = await raw(port);
      await waitFor(
        async () => {
          await publisher.publishAsync('again/x', 'x', { qos: 1 });
          return got.length > 0;
        },
        { ...WAIT, message: 'delivery after the restart' },
      );
    });

    it('close() settles a subscribe() still waiting for a broker that never came', async () => {
      const port = await freePort();
      const { bus: client } = bus(port);
      const waiting = client.subscribe('never/+', 1, () => undefined);
      await client.close();
      const unsubscribe = await waiting;
      await unsubscribe();
    });
  });

  describe('BusClient: keepalive', () => {
    it('under steady traffic the connection stays up and pings go out on their own schedule', async function (this: Mocha.Context) {
      this.timeout(15_000);
      const started = await broker();
      const { bus: client, sent } = await connected(started.port, { keepaliveSeconds: 1 });
      const states: BusState[] = [];
      client.onState((state) => states.push(state));
      // 4 s at a publish every 100 ms: each PUBACK used to reset the keepalive timer; now it runs regardless.
      for (let i = 0; i < 40; i++) {
        await client.publish('keepalive/traffic', Buffer.from(String(i)), { qos: 1 });
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assert.deepEqual(states.map((s) => s.kind), ['connected'], 'no disconnect while traffic flows');
      assert.ok(count(sent, 'pingreq') >= 2, `pings were sent (${count(sent, 'pingreq')})`);
    });
  });

  describe('BusClient: close', () => {
    it('close() is bounded when the broker is gone', async () => {
      const port = await freePort();
      const started = await broker(port);
      const { bus: client } = await connected(port, { closeTimeoutMs: 1000 });
      await client.subscribe('gone/+', 1, () => undefined);
      await started.close();
      await waitFor(() => client.state.kind === 'disconnected', { ...WAIT, message: 'disconnected' });
      // A QoS 1 publish left waiting for an ack that will never come must not hold close() up.
      let outcome: unknown;
      client.publish('gone/x', Buffer.from('x'), { qos: 1 }).then(
        () => (outcome = 'resolved'),
        (err: unknown) => (outcome = err),
      );
      const began = Date.now();
      await client.close();
      const took = Date.now() - began;
      assert.ok(took < 3000, `close() took ${took} ms`);
      assert.deepEqual(client.state, { kind: 'closed' });
      // The unacknowledged publish is not left hanging: its node can still call done(err).
      const settled = await waitFor(() => outcome, { timeoutMs: 1000, message: 'the pending publish to settle' });
      assert.ok(tectonicError('BUS_CLOSED', /before the broker acknowledged/)(settled));
    });

    it('close() while connected ends the session cleanly with a DISCONNECT', async () => {
      const started = await broker();
      const { bus: client, sent } = await connected(started.port);
      await waitFor(() => started.connectedClients() === 1, { ...WAIT, message: 'counted' });
      await client.close();
      assert.equal(count(sent, 'disconnect'), 1);
      await waitFor(() => started.connectedClients() === 0, { ...WAIT, message: 'the broker to see the client go' });
    });
  });
});
