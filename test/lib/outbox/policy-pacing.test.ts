// PolicyPacing: a bundle's retry and rate rules found by the entity and site
// of each entry's canonical topic, read from the policy in force at the time.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import type { OutboxEntry } from '../../../lib/outbox/durable-outbox';
import { PolicyPacing, type PolicySource } from '../../../lib/outbox/policy-pacing';
import type { RateLimiter } from '../../../lib/policy/rate-limiter';

function entry(topic: string): OutboxEntry {
  return { seq: 0, topic, payload: '', qos: 1, enqueuedAt: 0, attempts: 0 };
}

function limiter(tokens: number, waitMs: number): RateLimiter {
  let left = tokens;
  return { perSecond: 1, burst: 1, tryTake: () => (left > 0 ? (left--, true) : false), waitMs: () => waitMs };
}

/** A policy that retries shipments at site-a and limits them; it records what it was asked. */
function policy(wait = 250): { source: PolicySource; asked: string[] } {
  const asked: string[] = [];
  const bucket = limiter(1, wait);
  const source: PolicySource = {
    compiled: {
      retryFor: (entity, site) => {
        asked.push(`retry ${entity} ${site ?? ''}`);
        return entity === 'shipment' && site === 'site-a' ? { maxAttempts: 3, backoffMs: 100 } : undefined;
      },
      rateLimiter: (entity, site) => {
        asked.push(`rate ${entity} ${site ?? ''}`);
        return entity === 'shipment' ? bucket : undefined;
      },
    },
  };
  return { source, asked };
}

describe('lib/outbox/policy-pacing', () => {
  const retries: Array<[string, string, ReturnType<PolicyPacing['retryFor']>]> = [
    ['a canonical topic in scope', 'cdm/shipment/v1/site-a', { maxAttempts: 3, backoffMs: 100 }],
    ['another site', 'cdm/shipment/v1/site-b', undefined],
    ['another entity', 'cdm/order/v2/site-a', undefined],
    ['a dead-letter topic (no scope)', 'tectonic/dlq/site-a/cdm-validate', undefined],
  ];
  for (const [name, topic, expected] of retries) {
    it(`retry: ${name}`, () => assert.deepEqual(new PolicyPacing(policy().source).retryFor(entry(topic)), expected));
  }

  it('pace: 0 while the bucket has a token, then the wait, at least 1 ms', () => {
    const pacing = new PolicyPacing(policy(0).source);
    assert.equal(pacing.pace(entry('cdm/shipment/v1/site-a')), 0);
    assert.equal(pacing.pace(entry('cdm/shipment/v1/site-a')), 1);
    assert.equal(new PolicyPacing(undefined).pace(entry('cdm/shipment/v1/site-a')), 0);
    assert.equal(pacing.pace(entry('cdm/order/v1/site-a')), 0);
  });

  it('without a policy, or while it fails closed, nothing is looked up', () => {
    assert.equal(new PolicyPacing(undefined).retryFor(entry('cdm/shipment/v1/site-a')), undefined);
    assert.equal(new PolicyPacing({ compiled: undefined }).pace(entry('cdm/shipment/v1/site-a')), 0);
  });

  it('reads the policy in force at each call: a new bundle applies without a new pacing', () => {
    const source: { compiled: PolicySource['compiled'] } = { compiled: undefined };
    const pacing = new PolicyPacing(source);
    assert.equal(pacing.retryFor(entry('cdm/shipment/v1/site-a')), undefined);
    source.compiled = policy().source.compiled;
    assert.deepEqual(pacing.retryFor(entry('cdm/shipment/v1/site-a')), { maxAttempts: 3, backoffMs: 100 });
  });

  it('asks the policy by entity and site', () => {
    const { source, asked } = policy();
    const pacing = new PolicyPacing(source);
    pacing.retryFor(entry('cdm/shipment/v1/site-a'));
    pacing.pace(entry('cdm/order/v3/fra'));
    assert.deepEqual(asked, ['retry shipment site-a', 'rate order fra']);
  });
});
