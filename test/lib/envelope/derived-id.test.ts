// Envelope ids made from the record (issue "The same record, the same id"):
// the UUID algorithms against RFC 9562's own example, the pack's namespace,
// key ids and input ids as tables, the entry mark, and the duplicate window
// bounded in time with an injected clock.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'mocha';
import { DedupWindow } from '../../../lib/envelope/dedup-window';
import { ENVELOPE_ID_NAMESPACE, inputEnvelopeId, isInputId, keyEnvelopeId, keyText, uuidBytes, uuidV5 } from '../../../lib/envelope/derived-id';
import { entryTopicOf, markRecordEntry } from '../../../lib/envelope/entry-mark';

const UUID_V5 = /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const UUID_V8 = /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('lib/envelope/derived-id', () => {
  it('UUID v5 gives RFC 9562 Appendix A.4\'s example (DNS namespace, "www.example.com")', () => {
    assert.equal(uuidV5(uuidBytes('6ba7b810-9dad-11d1-80b4-00c04fd430c8'), 'www.example.com'), '2ed6657d-e927-568b-95e1-2665a8aea6a2');
  });

  it('UUID v5 of a long name (past the one-shot buffer) and of a short one agree with a plain SHA-1', () => {
    const ns = uuidBytes(ENVELOPE_ID_NAMESPACE);
    for (const name of ['x', 'ü€'.repeat(168), 'ü€'.repeat(169), 'k'.repeat(5000)]) {
      const digest = createHash('sha1').update(ns).update(name, 'utf8').digest('hex');
      const id = uuidV5(ns, name).replace(/-/g, '');
      assert.equal(id.slice(0, 12), digest.slice(0, 12), name.slice(0, 10));
      assert.equal(id.slice(16, 32), ((parseInt(digest.slice(16, 17), 16) & 0x3) | 0x8).toString(16) + digest.slice(17, 32));
    }
  });

  it('the pack\'s namespace is UUID v5 of the URL namespace over "urn:tectonic:envelope-id"', () => {
    assert.equal(uuidV5(uuidBytes('6ba7b811-9dad-11d1-80b4-00c04fd430c8'), 'urn:tectonic:envelope-id'), ENVELOPE_ID_NAMESPACE);
  });

  describe('key ids: the same site, entity and key values give the same id, anything else another', () => {
    const base = keyEnvelopeId('site-a', 'shipment', keyText(['SHP-1', '24/11/2026 08:30']));
    const cases: Array<[string, string, boolean]> = [
      ['the same key again', keyEnvelopeId('site-a', 'shipment', keyText(['SHP-1', '24/11/2026 08:30'])), true],
      ['another site', keyEnvelopeId('site-b', 'shipment', keyText(['SHP-1', '24/11/2026 08:30'])), false],
      ['another entity', keyEnvelopeId('site-a', 'order', keyText(['SHP-1', '24/11/2026 08:30'])), false],
      ['another value', keyEnvelopeId('site-a', 'shipment', keyText(['SHP-2', '24/11/2026 08:30'])), false],
      ['the values in the other order', keyEnvelopeId('site-a', 'shipment', keyText(['24/11/2026 08:30', 'SHP-1'])), false],
      ['a separator moved between values', keyEnvelopeId('site-a', 'shipment', keyText(['SHP-1","24/11/2026', '08:30'])), false],
    ];
    for (const [name, id, same] of cases) {
      it(`${name}: ${same ? 'the same' : 'another'} id`, () => {
        assert.match(id, UUID_V5);
        assert.equal(id === base, same);
      });
    }

    it('the text "1" and the number 1 are different keys; so are true and "true"', () => {
      assert.notEqual(keyEnvelopeId('s', 'e', keyText(['1'])), keyEnvelopeId('s', 'e', keyText([1])));
      assert.notEqual(keyEnvelopeId('s', 'e', keyText([true])), keyEnvelopeId('s', 'e', keyText(['true'])));
      assert.equal(keyText(['a"b', 1.5, false]), '"a\\"b",1.5,false');
    });

    it('a key id is not an input id: the centre forgets it only by count', () => {
      assert.equal(isInputId(base), false);
    });
  });

  describe('input ids: the same entry topic and record give the same id', () => {
    const base = inputEnvelopeId('site-a', 'reading', 'site/fra/sensors/t1', { c: 21 }) as string;
    const cases: Array<[string, string | undefined, boolean]> = [
      ['the same input and record again', inputEnvelopeId('site-a', 'reading', 'site/fra/sensors/t1', { c: 21 }), true],
      ['another topic, equal payload', inputEnvelopeId('site-a', 'reading', 'site/fra/sensors/t2', { c: 21 }), false],
      ['another site', inputEnvelopeId('site-b', 'reading', 'site/fra/sensors/t1', { c: 21 }), false],
      ['another entity', inputEnvelopeId('site-a', 'temperature', 'site/fra/sensors/t1', { c: 21 }), false],
      ['another record from the same input (a split part)', inputEnvelopeId('site-a', 'reading', 'site/fra/sensors/t1', { c: 22 }), false],
      ['a topic and a record that would run into each other', inputEnvelopeId('site-a', 'reading', 'site/fra/sensors/t1",{"c":21}', {}), false],
    ];
    for (const [name, id, same] of cases) {
      it(`${name}: ${same ? 'the same' : 'another'} id`, () => {
        assert.match(id ?? '', UUID_V8);
        assert.equal(id === base, same);
      });
    }

    it('an input id is SHA-256 over the namespace\'s text and the name, as a UUID of version 8', () => {
      const digest = createHash('sha256').update(`${ENVELOPE_ID_NAMESPACE}["site-a","reading","site/fra/sensors/t1",{"c":21}]`).digest('hex');
      assert.equal(base.replace(/-/g, '').slice(0, 12), digest.slice(0, 12));
      assert.equal(base.slice(14, 15), '8');
    });

    it('an input id is recognised as one; ULIDs and other text are not', () => {
      assert.equal(isInputId(base), true);
      for (const other of ['01JDTEST000001', '01JDX3Z6Q4K8V9W2M5N7P0R1S3', base.toUpperCase(), `${base}x`, base.replace(/^(.{19})./, '$1' + '0')]) assert.equal(isInputId(other), false, other);
    });

    it('a record JSON cannot write has no input id (the envelope then gets a ULID)', () => {
      const cyclic: Record<string, unknown> = {};
      cyclic.self = cyclic;
      assert.equal(inputEnvelopeId('site-a', 'reading', 't', cyclic), undefined);
      assert.equal(inputEnvelopeId('site-a', 'reading', 't', { n: 1n }), undefined);
      assert.equal(inputEnvelopeId('site-a', 'reading', 't', undefined), undefined);
    });
  });

  describe('the entry mark', () => {
    it('holds the entry, the topic and when this copy arrived', () => {
      assert.deepEqual(markRecordEntry('site/fra/wms/a', 1000), { entry: 'records', topic: 'site/fra/wms/a', receivedAt: 1000 });
    });

    const marks: Array<[string, unknown, string | undefined]> = [
      ['a records mark', { entry: 'records', topic: 'site/fra/wms/a', receivedAt: 1 }, 'site/fra/wms/a'],
      ['no mark', undefined, undefined],
      ['a mark of another entry', { entry: 'http', topic: 'a' }, undefined],
      ['an empty topic', { entry: 'records', topic: '' }, undefined],
      ['a topic that is not text', { entry: 'records', topic: 7 }, undefined],
      ['text', 'records', undefined],
      ['null', null, undefined],
    ];
    for (const [name, mark, expected] of marks) {
      it(`entryTopicOf: ${name}`, () => assert.equal(entryTopicOf(mark), expected));
    }
  });
});

