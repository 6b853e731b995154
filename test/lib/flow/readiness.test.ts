// Ready before reading: a resource's readiness (ReadinessSignal), a flow's
// (AllReady over what the walk found), and an entry's hold on its reading
// while that is not ready (ReadinessHold), as tables of steps and what the
// entry holds and shows after each.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { AllReady, ReadinessHold, ReadinessSignal, isReadiness } from '../../../lib/flow/readiness';

describe('lib/flow/readiness: ReadinessSignal', () => {
  const cases: Array<[string, Array<[boolean, string?]>, boolean, string, number]> = [
    // name, set() calls, ready, waitingFor, changes heard
    ['nothing set: as constructed (waiting for the catalog)', [], false, 'catalog', 0],
    ['ready: nothing to wait for', [[true]], true, '', 1],
    ['ready twice: one change', [[true], [true]], true, '', 1],
    ['waiting again keeps the text it had', [[true], [false]], false, 'catalog', 2],
    ['a new text while waiting is a change', [[false, 'catalog (refused)']], false, 'catalog (refused)', 1],
    ['the same text while waiting is not', [[false, 'catalog']], false, 'catalog', 0],
    ['a text given while ready is kept for later, unheard', [[true], [true, 'other'], [false]], false, 'other', 2],
  ];
  for (const [name, steps, ready, waitingFor, changes] of cases) {
    it(name, () => {
      const signal = new ReadinessSignal(false, 'catalog');
      let heard = 0;
      signal.onChange(() => (heard += 1));
      for (const [r, text] of steps) signal.set(r, text);
      assert.deepEqual({ ready: signal.ready, waitingFor: signal.waitingFor, heard }, { ready, waitingFor, heard: changes });
    });
  }

  it('a listener stopped hears nothing more', () => {
    const signal = new ReadinessSignal(false, 'x');
    let heard = 0;
    const stop = signal.onChange(() => (heard += 1));
    stop();
    signal.set(true);
    assert.equal(heard, 0);
  });

  const shapes: Array<[string, unknown, boolean]> = [
    ['a signal', new ReadinessSignal(true), true],
    ['a plain object of the shape', { ready: false, waitingFor: 'x', onChange: () => () => undefined }, true],
    ['no onChange', { ready: true, waitingFor: '' }, false],
    ['ready not a boolean', { ready: 1, waitingFor: '', onChange: () => undefined }, false],
    ['undefined', undefined, false],
    ['null', null, false],
  ];
  for (const [name, value, expected] of shapes) it(`isReadiness: ${name}`, () => assert.equal(isReadiness(value), expected));
});

describe('lib/flow/readiness: AllReady', () => {
  const cases: Array<[string, Array<[boolean, string]>, boolean, string]> = [
    ['no parts: ready (a flow that needs nothing)', [], true, ''],
    ['every part ready', [[true, 'a'], [true, 'b']], true, ''],
    ['one waiting: its text', [[true, 'a'], [false, 'policy']], false, 'policy'],
    ['several waiting: the first, and how many more', [[false, 'catalog'], [true, 'x'], [false, 'policy'], [false, 'outbox']], false, 'catalog (+2)'],
  ];
  for (const [name, parts, ready, waitingFor] of cases) {
    it(name, () => {
      const all = new AllReady(parts.map(([r, text]) => new ReadinessSignal(r, text)));
      assert.deepEqual({ ready: all.ready, waitingFor: all.waitingFor }, { ready, waitingFor });
      all.close();
    });
  }

  it('tells of each part change, and nothing once closed', () => {
    const catalog = new ReadinessSignal(false, 'catalog');
    const policy = new ReadinessSignal(false, 'policy');
    const all = new AllReady([catalog, policy]);
    const seen: string[] = [];
    all.onChange(() => seen.push(`${all.ready} ${all.waitingFor}`));
    catalog.set(true);
    policy.set(true);
    policy.set(false, 'policy (policy-expired)');
    all.close();
    catalog.set(false);
    assert.deepEqual(seen, ['false policy', 'true ', 'false policy (policy-expired)']);
  });
});

describe('lib/flow/readiness: ReadinessHold', () => {
  /** A bus whose holds are counted, and a hold that records what it showed. */
  function entry(): { hold: ReadinessHold; holds: () => number; log: string[] } {
    let active = 0;
    const log: string[] = [];
    const hold = new ReadinessHold(
      () => {
        active += 1;
        let released = false;
        return () => {
          if (released) throw new Error('released twice');
          released = true;
          active -= 1;
        };
      },
      () => log.push(hold.holding ? `hold: ${hold.waitingFor}` : 'read'),
      'the flow to start',
    );
    return { hold, holds: () => active, log };
  }

  type Step = ['follow', ReadinessSignal] | ['set', ReadinessSignal, boolean, string?] | ['suspend', string] | ['close'];
  const catalog = (): ReadinessSignal => new ReadinessSignal(false, 'catalog');
  const cases: Array<[string, (c: ReadinessSignal, d: ReadinessSignal) => Step[], number, string, string[]]> = [
    // name, steps, bus holds after, waitingFor after, what it showed
    ['holds from the start, before the flow is known', () => [], 1, 'the flow to start', []],
    ['a flow not ready: still one hold, the text changes', (c) => [['follow', c]], 1, 'catalog', ['hold: catalog']],
    ['the flow becomes ready: released', (c) => [['follow', c], ['set', c, true]], 0, '', ['hold: catalog', 'read']],
    ['a flow ready when found: released at once', (c) => [['set', c, true], ['follow', c]], 0, '', ['read']],
    ['ready, then not (the policy expires): held again', (c) => [['follow', c], ['set', c, true], ['set', c, false, 'policy']], 1, 'policy', ['hold: catalog', 'read', 'hold: policy']],
    [
      'a redeploy: suspended, then follows the new flow only',
      (c, d) => [['set', c, true], ['follow', c], ['suspend', 'the flow to start'], ['follow', d], ['set', c, false], ['set', d, true]],
      0,
      '',
      ['read', 'hold: the flow to start', 'hold: catalog', 'read'],
    ],
    ['closed while holding: released, and deaf after', (c) => [['follow', c], ['close'], ['set', c, true], ['set', c, false]], 0, '', ['hold: catalog']],
    ['closed while reading: nothing to release', (c) => [['set', c, true], ['follow', c], ['close'], ['suspend', 'x']], 0, '', ['read']],
  ];
  for (const [name, steps, holds, waitingFor, shown] of cases) {
    it(name, () => {
      const { hold, holds: active, log } = entry();
      for (const step of steps(catalog(), catalog())) {
        if (step[0] === 'follow') hold.follow(step[1]);
        else if (step[0] === 'set') step[1].set(step[2], step[3]);
        else if (step[0] === 'suspend') hold.suspend(step[1]);
        else hold.close();
      }
      assert.deepEqual({ holds: active(), waitingFor: hold.waitingFor, shown: log }, { holds, waitingFor, shown });
      hold.close();
    });
  }
});
