import type { IPublishPacket } from 'mqtt';
import type { Node, NodeAPI, NodeDef } from 'node-red';
import type { ReleaseAck, Unsubscribe } from '../lib/bus/bus-client';
import { FlowEntry } from '../lib/bus/flow-entry';
import { InboundDecoder, type InboundSink } from '../lib/bus/inbound-decoder';
import type { SharedBusState } from '../lib/bus/shared-bus';
import { parseSubscribeSettings } from '../lib/bus/subscribe-settings';
import { FlowControl } from '../lib/flow/flow-control';
import { describeReasons } from '../lib/reasons';
import { findBus } from './support/bus-config';
import { type HookEngine, followRecords } from './support/message-hooks';
import { nodeCounters } from './support/stats';
import { subscribeCounterReads } from '../lib/metrics/subscribe-counts';
import { translator } from './support/i18n';
import { StatusThrottle } from './support/status-throttle';
import { busStatus } from './support/status';
import { showCannotStart } from './support/lifecycle';
import { type FlowWait, waitForFlow, warnIfNotWaiting } from './support/flow-readiness';

interface BusSubscribeDef extends NodeDef {
  bus: string;
  entity: string;
  versions: string;
  site: string;
  siteType: string;
  group: string;
  qos: string;
  maxBytes: string;
  dedupWindow: string;
  /** Seconds an id made from an input is remembered; absent in nodes saved before it: the default. */
  dedupMaxAge?: string;
  kind: string;
  /** records: the MQTT topic filter. */
  topic?: string;
  /** Absent in nodes saved before flow control: they take the default like an empty field. */
  maxInFlight?: string;
}

