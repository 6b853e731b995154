import type { Aedes } from 'aedes' with { 'resolution-mode': 'import' };
import { Counter, Gauge } from 'prom-client';
import { metricsRegistry } from '../metrics/registry';

/**
 * The embedded broker's figures for capacity planning, on the pack's
 * Prometheus registry. aedes keeps only a count of connected clients, so the
 * rest is counted here from its events and its clients:
 * - messages in: its `publish` event for packets from a client (not $SYS);
 * - messages out: each client's `deliver0` / `deliverQoS` (instance
 *   functions aedes' Client sets in its constructor; test/lib/bus/broker-metrics.test.ts
 *   pins that assumption), counted as they are called;
 * - queued: QoS 1/2 messages sent to clients and not yet acknowledged
 *   (deliveries minus aedes' `ack` events);
 * - retained bytes: the payloads of the retained messages now held, kept
 *   per topic from `publish` events (an empty retained message deletes).
 * Registered once per process; every running broker adds to the same series.
 */
interface BrokerFigures {
  clients: () => number;
  messagesIn: number;
  messagesOut: number;
  unacknowledged: number;
  retained: Map<string, number>;
}

const brokers = new Set<BrokerFigures>();
let registered = false;

function sum(read: (b: BrokerFigures) => number): number {
  let total = 0;
  for (const b of brokers) total += read(b);
  return total;
}

function register(): void {
  if (registered) return;
  registered = true;
  const gauge = (name: string, help: string, read: (b: BrokerFigures) => number): void => {
    new Gauge({ name, help, registers: [metricsRegistry], collect() { this.set(sum(read)); } });
  };
  const counter = (name: string, help: string, read: (b: BrokerFigures) => number): void => {
    new Counter({ name, help, registers: [metricsRegistry], collect() { this.reset(); this.inc(sum(read)); } });
  };
  gauge('tectonic_broker_connections', 'Clients connected to the embedded broker', (b) => b.clients());
  counter('tectonic_broker_messages_received_total', 'PUBLISH packets the embedded broker received from clients', (b) => b.messagesIn);
  counter('tectonic_broker_messages_sent_total', 'PUBLISH packets the embedded broker delivered to subscribers', (b) => b.messagesOut);
  gauge('tectonic_broker_queued_messages', 'QoS 1/2 messages the embedded broker sent and subscribers have not acknowledged yet', (b) => b.unacknowledged);
  gauge('tectonic_broker_retained_bytes', 'Bytes of payload in the retained messages the embedded broker holds', (b) => {
    let bytes = 0;
    for (const n of b.retained.values()) bytes += n;
    return bytes;
  });
  gauge('tectonic_broker_retained_messages', 'Retained messages the embedded broker holds', (b) => b.retained.size);
}

type DeliverFunction = (packet: { qos?: number }, cb: () => void) => void;

/** Counts one aedes instance's figures from now until it closes. The embedded broker calls it once, at start. */
export function watchBrokerMetrics(aedes: Aedes): void {
  register();
  const figures: BrokerFigures = { clients: () => aedes.connectedClients, messagesIn: 0, messagesOut: 0, unacknowledged: 0, retained: new Map() };
  brokers.add(figures);
  aedes.on('publish', (packet, client) => {
    if (client === null || client === undefined) return;
    figures.messagesIn += 1;
    if (packet.retain) {
      if (packet.payload.length === 0) figures.retained.delete(packet.topic);
      else figures.retained.set(packet.topic, packet.payload.length);
    }
  });
  aedes.on('client', (client) => {
    const c = client as unknown as { deliver0?: DeliverFunction; deliverQoS?: DeliverFunction };
    const deliver0 = c.deliver0;
    const deliverQoS = c.deliverQoS;
    if (typeof deliver0 !== 'function' || typeof deliverQoS !== 'function') return;
    c.deliver0 = (packet, cb) => {
      figures.messagesOut += 1;
      deliver0(packet, cb);
    };
    // deliverQoS hands a QoS 0 packet to deliver0, which counts it.
    c.deliverQoS = (packet, cb) => {
      if ((packet.qos ?? 0) > 0) {
        figures.messagesOut += 1;
        figures.unacknowledged += 1;
      }
      deliverQoS(packet, cb);
    };
  });
  aedes.on('ack', () => {
    if (figures.unacknowledged > 0) figures.unacknowledged -= 1;
  });
  aedes.once('closed', () => brokers.delete(figures));
}
