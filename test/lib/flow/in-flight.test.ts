// InFlight: the count of records an entry node has in its flow, the limit
// and low-water mark that hold and resume reading, and the lease, on a clock
// the test moves by hand.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { InFlight } from '../../../lib/flow/in-flight';
import { ManualClock } from '../../support/manual-clock';

function tracker(limit: number, options: { lowWater?: number; leaseMs?: number } = {}): { flow: InFlight; clock: ManualClock; pressure: boolean[]; expired: number[] } {
  const clock = new ManualClock();
  const flow = new InFlight({ limit, clock, ...options });
  const pressure: boolean[] = [];
  const expired: number[] = [];
  flow.onPressure((holding) => pressure.push(holding));
  flow.onExpired((n) => expired.push(n));
  return { flow, clock, pressure, expired };
}

/** The entry's part: track, hand out `copies` deliveries as send() would, then drop its own count. */
function send(flow: InFlight, id: string, copies: number): void {
  flow.track(id);
  for (let i = 0; i < copies; i++) flow.deliver(id);
  flow.complete(id);
}

describe('InFlight: what counts as finished', () => {
  it('one record to one node: finished when that node completes it', () => {
    const { flow } = tracker(10);
    send(flow, 'a', 1);
    assert.equal(flow.size, 1);
    flow.complete('a');
    assert.equal(flow.size, 0);
    assert.equal(flow.has('a'), false);
  });

  it('fan-out, one message to two wires: finished only when both copies are done', () => {
    const { flow } = tracker(10);
    send(flow, 'a', 2);
    flow.complete('a');
    assert.equal(flow.size, 1, 'one copy is still open');
    flow.complete('a');
    assert.equal(flow.size, 0);
  });

  it('a node that passes the message on keeps it open: its send is counted before its own done', () => {
    const { flow } = tracker(10);
    send(flow, 'a', 1);
    flow.deliver('a'); // node 1 sends to node 2
    flow.complete('a'); // node 1 done
    assert.equal(flow.size, 1);
    flow.complete('a'); // node 2 done
    assert.equal(flow.size, 0);
  });

  it('a node that drops the message (done without sending) finishes it', () => {
    const { flow } = tracker(10);
    send(flow, 'a', 1);
    flow.complete('a');
    assert.equal(flow.size, 0);
  });

  it('a record sent with nothing wired finishes as soon as the entry lets go', () => {
    const { flow } = tracker(10);
    send(flow, 'a', 0);
    assert.equal(flow.size, 0);
  });

  it('events for ids it does not track are ignored and say so', () => {
    const { flow } = tracker(10);
    assert.equal(flow.deliver('nobody'), false);
    assert.equal(flow.complete('nobody'), false);
    send(flow, 'a', 1);
    flow.complete('a');
    assert.equal(flow.complete('a'), false, 'a finished record is forgotten');
  });
});

describe('InFlight: the limit and the room notification', () => {
  it('holding from the record that reaches the limit; room again at the low-water mark (3/4 by default)', () => {
    const { flow, pressure } = tracker(4);
    assert.equal(flow.lowWater, 3);
    for (const id of ['a', 'b', 'c']) send(flow, id, 1);
    assert.deepEqual(pressure, []);
    send(flow, 'd', 1);
    assert.deepEqual(pressure, [true], 'the 4th record in flight reaches the limit of 4');
    assert.equal(flow.holding, true);
    flow.complete('a');
    assert.deepEqual(pressure, [true, false], '3 in flight: room');
    assert.equal(flow.holding, false);
  });

  it('no flapping: between the low-water mark and the limit nothing is announced', () => {
    const { flow, pressure } = tracker(10);
    for (let i = 0; i < 10; i++) send(flow, `r${i}`, 1);
    assert.deepEqual(pressure, [true]);
    flow.complete('r0');
    flow.complete('r1');
    assert.deepEqual(pressure, [true], '8 in flight: still holding');
    flow.complete('r2');
    assert.deepEqual(pressure, [true, false], '7 in flight (floor of 3/4 of 10): room');
    send(flow, 'r10', 1);
    send(flow, 'r11', 1);
    assert.deepEqual(pressure, [true, false], '9 in flight: below the limit, no hold yet');
    send(flow, 'r12', 1);
    assert.deepEqual(pressure, [true, false, true]);
  });

  it('a limit of 1 holds for every record and resumes when it is finished', () => {
    const { flow, pressure } = tracker(1);
    assert.equal(flow.lowWater, 0);
    send(flow, 'a', 1);
    assert.deepEqual(pressure, [true]);
    flow.complete('a');
    assert.deepEqual(pressure, [true, false]);
  });

  it('limit 0 never holds', () => {
    const { flow, pressure } = tracker(0);
    for (let i = 0; i < 5000; i++) send(flow, `r${i}`, 1);
    assert.equal(flow.size, 5000);
    assert.deepEqual(pressure, []);
  });

  it('a low-water mark at or above the limit is clamped below it, so a hold can end', () => {
    const { flow, pressure } = tracker(5, { lowWater: 9 });
    assert.equal(flow.lowWater, 4);
    for (let i = 0; i < 5; i++) send(flow, `r${i}`, 1);
    flow.complete('r0');
    assert.deepEqual(pressure, [true, false]);
  });

  it('clear() forgets everything and tells a holding listener there is room', () => {
    const { flow, clock, pressure } = tracker(2);
    send(flow, 'a', 1);
    send(flow, 'b', 1);
    assert.equal(clock.pending, 1, 'one lease timer');
    flow.clear();
    assert.equal(flow.size, 0);
    assert.deepEqual(pressure, [true, false]);
    assert.equal(clock.pending, 0, 'no timer left behind');
  });
});

