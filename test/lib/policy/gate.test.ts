// judgeMessage: a policy verdict put on the message policy-gate routes.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import type { PipelineMessage } from '../../../lib/envelope/pipeline-message';
import type { PolicyInput, PolicyVerdict } from '../../../lib/policy/engine';
import { type GatePolicy, WITHHELD, judgeMessage, refuseUnjudged } from '../../../lib/policy/gate';

const annotations = { policy: 'site@3', masked: ['patient.name'] };
const denied = { path: '', rule: 'deny-1', message: 'no' };
const fixed = (verdict: PolicyVerdict): GatePolicy => ({ evaluate: () => verdict });

describe('judgeMessage', () => {
  const cases: Array<[string, GatePolicy, PipelineMessage, boolean]> = [
    ['a pass carries the masked record and the annotations', fixed({ pass: true, payload: { masked: true }, annotations }), { payload: { masked: true }, policy: annotations }, true],
    ['a refusal with a maskable record keeps it masked', fixed({ pass: false, reasons: [denied], payload: { masked: true }, annotations }), { payload: { masked: true }, policy: annotations, reject: { stage: 'policy-gate', reasons: [denied] } }, false],
    ['a refusal that could not mask withholds the record', fixed({ pass: false, reasons: [denied] }), { reject: { stage: 'policy-gate', reasons: [denied, WITHHELD] } }, false],
    [
      'a policy that throws: an internal error, the record withheld',
      {
        evaluate: () => {
          throw new Error('boom');
        },
      },
      { reject: { stage: 'policy-gate', reasons: [{ path: '', rule: 'internal-error', message: 'the record could not be judged: boom' }, WITHHELD] } },
      false,
    ],
  ];
  for (const [name, policy, expected, passed] of cases) {
    it(name, () => {
      const msg: PipelineMessage = { payload: { raw: true }, policy: { stale: true } };
      assert.equal(judgeMessage(policy, msg, undefined), passed);
      assert.deepEqual(msg, expected);
    });
  }

  it('asks with the message’s payload and envelope, and the transport when known', () => {
    const seen: PolicyInput[] = [];
    const policy: GatePolicy = { evaluate: (input) => (seen.push(input), { pass: true, payload: 1, annotations }) };
    const cdm = { entity: 'e' };
    judgeMessage(policy, { payload: 'p', cdm }, { tls: true });
    judgeMessage(policy, { payload: 'p', cdm }, undefined);
    assert.deepEqual(seen, [{ payload: 'p', cdm, transport: { tls: true } }, { payload: 'p', cdm }]);
    assert.equal(seen[0]?.cdm, cdm);
  });
});

describe('refuseUnjudged', () => {
  it('refuses with the problem and withholds the record', () => {
    const msg: PipelineMessage = { payload: { secret: 1 }, cdm: { entity: 'e' } };
    refuseUnjudged(msg, 'no tectonic-policy configured');
    assert.deepEqual(msg, { cdm: { entity: 'e' }, reject: { stage: 'policy-gate', reasons: [{ path: '', rule: 'policy-unavailable', message: 'no tectonic-policy configured' }, WITHHELD] } });
  });
});
