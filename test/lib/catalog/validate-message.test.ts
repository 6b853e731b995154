// applyValidation and its kin: a verdict put on the message cdm-validate routes.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import type { ValidationVerdict } from '../../../lib/catalog/canonical-validation';
import { DeprecationNotices, applyValidation, internalErrorReasons, noCatalogReasons } from '../../../lib/catalog/validate-message';
import type { PipelineMessage } from '../../../lib/envelope/pipeline-message';

const bad = { path: 'weightKg', rule: 'minimum', message: 'must be >= 0' };

describe('applyValidation', () => {
  const cases: Array<[string, PipelineMessage, ValidationVerdict, PipelineMessage, boolean]> = [
    [
      'a pass marks the envelope',
      { payload: { a: 1 }, cdm: { entity: 'shipment', version: '1.1.0', id: 'x' } },
      { ok: true, entity: 'shipment', version: '1.1.0', record: { a: 1 } },
      { payload: { a: 1 }, cdm: { entity: 'shipment', version: '1.1.0', id: 'x', validated: 'shipment@1.1.0' } },
      true,
    ],
    [
      'a cast carries the cast record and its version',
      { payload: { a: 1 }, cdm: { entity: 'shipment', version: '1.1.0' } },
      { ok: true, entity: 'shipment', version: '2.0.0', record: { b: 1 }, castFrom: '1.1.0' },
      { payload: { b: 1 }, cdm: { entity: 'shipment', version: '2.0.0', validated: 'shipment@2.0.0' } },
      true,
    ],
    [
      'a fixed target marks a message that had no envelope',
      { payload: { a: 1 } },
      { ok: true, entity: 'shipment', version: '1.1.0', record: { a: 1 } },
      { payload: { a: 1 }, cdm: { entity: 'shipment', version: '1.1.0', validated: 'shipment@1.1.0' } },
      true,
    ],
    [
      'a refusal takes away an earlier mark',
      { payload: { a: -1 }, cdm: { entity: 'shipment', version: '1.1.0', validated: 'shipment@1.1.0' } },
      { ok: false, reasons: [bad] },
      { payload: { a: -1 }, cdm: { entity: 'shipment', version: '1.1.0' }, reject: { stage: 'cdm-validate', reasons: [bad] } },
      false,
    ],
    [
      'a refusal leaves an envelope that is not an object alone',
      { payload: 1, cdm: 'text' },
      { ok: false, reasons: [bad] },
      { payload: 1, cdm: 'text', reject: { stage: 'cdm-validate', reasons: [bad] } },
      false,
    ],
  ];
  for (const [name, msg, verdict, expected, passed] of cases) {
    it(name, () => {
      assert.equal(applyValidation(msg, verdict), passed);
      assert.deepEqual(msg, expected);
    });
  }

  it('passes a new envelope on, not the one it came with (another wire may share it)', () => {
    const cdm = { entity: 'shipment', version: '1.1.0' };
    const msg: PipelineMessage = { payload: {}, cdm };
    applyValidation(msg, { ok: true, entity: 'shipment', version: '1.1.0', record: {} });
    assert.notEqual(msg.cdm, cdm);
    assert.deepEqual(cdm, { entity: 'shipment', version: '1.1.0' });
  });
});

describe('cdm-validate reasons', () => {
  it('no catalog yet', () => assert.deepEqual(noCatalogReasons({ kind: 'waiting' }), [{ path: '', rule: 'no-catalog', message: 'no catalog is in force yet, so nothing can be validated' }]));
  it('no catalog yet, the last one refused', () => {
    const issue = { kind: 'refused' as const, origin: 'file', at: new Date(0), reasons: [{ path: 'catalog.json', rule: 'json', message: 'does not parse' }] };
    assert.deepEqual(noCatalogReasons({ kind: 'waiting', issue }), [{ path: '', rule: 'no-catalog', message: 'no catalog is in force yet, so nothing can be validated: catalog.json: does not parse' }]);
  });
  it('an error thrown', () => assert.deepEqual(internalErrorReasons(new Error('boom')), [{ path: '', rule: 'internal-error', message: 'the record could not be validated: boom' }]));
  it('anything else thrown', () => assert.deepEqual(internalErrorReasons('odd'), [{ path: '', rule: 'internal-error', message: 'the record could not be validated: odd' }]));
});

describe('DeprecationNotices', () => {
  it('warns once per version and shows the last one passed', () => {
    const notices = new DeprecationNotices();
    assert.equal(notices.last, '');
    const v1 = { deprecated: true, pastSunset: false, sunset: '2027-01-31', note: 'move to 2.0.0', entity: 'shipment', version: '1.0.0' };
    const v0 = { deprecated: true, pastSunset: false, entity: 'shipment', version: '0.9.0' };
    const seen = [notices.note(v1), notices.note(v1), notices.note(v0), notices.note(v1)];
    assert.deepEqual(seen, ['cdm-validate: shipment 1.0.0 is deprecated; it is rejected after 2027-01-31 (move to 2.0.0)', undefined, 'cdm-validate: shipment 0.9.0 is deprecated', undefined]);
    assert.equal(notices.last, 'shipment 1.0.0 (sunset 2027-01-31)');
    notices.note(v0);
    assert.equal(notices.last, 'shipment 0.9.0');
  });
});
