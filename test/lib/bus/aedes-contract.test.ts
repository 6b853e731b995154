// What lib/bus/session-resume.ts, lib/bus/ordered-persistence.ts and lib/bus/ack-after-store.ts assume of
// aedes (written against 1.2.0), one test per assumption, against the real
// broker and its LevelDB persistence: after an aedes upgrade a failure here
// names the assumption that no longer holds, before the workaround silently
// stops working. Each workaround's header says which upstream issue it waits for.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import net from 'node:net';
import { after, describe, it } from 'mocha';
import type { MqttClient } from 'mqtt';
import { ClassicLevel } from 'classic-level';
import type { Aedes, AedesOptions } from 'aedes' with { 'resolution-mode': 'import' };
import { delay, tempDir, waitFor } from '../../support/node-red-process';
import { LOOPBACK, connectRaw, connectWithInbox, endRaw, inbox } from './mqtt-helpers';

const aedesPersistenceLevel = createRequire(__filename)('aedes-persistence-level') as (db: ClassicLevel) => object;

interface Seen {
  payload: string;
  messageId: number | undefined;
  brokerId: string | null | undefined;
  brokerCounter?: number;
}

interface Running {
  aedes: Aedes;
  url: string;
  /** Persistence calls by method name (and the payload, for packets), in call order, with the hooks' entries. */
  log: string[];
  /** What authorizeForward saw, in call order. */
  forwarded: Seen[];
  client(options: { clientId: string; clean?: boolean }): Promise<MqttClient>;
}

type Intercept = (method: string, args: unknown[], call: () => unknown) => unknown;

