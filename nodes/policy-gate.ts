import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import type { PolicyAnnotations, PolicyInput, PolicyVerdict } from '../lib/policy/engine';
import type { Reason } from '../lib/reasons';
import { findBus } from './support/bus-config';
import { findPolicy, policyStatus } from './support/policy-config';
import { problemStatus } from './support/status';
import { StatusThrottle } from './support/status-throttle';

interface PolicyGateDef extends NodeDef {
  policy: string;
  bus: string;
  tls: string;
}

/** The counters a heartbeat will read (DESIGN: counters in the site's heartbeat). */
interface PolicyGateNode extends Node {
  passCount: number;
  rejectCount: number;
}

type GateMessage = NodeMessageInFlow & { cdm?: unknown; policy?: PolicyAnnotations; reject?: { stage: string; reasons: Reason[] } };

const STAGE = 'policy-gate';

/** Added to the reasons when the record was taken off the message: the policy could not mask it, so it must not leave the site. */
const WITHHELD: Reason = {
  path: 'payload',
  rule: 'payload-withheld',
  message: 'the record was removed from this message: no policy could mask it, so it must not leave the site (not even to a dead-letter topic)',
};

export = function (RED: NodeAPI): void {
  function PolicyGate(this: PolicyGateNode, config: PolicyGateDef): void {
    RED.nodes.createNode(this, config);
    this.passCount = 0;
    this.rejectCount = 0;

    // With no usable config every message is rejected with the reason, and its record withheld: nothing passes unjudged.
    const rejectAll = (problem: string): void => {
      this.status(problemStatus(`policy-unavailable: ${problem}`));
      this.error(`policy-gate: ${problem}`);
      this.on('input', (input, send, done) => {
        const msg = input as GateMessage;
        delete msg.payload;
        msg.reject = { stage: STAGE, reasons: [{ path: '', rule: 'policy-unavailable', message: problem }, WITHHELD] };
        this.rejectCount += 1;
        send([null, msg]);
        done();
      });
    };
    const found = findPolicy(RED, config.policy);
    if ('problem' in found) return rejectAll(found.problem);
    const policy = found.policy;

    // The records go out on a bus this flow names, or the technician says how that bus is secured; otherwise it is unknown, which a `transport` rule rejects.
    let transport: PolicyInput['transport'];
    if (config.bus) {
      const bus = findBus(RED, config.bus);
      if ('problem' in bus) this.warn(`policy-gate: the bus it checks for TLS: ${bus.problem}; its transport counts as unknown`);
      else transport = { tls: /^(mqtts|wss):/.test(bus.bus.settings.url) };
    } else if (config.tls === 'tls') transport = { tls: true };
    else if (config.tls === 'plain') transport = { tls: false };

    // The status is read when it is shown, not per record: expiry and new
    // bundles change it between onChange calls, and building it costs.
    const throttle = new StatusThrottle(this, () => policyStatus(policy.status, `pass ${this.passCount} · deny ${this.rejectCount}`));
    const stopWatching = policy.onChange(() => throttle.show());

    const judge = (msg: GateMessage): { out: 0 | 1 } => {
      let verdict: PolicyVerdict;
      try {
        verdict = policy.evaluate({ payload: msg.payload, cdm: msg.cdm, ...(transport !== undefined ? { transport } : {}) });
      } catch (err) {
        verdict = { pass: false, reasons: [{ path: '', rule: 'internal-error', message: `the record could not be judged: ${err instanceof Error ? err.message : String(err)}` }] };
      }
      if (verdict.pass) {
        msg.payload = verdict.payload;
        msg.policy = verdict.annotations;
        this.passCount += 1;
        return { out: 0 };
      }
      const reasons = [...verdict.reasons];
      if (verdict.payload !== undefined) msg.payload = verdict.payload;
      else {
        delete msg.payload;
        reasons.push(WITHHELD);
      }
      if (verdict.annotations) msg.policy = verdict.annotations;
      else delete msg.policy;
      msg.reject = { stage: STAGE, reasons };
      this.rejectCount += 1;
      return { out: 1 };
    };

    this.on('input', (input, send, done) => {
      const msg = input as GateMessage;
      try {
        const { out } = judge(msg);
        throttle.show();
        send(out === 0 ? [msg, null] : [null, msg]);
        done();
      } catch (err) {
        done(err instanceof Error ? err : new Error(String(err)));
      }
    });

    this.on('close', (done: () => void) => {
      stopWatching();
      throttle.stop();
      done();
    });
  }

  // Explicit so `this` carries the node's own fields; no credentials.
  RED.nodes.registerType<PolicyGateNode, PolicyGateDef, unknown, Record<string, never>>('policy-gate', PolicyGate);
};
