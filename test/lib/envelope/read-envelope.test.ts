// readEnvelope: the one read of msg.cdm every stage goes through.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { envelopeOf, envelopeScalars, readEnvelope } from '../../../lib/envelope/read-envelope';

describe('readEnvelope: msg.cdm when it is an object', () => {
  const object = { entity: 'shipment' };
  const cases: Array<[string, unknown, unknown]> = [
    ['an object, as it is (no copy)', object, object],
    ['no msg.cdm', undefined, undefined],
    ['null', null, undefined],
    ['a string', 'shipment@1.0.0', undefined],
    ['a number', 7, undefined],
    ['an array', [object], undefined],
  ];
  for (const [name, cdm, expected] of cases) {
    it(name, () => {
      assert.equal(readEnvelope({ cdm }), expected);
      assert.equal(envelopeOf(cdm), expected);
    });
  }
  it('a message without the member', () => assert.equal(readEnvelope({}), undefined));
});

describe('envelopeScalars: what a policy condition sees of msg.cdm', () => {
  const cases: Array<[string, unknown, Record<string, unknown> | undefined]> = [
    ['not an object: nothing', 'text', undefined],
    ['strings, booleans, null and finite numbers stay', { entity: 'e', flag: true, none: null, n: 1.5 }, { entity: 'e', flag: true, none: null, n: 1.5 }],
    ['objects, arrays, functions and undefined go', { entity: 'e', nested: { a: 1 }, list: [1], fn: () => 1, gone: undefined }, { entity: 'e' }],
    ['non-finite numbers go', { a: Number.NaN, b: Infinity, c: 0 }, { c: 0 }],
    ['an own __proto__ member goes', JSON.parse('{"__proto__":"x","entity":"e"}'), { entity: 'e' }],
    ['inherited members go', Object.assign(Object.create({ inherited: 'x' }) as object, { entity: 'e' }), { entity: 'e' }],
  ];
  for (const [name, cdm, expected] of cases) it(name, () => assert.deepEqual(envelopeScalars(envelopeOf(cdm)), expected));

  it('is a copy', () => {
    const cdm = { entity: 'e' };
    assert.notEqual(envelopeScalars(cdm), cdm);
  });
});
