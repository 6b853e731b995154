// A bus entry's second chance for records refused transiently downstream:
// InFlight hands over the original of a record that finished after a
// transient refusal, the message ledger marks it from the completion hook,
// the decoder decodes it again without counting it or dropping it as a
// duplicate of itself, and TransientRetry sends it again once the flow is
// ready and its delay is over, holding the bus meanwhile.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import type { IPublishPacket } from 'mqtt';
import { InboundDecoder } from '../../../lib/bus/inbound-decoder';
import { DEFAULT_DECODE_LIMITS, encodeMessage } from '../../../lib/envelope/cloudevents';
import { type FlowClock, InFlight } from '../../../lib/flow/in-flight';
import { TransientRetry } from '../../../lib/flow/transient-retry';
import { MessageLedger } from '../../../nodes/support/message-hooks';

class ManualClock implements FlowClock {
  time = 0;
  private readonly timers = new Map<number, { at: number; fire: () => void }>();
  private serial = 0;
  now(): number {
    return this.time;
  }
  setTimeout(fire: () => void, ms: number): unknown {
    this.serial += 1;
    this.timers.set(this.serial, { at: this.time + ms, fire });
    return this.serial;
  }
  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }
  advance(ms: number): void {
    this.time += ms;
    for (const [id, t] of [...this.timers]) {
      if (t.at > this.time) continue;
      this.timers.delete(id);
      t.fire();
    }
  }
}

describe('lib/flow/in-flight: transient refusals', () => {
  // steps on record 'r' (tracked with original 'R'): what the transient listener heard
  const cases: Array<[string, Array<'transient' | 'settle' | 'announce' | 'receive' | 'complete'>, unknown[], string | undefined]> = [
    ['finished without a refusal: nothing to retry', ['announce', 'receive', 'settle', 'complete'], [], 'R'],
    ['refused transiently, then finished: its original', ['announce', 'receive', 'transient', 'settle', 'complete'], ['R'], 'R'],
    ['refused, but a copy is still open: not yet', ['announce', 'announce', 'receive', 'receive', 'transient', 'settle', 'complete'], [], 'R'],
    ['tracked without an original: nothing to retry', ['announce', 'receive', 'transient', 'settle', 'complete'], [], undefined],
  ];
  for (const [name, steps, heard, original] of cases) {
    it(name, () => {
      const flight = new InFlight({ limit: 10 });
      const seen: unknown[] = [];
      flight.onTransient((o) => seen.push(o));
      flight.track('r', original);
      for (const step of steps) {
        if (step === 'transient') assert.equal(flight.refusedTransiently('r'), true);
        else if (step === 'announce') flight.announce('r');
        else if (step === 'receive') flight.receive('r');
        else if (step === 'settle') flight.settle('r');
        else flight.complete('r');
      }
      assert.deepEqual(seen, heard);
      flight.clear();
    });
  }

  it('an untracked id is not marked', () => assert.equal(new InFlight({ limit: 1 }).refusedTransiently('x'), false));

  it('the message ledger marks a record whose copy completes with msg.reject.transient, and only then', () => {
    const flight = new InFlight({ limit: 10 });
    const ledger = new MessageLedger();
    ledger.add(flight);
    const seen: unknown[] = [];
    flight.onTransient((o) => seen.push(o));
    const run = (id: string, reject: unknown): void => {
      flight.track(id, id.toUpperCase());
      ledger.delivered({ msg: { _msgid: id } });
      ledger.received({ msg: { _msgid: id }, destination: { node: {} } });
      flight.complete(id);
      ledger.completed({ msg: { _msgid: id, reject } as never });
    };
    run('a', undefined);
    run('b', { stage: 'cdm-validate', reasons: [] });
    run('c', { stage: 'cdm-validate', reasons: [], transient: true });
    run('d', { stage: 'bus-publish', reasons: [], transient: 'yes' });
    assert.deepEqual(seen, ['C']);
    assert.equal(flight.size, 0);
  });
});

