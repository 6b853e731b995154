import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import type { SharedBusState } from '../lib/bus/shared-bus';
import { parsePublishSettings } from '../lib/bus/publish-settings';
import { DurablePublisher, type PublishOutcomes } from '../lib/outbox/durable-publisher';
import type { OutboxEntry } from '../lib/outbox/durable-outbox';
import { plaintextTransportRefusal } from '../lib/policy/transport-check';
import { describeReasons } from '../lib/reasons';
import { findBus } from './support/bus-config';
import { type PolicyView, findPolicy } from './support/policy-config';
import { nodeCounters } from './support/stats';
import { StageTally } from '../lib/metrics/stage-tally';
import { probeNonce } from '../lib/fleet/probe-mark';
import { publishedVersions } from '../lib/fleet/heartbeat-beat';
import type { Rejection } from '../lib/envelope/pipeline-message';
import { translator } from './support/i18n';
import { busStatus, problemStatus } from './support/status';
import { StatusThrottle } from './support/status-throttle';
import { stateDir } from './support/user-dir';
import { showCannotStart } from './support/lifecycle';
import { labelOf, offerReadiness } from './support/flow-readiness';

interface BusPublishDef extends NodeDef {
  bus: string;
  qos: string;
  wireMode: string;
  mode: string;
  site: string;
  siteType: string;
  outboxMaxCount: string;
  outboxMaxBytes: string;
  whenFull: string;
  policy: string;
}

type CdmMessage = NodeMessageInFlow & { cdm?: unknown; reject?: unknown };

export = function (RED: NodeAPI): void {
  const t = translator(RED);
  function BusPublish(this: Node, config: BusPublishDef): void {
    RED.nodes.createNode(this, config);
    const fail = (problem: string): void => {
      const text = t('bus-publish.errors.problem', { problem });
      showCannotStart(this, problem, text);
      this.on('input', (_msg, _send, done) => done(new Error(text)));
    };
    const found = findBus(RED, config.bus, this);
    if ('problem' in found) return fail(found.problem);
    const bus = found.bus;
    const site = config.siteType === 'env' ? String(RED.util.evaluateNodeProperty(config.site ?? '', 'env', this, {}) ?? '') : (config.site ?? '');
    const parsed = parsePublishSettings(config, { protocolVersion: bus.protocolVersion, site });
    for (const warning of parsed.warnings) this.warn(t('bus-publish.errors.problem', { problem: warning }));
    if (!parsed.ok) return fail(describeReasons(parsed.reasons));

    // The policy bundle's retry and rate rules, when the node names a tectonic-policy.
    let policy: PolicyView | undefined;
    if (config.policy) {
      const foundPolicy = findPolicy(RED, config.policy);
      if ('problem' in foundPolicy) return fail(foundPolicy.problem);
      policy = foundPolicy.policy;
    }

    let reportedOpenFailure = '';
    // What an entry upstream waits for: the outbox open, and room in it once it has refused a record as full.
    const name = labelOf(config.name, this.id);
    const waitingFor = { opening: t('bus-publish.readiness.opening', { name }), full: t('bus-publish.readiness.full', { name }) };
    const ready = offerReadiness(this, waitingFor.opening);
    const outcomes: PublishOutcomes<CdmMessage> = {
      delivered: (msg) => this.send([msg, null]),
      refused: (msg) => {
        const probe = probeNonce(msg);
        if (probe !== undefined) probes -= 1;
        tally.rejected(probe, msg.reject as Rejection | undefined);
        this.send([null, msg]);
      },
      probeTaken: (nonce) => tally.taken(nonce),
      standIn: (entry: OutboxEntry) => ({ _msgid: RED.util.generateId(), topic: entry.topic, payload: entry.payload.toString('utf8') }),
      changed: () => {
        ready.set(publisher.isOpen && !publisher.full, publisher.isOpen ? waitingFor.full : waitingFor.opening);
        throttle.show();
      },
      opened: (recovered) => {
        if (reportedOpenFailure !== '') this.log(t('bus-publish.log.reopened'));
        reportedOpenFailure = '';
        if (recovered > 0) this.log(t('bus-publish.log.recovered', { recovered }));
      },
      openFailed: (err, retryMs) => {
        // Once per cause, not at every try: a full disk may last for hours.
        if (err.message !== reportedOpenFailure) this.error(t('bus-publish.errors.outboxFailed', { error: err.message, seconds: retryMs / 1000 }));
        reportedOpenFailure = err.message;
      },
    };
    const publisher = new DurablePublisher<CdmMessage>({
      settings: parsed.value,
      dir: stateDir(RED, this, 'outbox', this.id),
      bus,
      policy,
      // With nothing wired to the first output, delivered messages are not kept at all.
      keepForOutput: ((this as Node & { wires?: string[][] }).wires?.[0]?.length ?? 1) > 0,
      stage: 'bus-publish',
      outcomes,
    });

    let state: SharedBusState = bus.state;
    const { counts } = publisher;
    const throttle = new StatusThrottle(this, () => {
      const unavailable = publisher.unavailableBecause;
      if (unavailable !== undefined) return problemStatus(t('bus-publish.status.outboxFailed', { error: unavailable.message }));
      if (publisher.full) return { fill: 'red', shape: 'dot', text: t('bus-publish.status.outboxFull', { depth: publisher.depth, rejected: counts.rejected }) };
      const sent = publisher.depth > 0 ? t('bus-publish.status.sentWaiting', { sent: counts.published, waiting: publisher.depth }) : t('bus-publish.status.sent', { sent: counts.published });
      return busStatus(t, state, sent);
    });
    const stopWatching = bus.onState((next) => {
      state = next;
      throttle.show();
    });
    // Out is the outbox's count less the probes: a delivered message is not handed back when nothing is wired to the output.
    let probes = 0;
    const tally = new StageTally(
      nodeCounters(RED, this, parsed.value.mode === 'dead-letter' ? 'dead-letter' : 'publish', { counts: () => ({ ...counts }), levels: () => ({ outboxDepth: publisher.depth, outboxBytes: publisher.bytes }), sync: (c) => (c.out = counts.published - probes) }),
      'publish',
    );

    this.on('input', (msg, send, done) => {
      const probe = tally.in(msg);
      const plaintext = plaintextTransportRefusal(bus.settings.url, policy?.compiled, (msg as CdmMessage).cdm);
      if (plaintext !== undefined) {
        const reject = { stage: 'bus-publish', reasons: [plaintext] };
        (msg as CdmMessage).reject = reject;
        tally.rejected(probe, reject);
        send([null, msg]);
        done();
        return;
      }
      if (probe !== undefined) probes += 1;
      else publishedVersions.noteEnvelope((msg as CdmMessage).cdm);
      publisher.publish(msg, done);
    });

    this.on('close', (done: () => void) => {
      stopWatching();
      throttle.stop();
      void publisher.close().then(() => done());
    });
  }

  RED.nodes.registerType('bus-publish', BusPublish);
};
