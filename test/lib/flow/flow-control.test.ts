// FlowControl: the bus is held from the moment `limit` records are in the
// flow until they finish, each record is tracked from before send() to after
// it, records that outlive their lease are said once, and close lets go.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { FlowControl, TRANSIENT_WARN_AFTER_TRIES } from '../../../lib/flow/flow-control';
import { ManualClock } from '../../support/manual-clock';

function control(limit: number): { flow: FlowControl; events: string[]; sent: Array<Record<string, unknown>> } {
  const events: string[] = [];
  const sent: Array<Record<string, unknown>> = [];
  const flow = new FlowControl(limit, {
    hold: () => {
      events.push('hold');
      return () => events.push('release');
    },
    changed: () => events.push('changed'),
    overdue: (expired, leaseMs) => events.push(`overdue ${expired} ${leaseMs}`),
  });
  return { flow, events, sent };
}

/** A receiver that keeps the record: one delivery announced inside send(), as the preDeliver hook does. */
function keep(flow: FlowControl, sent: Array<Record<string, unknown>>): (msg: Record<string, unknown>) => void {
  return (msg) => {
    sent.push(msg);
    flow.inFlight.announce(msg._msgid as string);
  };
}

/** The receiver got its copy and called done(), as the onReceive and onComplete hooks tell it. */
function finish(flow: FlowControl, msg: Record<string, unknown> | undefined): void {
  flow.inFlight.receive(msg?._msgid as string);
  flow.inFlight.settle(msg?._msgid as string);
}

