import type { IPublishPacket } from 'mqtt';
import type { Node, NodeAPI, NodeDef } from 'node-red';
import type { QoS } from '../lib/bus/bus-client';
import type { SharedBusState } from '../lib/bus/shared-bus';
import { type DecodeLimits, DEFAULT_DECODE_LIMITS, decodeMessage } from '../lib/envelope/cloudevents';
import { parseMajors, subscriptionFilters, topicDisagreement } from '../lib/envelope/topics';
import { type Reason, describeReasons } from '../lib/reasons';
import { findBus } from './support/bus-config';
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
    const filters = subscriptionFilters({ entity: config.entity, majors: majors.value, site, group });
    if (!filters.ok) return fail(describeReasons(filters.reasons));
    const qos = (['0', '1', '2'].includes(config.qos) ? Number(config.qos) : 1) as QoS;
    const maxBytesText = (config.maxBytes ?? '').trim();
    if (!/^\d*$/.test(maxBytesText)) return fail(`max bytes must be a whole number, got "${maxBytesText}"`);
    const maxBytes = maxBytesText === '' ? DEFAULT_DECODE_LIMITS.maxBytes : Number(maxBytesText);
    const limits: DecodeLimits = { ...DEFAULT_DECODE_LIMITS, maxBytes };

    const throttle = new StatusThrottle(this);
    let state: SharedBusState = bus.state;
    let received = 0;
    let refused = 0;
    const render = (): void =>
      throttle.show(() => busStatus(state, `${received} received${refused > 0 ? `, ${refused} malformed` : ''}`));
    const stopWatching = bus.onState((next) => {
      state = next;
      render();
    });

    const reportMalformed = (topic: string, payload: Buffer, reasons: Reason[]): void => {
      refused += 1;
      render();
      this.error(`bus-subscribe: malformed message on ${topic}: ${describeReasons(reasons)}`, {
        topic,
        payload: payload.toString('utf8', 0, RAW_PREVIEW_CHARS),
        reject: { stage: 'bus-subscribe', reasons },
      });
    };

    const onMessage = (topic: string, payload: Buffer, packet: IPublishPacket): void => {
      const decoded = decodeMessage({ payload, properties: packet.properties }, limits);
      if (!decoded.ok) return reportMalformed(topic, payload, decoded.reasons);
      const disagreement = topicDisagreement(topic, decoded.value.envelope);
      if (disagreement.length > 0) return reportMalformed(topic, payload, disagreement);
      received += 1;
      render();
      this.send({ topic, payload: decoded.value.data, cdm: decoded.value.envelope });
    };

    let closed = false;
    const unsubscribers: Array<() => Promise<void>> = [];
    for (const filter of filters.value) {
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

    this.on('close', (done: () => void) => {
      closed = true;
      stopWatching();
      throttle.stop();
      void Promise.all(unsubscribers.map((unsubscribe) => unsubscribe())).then(() => done());
    });
  }

  RED.nodes.registerType('bus-subscribe', BusSubscribe);
};
