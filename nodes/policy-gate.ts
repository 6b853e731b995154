import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import type { PipelineMessage } from '../lib/envelope/pipeline-message';
import { judgeMessage, refuseUnjudged } from '../lib/policy/gate';
import { type GateConfig, parseGateSettings } from '../lib/policy/gate-settings';
import { findBus } from './support/bus-config';
import { findPolicy, policyStatus } from './support/policy-config';
import { translator } from './support/i18n';
import { StatusThrottle } from './support/status-throttle';
import { releaseOnClose, showCannotStart } from './support/lifecycle';
import { nodeLabel, offerReadiness } from './support/flow-readiness';
import { nodeCounters } from './support/stats';
import { StageTally } from '../lib/metrics/stage-tally';
import { transportUrlOf } from '../lib/bus/bus-settings';

interface PolicyGateDef extends NodeDef, GateConfig {
  policy: string;
}

/** The counters a heartbeat will read (DESIGN: counters in the site's heartbeat). */
interface PolicyGateNode extends Node {
  passCount: number;
  rejectCount: number;
}

export = function (RED: NodeAPI): void {
  const t = translator(RED);
  function PolicyGate(this: PolicyGateNode, config: PolicyGateDef): void {
    RED.nodes.createNode(this, config);
    this.passCount = 0;
    this.rejectCount = 0;
    const tally = new StageTally(nodeCounters(RED, this, 'policy'), 'policy');

    const rejectAll = (problem: string): void => {
      showCannotStart(this, t('policy-gate.status.unavailable', { problem }), t('policy-gate.errors.problem', { problem }));
      this.on('input', (msg: NodeMessageInFlow & PipelineMessage, send, done) => {
        const probe = tally.in(msg);
        refuseUnjudged(msg, problem);
        tally.rejected(probe, msg.reject);
        this.rejectCount += 1;
        send([null, msg]);
        done();
      });
    };
    const found = findPolicy(RED, config.policy);
    if ('problem' in found) return rejectAll(found.problem);
    const policy = found.policy;

    const bus = config.bus ? findBus(RED, config.bus) : undefined;
    const { transport, warning } = parseGateSettings(config, bus === undefined ? undefined : 'problem' in bus ? bus : { url: transportUrlOf(bus.bus.settings) });
    if (warning !== undefined) this.warn(warning);

    // The status is read when it is shown, not per record: expiry and new
    // bundles change it between onChange calls, and building it costs.
    const throttle = new StatusThrottle(this, () => policyStatus(t, policy.status, t('policy-gate.status.counts', { passed: this.passCount, denied: this.rejectCount })));
    // What an entry upstream waits for: a bundle in force. Failing closed (none yet, expired, refused) is a wait, not a verdict on records.
    const ready = offerReadiness(this, '');
    const policyName = nodeLabel(RED, config.policy);
    const stopWatching = policy.onChange((status) => {
      ready.set(status.state === 'in-force', status.state === 'in-force' ? '' : t('policy-gate.readiness.policy', { name: policyName, rule: status.reason.rule }));
      throttle.show();
    });

    this.on('input', (input, send, done) => {
      const msg = input as NodeMessageInFlow & PipelineMessage;
      const probe = tally.in(msg);
      try {
        const passed = judgeMessage(policy, msg, transport);
        if (passed) this.passCount += 1;
        else this.rejectCount += 1;
        if (passed) tally.out(probe);
        else tally.rejected(probe, msg.reject);
        throttle.show();
        send(passed ? [msg, null] : [null, msg]);
        done();
      } catch (err) {
        done(err instanceof Error ? err : new Error(String(err)));
      }
    });

    releaseOnClose(this, stopWatching, () => throttle.stop());
  }

  // Explicit so `this` carries the node's own fields; no credentials.
  RED.nodes.registerType<PolicyGateNode, PolicyGateDef, unknown, Record<string, never>>('policy-gate', PolicyGate);
};
