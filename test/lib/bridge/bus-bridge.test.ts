// BusBridge on a real outbox in a scratch folder, between two buses the test
// drives: a message's PUBACK at its source is released only once the other
// side has it (the outbox for records going up, the far broker otherwise);
// records read before the outbox opens wait for it; while the global bus is
// away records wait in the outbox and go once it is back; a binary-mode
// envelope is refused towards MQTT 3.1.1; what is let go on close stays
// unacknowledged at its source.
import assert from 'node:assert/strict';
import { after, describe, it } from 'mocha';
import type { IPublishPacket } from 'mqtt';
import type { MessageHandler, PublishOptions, QoS, ReleaseAck, Unsubscribe } from '../../../lib/bus/bus-client';
import type { DeferralOutcome } from '../../../lib/bus/deferred-acks';
import { BusBridge, type BridgeBus } from '../../../lib/bridge/bus-bridge';
import { delay, tempDir, waitFor } from '../../support/node-red-process';

class TestBus implements BridgeBus {
  state = { kind: 'connected' };
  readonly sent: Array<{ topic: string; payload: string; options: PublishOptions }> = [];
  readonly handlers = new Map<string, MessageHandler>();
  answer: 'ack' | 'hold' = 'ack';
  private readonly held: Array<() => void> = [];
  private readonly listeners = new Set<(state: { kind: string }) => void>();
  constructor(readonly protocolVersion: 4 | 5 = 4) {}

  send(topic: string, payload: Buffer | string, options: PublishOptions, settled: (err?: Error) => void): void {
    this.sent.push({ topic, payload: payload.toString(), options });
    if (this.answer === 'ack') setImmediate(() => settled());
    else this.held.push(() => settled());
  }

