// The outbox sender as pure logic (a fake outbox, a fake publish and hand-driven
// timers), then once end to end against a real embedded broker that is stopped
// and restarted while 1000 entries go out.
import assert from 'node:assert/strict';
import { after, describe, it } from 'mocha';
import mqtt, { type MqttClient } from 'mqtt';
import { BusClient } from '../../../lib/bus/bus-client';
import { type EmbeddedBroker, startEmbeddedBroker } from '../../../lib/bus/embedded-broker';
import { DurableOutbox, type OutboxEntry } from '../../../lib/outbox/durable-outbox';
import { OutboxSender, type OutboxSenderOptions, type SenderTimers, backoffDelay } from '../../../lib/outbox/outbox-sender';
import type { Reason } from '../../../lib/reasons';
import { tempDir, waitFor } from '../../support/node-red-process';
import { LOOPBACK } from '../bus/mqtt-helpers';

/** The outbox's contract in memory: oldest waiting first, release puts back in front of newer ones. */
class FakeOutbox {
  readonly held = new Map<number, OutboxEntry>();
  private readonly handedOut = new Set<number>();
  private readonly listeners = new Set<(depth: number, bytes: number) => void>();
  readonly acked: number[] = [];

  add(count: number): void {
    const start = this.held.size + this.acked.length;
    for (let seq = start; seq < start + count; seq += 1) this.held.set(seq, { seq, topic: 't', payload: Buffer.from(String(seq)), qos: 1, enqueuedAt: 0, attempts: 0 });
    for (const listener of this.listeners) listener(this.held.size, 0);
  }

  next(): OutboxEntry | undefined {
    const seq = [...this.held.keys()].sort((a, b) => a - b).find((s) => !this.handedOut.has(s));
    if (seq === undefined) return undefined;
    this.handedOut.add(seq);
    return this.held.get(seq);
  }

  release(seq: number): void {
    this.handedOut.delete(seq);
  }

  ack(seq: number): Promise<void> {
    if (this.held.delete(seq)) this.acked.push(seq);
    this.handedOut.delete(seq);
    for (const listener of this.listeners) listener(this.held.size, 0);
    return Promise.resolve();
  }

