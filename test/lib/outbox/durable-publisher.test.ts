// DurablePublisher on a real outbox in a scratch folder and a bus the test
// drives: each record's message comes back delivered (with its topic) once
// the bus takes it, or refused with msg.reject (outbox full, dropped to make
// room, retries exhausted); a record that cannot be published is done(err).
import assert from 'node:assert/strict';
import { after, describe, it } from 'mocha';
import type { PublishOptions } from '../../../lib/bus/bus-client';
import { type PublishSettings, DEFAULT_OUTBOX_MAX_BYTES } from '../../../lib/bus/publish-settings';
import type { CdmEnvelope } from '../../../lib/envelope/envelope';
import type { OutboxEntry } from '../../../lib/outbox/durable-outbox';
import { DurablePublisher, type PublishLink } from '../../../lib/outbox/durable-publisher';
import type { PublishRecord } from '../../../lib/outbox/outbox-message';
import type { PolicySource } from '../../../lib/outbox/policy-pacing';
import { delay, tempDir } from '../../support/node-red-process';

type Msg = PublishRecord & { n?: number; standIn?: boolean };

const cdm: CdmEnvelope = { entity: 'shipment', version: '1.2.0', site: 'site-a', id: '01JDTEST000001', time: '2026-11-24T07:00:01.250Z', source: 'urn:tectonic:site-a:erp' };
const SETTINGS: PublishSettings = { qos: 1, wireMode: 'structured', mode: 'canonical', site: '', outboxMaxCount: 100, outboxMaxBytes: DEFAULT_OUTBOX_MAX_BYTES, whenFull: 'reject' };

/** A bus whose connection and answers the test sets. */
class TestBus implements PublishLink {
  state = { kind: 'connected' };
  answer: 'ack' | 'fail' | 'hold' = 'ack';
  readonly sent: string[] = [];
  private readonly listeners = new Set<(state: { kind: string }) => void>();

  send(topic: string, _payload: Buffer | string, _options: PublishOptions, settled: (err?: Error) => void): void {
    this.sent.push(topic);
    if (this.answer === 'ack') setImmediate(() => settled());
    else if (this.answer === 'fail') setImmediate(() => settled(new Error('no PUBACK')));
  }

  onState(listener: (state: { kind: string }) => void): () => void {
    this.listeners.add(listener);
    listener(this.state);
    return () => this.listeners.delete(listener);
  }

  set(kind: string): void {
    this.state = { kind };
    for (const listener of this.listeners) listener(this.state);
  }
}

async function until(condition: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await delay(5);
  }
}

