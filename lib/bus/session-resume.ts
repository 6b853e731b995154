import { Readable } from 'node:stream';

/**
 * Keeps a persistent-session subscriber's messages in publish order, and its
 * connection up, while aedes resumes its session. Written against aedes 1.2.0
 * (lib/handlers/connect.js, lib/client.js) through its public hooks only;
 * test/lib/bus/embedded-broker-resume-order.test.ts fails if the aedes
 * behaviour it relies on changes: preConnect runs before the subscriptions are
 * restored, a live packet has no messageId when authorizeForward sees it, a
 * retained one sent on SUBSCRIBE has a null brokerId, and emptyQueue calls
 * outgoingUpdate for each replayed message before sending it.
 *
 * What goes wrong without it. On a CONNECT with clean: false aedes subscribes
 * the new client to its topics (`restoreSubs`), sends CONNACK, and only then
 * replays the messages queued for it (`emptyQueue`, from
 * `persistence.outgoingStream(client)`). Every QoS 1 message is first queued
 * for each persistent subscriber (`enqueueOffline`) and then handed to the
 * online ones (`deliverQoS`). So while the replay runs, messages published
 * meanwhile reach the client twice over two paths: live, interleaved with the
 * replay of older ones (out of order), and again from the queue. Whichever copy
 * the client acknowledges first deletes the queued entry; when aedes then
 * updates the other copy (`outgoingUpdate`) aedes-persistence-level answers
 * "no such packet", and aedes closes the subscriber's connection with that
 * error. The messages left in the queue wait for the next reconnect: the stall.
 * (The in-memory persistence hands out the same objects and hides this.)
 *
 * The gate. From the CONNECT of a clean: false client until its replay ends,
 * live deliveries to it are not forwarded (`authorizeForward`): each is queued
 * already, so the replay carries it instead. The replay is the stored queue
 * read after every enqueue begun before it settled, followed by every message
 * enqueued for the client while it runs, in call order, each once. The replay
 * ends, and the gate opens, in the same synchronous step that finds nothing
 * more enqueued; from then on a live copy of a message the replay already
 * carried is not forwarded again.
 *
 * Retained messages sent on SUBSCRIBE pass the gate: aedes sends them from
 * the retained store without queueing them, so the replay never carries them.
 *
 * Not covered: a QoS 1 or 2 message that reaches a QoS 0 subscription of the
 * resuming client during its replay is not queued, so the gate drops it; QoS 0
 * allows that.
 *
 * The four aedes internals this relies on each have a contract test in
 * test/lib/bus/aedes-contract.test.ts, named after the assumption.
 *
 * Upstream: waits for aedes to replay a resumed session's queue before it
 * forwards live messages to it. moscajs/aedes#649 ("clean = false subscriber
 * offline messages not sent in order") reported the interleaving and was
 * closed without a change to emptyQueue; 1.2.0 still restores subscriptions
 * before the replay. No open issue covers the "no such packet" disconnect
 * that follows with a persistence that hands out copies (LevelDB). The issue
 * to file: "a persistent session resuming while messages are published gets
 * live messages interleaved with its replay, each twice, and is closed with
 * 'no such packet' by outgoingUpdate (aedes-persistence-level)", with
 * test/lib/bus/embedded-broker-resume-order.test.ts as the reproduction.
 */

interface PacketLike {
  brokerId?: string | null;
  brokerCounter?: number;
  messageId?: number;
  qos?: number;
}

interface ClientLike {
  id: string | null;
}

interface Enqueued {
  packet: PacketLike;
  stored: Promise<unknown>;
}

export interface SessionResumeGate {
  /** aedes `preConnect`: closes the gate for a client resuming a persistent session. */
  preConnect: (client: ClientLike, packet: { clean?: boolean }, callback: (error: Error | null, success: boolean) => void) => void;
  /** aedes `authorizeForward`: holds back live deliveries while the gate is closed. */
  authorizeForward: <P extends PacketLike>(client: ClientLike, packet: P) => P | null;
  /** Wraps an aedes persistence so the replay of a gated client carries what the gate held back. */
  wrapPersistence: <T extends object>(persistence: T) => T;
}

const ENQUEUE_METHODS = new Set(['outgoingEnqueue', 'outgoingEnqueueCombi']);

const keyOf = (packet: PacketLike): string => `${packet.brokerId ?? ''}:${packet.brokerCounter ?? 0}`;

