import type { IPublishPacket } from 'mqtt';
import type { Node, NodeAPI, NodeDef } from 'node-red';
import type { QoS, Unsubscribe } from '../lib/bus/bus-client';
import type { SharedBusState } from '../lib/bus/shared-bus';
import { type DecodeLimits, DEFAULT_DECODE_LIMITS, decodeMessage } from '../lib/envelope/cloudevents';
import { deadLetterFilter, decodeDeadLetter } from '../lib/envelope/dead-letter';
import { DedupWindow, messageKey } from '../lib/envelope/dedup-window';
import { parseMajors, subscriptionFilters, topicDisagreement } from '../lib/envelope/topics';
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
}

// Enough of a malformed message to see what it was, without echoing megabytes into the debug sidebar.
const RAW_PREVIEW_CHARS = 2048;

export = function (RED: NodeAPI): void {
  function BusSubscribe(this: Node, config: BusSubscribeDef): void {
    RED.nodes.createNode(this, config);
    const fail = (problem: string): void => {
      this.status(problemStatus(problem));
      this.error(`bus-subscribe: ${problem}`);
    };
    const found = findBus(RED, config.bus);
    if ('problem' in found) return fail(found.problem);
    const bus = found.bus;

    let site = config.site ?? '';
    if (config.siteType === 'env') {
      site = String(RED.util.evaluateNodeProperty(site, 'env', this, {}) ?? '');
      if (site === '') return fail(`environment variable ${config.site} is not set`);
    }
    const majors = parseMajors(config.versions ?? '');
    if (!majors.ok) return fail(describeReasons(majors.reasons));
    let group = config.group ?? '';
    if (group !== '' && bus.settings.mode === 'embedded') {
      // aedes has no shared subscriptions: a `$share/...` filter would match nothing and every message would vanish.
      this.warn('bus-subscribe: the embedded broker has no shared subscriptions; this node receives every message');
      group = '';
    }
    const deadLetters = config.kind === 'dead-letter';
    // The canonical selection checks the site id in dead-letter mode too, before it names a topic level.
    const selection = subscriptionFilters(deadLetters ? { site } : { entity: config.entity, majors: majors.value, site, group });
    if (!selection.ok) return fail(describeReasons(selection.reasons));
    const filters = deadLetters ? [deadLetterFilter(site)] : selection.value;
    const windowText = (config.dedupWindow ?? '').trim();
    if (!/^\d*$/.test(windowText)) return fail(`the duplicate window must be a whole number of messages, got "${windowText}"`);
    const dedup = new DedupWindow(windowText === '' ? 10_000 : Number(windowText));
    const qos = (['0', '1', '2'].includes(config.qos) ? Number(config.qos) : 1) as QoS;
    const maxBytesText = (config.maxBytes ?? '').trim();
    if (!/^\d*$/.test(maxBytesText)) return fail(`max bytes must be a whole number, got "${maxBytesText}"`);
    const maxBytes = maxBytesText === '' ? DEFAULT_DECODE_LIMITS.maxBytes : Number(maxBytesText);
    const limits: DecodeLimits = { ...DEFAULT_DECODE_LIMITS, maxBytes };

    const throttle = new StatusThrottle(this);
    let state: SharedBusState = bus.state;
    const counts = { received: 0, duplicatesDropped: 0, malformed: 0 };
    const render = (): void =>
      throttle.show(() =>
        busStatus(state, `${counts.received} received${counts.duplicatesDropped > 0 ? `, ${counts.duplicatesDropped} duplicates dropped` : ''}${counts.malformed > 0 ? `, ${counts.malformed} malformed` : ''}`),
      );
    const stopStats = exposeStats(RED, this.id, () => ({ ...counts }));
    const stopWatching = bus.onState((next) => {
      state = next;
      render();
    });

    const reportMalformed = (topic: string, payload: Buffer, reasons: Reason[]): void => {
      counts.malformed += 1;
      render();
      this.error(`bus-subscribe: malformed message on ${topic}: ${describeReasons(reasons)}`, {
        topic,
        payload: payload.toString('utf8', 0, RAW_PREVIEW_CHARS),
        reject: { stage: 'bus-subscribe', reasons },
      });
    };

    const admit = (site: string, id: string): boolean => {
      if (dedup.admit(messageKey(site, id))) return true;
      counts.duplicatesDropped += 1;
      render();
      return false;
    };

    const onCanonical = (topic: string, payload: Buffer, packet: IPublishPacket): void => {
      const decoded = decodeMessage({ payload, properties: packet.properties }, limits);
      if (!decoded.ok) return reportMalformed(topic, payload, decoded.reasons);
      const disagreement = topicDisagreement(topic, decoded.value.envelope);
      if (disagreement.length > 0) return reportMalformed(topic, payload, disagreement);
      if (!admit(decoded.value.envelope.site, decoded.value.envelope.id)) return;
      counts.received += 1;
      render();
      this.send({ topic, payload: decoded.value.data, cdm: decoded.value.envelope });
    };

    // Dead letters come back as the message that was refused, with msg.reject,
    // ready to be fixed and sent through the pipeline again (the replay path).
    const onDeadLetter = (topic: string, payload: Buffer): void => {
      const decoded = decodeDeadLetter(payload, limits);
      if (!decoded.ok) return reportMalformed(topic, payload, decoded.reasons);
      const letter = decoded.value;
      if (!admit(letter.site, `${letter.stage}\u0000${letter.time}\u0000${letter.cdm?.id ?? JSON.stringify(letter.payload)}`)) return;
      counts.received += 1;
      render();
      const msg: Record<string, unknown> = { topic, payload: letter.payload, reject: { stage: letter.stage, reasons: letter.reasons, site: letter.site, time: letter.time } };
      if (letter.cdm !== undefined) msg.cdm = letter.cdm;
      this.send(msg);
    };
    const onMessage = deadLetters ? onDeadLetter : onCanonical;

    let closed = false;
    const unsubscribers: Unsubscribe[] = [];
    for (const filter of filters) {
      bus.subscribe(filter, qos, onMessage).then(
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
      void Promise.all(unsubscribers.map((unsubscribe) => unsubscribe({ keepAtBroker: !removed }))).then(() => done());
    });
  }

  RED.nodes.registerType('bus-subscribe', BusSubscribe);
};