  subscribe(filter: string, _qos: QoS, handler: MessageHandler): Promise<Unsubscribe> {
    this.handlers.set(filter, handler);
    return Promise.resolve(() => {
      this.handlers.delete(filter);
      return Promise.resolve();
    });
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

  ackHeld(): void {
    for (const settle of this.held.splice(0)) settle();
  }

  /** Delivers a message to the handler of `filter`; returns how its PUBACK deferral ended (undefined while open). */
  deliver(filter: string, topic: string, payload: string, properties?: IPublishPacket['properties']): { outcome?: DeferralOutcome } {
    const handler = this.handlers.get(filter);
    assert.ok(handler, `no handler for ${filter}`);
    const seen: { outcome?: DeferralOutcome } = {};
    const release: ReleaseAck = (outcome = 'finished') => {
      seen.outcome ??= outcome;
    };
    const packet = { cmd: 'publish', topic, payload: Buffer.from(payload), qos: 1, retain: false, dup: false, messageId: 1, properties } as IPublishPacket;
    handler(topic, Buffer.from(payload), packet, () => release);
    return seen;
  }
}

const SETTINGS = { hubId: 'hub-n', sites: ['fra', 'muc'], outboxMaxCount: 100, outboxMaxBytes: 1 << 20 };

describe('bridge: BusBridge', () => {
  const dirs: Array<{ remove(): Promise<void> }> = [];
  after(async () => {
    for (const dir of dirs) await dir.remove();
  });

  async function bridge(regional = new TestBus(), global = new TestBus()): Promise<{ bridge: BusBridge; regional: TestBus; global: TestBus; problems: string[] }> {
    const dir = await tempDir('tectonic-bridge-');
    dirs.push(dir);
    const problems: string[] = [];
    const made = new BusBridge({ settings: SETTINGS, regional, global, outboxDir: dir.path, onProblem: (err) => problems.push(err.message), changed: () => undefined });
    made.start();
    return { bridge: made, regional, global, problems };
  }

  it('subscribes both ways at once and announces the sites, retained', async () => {
    const { bridge: b, regional, global } = await bridge();
    assert.deepEqual([...regional.handlers.keys()].sort(), ['cdm/+/+/fra', 'cdm/+/+/muc', 'tectonic/dlq/fra/#', 'tectonic/dlq/muc/#', 'tectonic/health/fra/#', 'tectonic/health/muc/#', 'tectonic/registry/+/fra/#', 'tectonic/registry/+/muc/#']);
    assert.ok(global.handlers.has('tectonic/alerts/muc/#'));
    const sites = global.sent.find((m) => m.topic === 'tectonic/health/hub-n/sites');
    assert.deepEqual(sites?.options, { qos: 1, retain: true });
    await b.close(true);
  });

  it('a record read before the outbox opens waits for it, its PUBACK withheld; then it goes up unchanged', async () => {
    const { bridge: b, regional, global } = await bridge();
    const early = regional.deliver('cdm/+/+/fra', 'cdm/shipment/v1/fra', '{"id":"e1"}');
    assert.equal(early.outcome, undefined, 'acknowledged before the outbox had it');
    await waitFor(() => early.outcome, { timeoutMs: 3_000, message: 'the early record accepted' });
    assert.equal(early.outcome, 'finished');
    await waitFor(() => global.sent.find((m) => m.topic === 'cdm/shipment/v1/fra'), { timeoutMs: 3_000, message: 'the record up' });
    assert.deepEqual(global.sent.find((m) => m.topic === 'cdm/shipment/v1/fra'), { topic: 'cdm/shipment/v1/fra', payload: '{"id":"e1"}', options: { qos: 1, retain: false, properties: undefined } });
    await b.close(true);
  });

  it('while the global bus is away, records wait in the outbox and go once it is back', async () => {
    const { bridge: b, regional, global } = await bridge();
    await waitFor(() => b.held === 0 && global.sent.length > 0, { timeoutMs: 3_000, message: 'the bridge started' });
    await delay(50);
    global.set('disconnected');
    const seen = [1, 2, 3].map((n) => regional.deliver('cdm/+/+/muc', 'cdm/shipment/v1/muc', `{"id":"r${n}"}`));
    await waitFor(() => seen.every((s) => s.outcome === 'finished'), { timeoutMs: 3_000, message: 'the records on disk' });
    assert.equal(b.held, 3);
    assert.equal(global.sent.filter((m) => m.topic.startsWith('cdm/')).length, 0);
    global.set('connected');
    await waitFor(() => b.held === 0, { timeoutMs: 5_000, message: 'the outbox drained' });
    assert.deepEqual(global.sent.filter((m) => m.topic.startsWith('cdm/')).map((m) => m.payload), ['{"id":"r1"}', '{"id":"r2"}', '{"id":"r3"}']);
    assert.equal(b.counts.up, 3);
    await b.close(true);
  });

  it("retained state goes straight across, retained, and its PUBACK waits for the global bus's", async () => {
    const { bridge: b, regional, global } = await bridge();
    global.answer = 'hold';
    const state = regional.deliver('tectonic/health/fra/#', 'tectonic/health/fra/state', '{"state":"offline"}');
    const cleared = regional.deliver('tectonic/registry/+/fra/#', 'tectonic/registry/erp/fra/i1', '');
    await delay(20);
    assert.equal(state.outcome, undefined);
    global.ackHeld();
    await waitFor(() => state.outcome !== undefined && cleared.outcome !== undefined, { timeoutMs: 2_000, message: 'released' });
    assert.equal(state.outcome, 'finished');
    assert.deepEqual(global.sent.filter((m) => m.topic.startsWith('tectonic/health/fra') || m.topic.startsWith('tectonic/registry')).map((m) => [m.topic, m.payload, m.options.retain]), [
      ['tectonic/health/fra/state', '{"state":"offline"}', true],
      ['tectonic/registry/erp/fra/i1', '', true],
    ]);
    await b.close(true);
  });

  it('the catalog comes down retained; an alert for another site is not carried', async () => {
    const { bridge: b, regional, global } = await bridge();
    global.deliver('tectonic/cdm/#', 'tectonic/cdm/shipment/1.0.0', '{"schema":1}');
    const other = global.deliver('tectonic/alerts/muc/#', 'tectonic/alerts/ber', '{}');
    await waitFor(() => b.counts.down > 0, { timeoutMs: 2_000, message: 'the catalog down' });
    assert.deepEqual(regional.sent.map((m) => [m.topic, m.options.retain]), [['tectonic/cdm/shipment/1.0.0', true]]);
    assert.equal(other.outcome, undefined, 'a message the hub does not carry is not deferred (its PUBACK goes as usual)');
    assert.equal(b.counts.down, 1);
    await b.close(true);
  });

  it('a binary-mode envelope is refused towards MQTT 3.1.1, saying why', async () => {
    const { bridge: b, regional, global, problems } = await bridge(new TestBus(5), new TestBus(4));
    regional.deliver('tectonic/dlq/fra/#', 'tectonic/dlq/fra/cdm-map', '{}', { userProperties: { specversion: '1.0' } });
    assert.match(problems.join(), /user properties .* would be lost/);
    assert.equal(b.counts.refused, 1);
    assert.equal(global.sent.filter((m) => m.topic.startsWith('tectonic/dlq')).length, 0);
    await b.close(true);
  });

  it('on close, what waits for the far broker stays unacknowledged at its source', async () => {
    const { bridge: b, regional, global } = await bridge();
    global.answer = 'hold';
    const state = regional.deliver('tectonic/health/fra/#', 'tectonic/health/fra/heartbeat', '{}');
    await b.close(false);
    assert.equal(state.outcome, undefined, 'no PUBACK for a message the global bus never acknowledged');
    assert.equal(regional.handlers.size, 0);
  });
});