export function createSessionResumeGate(): SessionResumeGate {
  const gated = new WeakSet<object>();
  // After the replay: per brokerId the highest counter it carried (aedes's own `dedupe` rule).
  const replayedUpTo = new WeakMap<object, Map<string, number>>();
  // Replays running, by client id.
  const replays = new Map<string, Set<Replay>>();
  const pendingEnqueues = new Set<Promise<unknown>>();
  let wrapped = false;

  interface Replay {
    client: object;
    /** Enqueued for the client since its replay began, in call order. */
    queue: Enqueued[];
    upTo: Map<string, number>;
    lastYielded: string | undefined;
    lastConsumed: boolean;
    open: boolean;
    /** Set while the replay has sent everything and waits for aedes to take the last one, or for more. */
    wake: (() => void) | undefined;
  }

  const stopRecording = (id: string, replay: Replay): void => {
    const forId = replays.get(id);
    forId?.delete(replay);
    if (forId?.size === 0) replays.delete(id);
  };

  // The gate opens only once aedes has taken the last replayed message to send
  // it (its outgoingUpdate), not when the stream ends: the pipeline in
  // emptyQueue buffers a few dozen messages, which live ones would overtake.
  const openGate = (id: string, replay: Replay): void => {
    if (replay.open) return;
    replay.open = true;
    stopRecording(id, replay);
    gated.delete(replay.client);
    replayedUpTo.set(replay.client, replay.upTo);
    replay.wake?.();
  };

  async function* replayQueue(id: string, replay: Replay, stored: () => Readable, before: Promise<unknown>): AsyncGenerator<PacketLike> {
    const carried = new Set<string>();
    const carry = (packet: PacketLike): PacketLike => {
      const key = keyOf(packet);
      carried.add(key);
      const brokerId = packet.brokerId ?? '';
      replay.upTo.set(brokerId, Math.max(replay.upTo.get(brokerId) ?? 0, packet.brokerCounter ?? 0));
      replay.lastYielded = key;
      replay.lastConsumed = false;
      return packet;
    };
    // An enqueue begun before the replay may not be on disk yet; the stored queue is read after it.
    await before;
    for await (const packet of stored() as AsyncIterable<PacketLike>) yield carry(packet);
    while (!replay.open) {
      const next = replay.queue.shift();
      if (next !== undefined) {
        const ok = await next.stored.then(
          () => true,
          () => false,
        );
        if (ok && !carried.has(keyOf(next.packet)) && !replay.open) yield carry(next.packet);
        continue;
      }
      if (replay.lastYielded === undefined || replay.lastConsumed) {
        openGate(id, replay);
        return;
      }
      await new Promise<void>((resolve) => {
        replay.wake = resolve;
      });
      replay.wake = undefined;
    }
  }

  return {
    preConnect(client, packet, callback) {
      // Without the wrapped persistence nothing would open the gate again.
      if (packet.clean === false && wrapped) gated.add(client);
      callback(null, true);
    },
    authorizeForward(client, packet) {
      // Replayed packets carry the message id aedes gave them; live ones have none yet.
      if (packet.messageId !== undefined || (packet.qos ?? 0) === 0) return packet;
      // A retained message sent on SUBSCRIBE (aedes clears its brokerId) is never
      // queued, so no replay can carry it: held back here, it would be lost.
      if (packet.brokerId === null) return packet;
      if (gated.has(client)) return null;
      const upTo = replayedUpTo.get(client)?.get(packet.brokerId ?? '');
      if (upTo !== undefined && (packet.brokerCounter ?? 0) <= upTo) return null;
      return packet;
    },
    wrapPersistence<T extends object>(persistence: T): T {
      wrapped = true;
      return new Proxy(persistence, {
        get(target, property, receiver) {
          const value: unknown = Reflect.get(target, property, receiver);
          if (typeof value !== 'function' || property === 'setup') return value;
          const method = value as (...args: unknown[]) => unknown;
          if (typeof property === 'string' && ENQUEUE_METHODS.has(property)) {
            return (...args: unknown[]): unknown => {
              const result = method.apply(target, args);
              if (!(result instanceof Promise)) return result;
              const settled = result.then(
                () => undefined,
                () => undefined,
              );
              pendingEnqueues.add(settled);
              void settled.then(() => pendingEnqueues.delete(settled));
              const subs = (property === 'outgoingEnqueue' ? [args[0]] : (args[0] as unknown[] | undefined) ?? []) as { clientId?: string }[];
              for (const sub of subs) {
                for (const replay of replays.get(sub.clientId ?? '') ?? []) {
                  replay.queue.push({ packet: args[1] as PacketLike, stored: result });
                  replay.wake?.();
                }
              }
              return result;
            };
          }
          if (property === 'outgoingStream') {
            return (client: ClientLike & object): unknown => {
              if (!gated.has(client) || client.id === null) return method.call(target, client);
              const id = client.id;
              const before = Promise.all(pendingEnqueues);
              // Recording starts now, not when aedes first reads the stream.
              const replay: Replay = { client, queue: [], upTo: new Map(), lastYielded: undefined, lastConsumed: false, open: false, wake: undefined };
              const forId = replays.get(id) ?? new Set<Replay>();
              replays.set(id, forId);
              forId.add(replay);
              const stream = Readable.from(replayQueue(id, replay, () => method.call(target, client) as Readable, before));
              stream.once('close', () => stopRecording(id, replay));
              return stream;
            };
          }
          if (property === 'outgoingUpdate') {
            return (client: ClientLike & object, packet: PacketLike, ...rest: unknown[]): unknown => {
              const result = method.call(target, client, packet, ...rest);
              for (const replay of replays.get(client.id ?? '') ?? []) {
                if (replay.client !== client || replay.lastYielded !== keyOf(packet)) continue;
                replay.lastConsumed = true;
                // Only a replay that has read its whole stored queue may end here.
                if (replay.wake !== undefined && replay.queue.length === 0) openGate(client.id ?? '', replay);
                else replay.wake?.();
              }
              return result;
            };
          }
          return method.bind(target);
        },
      });
    },
  };
}
