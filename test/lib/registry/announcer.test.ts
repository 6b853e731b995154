import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { Announcer } from '../../../lib/registry/announcer';
import { parseEntry } from '../../../lib/registry/entry-format';
import { CheckVerdicts, HealthWatch, type CheckOutcome } from '../../../lib/registry/health-check';
import { ManualClock } from '../../support/manual-clock';

const fields = { service: 'pricing', site: 'hq', instance: 'main', url: 'http://hq.example/', metadata: {}, weight: 100, ttl: 30 };

function setUp(): { clock: ManualClock; sent: Array<{ at: number; payload: string }>; announcer: Announcer; session: { n: number } } {
  const clock = new ManualClock();
  const sent: Array<{ at: number; payload: string }> = [];
  const session = { n: 1 };
  const announcer = new Announcer(fields, (topic, payload) => {
    assert.equal(topic, 'tectonic/registry/pricing/hq/main');
    sent.push({ at: clock.now(), payload });
    return Promise.resolve();
  }, clock, () => session.n, (err) => assert.fail(err));
  return { clock, sent, announcer, session };
}

describe('registry: the announcer', () => {
  it('announces at once and refreshes every third of the TTL, naming the current session', () => {
    const { clock, sent, announcer, session } = setUp();
    announcer.announce();
    clock.advance(30_000);
    session.n = 2;
    clock.advance(10_000);
    assert.deepEqual(sent.map((s) => s.at), [0, 10_000, 20_000, 30_000, 40_000]);
    const last = parseEntry(announcer.topic, sent.at(-1)?.payload ?? '');
    assert.ok(last.ok && last.value !== null);
    assert.equal(last.value.session, 2);
    assert.equal(Date.parse(last.value.expiresAt) - Date.parse(last.value.announcedAt), 30_000);
  });

  it('withdraws with one empty retained message and stops refreshing; announce() brings it back', () => {
    const { clock, sent, announcer } = setUp();
    announcer.announce();
    announcer.withdraw();
    announcer.withdraw();
    clock.advance(60_000);
    assert.deepEqual(sent.map((s) => s.payload === ''), [false, true]);
    assert.equal(announcer.state, 'withdrawn');
    announcer.reannounce();
    assert.equal(sent.length, 2, 'a reconnect does not re-announce a withdrawn entry');
    announcer.announce();
    assert.equal(announcer.state, 'announced');
    assert.equal(sent.length, 3);
  });

  it('close clears the entry once, leaves no timer, and ignores later calls', async () => {
    const { clock, sent, announcer } = setUp();
    announcer.announce();
    await announcer.close();
    await announcer.close();
    announcer.announce();
    announcer.withdraw();
    assert.equal(clock.pending, 0);
    assert.deepEqual(sent.map((s) => s.payload === ''), [false, true]);
  });
});

describe('registry: the health check', () => {
  const table: Array<[string, number, boolean, boolean[], string[]]> = [
    ['one failure withdraws at threshold 1', 1, true, [false], ['withdraw']],
    ['flaps are damped at threshold 2', 2, true, [false, true, false, true], ['unchanged', 'unchanged', 'unchanged', 'unchanged']],
    ['two failures in a row withdraw at threshold 2; one success announces', 2, true, [false, false, false, true, true], ['unchanged', 'withdraw', 'unchanged', 'announce', 'unchanged']],
    ['starting down, the first success announces', 2, false, [false, true], ['unchanged', 'announce']],
  ];
  for (const [what, threshold, up, outcomes, verdicts] of table) {
    it(what, () => {
      const v = new CheckVerdicts(threshold, up);
      assert.deepEqual(outcomes.map((healthy) => v.record(healthy ? { healthy: true } : { healthy: false, why: 'x' })), verdicts);
    });
  }

  it('HealthWatch checks at once, then every interval after each answer, and reports only changes', async () => {
    const clock = new ManualClock();
    const answers: CheckOutcome[] = [{ healthy: true }, { healthy: false, why: 'HTTP 500' }, { healthy: true }];
    const urls: string[] = [];
    const changes: string[] = [];
    const watch = new HealthWatch({ url: 'http://svc.example/health', intervalMs: 1_000, timeoutMs: 200, failuresToWithdraw: 1 }, clock, (v) => changes.push(v), (url) => {
      urls.push(url);
      return Promise.resolve(answers.shift() ?? { healthy: true });
    });
    const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
    watch.start();
    await settle();
    assert.deepEqual(changes, ['announce']);
    clock.advance(1_000);
    await settle();
    clock.advance(1_000);
    await settle();
    assert.deepEqual(changes, ['announce', 'withdraw', 'announce']);
    assert.equal(urls.length, 3);
    watch.stop();
    clock.advance(10_000);
    await settle();
    assert.equal(urls.length, 3, 'stopped');
    assert.equal(clock.pending, 0);
  });
});
