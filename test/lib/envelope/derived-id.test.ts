// Envelope ids made from the record (issue "The same record, the same id"):
// the UUID algorithms against RFC 9562's own example, the pack's namespace,
// key ids and input ids as tables, the entry mark, and the duplicate window
// bounded in time with an injected clock.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { DedupWindow } from '../../../lib/envelope/dedup-window';
import { ENVELOPE_ID_NAMESPACE, inputEnvelopeId, isInputId, keyEnvelopeId, keyText, uuidBytes, uuidV5 } from '../../../lib/envelope/derived-id';
import { entryKeyOf, markRecordEntry } from '../../../lib/envelope/entry-mark';

const UUID_V5 = /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const UUID_V8 = /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('lib/envelope/derived-id', () => {
  it('UUID v5 gives RFC 9562 Appendix A.4\'s example (DNS namespace, "www.example.com")', () => {
    assert.equal(uuidV5(uuidBytes('6ba7b810-9dad-11d1-80b4-00c04fd430c8'), 'www.example.com'), '2ed6657d-e927-568b-95e1-2665a8aea6a2');
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

  describe('input ids: the same entry key and record give the same id', () => {
    const key = markRecordEntry('site/fra/sensors/t1', Buffer.from('{"c":21}'), 0).key;
    const base = inputEnvelopeId('site-a', 'reading', key, { c: 21 }) as string;
    const cases: Array<[string, string | undefined, boolean]> = [
      ['the same input and record again', inputEnvelopeId('site-a', 'reading', key, { c: 21 }), true],
      ['another topic, equal payload', inputEnvelopeId('site-a', 'reading', markRecordEntry('site/fra/sensors/t2', Buffer.from('{"c":21}'), 0).key, { c: 21 }), false],
      ['another site', inputEnvelopeId('site-b', 'reading', key, { c: 21 }), false],
      ['another entity', inputEnvelopeId('site-a', 'temperature', key, { c: 21 }), false],
      ['another record from the same input (a split part)', inputEnvelopeId('site-a', 'reading', key, { c: 22 }), false],
    ];
    for (const [name, id, same] of cases) {
      it(`${name}: ${same ? 'the same' : 'another'} id`, () => {
        assert.match(id ?? '', UUID_V8);
        assert.equal(id === base, same);
      });
    }

    it('an input id is recognised as one; ULIDs and other text are not', () => {
      assert.equal(isInputId(base), true);
      for (const other of ['01JDTEST000001', '01JDX3Z6Q4K8V9W2M5N7P0R1S3', base.toUpperCase(), `${base}x`, base.replace(/^(.{19})./, '$1' + '0')]) assert.equal(isInputId(other), false, other);
    });

    it('a record JSON cannot write has no input id (the envelope then gets a ULID)', () => {
      const cyclic: Record<string, unknown> = {};
      cyclic.self = cyclic;
      assert.equal(inputEnvelopeId('site-a', 'reading', key, cyclic), undefined);
      assert.equal(inputEnvelopeId('site-a', 'reading', key, { n: 1n }), undefined);
    });
  });

  describe('the entry mark', () => {
    it('keys topic and payload bytes: the same for a redelivery, another for another topic or payload', () => {
      const first = markRecordEntry('site/fra/wms/a', Buffer.from('{"n":1}'), 1000);
      assert.deepEqual(first, { entry: 'records', key: first.key, receivedAt: 1000 });
      assert.match(first.key, /^[0-9a-f]{64}$/);
      assert.equal(markRecordEntry('site/fra/wms/a', Buffer.from('{"n":1}'), 2000).key, first.key);
      assert.notEqual(markRecordEntry('site/fra/wms/b', Buffer.from('{"n":1}'), 1000).key, first.key);
      assert.notEqual(markRecordEntry('site/fra/wms/a', Buffer.from('{"n": 1}'), 1000).key, first.key, 'bytes, not the parsed value');
      assert.notEqual(markRecordEntry('site/fra/wms', Buffer.from('/a{"n":1}'), 1000).key, markRecordEntry('site/fra/wms/a', Buffer.from('{"n":1}'), 1000).key);
    });

    const key = 'a'.repeat(64);
    const marks: Array<[string, unknown, string | undefined]> = [
      ['a records mark', { entry: 'records', key, receivedAt: 1 }, key],
      ['no mark', undefined, undefined],
      ['a mark of another entry', { entry: 'http', key }, undefined],
      ['a key that is not 64 hex digits', { entry: 'records', key: 'abc' }, undefined],
      ['a key in capitals', { entry: 'records', key: key.toUpperCase() }, undefined],
      ['text', 'records', undefined],
      ['null', null, undefined],
    ];
    for (const [name, mark, expected] of marks) {
      it(`entryKeyOf: ${name}`, () => assert.equal(entryKeyOf(mark), expected));
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
