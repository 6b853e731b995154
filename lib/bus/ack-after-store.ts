/**
 * "Acknowledged means stored" for QoS 1 on the embedded broker with LevelDB.
 *
 * aedes 1.2.0 answers a QoS 1 PUBLISH with its PUBACK first and only then
 * publishes the message (lib/handlers/publish.js: `write(client, new
 * PubAck(packet), …)`, whose callback calls `broker.publish`), which is where
 * the message is queued for persistent subscribers (`outgoingEnqueueCombi`)
 * and a retained one stored (`storeRetained`). A broker killed between the two
 * loses messages its publisher was told it owns (the receiver sends PUBACK
 * "having accepted ownership of the Application Message", [MQTT-4.3.2-2]),
 * and the publisher forgets them: a burst of 500 to a topic a persistent
 * subscriber held, the broker SIGKILLed right after the last PUBACK, lost 237
 * to 330 in five runs of test/lib/bus/embedded-broker-crash.test.ts; none
 * with this module. aedes already stores first for QoS 2: PUBREC goes out
 * once `broker.publish` completed.
 *
 * This gives QoS 1 the same order through aedes' public hooks, without
 * copying its handler:
 *  - `authorizePublish` runs for a client's PUBLISH before the PUBACK is
 *    written. For QoS 1 it publishes the packet itself (the full aedes
 *    publish: retained store, queue entries for persistent subscribers,
 *    delivery to online ones, the `published` hook) and calls back, which
 *    lets aedes write the PUBACK, only once that publish completed.
 *  - The broker instance's `publish` then skips that same packet object when
 *    aedes' handler passes it on after the PUBACK, so it is published once.
 * A publish that fails is not acknowledged: the callback carries the error,
 * aedes closes the connection (as for a refused publish), and the publisher
 * sends the message again on its next connection.
 *
 * PUBACKs of one connection still go out in the order their PUBLISH packets
 * arrived [MQTT-4.6.0-2]: a publish that completes early waits for the earlier
 * ones. What the PUBACK now waits for is what aedes' QoS 2 waits for: the
 * LevelDB writes, and the write of the message to each online subscriber's
 * socket (a subscriber that stops reading delays it, up to aedes'
 * `drainTimeout`). With 512 messages in flight it kept 82% to 99% of
 * aedes' QoS 1 throughput in three runs of bench/broker.bench.ts. The writes are not synced unless the
 * persistence says so: a completed LevelDB write survives a killed process,
 * not a power cut (docs/outbox.md, "What durable means").
 *
 * The aedes internals this relies on each have a contract test in
 * test/lib/bus/aedes-contract.test.ts, named after the assumption: the QoS 1
 * PUBACK is written before `broker.publish` is called (when that fails, aedes
 * stores first and this module can go); `authorizePublish` is called for a
 * client's QoS 1 PUBLISH before its PUBACK is written, with the very packet
 * object the handler then passes to `client.broker.publish`, which it looks up
 * on the broker instance at call time; aedes publishes nothing when
 * authorizePublish calls back with an error.
 *
 * Upstream: no aedes issue asks for this (searched the moscajs/aedes
 * issues). Related and closed: #247, a pull request "Emit PubAck, PubRec after
 * publish in QoS 1 and 2", withdrawn by its author over a test-order
 * misreading, and #808, where a user asked to acknowledge only after their own
 * storage and was told aedes has no custom ack handler. The issue to file:
 * "QoS 1: PUBACK is sent before the message is queued for persistent
 * subscribers, so a broker crash loses acknowledged messages". Proposal:
 * in lib/handlers/publish.js, case 1 does what case 2 does, publish first and
 * write the PUBACK in `broker.publish`'s callback:
 *
 *     case 1:
 *       client.broker.publish(packet, client, (err) => {
 *         if (err) { return done(err) }
 *         write(client, new PubAck(packet), done)
 *       })
 *
 * with the reproduction in test/lib/bus/embedded-broker-crash.test.ts. The
 * PUBACKs of one socket read then follow the completion of their publishes,
 * which a persistence such as LevelDB settles in any order, so [MQTT-4.6.0-2]
 * needs the per-connection queue this module keeps; aedes' own "subscribe and
 * publish QoS 1 in parallel" test expects the PUBACK before the forwarded
 * PUBLISH and would change with it (#249 discusses that order).
 */

