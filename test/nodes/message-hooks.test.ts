// The ledger that turns Node-RED's message hooks into record counts, driven
// through the runtime's own hooks engine (@node-red/util) with events shaped
// as Node-RED 4.1's Flow.js and Node.js pass them, in the order they call
// them. test/nodes/bus-subscribe-records.test.ts runs the same inside a real
// Node-RED.
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'mocha';
import { InFlight } from '../../lib/flow/in-flight';
import { HOOK_IDS, type HookEngine, callsDone, followRecords } from '../../nodes/support/message-hooks';

describe('nodes/support/message-hooks', () => {
  interface RuntimeHooks extends HookEngine {
    has(hookId: string): boolean;
    trigger(hookId: string, payload: unknown, done: (err?: unknown) => void): void;
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- @node-red/util ships no types of its own
  const hooks = (require('@node-red/util') as { hooks: RuntimeHooks }).hooks;

  function fire(hook: string, event: unknown): void {
    let settled = false;
    hooks.trigger(hook, event, (err) => {
      if (err !== undefined && err !== false) throw err as Error;
      settled = true;
    });
    assert.ok(settled, `${hook} ran synchronously`);
  }

  /** A node as the ledger sees it: Node-RED's count of input handlers that take done. */
  function node(takesDone: boolean): { _expectedDoneCount: number } {
    return { _expectedDoneCount: takesDone ? 1 : 0 };
  }

  /** What Node-RED does around one delivery: preDeliver at send, onReceive + postReceive when it arrives (the ledger leaves postReceive alone). */
  function deliver(msg: object): void {
    fire('preDeliver', { msg, source: {}, destination: {}, cloneMessage: false });
  }
  function arrive(msg: object, target: object): void {
    fire('onReceive', { msg, destination: { node: target } });
    fire('postReceive', { msg, destination: { node: target } });
  }
  function done(msg: object, target: object): void {
    fire('onComplete', { msg, error: undefined, node: { node: target } });
  }

  const stops: Array<() => void> = [];
  function tracked(limit = 100): InFlight {
    const flow = new InFlight({ limit });
    stops.push(followRecords(hooks, flow));
    stops.push(() => flow.clear());
    return flow;
  }
  /** The entry node's send of a new record to `wires` targets. */
  function emit(flow: InFlight, id: string, wires: number): Array<{ _msgid: string }> {
    flow.track(id);
    const copies = Array.from({ length: wires }, () => ({ _msgid: id }));
    for (const copy of copies) deliver(copy);
    flow.complete(id);
    return copies;
  }

  afterEach(() => {
    for (const stop of stops.splice(0).reverse()) stop();
  });

  describe('hooks: registered only while a tracker follows records', () => {
    it('the first tracker adds the labelled hooks, the last one removes them', () => {
      assert.deepEqual(HOOK_IDS.map((id) => hooks.has(id)), [false, false, false]);
      const stopA = followRecords(hooks, new InFlight({ limit: 1 }));
      const stopB = followRecords(hooks, new InFlight({ limit: 1 }));
      assert.deepEqual(HOOK_IDS.map((id) => hooks.has(id)), [true, true, true]);
      stopA();
      stopA();
      assert.ok(hooks.has('onComplete.tectonic-flow'), 'one tracker is still following');
      stopB();
      assert.deepEqual(HOOK_IDS.map((id) => hooks.has(id)), [false, false, false]);
      // A redeploy: all gone, then back, with no "already registered".
      stops.push(followRecords(hooks, new InFlight({ limit: 1 })));
      assert.ok(hooks.has('preDeliver.tectonic-flow'));
    });

    it('a label another copy holds is refused, and that copy keeps its hooks', () => {
      const theirs = (): void => undefined;
      hooks.add('onReceive.tectonic-flow', theirs);
      try {
        assert.throws(() => followRecords(hooks, new InFlight({ limit: 1 })), /already registered/);
        assert.equal(hooks.has('preDeliver.tectonic-flow'), false, 'ours rolled back');
        assert.equal(hooks.has('onReceive.tectonic-flow'), true, 'theirs left alone');
      } finally {
        hooks.remove('onReceive.tectonic-flow');
      }
    });
  });

  describe('hooks: counting a record through a flow', () => {
    it('fan-out: one message on two wires finishes when both receivers are done', () => {
      const flow = tracked();
      const [a, b] = emit(flow, 'r1', 2) as [object, object];
      const nodeA = node(true);
      const nodeB = node(true);
      arrive(a, nodeA);
      arrive(b, nodeB);
      done(a, nodeA);
      assert.equal(flow.has('r1'), true);
      done(b, nodeB);
      assert.equal(flow.has('r1'), false);
    });

    it('the gap between send and arrival does not finish a record: delivery counts at preDeliver', () => {
      const flow = tracked();
      const [m] = emit(flow, 'r1', 1) as [object];
      const first = node(true);
      arrive(m, first);
      const onward = { _msgid: 'r1' };
      deliver(onward); // first sends on (synchronously, inside its handler) ...
      done(m, first); // ... and is done before the next node has the message
      assert.equal(flow.has('r1'), true, 'still on its way');
      const second = node(true);
      arrive(onward, second);
      done(onward, second);
      assert.equal(flow.has('r1'), false);
    });

    it('a refusal marked transient (msg.reject.transient), seen at onComplete or on the copy sent on, finishes the record as transient', () => {
      for (const where of ['complete', 'sent on'] as const) {
        const flow = new InFlight({ limit: 100 });
        stops.push(followRecords(hooks, flow));
        const outcomes: string[] = [];
        flow.track('t1', (outcome) => outcomes.push(outcome));
        const m = { _msgid: 't1' } as { _msgid: string; reject?: unknown };
        deliver(m);
        flow.complete('t1');
        const publisher = node(true);
        arrive(m, publisher);
        m.reject = { stage: 'bus-publish', reasons: [], transient: true };
        if (where === 'sent on') {
          const onward = { _msgid: 't1', reject: m.reject };
          deliver(onward);
          done(m, publisher);
          const rejectHandler = node(true);
          arrive(onward, rejectHandler);
          done(onward, rejectHandler);
        } else {
          done(m, publisher);
        }
        assert.deepEqual(outcomes, ['transient'], where);
      }
    });

    it('a refusal that is not transient finishes the record as usual', () => {
      const flow = tracked();
      const outcomes: string[] = [];
      flow.track('t2', (outcome) => outcomes.push(outcome));
      const m = { _msgid: 't2' } as { _msgid: string; reject?: unknown };
      deliver(m);
      flow.complete('t2');
      const gate = node(true);
      arrive(m, gate);
      m.reject = { stage: 'policy-gate', reasons: [] };
      done(m, gate);
      assert.deepEqual(outcomes, ['finished']);
    });

    it('a node that drops the message finishes it', () => {
      const flow = tracked();
      const [m] = emit(flow, 'r1', 1) as [object];
      const filter = node(true);
      arrive(m, filter);
      done(m, filter);
      assert.equal(flow.size, 0);
    });

    it('a node whose handler takes no done finishes its receipt when the handler returns', async () => {
      const flow = tracked();
      const [m] = emit(flow, 'r1', 1) as [object];
      arrive(m, node(false));
      assert.equal(flow.size, 1, 'open while the handler runs');
      await Promise.resolve();
      assert.equal(flow.size, 0);
      assert.equal(callsDone(node(false)), false);
      assert.equal(callsDone({}), true, 'a runtime without the count: assume done is called');
    });

    it('a direct receive() (catch, link, complete nodes) without preDeliver is counted at arrival', () => {
      const flow = tracked();
      const [m] = emit(flow, 'r1', 1) as [object];
      const failing = node(true);
      arrive(m, failing);
      done(m, failing); // done(err): onComplete first ...
      assert.equal(flow.size, 0, 'the record finished with the failing node');

      const [n] = emit(flow, 'r2', 1) as [object];
      const worker = node(true);
      arrive(n, worker);
      const caught = { _msgid: 'r2' };
      const catcher = node(true);
      arrive(caught, catcher); // the catch node gets a clone through receive(), before the worker is done
      done(n, worker);
      assert.equal(flow.has('r2'), true, 'the catch flow still has it');
      done(caught, catcher);
      assert.equal(flow.has('r2'), false);
    });

    it('done() called twice for one receipt counts once', () => {
      const flow = tracked();
      const [a, b] = emit(flow, 'r1', 2) as [object, object];
      const twice = node(true);
      arrive(a, twice);
      done(a, twice);
      done(a, twice);
      assert.equal(flow.has('r1'), true, 'the other copy is still open');
      const other = node(true);
      arrive(b, other);
      done(b, other);
      assert.equal(flow.has('r1'), false);
    });

    it('messages of other ids, and of other trackers, are left to their owners', async () => {
      const mine = tracked();
      const theirs = tracked();
      const [m] = emit(mine, 'mine', 1) as [object];
      const [t] = emit(theirs, 'theirs', 1) as [object];
      const stranger = { _msgid: 'stranger' };
      deliver(stranger);
      arrive(stranger, node(false));
      const n = node(true);
      arrive(m, n);
      done(m, n);
      assert.equal(mine.size, 0);
      assert.equal(theirs.size, 1);
      arrive(t, node(false));
      await Promise.resolve();
      assert.equal(theirs.size, 0);
    });

    it('the limit is reached through hook events: pressure, then room when receivers complete', () => {
      const flow = tracked(3);
      const pressure: boolean[] = [];
      flow.onPressure((holding) => pressure.push(holding));
      const copies = ['a', 'b', 'c'].map((id) => (emit(flow, id, 1) as [object])[0]);
      assert.deepEqual(pressure, [true]);
      const n = node(true);
      for (const copy of copies.slice(0, 1)) {
        arrive(copy, n);
        done(copy, n);
      }
      assert.deepEqual(pressure, [true, false], 'room at 2 of 3 (low water floor(9/4) = 2)');
    });
  });
});
