import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { encodeEntry, MAX_ENTRY_BYTES, parseEntry, parseRegistryTopic, registryTopic } from '../../../lib/registry/entry-format';

const fields = { service: 'pricing', site: 'hq', instance: 'main', url: 'http://10.0.0.5:8080/price', metadata: { tier: 'gold' }, weight: 100, region: 'eu', ttl: 30, session: 4 };
const topic = registryTopic('pricing', 'hq', 'main');
const good = JSON.parse(encodeEntry(fields, Date.parse('2026-12-07T10:00:00Z'))) as Record<string, unknown>;
const withField = (patch: Record<string, unknown>): string => JSON.stringify({ ...good, ...patch });

describe('registry: the entry format', () => {
  it('encodes the announcement time and the expiry from the TTL, and parses back', () => {
    assert.equal(good.announcedAt, '2026-12-07T10:00:00.000Z');
    assert.equal(good.expiresAt, '2026-12-07T10:00:30.000Z');
    const parsed = parseEntry(topic, JSON.stringify(good));
    assert.ok(parsed.ok);
    assert.deepEqual(parsed.value, good);
  });

  it('reads an empty payload as a deletion', () => {
    assert.deepEqual(parseEntry(topic, Buffer.alloc(0)), { ok: true, value: null });
  });

  it('takes the topic apart: exactly tectonic/registry/{service}/{site}/{instance}', () => {
    assert.deepEqual(parseRegistryTopic('tectonic/registry/pricing/hq/main'), { service: 'pricing', site: 'hq', instance: 'main' });
    for (const bad of ['tectonic/registry/pricing/hq', 'tectonic/registry/pricing/hq/main/x', 'tectonic/health/pricing/hq/main', 'tectonic/registry/+/hq/main', 'tectonic/registry/pricing//main']) {
      assert.equal(parseRegistryTopic(bad), undefined, bad);
    }
  });

  const refusals: Array<[string, string | Buffer, string, string]> = [
    ['not JSON', '{', '', 'json'],
    ['an array', '[]', '', 'type'],
    ['too large', 'x'.repeat(MAX_ENTRY_BYTES + 1), '', 'size'],
    ['a __proto__ key', withField({ metadata: JSON.parse('{"__proto__":{"polluted":true}}') }).replace('"metadata":{}', '"metadata":{"__proto__":{"polluted":true}}'), '', 'prototype-key'],
    ['a constructor.prototype key', withField({ metadata: { constructor: { prototype: { x: 1 } } } }), '', 'prototype-key'],
    ['another site than the topic', withField({ site: 'store-7' }), 'site', 'topic-mismatch'],
    ['another service than the topic', withField({ service: 'billing' }), 'service', 'topic-mismatch'],
    ['a URL that is not http', withField({ url: 'file:///etc/passwd' }), 'url', 'format'],
    ['no URL', withField({ url: undefined }), 'url', 'type'],
    ['a negative weight', withField({ weight: -1 }), 'weight', 'range'],
    ['a TTL of 0', withField({ ttl: 0 }), 'ttl', 'range'],
    ['a TTL as text', withField({ ttl: '30' }), 'ttl', 'range'],
    ['metadata that is an array', withField({ metadata: [] }), 'metadata', 'type'],
    ['metadata nested too deep', withField({ metadata: { a: { b: { c: { d: { e: { f: { g: { h: { i: 1 } } } } } } } } } }), 'metadata', 'depth'],
    ['an expiry that is no time', withField({ expiresAt: 'tomorrow' }), 'expiresAt', 'format'],
    ['a negative session', withField({ session: -2 }), 'session', 'type'],
  ];
  for (const [what, payload, path, rule] of refusals) {
    it(`refuses ${what} (${path || 'whole'}: ${rule})`, () => {
      const parsed = parseEntry(topic, payload);
      assert.ok(!parsed.ok, 'refused');
      assert.ok(parsed.reasons.some((r) => r.path === path && r.rule === rule), JSON.stringify(parsed.reasons));
      assert.equal(({} as Record<string, unknown>).polluted, undefined);
    });
  }
});
