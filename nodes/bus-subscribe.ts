import type { IPublishPacket } from 'mqtt';
import type { Node, NodeAPI, NodeDef } from 'node-red';
import type { QoS, Unsubscribe } from '../lib/bus/bus-client';
import type { SharedBusState } from '../lib/bus/shared-bus';
import { type DecodeLimits, DEFAULT_DECODE_LIMITS, decodeMessage } from '../lib/envelope/cloudevents';
import { deadLetterFilter, decodeDeadLetter } from '../lib/envelope/dead-letter';
import { DedupWindow, messageKey } from '../lib/envelope/dedup-window';
import { parseMajors, subscriptionFilters, topicDisagreement } from '../lib/envelope/topics';
import { DEFAULT_MAX_IN_FLIGHT, InFlight } from '../lib/flow/in-flight';
import { decodeLocalRecord } from '../lib/flow/local-record';
import { messageIdSource } from '../lib/flow/message-ids';
import { type HookEngine, followRecords } from '../lib/flow/message-hooks';
import { checkTopicFilter } from '../lib/flow/topic-filter';
import { type Reason, describeReasons } from '../lib/reasons';
import { findBus } from './support/bus-config';
import { exposeStats } from './support/stats';
import { busStatus, problemStatus } from './support/status';
import { StatusThrottle } from './support/status-throttle';

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
  kind: string;
  /** records: the MQTT topic filter. */
  topic?: string;
  /** Absent in nodes saved before flow control: they take the default like an empty field. */
  maxInFlight?: string;
}

type Kind = 'canonical' | 'dead-letter' | 'records';

// Enough of a malformed message to see what it was, without echoing megabytes into the debug sidebar.
const RAW_PREVIEW_CHARS = 2048;

/** A whole-number field: its value, `fallback` when empty, undefined when it is not one. */
function count(text: string | undefined, fallback: number): number | undefined {
  const trimmed = (text ?? '').trim();
  if (trimmed === '') return fallback;
  return /^\d+$/.test(trimmed) && Number.isSafeInteger(Number(trimmed)) ? Number(trimmed) : undefined;
}

