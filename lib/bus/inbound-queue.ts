import type { DoneCallback, IPublishPacket } from 'mqtt';
import { TectonicError } from '../errors';

/** A PUBLISH that MQTT.js has handed over and not yet been told to acknowledge. */
interface Inbound {
  packet: IPublishPacket;
  routed: boolean;
  /** MQTT.js's callback: sends the PUBACK/PUBCOMP and lets it parse the next packet. Gone once its connection is. */
  ack: DoneCallback | undefined;
}

/** Where queued messages go once nothing holds them. */
export interface InboundRouter {
  route(packet: IPublishPacket): void;
  /** True while a message on `topic` must wait for a node that is coming back. */
  parkedFor(topic: string): boolean;
}

/**
 * The incoming PUBLISH packets of one connection, in arrival order, each
 * acknowledged only once it has been routed and no hold is active. MQTT.js
 * reads the next packet only after that acknowledgement, so holding it is
 * back-pressure on the socket (issue 6). At most one per connection is
 * waiting for its acknowledgement. "Acknowledged" here means MQTT.js is let
 * go on; the PUBACK it then makes may still be withheld until the record has
 * finished in the flow (BusClient.deferAck, deferred-acks.ts).
 */
export class InboundQueue {
  /** Active hold() calls. */
  private holds = 0;
  private readonly inbound: Inbound[] = [];
  private draining = false;
  private drainScheduled: NodeJS.Immediate | undefined;

  constructor(private readonly router: InboundRouter) {}

  /** Holds routing and acknowledging until the returned function is called (releasing twice is harmless). */
  hold(): () => void {
    this.holds += 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.holds -= 1;
      if (this.holds === 0) this.scheduleDrain();
    };
  }

  /** How many holds are active. */
  get holdCount(): number {
    return this.holds;
  }

  /** Routes now, or queues behind a hold, a parked filter, or earlier messages. */
  push(packet: IPublishPacket, ack: DoneCallback): void {
    this.inbound.push({ packet, routed: false, ack });
    this.drain();
  }

  scheduleDrain(): void {
    // Not synchronously: a hold is usually released from inside a node's
    // done() (a runtime hook), and routing from there would run a new message
    // through the flow in the middle of another one's completion.
    this.drainScheduled ??= setImmediate(() => {
      this.drainScheduled = undefined;
      this.drain();
    });
  }

  /** True while MQTT.js is waiting on us for the current connection. */
  waitingForAck(): boolean {
    return this.inbound.some((entry) => entry.ack !== undefined);
  }

  /**
   * The connection closed. MQTT.js reads a new connection with a new parser
   * ("pump") and drops what the old one had parsed; an acknowledgement sent
   * now would go out on the next connection for a packet id of the old one.
   * So the held callbacks are let go unanswered: a persistent session has the
   * broker resend those messages, as after any disconnect [MQTT-4.4.0-1], and
   * the old pump waits for ever on a socket that is gone. Messages already
   * read but not routed still go to their handlers when the hold ends, so
   * nothing that reached us is lost (it may come twice: at least once).
   */
  forgetAcknowledgements(): void {
    for (const entry of this.inbound) entry.ack = undefined;
    for (let i = this.inbound.length - 1; i >= 0; i--) if (this.inbound[i]?.routed) this.inbound.splice(i, 1);
  }

  /**
   * The connection is closing: what the flow has received is acknowledged, so
   * a persistent session does not resend it; what it has not stays with the broker.
   */
  settle(): void {
    clearImmediate(this.drainScheduled);
    this.drainScheduled = undefined;
    const entries = this.inbound.splice(0);
    for (const entry of entries) {
      if (entry.routed) entry.ack?.();
      else entry.ack?.(new TectonicError('BUS_CLOSED', 'the bus connection is closing'));
    }
  }

  private drain(): void {
    if (this.draining) return;
    this.draining = true;
    try {
      for (let entry = this.inbound[0]; entry !== undefined; entry = this.inbound[0]) {
        if (!entry.routed) {
          if (this.holds > 0 || this.router.parkedFor(entry.packet.topic)) return;
          entry.routed = true;
          this.router.route(entry.packet);
        }
        // Routing this one may have started a hold: then its acknowledgement, and so the next packet, waits.
        if (this.holds > 0) return;
        this.inbound.shift();
        entry.ack?.();
      }
    } finally {
      this.draining = false;
    }
  }
}