export = function (RED: NodeAPI): void {
  const t = translator(RED);
  function BusSubscribe(this: Node, config: BusSubscribeDef): void {
    RED.nodes.createNode(this, config);
    const fail = (problem: string): void => {
      showCannotStart(this, problem, t('bus-subscribe.errors.problem', { problem }));
    };
    const found = findBus(RED, config.bus, this);
    if ('problem' in found) return fail(found.problem);
    const bus = found.bus;
    const site = config.siteType === 'env' ? String(RED.util.evaluateNodeProperty(config.site ?? '', 'env', this, {}) ?? '') : (config.site ?? '');
    const parsed = parseSubscribeSettings(config, { embedded: bus.settings.mode === 'embedded', site });
    for (const warning of parsed.warnings) this.warn(t('bus-subscribe.errors.problem', { problem: warning }));
    if (!parsed.ok) return fail(describeReasons(parsed.reasons));
    const settings = parsed.value;

    // RED.hooks's typings list one overload per hook name; HookEngine is the plain
    // part used here. Absent on a runtime without hooks (and in
    // node-red-node-test-helper 0.3, which leaves it out of the RED it hands nodes).
    const hooks = (RED as unknown as { hooks?: HookEngine }).hooks;
    if (settings.maxInFlight > 0 && hooks === undefined) this.warn(t('bus-subscribe.warnings.noHooks'));
    const flow: FlowControl | undefined =
      settings.maxInFlight > 0 && hooks !== undefined
        ? new FlowControl(settings.maxInFlight, {
            hold: () => bus.holdInbound(),
            changed: () => throttle.show(),
            overdue: (expired, leaseMs) =>
              this.warn(t('bus-subscribe.warnings.overdue', { expired, seconds: leaseMs / 1000 })),
            stillTransient: (tries) => this.warn(t('bus-subscribe.warnings.stillTransient', { tries })),
            ready: () => wait?.hold.holding !== true,
          })
        : undefined;
    let stopFollowing: (() => void) | undefined;
    if (flow !== undefined && hooks !== undefined) {
      try {
        stopFollowing = followRecords(hooks, flow.inFlight);
      } catch (err) {
        return fail(t('bus-subscribe.errors.hooksFailed', { error: (err as Error).message }));
      }
    }
    // Ready before reading: the inbound lane stays held until every node downstream has its catalog, policy, outbox.
    const texts = { starting: t('bus-subscribe.status.flowStarting') };
    const wait: FlowWait | undefined = flow !== undefined ? waitForFlow(RED, this, () => bus.holdInbound(), () => { throttle.show(); flow.wake(); }, texts) : undefined;
    if (wait === undefined) warnIfNotWaiting(RED, this, (waitingFor) => this.warn(t('bus-subscribe.warnings.notWaiting', { waitingFor })));

    // Under flow control a record's PUBACK waits until it has finished in the flow; a transient refusal sends it again.
    const entry = new FlowEntry(flow, (msg) => this.send(msg));
    const sink: InboundSink = {
      deliver: entry.deliver,
      malformed: ({ topic, payloadPreview, reasons }) =>
        this.error(t('bus-subscribe.errors.malformed', { topic, reasons: describeReasons(reasons) }), { topic, payload: payloadPreview, reject: { stage: 'bus-subscribe', reasons } }),
      changed: () => throttle.show(),
    };
    const decoder = new InboundDecoder(settings, sink);

    let closed = false;
    let state: SharedBusState = bus.state;
    const { counts } = decoder;
    const summary = (): string => {
      let text = t('bus-subscribe.status.received', { received: counts.received });
      if (counts.duplicatesDropped > 0) text = t('bus-subscribe.status.andDuplicates', { text, duplicates: counts.duplicatesDropped });
      if (counts.malformed > 0) text = t('bus-subscribe.status.andMalformed', { text, malformed: counts.malformed });
      return text;
    };
    const throttle = new StatusThrottle(this, () => {
      if (state.kind === 'connected' && wait?.hold.holding === true) return { fill: 'yellow', shape: 'ring', text: t('bus-subscribe.status.waiting', { waitingFor: wait.hold.waitingFor, summary: summary() }) };
      if (state.kind === 'connected' && flow?.inFlight.holding === true) return { fill: 'yellow', shape: 'ring', text: t('bus-subscribe.status.holding', { inFlight: flow.inFlight.size, summary: summary() }) };
      return busStatus(t, state, summary());
    });
    nodeCounters(RED, this, 'subscribe', subscribeCounterReads(counts, decoder.probes, flow));
    const stopWatching = bus.onState((next) => {
      state = next;
      throttle.show();
    });

    const onMessage = (topic: string, payload: Buffer, packet: IPublishPacket, defer: () => ReleaseAck): void => {
      if (!closed) entry.receive(decoder, topic, payload, packet, defer);
    };
    const unsubscribers: Unsubscribe[] = [];
    for (const filter of settings.filters) {
      // Under flow control on the bus's inbound lane: holding it must never hold bus-publish's acknowledgements.
      bus.subscribe(filter, settings.qos, onMessage, flow !== undefined ? 'inbound' : 'shared').then(
        (unsubscribe) => {
          if (closed) void unsubscribe();
          else unsubscribers.push(unsubscribe);
        },
        (err: Error) => {
          if (!closed) fail(err.message);
        },
      );
    }

    // removed: the node was deleted or changed, so its subscription goes too. Otherwise
    // (a restart, a shutdown) it stays in the persistent session and the broker
    // queues what arrives until the node is back.
    this.on('close', (removed: boolean, done: () => void) => {
      closed = true;
      stopWatching();
      throttle.stop();
      // Leave the subscriptions first: a restarting node's filter is parked by
      // the bus, so what the released hold lets in waits for its successor.
      const leaving = unsubscribers.map((unsubscribe) => unsubscribe({ keepAtBroker: !removed }));
      stopFollowing?.();
      wait?.stop();
      flow?.close();
      void Promise.all(leaving).then(() => done());
    });
  }

  RED.nodes.registerType('bus-subscribe', BusSubscribe);
};
