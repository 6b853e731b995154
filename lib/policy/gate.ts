import type { PipelineMessage } from '../envelope/pipeline-message';
import type { Reason } from '../reasons';
import type { PolicyInput, PolicyVerdict } from './engine';

/** policy-gate's stage name in msg.reject. */
export const GATE_STAGE = 'policy-gate';

/** Added to the reasons when the record was taken off the message: the policy could not mask it, so it must not leave the site. */
export const WITHHELD: Reason = {
  path: 'payload',
  rule: 'payload-withheld',
  message: 'the record was removed from this message: no policy could mask it, so it must not leave the site (not even to a dead-letter topic)',
};

/** What the gate asks of the policy in force; never expected to throw, but a throw is caught. */
export interface GatePolicy {
  evaluate(input: PolicyInput): PolicyVerdict;
}

/**
 * Judges one message and puts the verdict on it: a pass carries the masked
 * record and the annotations (msg.policy); a refusal its reasons and the
 * record as masked, or no record at all when it could not be masked. True
 * when it passed.
 */
export function judgeMessage(policy: GatePolicy, msg: PipelineMessage, transport: PolicyInput['transport']): boolean {
  let verdict: PolicyVerdict;
  try {
    verdict = policy.evaluate({ payload: msg.payload, cdm: msg.cdm, ...(transport !== undefined ? { transport } : {}) });
  } catch (err) {
    verdict = { pass: false, reasons: [{ path: '', rule: 'internal-error', message: `the record could not be judged: ${err instanceof Error ? err.message : String(err)}` }] };
  }
  if (verdict.pass) {
    msg.payload = verdict.payload;
    msg.policy = verdict.annotations;
    return true;
  }
  const reasons = [...verdict.reasons];
  if (verdict.payload !== undefined) msg.payload = verdict.payload;
  else {
    delete msg.payload;
    reasons.push(WITHHELD);
  }
  if (verdict.annotations) msg.policy = verdict.annotations;
  else delete msg.policy;
  msg.reject = verdict.transient === true ? { stage: GATE_STAGE, reasons, transient: true } : { stage: GATE_STAGE, reasons };
  return false;
}

/** With no usable policy config every message is refused with the reason, and its record withheld: nothing passes unjudged. */
export function refuseUnjudged(msg: PipelineMessage, problem: string): void {
  delete msg.payload;
  msg.reject = { stage: GATE_STAGE, reasons: [{ path: '', rule: 'policy-unavailable', message: problem }, WITHHELD] };
}
