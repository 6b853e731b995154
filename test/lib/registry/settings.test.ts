import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { parseAnnounceSettings } from '../../../lib/registry/announce-settings';
import { readLookupMessage } from '../../../lib/registry/lookup-message';
import { parseLookupSettings } from '../../../lib/registry/lookup-settings';

const env = (vars: Record<string, string>) => (name: string): string | undefined => vars[name.replace(/^\$\{(.*)\}$/, '$1')];

describe('registry: announce settings', () => {
  it('takes every field from a value or an environment variable, with defaults', () => {
    const parsed = parseAnnounceSettings(
      { service: 'SVC', serviceType: 'env', url: 'http://hq.example/', weight: 'W', weightType: 'env', ttl: '', metadata: '{"v":2}', metadataType: 'json', region: 'R', regionType: 'env' },
      'hq',
      env({ SVC: 'pricing', W: '70', R: 'eu' }),
    );
    assert.deepEqual(parsed, { ok: true, value: { fields: { service: 'pricing', site: 'hq', instance: 'default', url: 'http://hq.example/', metadata: { v: 2 }, weight: 70, ttl: 30, region: 'eu' } } });
  });

  it('names an unset variable', () => {
    const parsed = parseAnnounceSettings({ service: 'SVC', serviceType: 'env', url: 'http://x.example/' }, 'hq', env({}));
    assert.ok(!parsed.ok);
    assert.match(parsed.reasons[0]?.message ?? '', /SVC is not set/);
  });

  const refusals: Array<[string, Record<string, string>, string]> = [
    ['no service', { url: 'http://x.example/' }, 'service'],
    ['a wildcard in the service', { service: 'pri+cing', url: 'http://x.example/' }, 'service'],
    ['no URL', { service: 's' }, 'url'],
    ['a weight that is no number', { service: 's', url: 'http://x.example/', weight: 'heavy' }, 'weight'],
    ['a TTL too long', { service: 's', url: 'http://x.example/', ttl: '100000' }, 'ttl'],
    ['metadata with __proto__', { service: 's', url: 'http://x.example/', metadata: '{"__proto__":{}}', metadataType: 'json' }, 'metadata'],
    ['a health URL that is not http', { service: 's', url: 'http://x.example/', healthUrl: 'ftp://x' }, 'healthUrl'],
    ['a health timeout not under the interval', { service: 's', url: 'http://x.example/', healthUrl: 'http://x.example/h', healthInterval: '2', healthTimeout: '2' }, 'healthTimeout'],
    ['a threshold of 0', { service: 's', url: 'http://x.example/', healthUrl: 'http://x.example/h', healthFailures: '0' }, 'healthFailures'],
  ];
  for (const [what, config, path] of refusals) {
    it(`refuses ${what}`, () => {
      const parsed = parseAnnounceSettings(config, 'hq', env({}));
      assert.ok(!parsed.ok);
      assert.ok(parsed.reasons.some((r) => r.path === path), JSON.stringify(parsed.reasons));
    });
  }

  it('a health check gets its defaults', () => {
    const parsed = parseAnnounceSettings({ service: 's', url: 'http://x.example/', healthUrl: 'http://x.example/h' }, 'hq', env({}));
    assert.ok(parsed.ok);
    assert.deepEqual(parsed.value.health, { url: 'http://x.example/h', intervalMs: 10_000, timeoutMs: 2_000, failuresToWithdraw: 2 });
  });
});

describe('registry: lookup settings and messages', () => {
  it('defaults to failover, a 30 s cool-down, the bus site as preference', () => {
    assert.deepEqual(parseLookupSettings({ service: 'pricing' }, 'store-1', env({})), { ok: true, value: { service: 'pricing', strategy: 'failover', preference: { site: 'store-1' }, coolDownMs: 30_000 } });
    assert.deepEqual(parseLookupSettings({ service: '' }, '', env({})), { ok: true, value: { strategy: 'failover', preference: {}, coolDownMs: 30_000 } });
  });

  const refusals: Array<[string, Record<string, string>, string, string]> = [
    ['an unknown strategy', { strategy: 'random' }, 'site', 'strategy'],
    ['same-site without a site id', { strategy: 'same-site' }, '', 'strategy'],
    ['same-region without a region', { strategy: 'same-region' }, 'hq', 'region'],
    ['a negative cool-down', { coolDown: '-1' }, 'hq', 'coolDown'],
    ['a service that is no name', { service: 'a/b' }, 'hq', 'service'],
  ];
  for (const [what, config, site, path] of refusals) {
    it(`refuses ${what}`, () => {
      const parsed = parseLookupSettings(config, site, env({}));
      assert.ok(!parsed.ok);
      assert.ok(parsed.reasons.some((r) => r.path === path), JSON.stringify(parsed.reasons));
    });
  }

  const endpoint = { service: 'pricing', key: 'hq/main', url: 'http://hq.example/' };
  const messages: Array<[string, Record<string, unknown>, string | undefined, unknown]> = [
    ['a plain message looks the node\'s service up', { payload: 1 }, 'pricing', { kind: 'lookup', service: 'pricing' }],
    ['msg.service when the node has none', { service: 'billing' }, undefined, { kind: 'lookup', service: 'billing' }],
    ['no service anywhere is refused', {}, undefined, 'refused'],
    ['msg.registry.failed names a URL', { registry: { failed: 'http://hq.example/' } }, 'pricing', { kind: 'failed', service: 'pricing', endpoint: 'http://hq.example/' }],
    ['a catch node\'s message with msg.endpoint', { error: { message: 'ECONNREFUSED' }, endpoint }, 'pricing', { kind: 'failed', service: 'pricing', endpoint: 'hq/main' }],
    ['topic "failed" with msg.endpoint, service from it', { topic: 'failed', endpoint }, undefined, { kind: 'failed', service: 'pricing', endpoint: 'hq/main' }],
    ['a looked-up message passing again is a lookup', { endpoint, url: 'http://hq.example/' }, 'pricing', { kind: 'lookup', service: 'pricing' }],
    ['topic "failed" without an endpoint is a lookup', { topic: 'failed' }, 'pricing', { kind: 'lookup', service: 'pricing' }],
  ];
  for (const [what, msg, service, expected] of messages) {
    it(what, () => {
      const request = readLookupMessage(msg, service);
      if (expected === 'refused') assert.equal(request.kind, 'refused');
      else assert.deepEqual(request, expected);
    });
  }
});