describe('lib/bus/inbound-decoder: again', () => {
  const cdm = { entity: 'shipment', version: '1.2.0', site: 'site-a', id: '01JDTEST000001', time: '2026-11-24T07:00:01.250Z', source: 'urn:tectonic:site-a:erp' };
  const wire = encodeMessage(cdm, { shipmentId: 'SHP-1' }, 'structured');
  assert.ok(wire.ok);
  const cases: Array<['canonical' | 'records', string, Buffer]> = [
    ['canonical', 'cdm/shipment/v1/site-a', Buffer.from(wire.value.payload)],
    ['records', 'site/fra/wms/x', Buffer.from('{"a":1}')],
  ];
  for (const [kind, topic, payload] of cases) {
    it(`${kind}: delivered again, with its raw message, not counted and not a duplicate of itself`, () => {
      const delivered: Array<Record<string, unknown>> = [];
      const raws: unknown[] = [];
      const decoder = new InboundDecoder(
        { kind, dedupWindow: 100, limits: DEFAULT_DECODE_LIMITS },
        { deliver: (msg, raw) => (delivered.push(msg), raws.push(raw)), malformed: () => assert.fail('malformed'), changed: () => undefined },
      );
      const packet = { topic, payload } as IPublishPacket;
      decoder.receive(topic, payload, packet);
      decoder.again({ topic, payload, packet });
      decoder.receive(topic, payload, packet);
      assert.equal(delivered.length, kind === 'canonical' ? 2 : 3, 'the retry passes, a redelivery by the broker is still a duplicate');
      assert.deepEqual(delivered[1], delivered[0]);
      assert.deepEqual(raws[0], { topic, payload, packet });
      assert.deepEqual(decoder.counts, { received: kind === 'canonical' ? 1 : 2, duplicatesDropped: kind === 'canonical' ? 1 : 0, malformed: 0 });
    });
  }
});

describe('lib/flow/transient-retry', () => {
  function setup(): { retry: TransientRetry<string>; clock: ManualClock; sent: string[]; holds: () => number; ready: (r: boolean) => void } {
    const clock = new ManualClock();
    const sent: string[] = [];
    let active = 0;
    let canSend = true;
    const retry = new TransientRetry<string>({
      hold: () => {
        active += 1;
        return () => (active -= 1);
      },
      resend: (r) => sent.push(r),
      canSend: () => canSend,
      delayMs: 1000,
      clock,
    });
    return { retry, clock, sent, holds: () => active, ready: (r) => (canSend = r) };
  }

  type Step = ['add', string] | ['advance', number] | ['ready', boolean] | ['wake'] | ['close'];
  const cases: Array<[string, Step[], string[], number, number]> = [
    // name, steps, sent, bus holds after, waiting after
    ['added: the bus is held, nothing sent before the delay', [['add', 'a'], ['advance', 999]], [], 1, 1],
    ['after the delay: sent in order, the bus reads again', [['add', 'a'], ['add', 'b'], ['advance', 1000]], ['a', 'b'], 0, 0],
    ['the flow not ready at the delay: waits for it', [['ready', false], ['add', 'a'], ['advance', 5000]], [], 1, 1],
    ['then ready and woken: sent', [['ready', false], ['add', 'a'], ['advance', 5000], ['ready', true], ['wake']], ['a'], 0, 0],
    ['woken before the delay: still waits for it', [['add', 'a'], ['wake'], ['advance', 500]], [], 1, 1],
    ['closed: forgotten, the bus released', [['add', 'a'], ['close'], ['advance', 2000], ['add', 'b']], [], 0, 0],
    ['refused again after a retry: another delay', [['add', 'a'], ['advance', 1000], ['add', 'a'], ['advance', 999]], ['a'], 1, 1],
  ];
  for (const [name, steps, sent, holds, waiting] of cases) {
    it(name, () => {
      const s = setup();
      for (const step of steps) {
        if (step[0] === 'add') s.retry.add(step[1]);
        else if (step[0] === 'advance') s.clock.advance(step[1]);
        else if (step[0] === 'ready') s.ready(step[1]);
        else if (step[0] === 'wake') s.retry.wake();
        else s.retry.close();
      }
      assert.deepEqual({ sent: s.sent, holds: s.holds(), waiting: s.retry.size }, { sent, holds, waiting });
      s.retry.close();
    });
  }
});
