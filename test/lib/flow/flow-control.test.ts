// FlowControl: the bus is held from the moment `limit` records are in the
// flow until they finish, each record is tracked from before send() to after
// it, records that outlive their lease are said once, and close lets go.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { FlowControl } from '../../../lib/flow/flow-control';

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
});