describe('InFlight: the lease', () => {
  it('a record open for leaseMs counts as finished, is reported, and makes room', () => {
    const { flow, clock, pressure, expired } = tracker(2, { leaseMs: 1000 });
    send(flow, 'a', 1);
    clock.advance(400);
    send(flow, 'b', 1);
    assert.deepEqual(pressure, [true]);
    clock.advance(599);
    assert.equal(flow.size, 2, 'not yet');
    clock.advance(1);
    assert.equal(flow.has('a'), false, 'a expired at 1000 ms');
    assert.equal(flow.has('b'), true);
    assert.deepEqual(expired, [1]);
    assert.deepEqual(pressure, [true, false]);
    clock.advance(400);
    assert.equal(flow.size, 0, 'b expired at 1400 ms');
    assert.deepEqual(expired, [1, 1]);
    assert.equal(clock.pending, 0, 'the sweep stops when nothing is left');
  });

  it('records finished in time are never reported', () => {
    const { flow, clock, expired } = tracker(10, { leaseMs: 1000 });
    send(flow, 'a', 1);
    clock.advance(500);
    flow.complete('a');
    clock.advance(5000);
    assert.deepEqual(expired, []);
    assert.equal(clock.pending, 0);
  });

  it('late events for an expired record change nothing', () => {
    const { flow, clock } = tracker(10, { leaseMs: 1000 });
    send(flow, 'a', 1);
    clock.advance(1000);
    assert.equal(flow.complete('a'), false);
    assert.equal(flow.deliver('a'), false);
    assert.equal(flow.size, 0);
  });

  it('expire() lets go of every record at or past its lease at once', () => {
    const { flow, clock } = tracker(10, { leaseMs: 1000 });
    send(flow, 'a', 1);
    send(flow, 'b', 1);
    clock.time = 1000;
    send(flow, 'c', 1);
    assert.equal(flow.expire(), 2);
    assert.deepEqual(['a', 'b', 'c'].map((id) => flow.has(id)), [false, false, true]);
  });
});

describe('InFlight: how a record ended (what the entry acknowledges at the bus)', () => {
  const cases: Array<{ name: string; run: (flow: InFlight, clock: ManualClock) => void; expected: string[] }> = [
    { name: 'every copy done: finished, once', run: (flow) => { flow.complete('a'); flow.complete('a'); }, expected: ['a:finished'] },
    { name: 'still open: nothing yet', run: () => undefined, expected: [] },
    { name: 'the lease ran out: finished (a node keeping it must not hold the acknowledgements behind it)', run: (_flow, clock) => clock.advance(1000), expected: ['a:finished'] },
    { name: 'clear() (the node closes): abandoned', run: (flow) => flow.clear(), expected: ['a:abandoned'] },
    { name: 'clear() after it finished: nothing more', run: (flow) => { flow.complete('a'); flow.clear(); }, expected: ['a:finished'] },
  ];
  for (const { name, run, expected } of cases) {
    it(name, () => {
      const { flow, clock } = tracker(10, { leaseMs: 1000 });
      const ended: string[] = [];
      flow.track('a', (outcome) => ended.push(`a:${outcome}`));
      flow.deliver('a');
      flow.complete('a');
      run(flow, clock);
      assert.deepEqual(ended, expected);
    });
  }
});