  onChange(listener: (depth: number, bytes: number) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

/** Timers that fire only when the test advances the clock. */
class FakeTimers implements SenderTimers {
  now = 0;
  private nextId = 1;
  private readonly pending = new Map<number, { at: number; callback: () => void }>();

  setTimeout(callback: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.pending.set(id, { at: this.now + ms, callback });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.pending.delete(handle as number);
  }

  /** Waits until the next timer; false when none is set. */
  get scheduled(): number[] {
    return [...this.pending.values()].map((t) => t.at - this.now);
  }

  async advance(ms: number): Promise<void> {
    const until = this.now + ms;
    for (let fired = 0; fired < 1000; fired += 1) {
      const due = [...this.pending.entries()].filter(([, t]) => t.at <= until).sort((a, b) => a[1].at - b[1].at)[0];
      if (due === undefined) break;
      this.pending.delete(due[0]);
      this.now = due[1].at;
      due[1].callback();
      await settle();
    }
    this.now = until;
  }
}

/** Lets promise callbacks run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i += 1) await new Promise((resolve) => setImmediate(resolve));
}

/** A publish whose every call the test resolves or rejects by hand. */
class FakeBus {
  readonly calls: { seq: number; resolve: () => void; reject: (err: Error) => void }[] = [];
  /** Seqs published, in call order. */
  get published(): number[] {
    return this.calls.map((c) => c.seq);
  }

  readonly publish = (entry: OutboxEntry, settled: (err?: unknown) => void): void => {
    this.calls.push({ seq: entry.seq, resolve: () => settled(), reject: (err) => settled(err) });
  };

  /** Settles the latest call for `seq`. */
  async answer(seq: number, outcome: 'ok' | 'fail'): Promise<void> {
    const call = [...this.calls].reverse().find((c) => c.seq === seq);
    if (call === undefined) throw new Error(`seq ${seq} was never published`);
    if (outcome === 'ok') call.resolve();
    else call.reject(new Error('connection lost'));
    await settle();
  }
}

interface Rig {
  outbox: FakeOutbox;
  bus: FakeBus;
  timers: FakeTimers;
  sender: OutboxSender;
  delivered: number[];
  givenUp: [number, Reason][];
}

function rig(options: Partial<OutboxSenderOptions> = {}): Rig {
  const outbox = new FakeOutbox();
  const bus = new FakeBus();
  const timers = new FakeTimers();
  const delivered: number[] = [];
  const givenUp: [number, Reason][] = [];
  const sender = new OutboxSender({
    outbox,
    publish: bus.publish,
    timers,
    onDelivered: (entry) => delivered.push(entry.seq),
    onGiveUp: (entry, why) => {
      givenUp.push([entry.seq, why]);
    },
    ...options,
  });
  return { outbox, bus, timers, sender, delivered, givenUp };
}

describe('backoffDelay', () => {
  const cases: [attempts: number, expected: number][] = [
    [1, 1000],
    [2, 2000],
    [3, 4000],
    [5, 16_000],
    [6, 30_000],
    [60, 30_000],
  ];
  for (const [attempts, expected] of cases) {
    it(`1 s doubling, capped at 30 s: after ${attempts} failures waits ${expected} ms`, () => {
      assert.equal(backoffDelay({ backoffMs: 1000 }, attempts), expected);
    });
  }
  it('a policy rule with its own cap', () => {
    assert.equal(backoffDelay({ backoffMs: 250, maxBackoffMs: 1000 }, 4), 1000);
  });
});

describe('OutboxSender', () => {
  it('publishes in seq order up to the window, and one more as each is delivered', async () => {
    const { outbox, bus, sender, delivered } = rig({ window: 3 });
    outbox.add(5);
    sender.start();
    assert.deepEqual(bus.published, [0, 1, 2]);
    await bus.answer(0, 'ok');
    assert.deepEqual(bus.published, [0, 1, 2, 3]);
    assert.deepEqual(delivered, [0]);
    assert.deepEqual(outbox.acked, [0]);
  });

  it('acks out of order are reported per entry, as they come', async () => {
    const { outbox, bus, sender, delivered } = rig({ window: 4 });
    outbox.add(4);
    sender.start();
    await bus.answer(2, 'ok');
    await bus.answer(0, 'ok');
    await bus.answer(3, 'ok');
    await bus.answer(1, 'ok');
    assert.deepEqual(delivered, [2, 0, 3, 1]);
    assert.deepEqual(outbox.acked, [2, 0, 3, 1]);
    assert.equal(outbox.held.size, 0);
  });

  it('new entries in the outbox are sent without a kick', async () => {
    const { outbox, bus, sender } = rig();
    sender.start();
    assert.deepEqual(bus.published, []);
    outbox.add(2);
    assert.deepEqual(bus.published, [0, 1]);
    await bus.answer(0, 'ok');
    await bus.answer(1, 'ok');
  });

  it('a failure puts the entry back and holds everything newer until the back-off; then the retry goes first', async () => {
    const { outbox, bus, timers, sender, delivered } = rig({ window: 2 });
    outbox.add(4);
    sender.start();
    assert.deepEqual(bus.published, [0, 1]);
    await bus.answer(0, 'fail');
    assert.deepEqual(timers.scheduled, [1000]);
    assert.equal(sender.backingOff, true);
    await bus.answer(1, 'ok'); // already in flight: it completes on its own
    outbox.add(1);
    sender.kick(); // new entries do not cut the back-off short
    assert.deepEqual(bus.published, [0, 1], 'nothing new during the back-off');
    await timers.advance(999);
    assert.deepEqual(bus.published, [0, 1]);
    await timers.advance(1);
    assert.deepEqual(bus.published, [0, 1, 0, 2]);
    await bus.answer(0, 'ok');
    await bus.answer(2, 'ok');
    assert.deepEqual(delivered, [1, 0, 2]);
    assert.deepEqual(bus.published, [0, 1, 0, 2, 3, 4]);
  });

  it('entries in flight behind a failed one that fail too come back in seq order', async () => {
    const { outbox, bus, timers, sender } = rig({ window: 3 });
    outbox.add(3);
    sender.start();
    await bus.answer(2, 'fail');
    await bus.answer(0, 'fail');
    await bus.answer(1, 'fail');
    assert.deepEqual(timers.scheduled, [1000], 'one back-off, set by the first failure');
    await timers.advance(1000);
    assert.deepEqual(bus.published, [0, 1, 2, 0, 1, 2]);
  });

  it('the back-off doubles with each failure of the same entry, to the cap', async () => {
    const { outbox, bus, timers, sender } = rig({ window: 1, retry: { backoffMs: 100, maxBackoffMs: 500 } });
    outbox.add(1);
    sender.start();
    const waits: number[] = [];
    for (let attempt = 0; attempt < 5; attempt += 1) {
      await bus.answer(0, 'fail');
      waits.push(...timers.scheduled);
      await timers.advance(timers.scheduled[0] ?? 0);
    }
    assert.deepEqual(waits, [100, 200, 400, 500, 500]);
    assert.equal(outbox.held.get(0)?.attempts, 6);
  });

  it('after maxAttempts the entry is given up with the reason, deleted, and the rest go on', async () => {
    const { outbox, bus, timers, sender, givenUp, delivered } = rig({ window: 1, retry: { maxAttempts: 2, backoffMs: 10 } });
    outbox.add(2);
    sender.start();
    await bus.answer(0, 'fail');
    await timers.advance(10);
    await bus.answer(0, 'fail');
    assert.deepEqual(givenUp, [[0, { path: '', rule: 'retry-exhausted', message: 'the bus did not take the message after 2 attempts (limit 2); the last error: connection lost' }]]);
    assert.deepEqual(outbox.acked, [0]);
    assert.deepEqual(bus.published, [0, 0, 1]);
    await bus.answer(1, 'ok');
    assert.deepEqual(delivered, [1]);
  });

  it('when onGiveUp fails the entry stays in the outbox and is tried again', async () => {
    const { outbox, bus, timers, sender } = rig({
      window: 1,
      retry: { maxAttempts: 1, backoffMs: 10 },
      onGiveUp: () => Promise.reject(new Error('the dead-letter topic is unreachable')),
    });
    outbox.add(1);
    sender.start();
    await bus.answer(0, 'fail');
    assert.deepEqual(outbox.acked, []);
    await timers.advance(10);
    assert.deepEqual(bus.published, [0, 0]);
  });

  it('kick({ retryNow: true }) ends the back-off (the bus reconnected)', async () => {
    const { outbox, bus, timers, sender } = rig({ window: 1 });
    outbox.add(2);
    sender.start();
    await bus.answer(0, 'fail');
    sender.kick({ retryNow: true });
    assert.deepEqual(bus.published, [0, 0]);
    assert.deepEqual(timers.scheduled, []);
  });

  it('a publish that throws counts as a failed one', async () => {
    const { outbox, timers, sender } = rig({
      publish: () => {
        throw new Error('not connected');
      },
    });
    outbox.add(1);
    sender.start();
    await settle();
    assert.deepEqual(timers.scheduled, [1000]);
    assert.equal(outbox.held.get(0)?.attempts, 1);
  });

  it('stop() sends nothing new and resolves once the publishes in flight settle', async () => {
    const { outbox, bus, sender, delivered } = rig({ window: 2 });
    outbox.add(4);
    sender.start();
    let stopped = false;
    const stopping = sender.stop().then(() => (stopped = true));
    assert.equal(sender.stop(), sender.stop(), 'idempotent');
    await bus.answer(0, 'ok');
    assert.equal(stopped, false);
    await bus.answer(1, 'fail');
    await stopping;
    assert.deepEqual(bus.published, [0, 1]);
    assert.deepEqual(outbox.acked, [0], 'delivered before stop resolved: deleted');
    assert.deepEqual(delivered, [], 'no callbacks into a node that is closing');
    outbox.add(1);
    sender.kick();
    assert.deepEqual(bus.published, [0, 1]);
    assert.equal(outbox.next()?.seq, 1, 'the failed one is back in the outbox, first in line');
  });

  it('stop() is bounded: after stopTimeoutMs it gives what is still in flight back to the outbox', async () => {
    const { outbox, bus, timers, sender } = rig({ window: 2, stopTimeoutMs: 500 });
    outbox.add(2);
    sender.start();
    let stopped = false;
    const stopping = sender.stop().then(() => (stopped = true));
    await timers.advance(499);
    assert.equal(stopped, false);
    await timers.advance(1);
    await stopping;
    assert.deepEqual(
      [outbox.next()?.seq, outbox.next()?.seq],
      [0, 1],
    );
    await bus.answer(0, 'ok'); // a late PUBACK still deletes the entry
    assert.deepEqual(outbox.acked, [0]);
  });
});

describe('OutboxSender with a real broker', () => {
  const cleanups: (() => Promise<void>)[] = [];
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  });

  it('1000 entries reach a persistent-session subscriber across a broker stop and restart', async function (this: Mocha.Context) {
    this.timeout(60_000);
    const brokerDir = await tempDir('tectonic-broker-');
    const outboxDir = await tempDir('tectonic-outbox-');
    cleanups.push(() => brokerDir.remove(), () => outboxDir.remove());
    let broker: EmbeddedBroker = await startEmbeddedBroker({ host: LOOPBACK, port: 0, persistence: { dir: brokerDir.path } });
    const port = broker.port;
    cleanups.push(() => broker.close());
    const url = `mqtt://${LOOPBACK}:${port}`;

    const subscriber: MqttClient = await mqtt.connectAsync(url, { clientId: 'central-consumer', clean: false, protocolVersion: 4, reconnectPeriod: 100, connectTimeout: 3000 });
    cleanups.push(() => subscriber.endAsync(true));
    const received: number[] = [];
    subscriber.on('message', (_topic, payload) => received.push(Number(payload.toString())));
    await subscriber.subscribeAsync('cdm/+/v1/site-a', { qos: 1 });

    const bus = new BusClient({ url, clientId: 'site-a-publisher', protocolVersion: 4, reconnectPeriodMs: 100 });
    cleanups.push(() => bus.close());
    const outbox = await DurableOutbox.open({ dir: outboxDir.path, maxCount: 5000, maxBytes: 1 << 24, whenFull: 'reject' });
    cleanups.push(() => outbox.close());
    const sender = new OutboxSender({ outbox, publish: (e, settled) => bus.send(e.topic, e.payload, { qos: e.qos }, settled), retry: { backoffMs: 50, maxBackoffMs: 200 } });
    bus.onState((state) => {
      if (state.kind === 'connected') sender.kick({ retryNow: true });
    });
    cleanups.push(() => sender.stop());
    sender.start();

    const total = 1000;
    const appending = (async () => {
      for (let n = 0; n < total; n += 1) {
        const result = await outbox.append({ topic: 'cdm/shipment/v1/site-a', payload: Buffer.from(String(n)), qos: 1, key: 'site-a' });
        assert.equal(result.ok, true);
        if (n % 50 === 49) await new Promise((resolve) => setTimeout(resolve, 5));
      }
    })();
    await waitFor(() => received.length >= 200, { timeoutMs: 10_000, message: '200 messages before the broker stops' });
    await broker.close();
    await new Promise((resolve) => setTimeout(resolve, 300));
    broker = await startEmbeddedBroker({ host: LOOPBACK, port, persistence: { dir: brokerDir.path } });
    await appending;
    await waitFor(() => new Set(received).size === total, { timeoutMs: 30_000, message: `all ${total} ids` }).catch((err: Error) => {
      const missing = Array.from({ length: total }, (_, n) => n).filter((n) => !received.includes(n));
      throw new Error(`${err.message}: ${missing.length} missing (${missing.slice(0, 20).join(', ')}...), outbox depth ${outbox.depth}, in flight ${sender.inFlightCount}, bus ${bus.state.kind}, subscriber connected ${subscriber.connected}`);
    });
    const missing = Array.from({ length: total }, (_, n) => n).filter((n) => !received.includes(n));
    assert.deepEqual(missing, []);
    await waitFor(() => outbox.depth === 0, { timeoutMs: 5000, message: 'the outbox to empty' });
  });
});

