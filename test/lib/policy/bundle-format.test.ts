// The bundle format: the sample parses, and every malformed shape is refused
// with a reason naming where.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { checkBundle, parseBundleText } from '../../../lib/policy/bundle-format';
import { document, sampleDocument } from './policy-fixtures';

describe('bundle format', () => {
  it('the sample bundle policies/central-default.yaml is valid', () => {
    const checked = checkBundle(sampleDocument());
    assert.ok(checked.ok, JSON.stringify(checked));
    assert.equal(checked.value.id, 'central-default');
    assert.ok(checked.value.rules.length >= 12);
    assert.deepEqual(new Set(checked.value.rules.map((r) => r.kind)), new Set(['allow', 'maxBytes', 'validation', 'transport', 'mask', 'deny', 'require', 'retry', 'rate']));
  });

  it('YAML and JSON give the same document; YAML timestamps stay strings', () => {
    const yaml = parseBundleText('id: a\nversion: 1\nissuedAt: 2026-11-24T00:00:00Z\nexpiresAt: 2026-12-24T00:00:00Z\nrules:\n  - maxBytes: 10\n');
    const json = parseBundleText('{"id":"a","version":1,"issuedAt":"2026-11-24T00:00:00Z","expiresAt":"2026-12-24T00:00:00Z","rules":[{"maxBytes":10}]}');
    assert.ok(yaml.ok && json.ok);
    assert.deepEqual(yaml.value, json.value);
  });

  const unreadable: [string, string, RegExp][] = [
    ['broken JSON', '{"id": ', /not valid JSON/],
    ['broken YAML', 'rules: [1\n', /not valid YAML/],
    ['a duplicate YAML key', 'id: a\nid: b\n', /unique/],
    ['a YAML value with no JSON form', 'n: .inf\n', /no JSON form/],
    ['a YAML binary', 'b: !!binary aGVsbG8=\n', /no JSON form/],
  ];
  for (const [name, text, message] of unreadable) {
    it(`unreadable: ${name}`, () => {
      const parsed = parseBundleText(text);
      assert.equal(parsed.ok, false);
      assert.match(parsed.ok ? '' : (parsed.reasons[0]?.message ?? ''), message);
    });
  }

  const invalid: [string, Record<string, unknown>, [string, string][]][] = [
    ['not an object', { __replace: [] }, [['', 'type']]],
    ['an unknown top-level member', { owner: 'me' }, [['owner', 'unknown-member']]],
    ['a missing id', { id: undefined }, [['id', 'required']]],
    ['a version of 0', { version: 0 }, [['version', 'type']]],
    ['a fractional version', { version: 1.5 }, [['version', 'type']]],
    ['a date without zone', { issuedAt: '2026-11-24T00:00:00' }, [['issuedAt', 'format']]],
    ['expiry before issue', { expiresAt: '2026-11-01T00:00:00Z' }, [['expiresAt', 'range']]],
    ['rules not a list', { rules: {} }, [['rules', 'type']]],
    ['an unknown rule kind', { rules: [{ encrypt: true }] }, [['rules[0].encrypt', 'unknown-member'], ['rules[0]', 'one-kind']]],
    ['two kinds in one rule', { rules: [{ maxBytes: 1, validation: 'required' }] }, [['rules[0]', 'one-kind']]],
    ['scope given twice', { rules: [{ mask: { entity: 'a', paths: ['x'], method: 'drop' }, entity: 'b' }] }, [['rules[0].mask.entity', 'duplicate']]],
    ['a bad entity name', { rules: [{ maxBytes: 1, entity: 'a/b' }] }, [['rules[0].entity', 'format']]],
    ['maxBytes not a number', { rules: [{ maxBytes: '64k' }] }, [['rules[0].maxBytes', 'range']]],
    ['validation other than required', { rules: [{ validation: 'optional' }] }, [['rules[0].validation', 'format']]],
    ['transport tls optional', { rules: [{ transport: { tls: 'optional' } }] }, [['rules[0].transport.tls', 'format']]],
    ['a mask without method', { rules: [{ mask: { paths: ['a'] } }] }, [['rules[0].mask.method', 'required']]],
    ['a mask with a bad path', { rules: [{ mask: { paths: ['a..b'], method: 'drop' } }] }, [['rules[0].mask.paths[0]', 'mask-path']]],
    ['keepAfter on a redact mask', { rules: [{ mask: { paths: ['a'], method: 'redact', keepAfter: '@' } }] }, [['rules[0].mask.keepAfter', 'unknown-member']]],
    ['keep and keepAfter together', { rules: [{ mask: { paths: ['a'], method: 'partial', keep: 2, keepAfter: '@' } }] }, [['rules[0].mask.keepAfter', 'format']]],
    ['keepAfter empty', { rules: [{ mask: { paths: ['a'], method: 'partial', keepAfter: '' } }] }, [['rules[0].mask.keepAfter', 'type']]],
    ['keepAfter not text', { rules: [{ mask: { paths: ['a'], method: 'partial', keepAfter: 64 } }] }, [['rules[0].mask.keepAfter', 'type']]],
    ['keep on a hash mask', { rules: [{ mask: { paths: ['a'], method: 'hash', keep: 2 } }] }, [['rules[0].mask.keep', 'unknown-member']]],
    ['a deny without reason', { rules: [{ deny: { when: 'true' } }] }, [['rules[0].deny.reason', 'required']]],
    ['a deny that reaches process state', { rules: [{ deny: { when: 'process.exit()', reason: 'x' } }] }, [['rules[0].deny.when', 'expression']]],
    ['a require with a nested comprehension', { rules: [{ require: { when: 'payload.a.all(x, payload.a.all(y, x == y))', reason: 'x' } }] }, [['rules[0].require.when', 'expression']]],
    ['retry with zero attempts', { rules: [{ retry: { maxAttempts: 0, backoffMs: 1 } }] }, [['rules[0].retry.maxAttempts', 'range']]],
    ['rate of 0 per second', { rules: [{ rate: { perSecond: 0 } }] }, [['rules[0].rate.perSecond', 'range']]],
    ['allow with a bad range', { rules: [{ allow: { entities: { shipment: 'one point oh' } } }] }, [['rules[0].allow.entities.shipment', 'semver-range']]],
    ['allow scoped by entity', { rules: [{ allow: { entity: 'x', entities: { shipment: '*' } } }] }, [['rules[0].allow.entity', 'unknown-member']]],
  ];
  for (const [name, change, expected] of invalid) {
    it(`invalid: ${name}`, () => {
      const doc = '__replace' in change ? change.__replace : { ...document([]), ...change };
      if (typeof doc === 'object' && doc !== null && !Array.isArray(doc)) for (const [k, v] of Object.entries(doc)) if (v === undefined) delete (doc as Record<string, unknown>)[k];
      const checked = checkBundle(doc);
      assert.deepEqual(checked.ok ? [] : checked.reasons.map((r) => [r.path, r.rule]), expected);
    });
  }

  it('every problem is reported at once', () => {
    const checked = checkBundle({ ...document([{ maxBytes: -1 }, { deny: { when: '', reason: '' } }]), version: 'seven' });
    assert.equal(checked.ok, false);
    assert.ok(!checked.ok && checked.reasons.length >= 4, JSON.stringify(checked));
  });
});
