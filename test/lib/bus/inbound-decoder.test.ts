// InboundDecoder: what a subscription of each kind makes of the MQTT
// messages it receives: the flow message, a malformed report with its
// reasons, or a duplicate dropped; with the counts the node shows.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import type { IPublishPacket } from 'mqtt';
import { InboundDecoder, type MalformedReport } from '../../../lib/bus/inbound-decoder';
import type { SubscriptionKind } from '../../../lib/bus/subscribe-settings';
import { DEFAULT_DECODE_LIMITS, encodeMessage } from '../../../lib/envelope/cloudevents';
import { deadLetterOf } from '../../../lib/envelope/dead-letter';
import type { CdmEnvelope } from '../../../lib/envelope/envelope';
import { inputEnvelopeId } from '../../../lib/envelope/derived-id';

const cdm: CdmEnvelope = { entity: 'shipment', version: '1.2.0', site: 'site-a', id: '01JDTEST000001', time: '2026-11-24T07:00:01.250Z', source: 'urn:tectonic:site-a:erp' };
const record = { shipmentId: 'SHP-1', status: 'delivered' };
const TOPIC = 'cdm/shipment/v1/site-a';

function event(envelope: CdmEnvelope = cdm, data: unknown = record): Buffer {
  const wire = encodeMessage(envelope, data, 'structured');
  assert.ok(wire.ok);
  return Buffer.from(wire.value.payload);
}

const letter = deadLetterOf({ reject: { stage: 'cdm-validate', reasons: [{ path: 'status', rule: 'enum', message: 'unknown' }] }, cdm, payload: record, site: 'site-a', now: new Date('2026-11-24T08:00:00.000Z') });
assert.ok(letter.ok);

type Outcome = { deliver: Record<string, unknown> } | { malformed: Omit<MalformedReport, 'reasons'> & { rules: string[] } };

/** A message, or a step of the injected clock (milliseconds) between messages. */
type Step = [string, Buffer] | number;

const T0 = Date.parse('2026-11-24T08:00:00.000Z');

function decode(kind: SubscriptionKind, messages: Step[], maxBytes = DEFAULT_DECODE_LIMITS.maxBytes, dedupMaxAgeMs?: number): { outcomes: Outcome[]; counts: InboundDecoder['counts']; changes: number } {
  const outcomes: Outcome[] = [];
  let changes = 0;
  let now = T0;
  const decoder = new InboundDecoder(
    { kind, dedupWindow: 100, limits: { ...DEFAULT_DECODE_LIMITS, maxBytes }, ...(dedupMaxAgeMs === undefined ? {} : { dedupMaxAgeMs }) },
    {
      deliver: (msg) => outcomes.push({ deliver: msg }),
      malformed: ({ reasons, ...rest }) => outcomes.push({ malformed: { ...rest, rules: reasons.map((r) => r.rule) } }),
      changed: () => (changes += 1),
    },
    () => now,
  );
  for (const step of messages) {
    if (typeof step === 'number') {
      now += step;
      continue;
    }
    const [topic, payload] = step;
    decoder.receive(topic, payload, { topic, payload } as IPublishPacket);
  }
  return { outcomes, counts: { ...decoder.counts }, changes };
}

