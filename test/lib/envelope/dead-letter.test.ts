import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { DEAD_LETTER_KIND, deadLetterFilter, deadLetterOf, deadLetterTopic, decodeDeadLetter } from '../../../lib/envelope/dead-letter';
import { DedupWindow, messageKey } from '../../../lib/envelope/dedup-window';
import { topicMatches } from '../../../lib/envelope/topics';

const now = new Date('2026-11-24T08:00:00.000Z');
const cdm = { entity: 'shipment', version: '1.1.0', site: 'site-a', id: '01JD0000000000000000000000', time: '2026-11-24T07:59:00Z', source: 'urn:s' };
const reasons = [{ path: 'status', rule: 'lookup', message: 'from "stat": unknown code "XYZ"' }];

describe('dead letters', () => {
  it('a rejected message becomes a document on tectonic/dlq/{site}/{stage} and back', () => {
    const built = deadLetterOf({ reject: { stage: 'cdm-validate', reasons }, cdm, payload: { stat: 'XYZ' }, site: 'site-a', now });
    assert.ok(built.ok);
    assert.equal(built.value.topic, 'tectonic/dlq/site-a/cdm-validate');
    const doc = JSON.parse(built.value.body.toString()) as Record<string, unknown>;
    assert.deepEqual(doc, { kind: DEAD_LETTER_KIND, site: 'site-a', stage: 'cdm-validate', time: '2026-11-24T08:00:00.000Z', reasons, payload: { stat: 'XYZ' }, cdm });
    const back = decodeDeadLetter(built.value.body);
    assert.ok(back.ok);
    assert.deepEqual(back.value, built.value.letter);
    assert.ok(topicMatches(deadLetterFilter(''), built.value.topic));
    assert.ok(topicMatches(deadLetterFilter('site-a'), built.value.topic));
    assert.ok(!topicMatches(deadLetterFilter('site-b'), built.value.topic));
  });

  const cases: Array<[string, Parameters<typeof deadLetterOf>[0], RegExp | string]> = [
    ['no msg.reject', { reject: undefined, cdm, payload: 1, site: 'site-a', now }, /needs msg\.reject/],
    ['a site that is no topic level', { reject: { stage: 'x', reasons }, cdm, payload: 1, site: 'a/b', now }, /not a site id/],
  ];
  for (const [what, input, expected] of cases) {
    it(`refused: ${what}`, () => {
      const built = deadLetterOf(input);
      assert.ok(!built.ok);
      assert.match(built.reasons[0]?.message ?? '', expected as RegExp);
    });
  }

  it('an odd stage becomes "unknown", odd reasons are left out, a bad envelope is not carried', () => {
    const built = deadLetterOf({ reject: { stage: '../x', reasons: [...reasons, { nope: 1 }] }, cdm: { entity: 'x' }, payload: null, site: 'site-a', now });
    assert.ok(built.ok);
    assert.equal(built.value.topic, deadLetterTopic('site-a', 'unknown'));
    assert.deepEqual(built.value.letter.reasons, reasons);
    assert.equal(built.value.letter.cdm, undefined);
  });

  const hostile: Array<[string, string, string]> = [
    ['not JSON', 'nope', 'json'],
    ['a __proto__ key', '{"kind":"tectonic.dead-letter","__proto__":{"x":1}}', 'json'],
    ['another kind of document', '{"kind":"other"}', 'const'],
    ['missing fields', '{"kind":"tectonic.dead-letter","site":"a"}', 'shape'],
    ['a deep payload', `{"kind":"tectonic.dead-letter","site":"a","stage":"s","time":"t","reasons":[],"payload":${'['.repeat(100)}${']'.repeat(100)}}`, 'maxDepth'],
  ];
  for (const [what, text, rule] of hostile) {
    it(`decoding refuses ${what}`, () => {
      const decoded = decodeDeadLetter(Buffer.from(text));
      assert.ok(!decoded.ok);
      assert.equal(decoded.reasons[0]?.rule, rule);
      assert.equal(({} as Record<string, unknown>).x, undefined);
    });
  }
});

describe('DedupWindow', () => {
  it('admits a key once within the window, forgets the oldest beyond it', () => {
    const window = new DedupWindow(3);
    assert.deepEqual(['a', 'b', 'a', 'c', 'd', 'a', 'b'].map((k) => window.admit(k)), [true, true, false, true, true, true, true]);
    assert.equal(window.remembered, 3);
  });

  it('size 0 admits everything', () => {
    const window = new DedupWindow(0);
    assert.deepEqual([window.admit('a'), window.admit('a')], [true, true]);
  });

  it('ids are per site', () => {
    const window = new DedupWindow(10);
    assert.equal(window.admit(messageKey('site-a', '1')), true);
    assert.equal(window.admit(messageKey('site-b', '1')), true);
    assert.equal(window.admit(messageKey('site-a', '1')), false);
  });
});