describe('lib/outbox/durable-publisher', () => {
  const scratch: { remove(): Promise<void> }[] = [];
  const publishers: DurablePublisher<Msg>[] = [];
  after(async () => {
    await Promise.all(publishers.map((p) => p.close()));
    await Promise.all(scratch.map((s) => s.remove()));
  });

  async function setUp(options: { settings?: Partial<PublishSettings>; bus?: TestBus; keepForOutput?: boolean; policy?: PolicySource } = {}) {
    const dir = await tempDir('tectonic-publisher-');
    scratch.push(dir);
    const bus = options.bus ?? new TestBus();
    const delivered: Msg[] = [];
    const refused: Msg[] = [];
    const opened: number[] = [];
    const probesTaken: string[] = [];
    const publisher = new DurablePublisher<Msg>({
      settings: { ...SETTINGS, ...options.settings },
      dir: dir.path,
      bus,
      policy: options.policy,
      keepForOutput: options.keepForOutput ?? true,
      stage: 'bus-publish',
      outcomes: {
        delivered: (msg) => delivered.push(msg),
        refused: (msg) => refused.push(msg),
        standIn: (entry: OutboxEntry) => ({ standIn: true, topic: entry.topic, payload: String(entry.payload) }),
        changed: () => undefined,
        opened: (recovered) => opened.push(recovered),
        openFailed: (err) => assert.fail(err),
        probeTaken: (nonce) => probesTaken.push(nonce),
      },
    });
    publishers.push(publisher);
    /** Publishes one record and resolves with what its done() was called with. */
    const publish = (msg: Msg): Promise<Error | undefined> => new Promise((resolve) => publisher.publish(msg, resolve));
    return { publisher, bus, delivered, refused, opened, probesTaken, publish };
  }

  it('a record the bus takes comes back on its topic; counts accepted and published', async () => {
    const { publisher, delivered, opened, publish } = await setUp();
    assert.equal(await publish({ n: 1, cdm, payload: { a: 1 } }), undefined);
    await until(() => delivered.length === 1, 'the delivery');
    assert.equal(delivered[0]?.n, 1);
    assert.equal(delivered[0]?.topic, 'cdm/shipment/v1/site-a');
    assert.deepEqual(publisher.counts, { accepted: 1, published: 1, rejected: 0, dropped: 0 });
    assert.deepEqual(opened, [0]);
  });

  it('while the bus is away records wait in the outbox and go out on reconnect, in order', async () => {
    const bus = new TestBus();
    bus.set('disconnected');
    const { publisher, delivered, publish } = await setUp({ bus });
    for (let n = 1; n <= 3; n++) assert.equal(await publish({ n, cdm: { ...cdm, id: `01JDTEST00000${n}` }, payload: n }), undefined);
    assert.equal(publisher.depth, 3);
    assert.deepEqual(bus.sent, []);
    bus.set('connected');
    await until(() => delivered.length === 3, 'the deliveries');
    assert.deepEqual(
      delivered.map((m) => m.n),
      [1, 2, 3],
    );
    await until(() => publisher.depth === 0, 'an empty outbox');
  });

  it('with nothing wired to take them, delivered messages are not kept', async () => {
    const { publisher, delivered, publish } = await setUp({ keepForOutput: false });
    await publish({ cdm, payload: 1 });
    await until(() => publisher.counts.published === 1, 'the publish');
    assert.deepEqual(delivered, []);
  });

  it("a synthetic transaction's PUBACK is reported with its nonce, even with nothing wired; a record's is not", async () => {
    const { publisher, probesTaken, publish } = await setUp({ keepForOutput: false });
    await publish({ cdm, payload: 1 });
    await publish({ cdm: { ...cdm, id: '01JDTEST000002', probe: 'probe-n1' }, payload: 2 });
    await until(() => publisher.counts.published === 2, 'both published');
    assert.deepEqual(probesTaken, ['probe-n1']);
  });

  it('full, reject: the record is refused with the outbox-full reason, done() without an error', async () => {
    const bus = new TestBus();
    bus.set('disconnected');
    const { publisher, refused, publish } = await setUp({ bus, settings: { outboxMaxCount: 1 } });
    await publish({ n: 1, cdm, payload: 1 });
    assert.equal(await publish({ n: 2, cdm, payload: 2 }), undefined);
    assert.equal(refused[0]?.n, 2);
    assert.deepEqual(refused[0]?.reject, { stage: 'bus-publish', reasons: [{ path: '', rule: 'outbox-full', message: (refused[0]?.reject as { reasons: [{ message: string }] }).reasons[0].message }], transient: true });
    assert.equal(publisher.full, true);
    assert.deepEqual(publisher.counts, { accepted: 1, published: 0, rejected: 1, dropped: 0 });
  });

  it('full, drop-oldest: the oldest record is refused as dropped, with the limits', async () => {
    const bus = new TestBus();
    bus.set('disconnected');
    const { publisher, refused, publish } = await setUp({ bus, settings: { outboxMaxCount: 1, whenFull: 'drop-oldest' } });
    await publish({ n: 1, cdm, payload: 1 });
    await publish({ n: 2, cdm, payload: 2 });
    assert.equal(refused.length, 1);
    assert.equal(refused[0]?.n, 1);
    assert.deepEqual((refused[0]?.reject as { reasons: unknown }).reasons, [
      { path: '', rule: 'outbox-dropped', message: `dropped from the full outbox (limit 1 messages, ${DEFAULT_OUTBOX_MAX_BYTES} bytes) to make room for newer messages` },
    ]);
    assert.deepEqual(publisher.counts, { accepted: 2, published: 0, rejected: 1, dropped: 1 });
  });

  it("the policy's retry rule gives a record up: refused with retry-exhausted", async () => {
    const bus = new TestBus();
    bus.answer = 'fail';
    const policy: PolicySource = { compiled: { retryFor: () => ({ maxAttempts: 1, backoffMs: 1 }), rateLimiter: () => undefined } };
    const { refused, publish } = await setUp({ bus, policy });
    await publish({ n: 7, cdm, payload: 1 });
    await until(() => refused.length === 1, 'the refusal');
    // Given up before its append was answered (the write waits out the send
    // grace), so the refusal carries a stand-in made from the entry, not msg.
    assert.equal(refused[0]?.standIn, true);
    assert.equal(refused[0]?.topic, 'cdm/shipment/v1/site-a');
    assert.equal((refused[0]?.reject as { reasons: [{ rule: string }] }).reasons[0].rule, 'retry-exhausted');
  });

  const errors: Array<[string, Msg, Partial<PublishSettings>, RegExp]> = [
    ['no envelope', { payload: 1 }, {}, /^bus-publish: msg\.cdm is not a usable envelope \(set it with cdm-map\): /],
    ['not a dead letter', { cdm, payload: 1 }, { mode: 'dead-letter', site: 'fra' }, /^bus-publish: not a dead letter: /],
  ];
  for (const [name, msg, settings, expected] of errors) {
    it(`${name}: done(err), nothing appended`, async () => {
      const { publisher, publish } = await setUp({ settings });
      const err = await publish(msg);
      assert.match(err?.message ?? '', expected);
      assert.equal(publisher.counts.accepted, 0);
    });
  }

  it('close lets what waits stay on disk; the next publisher reports it and sends it', async () => {
    const dir = await tempDir('tectonic-publisher-');
    scratch.push(dir);
    const away = new TestBus();
    away.set('disconnected');
    const make = (bus: TestBus, opened: number[], delivered: Msg[]) =>
      new DurablePublisher<Msg>({
        settings: SETTINGS,
        dir: dir.path,
        bus,
        keepForOutput: true,
        stage: 'bus-publish',
        outcomes: {
          delivered: (msg) => delivered.push(msg),
          refused: () => assert.fail('nothing is refused'),
          standIn: (entry) => ({ standIn: true, topic: entry.topic }),
          changed: () => undefined,
          opened: (recovered) => opened.push(recovered),
          openFailed: (err) => assert.fail(err),
        },
      });
    const first = make(away, [], []);
    await new Promise<Error | undefined>((resolve) => first.publish({ cdm, payload: 1 }, resolve));
    await first.close();
    const opened: number[] = [];
    const back = new TestBus();
    const second = make(back, opened, []);
    publishers.push(second);
    await until(() => second.counts.published === 1, 'the recovered entry');
    assert.deepEqual(opened, [1]);
    assert.deepEqual(back.sent, ['cdm/shipment/v1/site-a']);
  });
});
