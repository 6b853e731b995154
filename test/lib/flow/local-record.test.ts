// decodeLocalRecord: what bus-subscribe's records kind passes on and what it
// refuses, with the reasons a catch node sees.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { decodeLocalRecord } from '../../../lib/flow/local-record';

const nested = (depth: number): string => '['.repeat(depth) + ']'.repeat(depth);

describe('decodeLocalRecord', () => {
  const passes: Array<[string, string, unknown]> = [
    ['an object', '{"shp_no":"A-1","wt":"12,5"}', { shp_no: 'A-1', wt: '12,5' }],
    ['an array', '[1,2,3]', [1, 2, 3]],
    ['a bare number', '42', 42],
    ['a string', '"on"', 'on'],
    ['null', 'null', null],
    ['UTF-8 text and a byte-order mark', '\uFEFF{"name":"Müller €"}', { name: 'Müller €' }],
    ['64 levels deep, the limit', nested(64), JSON.parse(nested(64))],
    ['a key that only looks like a prototype', '{"proto":1,"constructor":{"name":"x"}}', { proto: 1, constructor: { name: 'x' } }],
  ];
  for (const [name, text, value] of passes) {
    it(`passes ${name}`, () => {
      assert.deepEqual(decodeLocalRecord(Buffer.from(text)), { ok: true, value });
    });
  }

  const refusals: Array<[string, Buffer, { path: string; rule: string; message: RegExp }, number?]> = [
    ['text that is not JSON', Buffer.from('shp_no=A-1'), { path: 'payload', rule: 'json', message: /^is not valid JSON/ }],
    ['an empty payload', Buffer.alloc(0), { path: 'payload', rule: 'json', message: /^is not valid JSON/ }],
    ['truncated JSON', Buffer.from('{"a":'), { path: 'payload', rule: 'json', message: /^is not valid JSON/ }],
    ['a __proto__ key', Buffer.from('{"a":{"__proto__":{"admin":true}}}'), { path: 'payload', rule: 'prototype-key', message: /__proto__/ }],
    ['a constructor.prototype key', Buffer.from('{"constructor":{"prototype":{"admin":true}}}'), { path: 'payload', rule: 'prototype-key', message: /constructor\.prototype/ }],
    ['65 levels deep', Buffer.from(nested(65)), { path: 'payload', rule: 'maxDepth', message: /deeper than 64 levels/ }],
    ['more bytes than the limit, before parsing', Buffer.from(`"${'x'.repeat(200)}"`), { path: '', rule: 'maxBytes', message: /202 bytes, more than the limit of 100/ }, 100],
  ];
  for (const [name, payload, expected, maxBytes] of refusals) {
    it(`refuses ${name}`, () => {
      const decoded = decodeLocalRecord(payload, { maxBytes: maxBytes ?? 1024 * 1024, maxDepth: 64 });
      assert.equal(decoded.ok, false);
      if (decoded.ok) return;
      assert.equal(decoded.reasons.length, 1);
      const [reason] = decoded.reasons as [{ path: string; rule: string; message: string }];
      assert.equal(reason.path, expected.path);
      assert.equal(reason.rule, expected.rule);
      assert.match(reason.message, expected.message);
    });
  }

  it('a deep payload is refused without overflowing the stack', () => {
    const decoded = decodeLocalRecord(Buffer.from(nested(5000)));
    assert.equal(decoded.ok, false);
  });
});
