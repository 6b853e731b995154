// A bus entry's second chance for records refused transiently downstream,
// under flow control with deferred acknowledgements: the message ledger
// marks a record whose copy completes with msg.reject.transient (it then
// finishes as 'transient'), and FlowControl keeps its acknowledgement and
// sends it again, made anew by `again`, once its wait is over and the flow
// is ready, holding the bus meanwhile. (The decoder's again() is tested in
// test/lib/bus/inbound-decoder.test.ts, the back-off and the warning in
// test/lib/flow/flow-control.test.ts.)
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { FlowControl } from '../../../lib/flow/flow-control';
import { InFlight, type RecordOutcome } from '../../../lib/flow/in-flight';
import { MessageLedger } from '../../../nodes/support/message-hooks';
import { ManualClock } from '../../support/manual-clock';

describe('lib/flow/in-flight: transient refusals', () => {
  it('the message ledger marks a record whose copy completes with msg.reject.transient, and only then', () => {
    const flight = new InFlight({ limit: 10 });
    const ledger = new MessageLedger();
    ledger.add(flight);
    const seen: Array<[string, RecordOutcome]> = [];
    const run = (id: string, reject: unknown): void => {
      flight.track(id, (outcome) => seen.push([id, outcome]));
      ledger.delivered({ msg: { _msgid: id } });
      ledger.received({ msg: { _msgid: id }, destination: { node: {} } });
      flight.complete(id);
      ledger.completed({ msg: { _msgid: id, reject } as never });
    };
    run('a', undefined);
    run('b', { stage: 'cdm-validate', reasons: [] });
    run('c', { stage: 'cdm-validate', reasons: [], transient: true });
    run('d', { stage: 'bus-publish', reasons: [], transient: 'yes' });
    assert.deepEqual(seen.filter(([, outcome]) => outcome === 'transient').map(([id]) => id), ['c']);
    assert.deepEqual(seen.map(([id]) => id), ['a', 'b', 'c', 'd'], 'each finished');
    assert.equal(flight.size, 0);
  });
});

describe('lib/flow/flow-control: a transient refusal sent again', () => {
  /** An entry with one bus hold counter and a flow that is ready or not; the receiver refuses every copy it gets. */
  function setup(): { flow: FlowControl; clock: ManualClock; sent: string[]; released: string[]; holds: () => number; ready: (r: boolean) => void; refuse: (name: string) => void } {
    const clock = new ManualClock();
    const sent: string[] = [];
    const released: string[] = [];
    let active = 0;
    let ready = true;
    const flow = new FlowControl(
      100,
      {
        hold: () => {
          active += 1;
          return () => (active -= 1);
        },
        changed: () => undefined,
        overdue: () => undefined,
        ready: () => ready,
      },
      clock,
    );
    const refuseCopy = (msg: Record<string, unknown>): void => {
      const id = msg._msgid as string;
      sent.push(String(msg.payload));
      // Delivered, refused for the site's state, done.
      flow.inFlight.announce(id);
      flow.inFlight.receive(id);
      flow.inFlight.refusedTransient(id);
      flow.inFlight.settle(id);
    };
    const refuse = (name: string): void => flow.emit({ payload: name }, refuseCopy, (outcome) => released.push(`${name} ${outcome}`), () => ({ payload: name }));
    return { flow, clock, sent, released, holds: () => active, ready: (r) => (ready = r), refuse };
  }

  type Step = ['refuse', string] | ['advance', number] | ['ready', boolean] | ['wake'] | ['close'];
  const cases: Array<[string, Step[], string[], number, number, string[]]> = [
    // name, steps, sent again (after the first pass), bus holds after, retried, released
    ['refused: the bus is held, nothing sent again before the delay', [['refuse', 'a'], ['advance', 999]], [], 1, 0, []],
    ['after the delay: sent again in order; refused again, it waits again', [['refuse', 'a'], ['refuse', 'b'], ['advance', 1000]], ['a', 'b'], 1, 2, []],
    ['the flow not ready at the delay: waits for it', [['ready', false], ['refuse', 'a'], ['advance', 5000]], [], 1, 0, []],
    ['then ready and woken: sent', [['ready', false], ['refuse', 'a'], ['advance', 5000], ['ready', true], ['wake']], ['a'], 1, 1, []],
    ['woken before the delay: still waits for it', [['refuse', 'a'], ['wake'], ['advance', 500]], [], 1, 0, []],
    ['closed: unacknowledged (the broker keeps it), the bus released', [['refuse', 'a'], ['close'], ['advance', 2000]], [], 0, 0, ['a abandoned']],
    ['refused again after a retry: another, longer delay', [['refuse', 'a'], ['advance', 1000], ['advance', 1999]], ['a'], 1, 1, []],
  ];
  for (const [name, steps, again, holds, retried, released] of cases) {
    it(name, () => {
      const s = setup();
      for (const step of steps) {
        if (step[0] === 'refuse') s.refuse(step[1]);
        else if (step[0] === 'advance') s.clock.advance(step[1]);
        else if (step[0] === 'ready') s.ready(step[1]);
        else if (step[0] === 'wake') s.flow.wake();
        else s.flow.close();
      }
      const first = steps.filter((step) => step[0] === 'refuse').length;
      assert.deepEqual({ again: s.sent.slice(first), holds: s.holds(), retried: s.flow.retryCounts.retried, released: s.released }, { again, holds, retried, released });
      s.flow.close();
    });
  }
});