describe('lib/bus/aedes-contract: the aedes internals the bus workarounds rely on', function () {
  // Real LevelDB folders and brokers: on a loaded machine a case takes seconds.
  this.timeout(30_000);
  const cleanups: Array<() => Promise<void>> = [];
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  const payloadOf = (packet: unknown): string => {
    const payload = (packet as { payload?: unknown } | undefined)?.payload;
    return Buffer.isBuffer(payload) ? payload.toString('utf8') : '';
  };

  type PublishMethod = (this: unknown, packet: object, client: unknown, done: unknown) => void;

  /** Records every packet object the broker instance's publish gets, from aedes' handlers too. */
  function recordPublishes(aedes: Aedes): object[] {
    const published: object[] = [];
    const instance = aedes as unknown as { publish: PublishMethod };
    const original = instance.publish;
    instance.publish = function (this: unknown, packet, client, done) {
      published.push(packet);
      original.call(this, packet, client, done);
    };
    return published;
  }

  async function start(intercept?: Intercept, hooks: Pick<AedesOptions, 'authorizePublish'> = {}, wrapDb: (db: ClassicLevel) => ClassicLevel = (db) => db): Promise<Running> {
    const folder = await tempDir('tectonic-aedes-contract-');
    const db = new ClassicLevel(folder.path);
    await db.open();
    const log: string[] = [];
    const forwarded: Seen[] = [];
    const persistence = new Proxy(aedesPersistenceLevel(wrapDb(db)), {
      get(target, property, receiver) {
        const value: unknown = Reflect.get(target, property, receiver);
        // aedes requires setup to be the AsyncFunction itself.
        if (typeof value !== 'function' || property === 'setup' || typeof property !== 'string') return value;
        return (...args: unknown[]): unknown => {
          log.push(`${property}:${payloadOf(args[1])}`);
          const call = (): unknown => (value as (...a: unknown[]) => unknown).apply(target, args);
          return intercept === undefined ? call() : intercept(property, args, call);
        };
      },
    });
    const { Aedes } = await import('aedes');
    const options: AedesOptions = {
      persistence,
      preConnect: (client, packet, callback) => {
        log.push(`preConnect:${packet.clientId}`);
        callback(null, true);
      },
      authorizeForward: (client, packet) => {
        const numbered = packet as { brokerId?: string | null; brokerCounter?: number };
        forwarded.push({ payload: payloadOf(packet), messageId: packet.messageId, brokerId: numbered.brokerId, brokerCounter: numbered.brokerCounter });
        return packet;
      },
      ...hooks,
    };
    const aedes = await Aedes.createBroker(options);
    const server = net.createServer((socket) => aedes.handle(socket));
    await new Promise<void>((resolve) => server.listen(0, LOOPBACK, resolve));
    const url = `mqtt://${LOOPBACK}:${(server.address() as net.AddressInfo).port}`;
    const clients: MqttClient[] = [];
    cleanups.push(async () => {
      await Promise.all(clients.map((c) => endRaw(c)));
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await db.close();
      await folder.remove();
    });
    return {
      aedes,
      url,
      log,
      forwarded,
      async client({ clientId, clean = true }) {
        const c = await connectRaw(url, { clientId, clean });
        clients.push(c);
        return c;
      },
    };
  }

  /** A persistent session subscribed to `topic` at QoS 1 and gone away. */
  async function sessionAway(broker: Running, clientId: string, topic: string): Promise<void> {
    const first = await broker.client({ clientId, clean: false });
    await first.subscribeAsync(topic, { qos: 1 });
    await endRaw(first);
  }

  it('preConnect runs before aedes restores a persistent session (subscriptionsByClient) and reads its queue (outgoingStream)', async () => {
    const broker = await start();
    await sessionAway(broker, 'contract-a', 'contract/a');
    broker.log.length = 0;
    await broker.client({ clientId: 'contract-a', clean: false });
    await waitFor(() => broker.log.some((e) => e.startsWith('outgoingStream')));
    const at = (prefix: string): number => broker.log.findIndex((e) => e.startsWith(prefix));
    assert.ok(at('preConnect:contract-a') >= 0, broker.log.join(' '));
    assert.ok(at('preConnect:contract-a') < at('subscriptionsByClient'), broker.log.join(' '));
    assert.ok(at('preConnect:contract-a') < at('outgoingStream'), broker.log.join(' '));
  });

  it('authorizeForward sees a live QoS 1 packet without a messageId, and a replayed queued one with its messageId', async () => {
    const broker = await start();
    await sessionAway(broker, 'contract-b', 'contract/b');
    const publisher = await broker.client({ clientId: 'contract-b-pub' });
    await publisher.publishAsync('contract/b', 'queued', { qos: 1 });
    const subscriber = await broker.client({ clientId: 'contract-b', clean: false });
    const received = inbox(subscriber);
    await waitFor(() => received.some((r) => r.payload === 'queued'));
    await publisher.publishAsync('contract/b', 'live', { qos: 1 });
    await waitFor(() => received.some((r) => r.payload === 'live'));
    const seen = (payload: string): Seen | undefined => broker.forwarded.find((s) => s.payload === payload);
    assert.notEqual(seen('queued')?.messageId, undefined, 'the replayed packet carries the id aedes gave it');
    assert.equal(seen('live')?.messageId, undefined, 'the live packet has no id yet');
  });

  it('a retained message sent on SUBSCRIBE reaches authorizeForward with a null brokerId', async () => {
    const broker = await start();
    const publisher = await broker.client({ clientId: 'contract-c-pub' });
    await publisher.publishAsync('contract/c', 'retained', { qos: 1, retain: true });
    const subscriber = await broker.client({ clientId: 'contract-c', clean: false });
    const received = inbox(subscriber);
    await subscriber.subscribeAsync('contract/c', { qos: 1 });
    await waitFor(() => received.some((r) => r.payload === 'retained'));
    assert.equal(broker.forwarded.find((s) => s.payload === 'retained')?.brokerId, null);
  });

  it('emptyQueue calls outgoingUpdate for each replayed message before it sends that message', async () => {
    const broker = await start();
    await sessionAway(broker, 'contract-d', 'contract/d');
    const publisher = await broker.client({ clientId: 'contract-d-pub' });
    const payloads = ['q1', 'q2', 'q3'];
    for (const p of payloads) await publisher.publishAsync('contract/d', p, { qos: 1 });
    broker.log.length = 0;
    const subscriber = await broker.client({ clientId: 'contract-d', clean: false });
    subscriber.on('message', (_topic, payload) => broker.log.push(`received:${payload.toString('utf8')}`));
    await waitFor(() => payloads.every((p) => broker.log.includes(`received:${p}`)));
    for (const p of payloads) {
      const updated = broker.log.indexOf(`outgoingUpdate:${p}`);
      assert.ok(updated >= 0 && updated < broker.log.indexOf(`received:${p}`), broker.log.join(' '));
    }
  });

  it('a client drops a packet whose brokerCounter is not above the last one it forwarded from the same broker (client.js dedupe)', async () => {
    const broker = await start();
    const subscriber = await broker.client({ clientId: 'contract-e' });
    const received = inbox(subscriber);
    await subscriber.subscribeAsync('contract/e', { qos: 0 });
    const base = 1_000_000_000;
    for (const [payload, counter] of [['first', base + 5], ['overtaken', base + 3], ['next', base + 6]] as const) {
      const packet = { cmd: 'publish', topic: 'contract/e', payload: Buffer.from(payload), qos: 0, retain: false, dup: false, brokerId: broker.aedes.id, brokerCounter: counter };
      // aedes's internal emitter (in neither its types nor its docs) is the route every publish takes to the clients.
      const mq = (broker.aedes as unknown as { mq: { emit(packet: object, done: () => void): void } }).mq;
      await new Promise<void>((resolve) => mq.emit(packet, () => resolve()));
    }
    await waitFor(() => received.some((r) => r.payload === 'next'));
    assert.deepEqual(received.map((r) => r.payload), ['first', 'next']);
  });

  it('aedes.counter is the number it gave the last message, and a number set on the packet outgoingEnqueueCombi gets is the one forwarded (lib/bus/ordered-persistence.ts renumber)', async () => {
    const renumbered = 2_000_000_000;
    const broker = await start((method, args, call) => {
      if (method === 'outgoingEnqueueCombi') (args[1] as { brokerCounter: number }).brokerCounter = renumbered;
      return call();
    });
    const subscriber = await broker.client({ clientId: 'contract-n' });
    await subscriber.subscribeAsync('contract/n', { qos: 1 });
    const publisher = await broker.client({ clientId: 'contract-n-pub' });
    const counter = (): unknown => (broker.aedes as unknown as { counter?: unknown }).counter;
    const before = counter();
    assert.equal(typeof before, 'number');
    await publisher.publishAsync('contract/n', 'numbered', { qos: 1 });
    const seen = await waitFor(() => broker.forwarded.find((f) => f.payload === 'numbered'));
    assert.equal(seen.brokerCounter, renumbered);
    assert.ok((counter() as number) > (before as number), 'aedes.counter moved on with the publish');
  });

  it('aedes.close() does not wait for the persistence writes its clients started', async () => {
    let started: () => void = () => undefined;
    const enqueueStarted = new Promise<void>((resolve) => (started = resolve));
    let release: () => void = () => undefined;
    const released = new Promise<void>((resolve) => (release = resolve));
    const broker = await start((method, _args, call) => {
      if (method !== 'outgoingEnqueueCombi') return call();
      started();
      return released.then(call);
    });
    await sessionAway(broker, 'contract-f', 'contract/f');
    const publisher = await broker.client({ clientId: 'contract-f-pub' });
    publisher.publish('contract/f', 'held', { qos: 1 });
    await enqueueStarted;
    const closed = await Promise.race([
      new Promise<boolean>((resolve) => broker.aedes.close(() => resolve(true))),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 3000).unref()),
    ]);
    release();
    assert.equal(closed, true, 'close() waited for the held write');
  });

  it('aedes writes the QoS 1 PUBACK before broker.publish has queued the message for a persistent subscriber (outgoingEnqueueCombi)', async () => {
    let release: () => void = () => undefined;
    const released = new Promise<void>((resolve) => (release = resolve));
    const broker = await start((method, _args, call) => (method === 'outgoingEnqueueCombi' ? released.then(call) : call()));
    await sessionAway(broker, 'contract-g', 'contract/g');
    const publisher = await broker.client({ clientId: 'contract-g-pub' });
    const acked = await Promise.race([
      publisher.publishAsync('contract/g', 'held', { qos: 1 }).then(() => true),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 3000).unref()),
    ]);
    release();
    // When this fails, aedes stores before it acknowledges and lib/bus/ack-after-store.ts can go.
    assert.equal(acked, true, 'the PUBACK waited for the queue entry');
  });

  it('authorizePublish gets a client\'s QoS 1 PUBLISH packets in arrival order before their PUBACK, and the handler then passes the same packet object to the instance\'s publish', async () => {
    const held: Array<{ packet: object; callback: (error?: Error | null) => void }> = [];
    const broker = await start(undefined, {
      authorizePublish: (_client, packet, callback) => {
        if (packet.topic === 'contract/h') held.push({ packet, callback });
        else callback(null);
      },
    });
    const published = recordPublishes(broker.aedes);
    const publisher = await broker.client({ clientId: 'contract-h-pub' });
    let acks = 0;
    const sent = ['h1', 'h2', 'h3'].map((p) => publisher.publishAsync('contract/h', p, { qos: 1 }).then(() => (acks += 1)));
    await waitFor(() => held.length === 3);
    await delay(200);
    assert.equal(acks, 0, 'no PUBACK before authorizePublish called back');
    assert.deepEqual(held.map((h) => payloadOf(h.packet)), ['h1', 'h2', 'h3']);
    assert.equal(published.filter((p) => held.some((h) => h.packet === p)).length, 0, 'nothing published before authorizePublish called back');
    for (const h of held) h.callback(null);
    await Promise.all(sent);
    // The handler publishes in the PUBACK write's callback, a turn after the PUBACK left.
    await waitFor(() => held.every((h) => published.includes(h.packet)), { timeoutMs: 3000, message: "the instance's publish to get the packet objects authorizePublish saw" });
  });

  it('aedes neither publishes nor acknowledges a PUBLISH whose authorizePublish calls back with an error, and closes the connection', async () => {
    const broker = await start(undefined, {
      authorizePublish: (_client, packet, callback) => callback(packet.topic === 'contract/i' ? new Error('refused') : null),
    });
    const published = recordPublishes(broker.aedes);
    const publisher = await broker.client({ clientId: 'contract-i-pub' });
    const closed = new Promise<void>((resolve) => publisher.once('close', () => resolve()));
    let acked = false;
    publisher.publish('contract/i', 'refused', { qos: 1 }, (err) => {
      acked = err === undefined || err === null;
    });
    await closed;
    await delay(100);
    assert.equal(acked, false);
    assert.deepEqual(published.map(payloadOf).filter((p) => p === 'refused'), []);
  });

  it('aedes-persistence-level writes to its database only with put, del, batch(ops), a chained batch and clear (lib/bus/synced-level.ts syncs the first four)', async () => {
    const used = new Set<string>();
    const spy = <T extends object>(target: T, prefix: string): T =>
      new Proxy(target, {
        get(object, property) {
          const value: unknown = Reflect.get(object, property);
          if (typeof value !== 'function' || typeof property !== 'string') return value;
          return (...args: unknown[]): unknown => {
            used.add(`${prefix}${property}`);
            const result: unknown = (value as (...a: unknown[]) => unknown).apply(object, args);
            return property === 'batch' && args.length === 0 ? spy(result as object, 'chained.') : result;
          };
        },
      });
    const broker = await start(undefined, {}, (db) => spy(db, ''));
    // The writes of a broker's life: a will stored and deleted, subscriptions, queued QoS 1 and 2 messages sent and acknowledged, a retained message, an unsubscribe.
    const subscriber = await broker.client({ clientId: 'contract-j', clean: false });
    await subscriber.subscribeAsync('contract/j/#', { qos: 2 });
    await endRaw(subscriber);
    const publisher = await connectRaw(broker.url, { clientId: 'contract-j-pub', will: { topic: 'contract/j/will', payload: Buffer.from('gone'), qos: 1, retain: false } });
    await publisher.publishAsync('contract/j/1', 'one', { qos: 1 });
    await publisher.publishAsync('contract/j/2', 'two', { qos: 2 });
    await publisher.publishAsync('contract/j/r', 'kept', { qos: 1, retain: true });
    const { client: back, received } = await connectWithInbox(broker.url, { clientId: 'contract-j', clean: false });
    await waitFor(() => ['one', 'two', 'kept'].every((p) => received.some((r) => r.payload === p)));
    await back.unsubscribeAsync('contract/j/#');
    await endRaw(back);
    await endRaw(publisher); // a clean disconnect deletes the will
    await delay(100);
    const reads = new Set(['get', 'getMany', 'has', 'hasMany', 'iterator', 'keys', 'values', 'open', 'close']);
    const writes = [...used].filter((name) => !reads.has(name)).sort();
    assert.ok(writes.includes('put') && writes.includes('batch'), writes.join(' '));
    for (const name of writes) assert.ok(['put', 'del', 'batch', 'chained.del', 'chained.put', 'chained.write', 'clear'].includes(name), `a write method not synced: ${name} (${writes.join(' ')})`);
  });
});