import { TectonicError } from '../errors';

type Callback = (error?: Error | null) => void;

interface PacketLike {
  cmd?: string;
  qos?: number;
  topic?: string;
}

/** aedes' `authorizePublish` hook. */
export type AuthorizePublish = (client: object | null, packet: PacketLike, callback: Callback) => void;

/** The part of an aedes instance this module replaces: `publish(packet, [client], [done])`. */
export interface PublishingBroker {
  publish: (...args: never[]) => void;
}

type Publish = (this: unknown, packet: object, client?: object | null | Callback, done?: Callback) => void;

export interface AckAfterStore {
  /** For aedes' options: authorizes with `authorize`, then publishes a client's QoS 1 PUBLISH before calling back. */
  authorizePublish: AuthorizePublish;
  /** Makes `broker.publish` skip the packets authorizePublish already published. Call once, before clients connect. */
  install(broker: PublishingBroker): void;
}

/**
 * aedes' default `authorizePublish`, which an `authorizePublish` option
 * replaces: clients may not publish to `$SYS/`, the broker's own topics.
 */
export const refuseSysTopics: AuthorizePublish = (_client, packet, callback) => {
  if (typeof packet.topic === 'string' && packet.topic.startsWith('$SYS/')) {
    callback(new Error('$SYS/ topic is reserved'));
    return;
  }
  callback(null);
};

interface Awaiting {
  settled: boolean;
  error: Error | null;
  callback: Callback;
}

export function createAckAfterStore(authorize: AuthorizePublish = refuseSysTopics): AckAfterStore {
  // The packets published from authorizePublish, for the publish after the PUBACK to skip.
  const publishedEarly = new WeakSet<object>();
  // Per connection, the QoS 1 publishes whose PUBACK has not been released yet, in arrival order.
  const awaiting = new WeakMap<object, Awaiting[]>();
  let original: Publish | undefined;
  let broker: PublishingBroker | undefined;

  const release = (client: object): void => {
    const queue = awaiting.get(client);
    if (queue === undefined) return;
    while (queue[0]?.settled === true) {
      const head = queue.shift() as Awaiting;
      head.callback(head.error);
    }
    if (queue.length === 0) awaiting.delete(client);
  };

  return {
    authorizePublish(client, packet, callback) {
      authorize(client, packet, (error) => {
        // Wills (no `cmd`), broker-side publishes (no client) and QoS 0 and 2 keep aedes' own path.
        if (error || client === null || packet.cmd !== 'publish' || packet.qos !== 1 || original === undefined) {
          callback(error ?? null);
          return;
        }
        const entry: Awaiting = { settled: false, error: null, callback };
        const queue = awaiting.get(client) ?? [];
        awaiting.set(client, queue);
        queue.push(entry);
        publishedEarly.add(packet);
        original.call(broker, packet, client, (publishError) => {
          entry.settled = true;
          entry.error = publishError ?? null;
          release(client);
        });
      });
    },
    install(target) {
      if (original !== undefined) throw new TectonicError('INVALID_ARGUMENT', 'createAckAfterStore: install() called twice');
      broker = target;
      const publish = target.publish as unknown as Publish;
      original = publish;
      const replacement: Publish = function (this: unknown, packet, client, done) {
        if (publishedEarly.delete(packet)) {
          // Published (stored, queued, delivered) before the PUBACK: nothing left to do.
          const callback = typeof client === 'function' ? client : done;
          callback?.(null);
          return;
        }
        publish.call(this, packet, client, done);
      };
      target.publish = replacement;
    },
  };
}