describe('OutboxSender: connection gate, per-entry retry, pacing', () => {
  it('while canSend() is false nothing is handed out, and a kick after it turns true sends in order', async () => {
    let connected = false;
    const r = rig({ canSend: () => connected });
    r.sender.start();
    r.outbox.add(3);
    await settle();
    assert.deepEqual(r.bus.published, [], 'nothing sent while disconnected');
    await r.timers.advance(60_000);
    assert.deepEqual(r.bus.published, [], 'waiting is not a failed attempt: no back-off, no give-up');
    connected = true;
    r.sender.kick({ retryNow: true });
    await settle();
    assert.deepEqual(r.bus.published, [0, 1, 2]);
    for (const seq of [0, 1, 2]) await r.bus.answer(seq, 'ok');
    assert.deepEqual(r.delivered, [0, 1, 2]);
  });

  it('retryFor() gives each entry its own rule: this one is given up after two attempts', async () => {
    const r = rig({ retryFor: (entry) => (entry.seq === 0 ? { maxAttempts: 2, backoffMs: 100 } : undefined), window: 1 });
    r.sender.start();
    r.outbox.add(2);
    await settle();
    await r.bus.answer(0, 'fail');
    assert.deepEqual(r.timers.scheduled, [100], 'the entry rule sets the back-off');
    await r.timers.advance(100);
    await r.bus.answer(0, 'fail');
    assert.equal(r.givenUp.length, 1);
    assert.equal(r.givenUp[0]?.[1].rule, 'retry-exhausted');
    assert.match(r.givenUp[0]?.[1].message ?? '', /limit 2/);
    await settle();
    assert.equal(r.bus.published.at(-1), 1, 'the next entry goes on');
  });

  it('pace() holds an entry until its rate allows it, and everything behind it waits in order', async () => {
    let tokens = 1;
    const r = rig({
      pace: () => {
        if (tokens > 0) {
          tokens -= 1;
          return 0;
        }
        return 250;
      },
    });
    r.sender.start();
    r.outbox.add(3);
    await settle();
    assert.deepEqual(r.bus.published, [0], 'one token, one send');
    tokens = 2;
    await r.timers.advance(250);
    assert.deepEqual(r.bus.published, [0, 1, 2]);
  });
});