export = function (RED: NodeAPI): void {
  function BusSubscribe(this: Node, config: BusSubscribeDef): void {
    RED.nodes.createNode(this, config);
    const fail = (problem: string): void => {
      this.status(problemStatus(problem));
      this.error(`bus-subscribe: ${problem}`);
    };
    const found = findBus(RED, config.bus, this);
    if ('problem' in found) return fail(found.problem);
    const bus = found.bus;
    const kind: Kind = config.kind === 'dead-letter' || config.kind === 'records' ? config.kind : 'canonical';
    const embedded = bus.settings.mode === 'embedded';
    // aedes has no shared subscriptions: a `$share/...` filter would match nothing and every message would vanish.
    const noSharing = (): void => this.warn('bus-subscribe: the embedded broker has no shared subscriptions; this node receives every message');

    let filters: string[];
    if (kind === 'records') {
      const topic = checkTopicFilter(config.topic ?? '');
      if (!topic.ok) return fail(describeReasons(topic.reasons));
      if (topic.value.group !== undefined && embedded) noSharing();
      filters = [topic.value.group !== undefined && embedded ? topic.value.match : topic.value.filter];
    } else {
      let site = config.site ?? '';
      if (config.siteType === 'env') {
        site = String(RED.util.evaluateNodeProperty(site, 'env', this, {}) ?? '');
        if (site === '') return fail(`environment variable ${config.site} is not set`);
      }
      const majors = parseMajors(config.versions ?? '');
      if (!majors.ok) return fail(describeReasons(majors.reasons));
      let group = config.group ?? '';
      if (group !== '' && embedded) {
        noSharing();
        group = '';
      }
      // The canonical selection checks the site id in dead-letter mode too, before it names a topic level.
      const selection = subscriptionFilters(kind === 'dead-letter' ? { site } : { entity: config.entity, majors: majors.value, site, group });
      if (!selection.ok) return fail(describeReasons(selection.reasons));
      filters = kind === 'dead-letter' ? [deadLetterFilter(site)] : selection.value;
    }
    const dedupWindow = count(config.dedupWindow, 10_000);
    if (dedupWindow === undefined) return fail(`the duplicate window must be a whole number of messages, got "${(config.dedupWindow ?? '').trim()}"`);
    const dedup = new DedupWindow(dedupWindow);
    const qos = (['0', '1', '2'].includes(config.qos) ? Number(config.qos) : 1) as QoS;
    const maxBytes = count(config.maxBytes, DEFAULT_DECODE_LIMITS.maxBytes);
    if (maxBytes === undefined) return fail(`max bytes must be a whole number, got "${(config.maxBytes ?? '').trim()}"`);
    const limits: DecodeLimits = { ...DEFAULT_DECODE_LIMITS, maxBytes };
    const maxInFlight = count(config.maxInFlight, DEFAULT_MAX_IN_FLIGHT);
    if (maxInFlight === undefined) return fail(`max in flight must be a whole number of records (0: no limit), got "${(config.maxInFlight ?? '').trim()}"`);

    // Issue 6: without back-pressure the bus is read as fast as the socket
    // delivers and Node-RED's message queue grows without bound. Flow control
    // follows each record through the flow with the runtime's message hooks
    // and holds the connection while maxInFlight of them are unfinished.
    // RED.hooks's typings list one overload per hook name; HookEngine is the plain
    // part used here. Absent on a runtime without hooks (and in
    // node-red-node-test-helper 0.3, which leaves it out of the RED it hands nodes).
    const hooks = (RED as unknown as { hooks?: HookEngine }).hooks;
    if (maxInFlight > 0 && hooks === undefined) this.warn('bus-subscribe: this Node-RED has no message hooks (RED.hooks), so flow control is off');
    const inFlight = maxInFlight > 0 && hooks !== undefined ? new InFlight({ limit: maxInFlight }) : undefined;
    let stopFollowing: (() => void) | undefined;
    if (inFlight !== undefined && hooks !== undefined) {
      try {
        stopFollowing = followRecords(hooks, inFlight);
      } catch (err) {
        return fail(`flow control could not register its message hooks: ${(err as Error).message}`);
      }
    }

    let closed = false;
    let state: SharedBusState = bus.state;
    const counts = { received: 0, duplicatesDropped: 0, malformed: 0, held: 0, expired: 0 };
    const summary = (): string =>
      `${counts.received} received${counts.duplicatesDropped > 0 ? `, ${counts.duplicatesDropped} duplicates dropped` : ''}${counts.malformed > 0 ? `, ${counts.malformed} malformed` : ''}`;
    const throttle = new StatusThrottle(this, () =>
      inFlight?.holding === true && state.kind === 'connected'
        ? { fill: 'yellow', shape: 'ring', text: `holding: ${inFlight.size} in flight · ${summary()}` }
        : busStatus(state, summary()));
    const stopStats = exposeStats(RED, this.id, () => ({ ...counts, inFlight: inFlight?.size ?? 0 }));
    const stopWatching = bus.onState((next) => {
      state = next;
      throttle.show();
    });

    let releaseHold: (() => void) | undefined;
    let leaseWarned = false;
    inFlight?.onPressure((holding) => {
      if (holding) {
        releaseHold ??= bus.holdInbound();
        counts.held += 1;
      } else {
        releaseHold?.();
        releaseHold = undefined;
      }
      if (!closed) throttle.show();
    });
    inFlight?.onExpired((expired) => {
      counts.expired += expired;
      if (leaseWarned) return;
      leaseWarned = true;
      this.warn(
        `bus-subscribe: ${expired} record(s) did not finish within ${inFlight.leaseMs / 1000} s and no longer count as in flight: a node behind this one keeps messages or never calls done()`,
      );
    });

    const nextId = messageIdSource();
    /** Sends a record into the flow, tracked from before send() until every copy of it is done. */
    const emit = (msg: Record<string, unknown>): void => {
      if (inFlight === undefined) {
        this.send(msg);
        return;
      }
      const id = nextId();
      msg._msgid = id;
      // The entry's own count keeps the record open while send() hands out its copies.
      inFlight.track(id);
      try {
        this.send(msg);
      } finally {
        inFlight.complete(id);
      }
    };

    const reportMalformed = (topic: string, payload: Buffer, reasons: Reason[]): void => {
      counts.malformed += 1;
      throttle.show();
      this.error(`bus-subscribe: malformed message on ${topic}: ${describeReasons(reasons)}`, {
        topic,
        payload: payload.toString('utf8', 0, RAW_PREVIEW_CHARS),
        reject: { stage: 'bus-subscribe', reasons },
      });
    };

    const admit = (site: string, id: string): boolean => {
      if (dedup.admit(messageKey(site, id))) return true;
      counts.duplicatesDropped += 1;
      throttle.show();
      return false;
    };

    const onCanonical = (topic: string, payload: Buffer, packet: IPublishPacket): void => {
      const decoded = decodeMessage({ payload, properties: packet.properties }, limits);
      if (!decoded.ok) return reportMalformed(topic, payload, decoded.reasons);
      const disagreement = topicDisagreement(topic, decoded.value.envelope);
      if (disagreement.length > 0) return reportMalformed(topic, payload, disagreement);
      if (!admit(decoded.value.envelope.site, decoded.value.envelope.id)) return;
      counts.received += 1;
      throttle.show();
      emit({ topic, payload: decoded.value.data, cdm: decoded.value.envelope });
    };

    // Dead letters come back as the message that was refused, with msg.reject,
    // ready to be fixed and sent through the pipeline again (the replay path).
    const onDeadLetter = (topic: string, payload: Buffer): void => {
      const decoded = decodeDeadLetter(payload, limits);
      if (!decoded.ok) return reportMalformed(topic, payload, decoded.reasons);
      const letter = decoded.value;
      if (!admit(letter.site, `${letter.stage}\u0000${letter.time}\u0000${letter.cdm?.id ?? JSON.stringify(letter.payload)}`)) return;
      counts.received += 1;
      throttle.show();
      const msg: Record<string, unknown> = { topic, payload: letter.payload, reject: { stage: letter.stage, reasons: letter.reasons, site: letter.site, time: letter.time } };
      if (letter.cdm !== undefined) msg.cdm = letter.cdm;
      emit(msg);
    };

    // A site's own records: JSON on any topic, no envelope yet and so no id to
    // drop duplicates by; cdm-map makes msg.cdm downstream.
    const onRecord = (topic: string, payload: Buffer): void => {
      const decoded = decodeLocalRecord(payload, limits);
      if (!decoded.ok) return reportMalformed(topic, payload, decoded.reasons);
      counts.received += 1;
      throttle.show();
      emit({ topic, payload: decoded.value });
    };
    const handlers = { canonical: onCanonical, 'dead-letter': onDeadLetter, records: onRecord };
    const handle = handlers[kind];
    const onMessage = (topic: string, payload: Buffer, packet: IPublishPacket): void => {
      if (!closed) handle(topic, payload, packet);
    };

    const unsubscribers: Unsubscribe[] = [];
    for (const filter of filters) {
      // Under flow control on the bus's inbound lane: holding it must never hold bus-publish's acknowledgements.
      bus.subscribe(filter, qos, onMessage, inFlight !== undefined ? 'inbound' : 'shared').then(
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
      stopStats();
      throttle.stop();
      // Leave the subscriptions first: a restarting node's filter is parked by
      // the bus, so what the released hold lets in waits for its successor.
      const leaving = unsubscribers.map((unsubscribe) => unsubscribe({ keepAtBroker: !removed }));
      stopFollowing?.();
      inFlight?.clear();
      releaseHold?.();
      releaseHold = undefined;
      void Promise.all(leaving).then(() => done());
    });
  }

  RED.nodes.registerType('bus-subscribe', BusSubscribe);
};
