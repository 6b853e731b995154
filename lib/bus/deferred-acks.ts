/**
 * PUBACKs withheld until the record a PUBLISH carried has finished in the
 * flow, so a site killed mid-flow loses nothing the broker was told it has:
 * the broker resends every unacknowledged QoS 1 message on the next
 * connection of the persistent session [MQTT-4.4.0-1].
 *
 * MQTT.js acknowledges a QoS 1 PUBLISH from the callback of handleMessage,
 * and that same callback lets it parse the next packet: holding it would run
 * the flow one record at a time. So BusClient lets the callback run at once
 * and catches the PUBACK it makes on its way out (client._sendPacket); this
 * queue keeps those PUBACKs and writes them in the order the PUBLISHes
 * arrived [MQTT-4.6.0-2], each once its record and every one before it have
 * finished: a FIFO released from its head.
 *
 * It leans on MQTT.js 5.16 internals (handlers/publish.js: the PUBACK goes
 * through client._sendPacket after the handleMessage callback), each one
 * pinned by a test in test/lib/bus/mqtt-contract.test.ts. It waits for
 * acknowledgement under the application's control in MQTT.js (mqttjs/MQTT.js
 * issues #691 "Controlling Acknowledgements explicitly upon receiving
 * messages" and #211, both closed without it): the `customHandleAcks` option
 * exists, but only for MQTT 5, and MQTT.js waits for its answer before it
 * reads the next packet; it chooses the reason code, it cannot acknowledge later.
 *
 * One queue per connection: on a close it forgets everything (forget()), as
 * an acknowledgement sent on the next connection would carry a packet id of
 * the old one. Per record the hot path costs one entry and one closure.
 */

/** The PUBACK MQTT.js hands to _sendPacket. */
export interface PubackPacket {
  cmd: 'puback';
  messageId?: number;
  reasonCode?: number;
}

/**
 * How a deferral ends. 'finished': the record is done with (every node
 * called done(), or its lease ran out), so its PUBACK may go. 'abandoned':
 * the flow let go of it unfinished (the node closed): no PUBACK, so the broker
 * keeps the message for the session's next connection.
 */
export type DeferralOutcome = 'finished' | 'abandoned';

/** Ends one deferral; calling it again, or after its connection closed, does nothing. */
export type ReleaseAck = (outcome?: DeferralOutcome) => void;

interface Pending {
  messageId: number;
  /** Deferrals not released yet (several routes may defer one message). */
  open: number;
  abandoned: boolean;
  /** The PUBACK MQTT.js made, once it has. */
  puback: PubackPacket | undefined;
}

export class DeferredAcks {
  /** In arrival order; the head is the next PUBACK that may go. */
  private queue: Array<Pending | undefined> = [];
  private head = 0;
  /** Deferred messages whose PUBACK MQTT.js has not made yet, by packet id (unique while unacknowledged [MQTT-2.2.1-3]). */
  private readonly awaiting = new Map<number, Pending>();
  /** Bumped by forget(): a release from an earlier connection does nothing. */
  private generation = 0;
  /** PUBACKs not sent because their record was abandoned. */
  abandonedCount = 0;

  /** `write` sends a PUBACK on the current connection (MQTT.js's own _sendPacket). */
  constructor(private readonly write: (packet: PubackPacket) => void) {}

  /** PUBACKs withheld or awaited now. */
  get size(): number {
    return this.queue.length - this.head;
  }

  /** Withholds the PUBACK of `messageId` (a QoS 1 PUBLISH being routed now) until the returned function is called. */
  defer(messageId: number): ReleaseAck {
    let entry = this.awaiting.get(messageId);
    if (entry === undefined) {
      entry = { messageId, open: 0, abandoned: false, puback: undefined };
      this.awaiting.set(messageId, entry);
      this.queue.push(entry);
    }
    entry.open += 1;
    const pending = entry;
    const generation = this.generation;
    let released = false;
    return (outcome = 'finished') => {
      if (released || generation !== this.generation) return;
      released = true;
      if (outcome === 'abandoned') pending.abandoned = true;
      pending.open -= 1;
      if (pending.open === 0) this.flush();
    };
  }

  /**
   * MQTT.js is sending `packet`. True: it is withheld (deferred, or behind one
   * that is) and will be written in its turn; false: send it now.
   */
  withhold(packet: PubackPacket): boolean {
    const messageId = packet.messageId;
    if (messageId === undefined) return false;
    const entry = this.awaiting.get(messageId);
    if (entry !== undefined) {
      this.awaiting.delete(messageId);
      entry.puback = packet;
      this.flush();
      return true;
    }
    // Not deferred, but a PUBACK may not overtake an earlier one [MQTT-4.6.0-2].
    if (this.size === 0) return false;
    this.queue.push({ messageId, open: 0, abandoned: false, puback: packet });
    return true;
  }

  /** The connection closed: nothing withheld may be sent on the next one; the broker resends those messages. */
  forget(): void {
    this.generation += 1;
    this.queue = [];
    this.head = 0;
    this.awaiting.clear();
  }

  private flush(): void {
    for (let entry = this.queue[this.head]; entry !== undefined && entry.open === 0 && entry.puback !== undefined; entry = this.queue[this.head]) {
      this.queue[this.head] = undefined;
      this.head += 1;
      if (entry.abandoned) this.abandonedCount += 1;
      else this.write(entry.puback);
    }
    // Compact now and then rather than shift() per PUBACK.
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }
}