describe('lib/flow/flow-control', () => {
  it('each record gets its own _msgid and counts from before send() until its copies finish', () => {
    const { flow, sent } = control(10);
    flow.emit({ payload: 1 }, keep(flow, sent));
    flow.emit({ payload: 2 }, keep(flow, sent));
    assert.equal(sent.length, 2);
    assert.notEqual(sent[0]?._msgid, sent[1]?._msgid);
    assert.equal(flow.inFlight.size, 2);
    finish(flow, sent[0]);
    assert.equal(flow.inFlight.size, 1);
    flow.close();
  });

  it('a record nobody keeps is finished once send() returns, even when send() throws', () => {
    const { flow } = control(10);
    flow.emit({}, () => undefined);
    assert.throws(() =>
      flow.emit({}, () => {
        throw new Error('boom');
      }),
    );
    assert.equal(flow.inFlight.size, 0);
    flow.close();
  });

  it('holds the bus at the limit, once, counts it, and releases it when records finish', () => {
    const { flow, events, sent } = control(4);
    for (let i = 0; i < 4; i++) flow.emit({ i }, keep(flow, sent));
    assert.deepEqual(events, ['hold', 'changed']);
    assert.equal(flow.counts.held, 1);
    for (const msg of sent) finish(flow, msg);
    assert.deepEqual(events, ['hold', 'changed', 'release', 'changed']);
    flow.close();
  });

  it('records that outlive their lease are counted each time and said once', () => {
    const { flow, events, sent } = control(10);
    flow.emit({}, keep(flow, sent));
    flow.inFlight.expire(Date.now() + flow.inFlight.leaseMs);
    flow.emit({}, keep(flow, sent));
    flow.emit({}, keep(flow, sent));
    flow.inFlight.expire(Date.now() + flow.inFlight.leaseMs);
    assert.deepEqual(events, [`overdue 1 ${flow.inFlight.leaseMs}`]);
    assert.equal(flow.counts.expired, 3);
    flow.close();
  });

  it('close forgets the records and releases the hold, without a status change after it', () => {
    const { flow, events, sent } = control(2);
    flow.emit({}, keep(flow, sent));
    flow.emit({}, keep(flow, sent));
    flow.close();
    assert.deepEqual(events, ['hold', 'changed', 'release']);
    assert.equal(flow.inFlight.size, 0);
  });

  describe('records refused as transient (the site not ready) are tried again, not acknowledged', () => {

    function retrying(): { flow: FlowControl; clock: ManualClock; events: string[]; sent: Array<Record<string, unknown>>; released: string[] } {
      const events: string[] = [];
      const clock = new ManualClock();
      const flow = new FlowControl(
        100,
        {
          hold: () => {
            events.push('hold');
            return () => events.push('release');
          },
          changed: () => undefined,
          overdue: () => undefined,
          stillTransient: (tries) => events.push(`still transient after ${tries}`),
        },
        clock,
      );
      return { flow, clock, events, sent: [], released: [] };
    }

    /** The receiver refuses the copy as transient, in place, and is done with it. */
    function refuse(flow: FlowControl, msg: Record<string, unknown> | undefined): void {
      const id = msg?._msgid as string;
      flow.inFlight.receive(id);
      flow.inFlight.refusedTransient(id);
      flow.inFlight.settle(id);
    }

    it('sent again after 1 s, 2 s, 4 s ... as it first entered, keeping its acknowledgement; reading held meanwhile; released once it finishes', () => {
      const { flow, clock, events, sent, released } = retrying();
      flow.emit({ payload: { n: 1 } }, keep(flow, sent), (outcome) => released.push(outcome), () => ({ payload: { n: 1 } }));
      (sent[0] as { payload: { n: number } }).payload.n = 99; // the flow changes the message in place
      refuse(flow, sent[0]);
      assert.deepEqual(released, [], 'not acknowledged');
      assert.deepEqual(events, ['hold'], 'nothing new is read while it waits');
      clock.advance(999);
      assert.equal(sent.length, 1);
      clock.advance(1);
      assert.equal(sent.length, 2, 'again after 1 s');
      assert.deepEqual(sent[1]?.payload, { n: 1 }, 'as it first entered');
      assert.notEqual(sent[1]?._msgid, sent[0]?._msgid);
      assert.deepEqual(events, ['hold', 'release']);
      refuse(flow, sent[1]);
      clock.advance(1999);
      assert.equal(sent.length, 2);
      clock.advance(1);
      assert.equal(sent.length, 3, 'then after 2 s');
      finish(flow, sent[2]);
      assert.deepEqual(released, ['finished']);
      assert.equal(flow.retryCounts.retried, 2);
      flow.close();
    });

    it(`still transient after ${TRANSIENT_WARN_AFTER_TRIES} tries: said once, tried on, the wait capped at 30 s`, () => {
      const { flow, clock, events, sent, released } = retrying();
      flow.emit({ payload: 1 }, keep(flow, sent), (outcome) => released.push(outcome), () => ({ payload: 1 }));
      refuse(flow, sent[0]);
      for (let i = 0; i < 10; i++) {
        clock.advance(30_000);
        refuse(flow, sent[sent.length - 1]);
      }
      assert.equal(sent.length, 11, 'one try per wait, the wait never beyond 30 s');
      assert.deepEqual(events.filter((e) => e.startsWith('still')), [`still transient after ${TRANSIENT_WARN_AFTER_TRIES}`]);
      assert.deepEqual(released, []);
      flow.close();
      assert.deepEqual(released, ['abandoned'], 'close while it waits: unacknowledged, the broker keeps it');
      assert.equal(clock.pending, 0, 'no retry timer left');
    });

    it('a release without a way to make the record again: a transient refusal finishes it', () => {
      const { flow, sent, released } = retrying();
      flow.emit({ payload: 1 }, keep(flow, sent), (outcome) => released.push(outcome));
      refuse(flow, sent[0]);
      assert.deepEqual(released, ['finished']);
      flow.close();
    });

    it('without a release (acknowledged at routing) nothing is retried', () => {
      const { flow, clock, sent } = retrying();
      flow.emit({ payload: 1 }, keep(flow, sent));
      refuse(flow, sent[0]);
      clock.advance(60_000);
      assert.equal(sent.length, 1);
      flow.close();
    });
  });
});