describe('lib/bus/inbound-decoder', () => {
  it('canonical: the event becomes payload and msg.cdm', () => {
    const { outcomes, counts } = decode('canonical', [[TOPIC, event()]]);
    assert.deepEqual(outcomes, [{ deliver: { topic: TOPIC, payload: record, cdm } }]);
    assert.deepEqual(counts, { received: 1, duplicatesDropped: 0, malformed: 0 });
  });

  it('canonical: a redelivered envelope id is dropped and counted, a new id is not', () => {
    const { outcomes, counts } = decode('canonical', [
      [TOPIC, event()],
      [TOPIC, event()],
      [TOPIC, event({ ...cdm, id: '01JDTEST000002' })],
    ]);
    assert.equal(outcomes.length, 2);
    assert.deepEqual(counts, { received: 2, duplicatesDropped: 1, malformed: 0 });
  });

  const malformed: Array<[string, SubscriptionKind, string, Buffer, string[]]> = [
    ['canonical: not JSON', 'canonical', TOPIC, Buffer.from('{nope'), ['json']],
    ['canonical: the topic names another site', 'canonical', 'cdm/shipment/v1/site-b', event(), ['topic']],
    ['dead-letter: not a dead letter', 'dead-letter', 'tectonic/dlq/site-a/cdm-validate', Buffer.from('{}'), []],
    ['records: not JSON', 'records', 'site/fra/wms/a', Buffer.from('not json'), []],
  ];
  for (const [name, kind, topic, payload, rules] of malformed) {
    it(`${name} is reported with the start of its payload, and counted`, () => {
      const { outcomes, counts } = decode(kind, [[topic, payload]]);
      assert.equal(outcomes.length, 1);
      const report = (outcomes[0] as { malformed: { topic: string; payloadPreview: string; rules: string[] } }).malformed;
      assert.equal(report.topic, topic);
      assert.equal(report.payloadPreview, payload.toString('utf8'));
      assert.ok(report.rules.length > 0);
      for (const rule of rules) assert.ok(report.rules.some((r) => r.includes(rule)), `${report.rules.join(', ')} should name ${rule}`);
      assert.deepEqual(counts, { received: 0, duplicatesDropped: 0, malformed: 1 });
    });
  }

  it('a malformed payload is previewed by its first 2048 bytes only', () => {
    const { outcomes } = decode('records', [['a/b', Buffer.from(`{${'x'.repeat(5000)}`)]], 10_000);
    assert.equal((outcomes[0] as { malformed: { payloadPreview: string } }).malformed.payloadPreview.length, 2048);
  });

  it('dead-letter: back as the refused message with msg.reject, duplicates dropped', () => {
    const { outcomes, counts } = decode('dead-letter', [
      [letter.value.topic, letter.value.body],
      [letter.value.topic, letter.value.body],
    ]);
    assert.deepEqual(outcomes, [
      {
        deliver: {
          topic: letter.value.topic,
          payload: record,
          reject: { stage: 'cdm-validate', reasons: [{ path: 'status', rule: 'enum', message: 'unknown' }], site: 'site-a', time: '2026-11-24T08:00:00.000Z' },
          cdm,
        },
      },
    ]);
    assert.deepEqual(counts, { received: 1, duplicatesDropped: 1, malformed: 0 });
  });

  it('records: JSON on any topic, never dropped as a duplicate (there is no id), each with the entry mark', () => {
    const body = Buffer.from(JSON.stringify(record));
    const { outcomes, counts, changes } = decode('records', [
      ['site/fra/wms/a', body],
      5,
      ['site/fra/wms/a', body],
    ]);
    assert.deepEqual(outcomes, [
      { deliver: { topic: 'site/fra/wms/a', payload: record, tectonic: { entry: 'records', topic: 'site/fra/wms/a', receivedAt: T0 } } },
      { deliver: { topic: 'site/fra/wms/a', payload: record, tectonic: { entry: 'records', topic: 'site/fra/wms/a', receivedAt: T0 + 5 } } },
    ]);
    assert.deepEqual(counts, { received: 2, duplicatesDropped: 0, malformed: 0 });
    assert.equal(changes, 2);
  });

  describe('canonical: ids made from an input are forgotten after their time, other ids only by count', () => {
    const inputId = inputEnvelopeId('site-a', 'shipment', 'site/fra/sensors/t1', { c: 21 }) as string;
    const MINUTE = 60_000;
    const cases: Array<[string, string, Step[], number, number]> = [
      // name, id, the clock's steps between copies, copies delivered, duplicates dropped
      ['an input id redelivered 30 s later (a site restart) is dropped', inputId, [30_000], 1, 1],
      ['an input id 119 s later is still dropped (the default window, 120 s)', inputId, [119_999], 1, 1],
      ['an input id an hour later (an equal reading) is delivered', inputId, [60 * MINUTE], 2, 0],
      ['an input id 120 s later is delivered', inputId, [120_000], 2, 0],
      ['a repeat inside the window does not extend it', inputId, [MINUTE, 61_000], 2, 1],
      ['a ULID an hour later is still dropped: only the count forgets it', '01JDTEST000009', [60 * MINUTE], 1, 1],
      ['a key id (UUID v5) an hour later is still dropped', '2ed6657d-e927-568b-95e1-2665a8aea6a2', [60 * MINUTE], 1, 1],
    ];
    for (const [name, id, gaps, delivered, dropped] of cases) {
      it(name, () => {
        const copy = event({ ...cdm, id });
        const steps: Step[] = [[TOPIC, copy]];
        for (const gap of gaps) steps.push(gap, [TOPIC, copy]);
        const { outcomes, counts } = decode('canonical', steps);
        assert.equal(outcomes.length, delivered);
        assert.deepEqual(counts, { received: delivered, duplicatesDropped: dropped, malformed: 0 });
      });
    }

    it('a window of 0 s drops no input id and still drops a repeated ULID', () => {
      const { counts } = decode('canonical', [[TOPIC, event({ ...cdm, id: inputId })], [TOPIC, event({ ...cdm, id: inputId })], [TOPIC, event()], [TOPIC, event()]], undefined, 0);
      assert.deepEqual(counts, { received: 3, duplicatesDropped: 1, malformed: 0 });
    });
  });

  it('a payload above max bytes is malformed', () => {
    const { counts } = decode('records', [['a/b', Buffer.from(JSON.stringify({ text: 'x'.repeat(200) }))]], 100);
    assert.deepEqual(counts, { received: 0, duplicatesDropped: 0, malformed: 1 });
  });

  describe('again(): the same flow message made anew from the bytes, for a record retried after a transient refusal', () => {
    const cases: Array<{ kind: SubscriptionKind; topic: string; payload: Buffer }> = [
      { kind: 'records', topic: 'site/fra/wms/shipments', payload: Buffer.from(JSON.stringify(record)) },
      { kind: 'canonical', topic: TOPIC, payload: event() },
      ...(letter.ok ? [{ kind: 'dead-letter' as const, topic: letter.value.topic, payload: letter.value.body }] : []),
    ];
    for (const { kind, topic, payload } of cases) {
      it(`${kind}: equal to what receive() delivered, a new object, nothing counted, not dropped as a duplicate`, () => {
        const delivered: Array<Record<string, unknown>> = [];
        const decoder = new InboundDecoder({ kind, dedupWindow: 100, limits: DEFAULT_DECODE_LIMITS }, { deliver: (msg) => delivered.push(msg), malformed: () => undefined, changed: () => undefined }, () => T0);
        const packet = { topic, payload } as IPublishPacket;
        decoder.receive(topic, payload, packet);
        assert.equal(delivered.length, 1);
        const counts = { ...decoder.counts };
        const made = decoder.again(topic, payload, packet);
        assert.deepEqual(made, delivered[0]);
        assert.notEqual(made?.payload, delivered[0]?.payload, 'not the object the flow may have changed');
        assert.deepEqual(decoder.counts, counts);
        assert.deepEqual(decoder.again(topic, payload, packet), delivered[0], 'a second retry as well');
        decoder.receive(topic, payload, packet);
        assert.equal(delivered.length, kind === 'records' ? 2 : 1, 'the retry passes, a redelivery by the broker is still a duplicate');
      });
    }
  });
});
