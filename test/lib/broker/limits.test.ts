import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { ConnectionRate, RetainedQuota } from '../../../lib/broker/limits';

describe('lib/broker/limits', () => {
  it('ConnectionRate admits a burst of perSecond, then refills with time', () => {
    let now = 0;
    const rate = new ConnectionRate(3, () => now);
    assert.deepEqual([rate.admit(), rate.admit(), rate.admit(), rate.admit()], [true, true, true, false]);
    now = 400;
    assert.equal(rate.admit(), true, '0.4 s refills 1.2 tokens');
    assert.equal(rate.admit(), false);
    now = 10_000;
    assert.deepEqual([rate.admit(), rate.admit(), rate.admit(), rate.admit()], [true, true, true, false], 'never more than one burst');
  });
  it('RetainedQuota charges each topic to its last publisher and frees on clear', () => {
    const quota = new RetainedQuota(100);
    assert.equal(quota.fits('a', 't1', 60), true);
    quota.record('a', 't1', 60);
    assert.equal(quota.fits('a', 't2', 50), false);
    assert.equal(quota.fits('a', 't1', 100), true, 'replacing its own message');
    quota.record('b', 't1', 10);
    assert.equal(quota.usedBy('a'), 0, 'b took the topic over');
    assert.equal(quota.usedBy('b'), 10);
    quota.record('b', 't1', 0);
    assert.equal(quota.usedBy('b'), 0);
  });
});