// The count-only behaviour is tested beside the dead letters (dead-letter.test.ts).
describe('DedupWindow', () => {
  describe('bounded in time as well, for keys admitted with an age', () => {
    // [name, the steps: a key offered (with its age, or none) or the clock moved on, what each offer answers]
    type Step = { key: string; age?: number } | { wait: number };
    const cases: Array<[string, Step[], boolean[]]> = [
      ['a copy within the age is dropped', [{ key: 'x', age: 1000 }, { wait: 999 }, { key: 'x', age: 1000 }], [true, false]],
      ['a copy at the age passes', [{ key: 'x', age: 1000 }, { wait: 1000 }, { key: 'x', age: 1000 }], [true, true]],
      ['an hour later passes, and is remembered again from then', [{ key: 'x', age: 1000 }, { wait: 3_600_000 }, { key: 'x', age: 1000 }, { wait: 10 }, { key: 'x', age: 1000 }], [true, true, false]],
      ['a repeat does not extend the age', [{ key: 'x', age: 1000 }, { wait: 600 }, { key: 'x', age: 1000 }, { wait: 600 }, { key: 'x', age: 1000 }], [true, false, true]],
      ['a key without an age is kept however long', [{ key: 'u' }, { wait: 3_600_000 }, { key: 'u' }], [true, false]],
      ['age 0: never dropped', [{ key: 'x', age: 0 }, { key: 'x', age: 0 }], [true, true]],
    ];
    for (const [name, steps, expected] of cases) {
      it(name, () => {
        let now = 5_000;
        const window = new DedupWindow(10, { now: () => now });
        const answers: boolean[] = [];
        for (const step of steps) {
          if ('wait' in step) now += step.wait;
          else answers.push(window.admit(step.key, step.age));
        }
        assert.deepEqual(answers, expected);
      });
    }

    it('the count still bounds keys with an age', () => {
      const window = new DedupWindow(2, { now: () => 0 });
      assert.deepEqual(['a', 'b', 'c', 'a'].map((k) => window.admit(k, 60_000)), [true, true, true, true]);
      assert.equal(window.remembered, 2);
    });
  });
});
