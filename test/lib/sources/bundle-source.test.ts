// What the catalog and policy sources share beyond fetching: which events are
// passed on (a new digest, a new problem), the refresh field, and the close
// that gives up after a bound.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { closeWithin } from '../../../lib/close-within';
import { BundleReporter, type BundleEvent, type Decoded } from '../../../lib/sources/bundle-source';
import { DiskBundleSource } from '../../../lib/sources/disk-source';
import { parseRefresh, refreshMs, requestTimeoutMs } from '../../../lib/sources/refresh-interval';

describe('parseRefresh and refreshMs', () => {
  const cases: Array<[string | undefined, number | undefined | string]> = [
    [undefined, undefined],
    ['', undefined],
    ['  ', undefined],
    ['10', 10],
    [' 0.2 ', 0.2],
    ['0', 0],
    ['-1', 'refresh must be a number of seconds, got "-1"'],
    ['1e3', 'refresh must be a number of seconds, got "1e3"'],
    ['.5', 'refresh must be a number of seconds, got ".5"'],
    ['ten', 'refresh must be a number of seconds, got "ten"'],
  ];
  for (const [text, expected] of cases) {
    it(`${JSON.stringify(text)} -> ${String(expected)}`, () => {
      const parsed = parseRefresh(text);
      if (typeof expected === 'string') assert.deepEqual(parsed, { ok: false, problem: expected });
      else assert.deepEqual(parsed, { ok: true, seconds: expected });
    });
  }

  const intervals: Array<[number | undefined, number, number]> = [
    [undefined, 60, 60_000],
    [0.2, 60, 200],
    [0, 10, 100],
    [0.01, 10, 100],
    [1.0004, 10, 1000],
  ];
  for (const [seconds, fallback, ms] of intervals) {
    it(`refreshMs(${String(seconds)}, ${fallback}) = ${ms}; the request bound follows it within 1-30 s`, () => {
      assert.equal(refreshMs(seconds, fallback), ms);
      assert.equal(requestTimeoutMs(ms), Math.min(30_000, Math.max(1000, ms)));
    });
  }
});

describe('BundleReporter', () => {
  const ok = (digest: string): Decoded<string> => ({ ok: true, value: `v-${digest}`, digest });
  const down = (message: string): Decoded<string> => ({ ok: false, kind: 'unavailable', reasons: [{ path: '', rule: 'down', message }] });
  const refused = (message: string): Decoded<string> => ({ ok: false, kind: 'refused', reasons: [{ path: '', rule: 'too-large', message }] });
  const cases: Array<[string, Decoded<string>[], string[]]> = [
    ['a digest once, however often it is read', [ok('a'), ok('a'), ok('b'), ok('b')], ['bundle a', 'bundle b']],
    ['a problem once while it lasts', [down('x'), down('x'), down('y'), down('y')], ['unavailable x', 'unavailable y']],
    ['the same problem again after a bundle', [down('x'), ok('a'), down('x')], ['unavailable x', 'bundle a', 'unavailable x']],
    ['an outage does not make the same bundle new', [ok('a'), down('x'), ok('a')], ['bundle a', 'unavailable x']],
    ['after a refusal the same bundle is new again', [ok('a'), refused('big'), ok('a')], ['bundle a', 'refused big', 'bundle a']],
  ];
  for (const [what, inputs, expected] of cases) {
    it(what, () => {
      const seen: string[] = [];
      const reporter = new BundleReporter<string>((e: BundleEvent<string>) => seen.push(e.kind === 'bundle' ? `bundle ${e.digest}` : `${e.kind} ${e.reasons[0]?.message ?? ''}`));
      for (const input of inputs) reporter.report(input);
      assert.deepEqual(seen, expected);
    });
  }
});

describe('DiskBundleSource', () => {
  it('a change is taken only when a second read after the settle pause agrees; close cuts the pause short', async () => {
    const reads = ['a', 'b', 'c', 'c', 'c'];
    let i = 0;
    const source = new DiskBundleSource<string>({
      origin: 'test',
      intervalMs: 20,
      settleMs: 10,
      read: () => Promise.resolve({ ok: true, value: '', digest: reads[Math.min(i++, reads.length - 1)] ?? '' }),
      unexpected: (err) => ({ kind: 'unavailable', reasons: [{ path: '', rule: 'x', message: err.message }] }),
    });
    const digests: string[] = [];
    source.start((e) => digests.push(e.kind === 'bundle' ? e.digest : e.kind));
    await new Promise((resolve) => setTimeout(resolve, 200));
    await source.close();
    // b was caught half written (the second read said c); c was read twice alike.
    assert.deepEqual(digests, ['a', 'c']);

    const slow = new DiskBundleSource<string>({
      origin: 'slow',
      intervalMs: 10,
      settleMs: 60_000,
      read: () => Promise.resolve({ ok: true, value: '', digest: String(i++) }),
      unexpected: (err) => ({ kind: 'unavailable', reasons: [{ path: '', rule: 'x', message: err.message }] }),
    });
    slow.start(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const started = Date.now();
    await slow.close();
    assert.ok(Date.now() - started < 1000, 'the settle pause did not hold close()');
  });

  it('a read that throws is reported through `unexpected`', async () => {
    const source = new DiskBundleSource<string>({
      origin: 'test',
      intervalMs: 0,
      read: () => Promise.reject(new Error('EIO')),
      unexpected: (err) => ({ kind: 'unavailable', reasons: [{ path: '/d', rule: 'unreadable', message: err.message }] }),
    });
    const seen: unknown[] = [];
    source.start((e) => seen.push(e));
    await source.close();
    assert.deepEqual(seen, [{ kind: 'unavailable', reasons: [{ path: '/d', rule: 'unreadable', message: 'EIO' }] }]);
  });
});

describe('closeWithin', () => {
  const cases: Array<[string, () => Promise<unknown>, number, [number, number]]> = [
    ['work that ends first', () => new Promise((resolve) => setTimeout(resolve, 10)), 1000, [5, 500]],
    ['work that fails still closes', () => Promise.reject(new Error('boom')), 1000, [0, 500]],
    ['work that hangs is abandoned at the bound', () => new Promise(() => undefined), 50, [45, 800]],
  ];
  for (const [what, work, bound, [min, max]] of cases) {
    it(what, async () => {
      const started = Date.now();
      await closeWithin(work(), bound);
      const took = Date.now() - started;
      assert.ok(took >= min && took < max, `took ${took} ms`);
    });
  }
});
