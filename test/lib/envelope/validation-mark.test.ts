// The validation mark: written by validationMark, read by isValidationMark, dropped on a refusal.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { describe, it } from 'mocha';
import { isValidationMark, validationMark, withoutValidationMark } from '../../../lib/envelope/validation-mark';

describe('isValidationMark', () => {
  const cases: Array<[unknown, string | undefined, string | undefined, boolean]> = [
    ['shipment@1.2.0', 'shipment', '1.2.0', true],
    ['shipment@1.3.0', 'shipment', '1.2.0', false],
    ['order@1.2.0', 'shipment', '1.2.0', false],
    ['shipment#1.2.0', 'shipment', '1.2.0', false],
    ['shipment@1.2.0 ', 'shipment', '1.2.0', false],
    ['ship@ment@1.2.0', 'ship', 'ment@1.2.0', true],
    ['shipment@1.2.0', undefined, '1.2.0', false],
    ['shipment@1.2.0', 'shipment', undefined, false],
    [undefined, 'shipment', '1.2.0', false],
    [42, 'shipment', '1.2.0', false],
  ];
  for (const [mark, entity, version, expected] of cases) {
    it(`${JSON.stringify(mark)} for ${entity}@${version}: ${expected}`, () => assert.equal(isValidationMark(mark, entity, version), expected));
  }

  it('reads what validationMark writes, and only that', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.string(), fc.string(), (e1, v1, e2, v2) => {
        assert.equal(isValidationMark(validationMark(e1, v1), e2, v2), validationMark(e1, v1) === validationMark(e2, v2));
        assert.equal(isValidationMark(validationMark(e1, v1), e1, v1), true);
      }),
    );
  });
});

describe('withoutValidationMark: msg.cdm after a refusal', () => {
  const cases: Array<[string, unknown, unknown]> = [
    ['the mark is dropped, the rest kept', { entity: 'e', version: '1.0.0', validated: 'e@1.0.0', extra: 1 }, { entity: 'e', version: '1.0.0', extra: 1 }],
    ['a mark of undefined is dropped too', { entity: 'e', validated: undefined }, { entity: 'e' }],
    ['no mark: as it was', { entity: 'e' }, { entity: 'e' }],
    ['no envelope', undefined, undefined],
    ['not an object', 'e@1.0.0', 'e@1.0.0'],
  ];
  for (const [name, cdm, expected] of cases) it(name, () => assert.deepEqual(withoutValidationMark(cdm), expected));

  it('copies an envelope with a mark (it may be shared with another wire) and returns one without as it is', () => {
    const marked = { entity: 'e', validated: 'e@1.0.0' };
    assert.notEqual(withoutValidationMark(marked), marked);
    assert.equal(marked.validated, 'e@1.0.0');
    const plain = { entity: 'e' };
    assert.equal(withoutValidationMark(plain), plain);
  });
});
