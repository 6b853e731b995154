// The pack's nodes call StatusThrottle.show() for every message; a burst must
// reach the editor as at most one status per interval, and the last one shown
// must be the node's state after the burst, not a state from inside it.
import should from 'should';
import { after, afterEach, before, describe, it } from 'mocha';
import type { Node, NodeStatus } from 'node-red';
import { StatusThrottle } from '../../nodes/support/status-throttle';
import { delay } from '../support/node-red-process';
import { calls, helper, load, node, startServer, stopServer } from '../support/red-helper';

describe('nodes/status-throttle', () => {
  before(startServer);
  afterEach(() => helper.unload());
  after(stopServer);

  const INTERVAL_MS = 100;

  async function throttled(): Promise<{ throttle: StatusThrottle; shown: () => string[]; set: (n: number) => void }> {
    await load([{ id: 'f1', type: 'tab', label: 'throttle' }, { id: 'shows', type: 'helper', z: 'f1', wires: [] }]);
    const target = node('shows');
    const seen = calls(target, 'status');
    let count = 0;
    const throttle = new StatusThrottle(target as unknown as Node, (): NodeStatus => ({ fill: 'green', shape: 'dot', text: `handled ${count}` }), INTERVAL_MS);
    return { throttle, shown: () => seen.map((c) => (c.args[0] as NodeStatus).text as string), set: (n) => (count = n) };
  }

  it('a burst shows its first state at once and its final state one interval later, nothing between', async () => {
    const { throttle, shown, set } = await throttled();
    for (let i = 1; i <= 1000; i++) {
      set(i);
      throttle.show();
    }
    // The test helper reports a node's status calls on the next tick.
    await new Promise((resolve) => setImmediate(resolve));
    should(shown()).eql(['handled 1'], 'the first call shows at once');
    await delay(INTERVAL_MS * 3);
    should(shown()).eql(['handled 1', 'handled 1000'], 'one more, with the state after the burst');
    throttle.stop();
  });

  it('stop() drops an update that is due: a closed node shows nothing more', async () => {
    const { throttle, shown, set } = await throttled();
    throttle.show();
    set(5);
    throttle.show();
    throttle.stop();
    await delay(INTERVAL_MS * 3);
    should(shown()).eql(['handled 0']);
  });
});
