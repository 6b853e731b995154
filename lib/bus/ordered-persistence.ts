/**
 * The aedes persistence methods on a message's way from publisher to
 * subscriber. aedes handles the packets of one read from a socket
 * concurrently, and between receiving a PUBLISH and handing it to online
 * subscribers it awaits these methods. With the in-memory persistence they
 * settle in call order; with aedes-persistence-level each is a LevelDB
 * operation on libuv's thread pool, and they settle in any order. Two
 * things then go wrong (seen in test/lib/outbox/outbox-sender.test.ts: 2 to 4
 * of 1000 QoS 1 messages never reached a connected persistent-session
 * subscriber, with no broker restart at all):
 *  - aedes drops a message whose broker counter is lower than the last one it
 *    forwarded to that client, taking it for a duplicate (lib/client.js
 *    `dedupe`), so a message overtaken by the next one is lost to the online
 *    subscriber (it stays queued until the subscriber's next reconnect);
 *  - messages reach subscribers out of publish order.
 *
 * The aedes internals this relies on (dedupe by broker counter; persistence
 * methods called on the object given to aedes and awaited as promises;
 * close() not waiting for persistence writes) have contract tests in
 * test/lib/bus/aedes-contract.test.ts, named after the assumption.
 *
 * Upstream: waits for aedes to stop dropping an overtaken message as a
 * duplicate: moscajs/aedes#955 ("Not all messages are consumed when dedupe
 * is enabled", open) and moscajs/aedes#994 ("qos2 message lost when followed
 * by a qos0 message", open, the same lower-brokerCounter drop); #344 was the
 * earlier report with aedes-persistence-mongodb. No issue was found for
 * close() not awaiting the persistence work its clients started; the one to
 * file: "Aedes.close() resolves while persistence writes started by client
 * packets are in flight; closing the store under them loses acknowledged QoS 1
 * messages".
 */
const ORDERED_METHODS = new Set(['storeRetained', 'subscriptionsByTopic', 'outgoingEnqueueCombi', 'outgoingEnqueue', 'outgoingUpdate']);

export interface SettleOptions {
  /**
   * Gives a QoS 1 or 2 message its broker number (`brokerCounter`) again as
   * it is queued, in the order it will be forwarded. aedes numbers a message
   * when it arrives and drops as a duplicate one numbered lower than the last
   * it forwarded to a client, but a retained message is queued only after its
   * retained-store write, so a message that arrived after it was forwarded
   * first and the retained one was lost to every online subscriber (a site's
   * birth behind a regional hub, test/lib/bus/embedded-broker-retained-overtaken.test.ts:
   * 180 of 200). Queue calls settle in call order here, so numbering them
   * at the call numbers them in forwarding order; the stored copy and the
   * forwarded one keep the same number, as aedes' outgoingUpdate needs.
   * A QoS 0 message is forwarded without being queued: one arriving between
   * a QoS 1 message's queueing and its forwarding can still overtake it
   * (moscajs/aedes#994).
   */
  renumber?: (packet: { brokerCounter?: number }) => void;
}

export interface TrackedPersistence<T> {
  persistence: T;
  /** Resolves once no persistence operation is in flight; bounded (gives up after `maxRounds` rounds of new work). */
  idle(maxRounds?: number): Promise<void>;
}

/**
 * Wraps an aedes persistence so the promises of ORDERED_METHODS settle in the
 * order they were called. The operations themselves still run concurrently;
 * only their answers are handed back in order, so throughput stays close to
 * the unwrapped store. A call never waits for a later one, so this cannot
 * deadlock. Every other member (setup, which aedes requires to be an
 * AsyncFunction, the callback forms, events) passes through, but the promises
 * of every method are tracked: aedes.close() does not wait for the writes its
 * clients started, and closing LevelDB under them lost QoS 1 messages that
 * had been acknowledged (1 run in 4 of the broker-restart test); close()
 * awaits idle() first.
 */
export function settleInCallOrder<T extends object>(persistence: T, options: SettleOptions = {}): TrackedPersistence<T> {
  const renumber = options.renumber;
  let last: Promise<unknown> = Promise.resolve();
  const inFlight = new Set<Promise<unknown>>();
  const track = (work: Promise<unknown>): void => {
    const settled = work.then(
      () => undefined,
      () => undefined,
    );
    inFlight.add(settled);
    void settled.then(() => inFlight.delete(settled));
  };
  const proxy = new Proxy(persistence, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof property !== 'string' || property === 'setup' || typeof value !== 'function') return value;
      return (...args: unknown[]): unknown => {
        if (renumber !== undefined && property === 'outgoingEnqueueCombi') renumber(args[1] as { brokerCounter?: number });
        const result: unknown = (value as (...a: unknown[]) => unknown).apply(target, args);
        // The callback forms return nothing to order or track.
        if (!(result instanceof Promise)) return result;
        track(result);
        if (!ORDERED_METHODS.has(property)) return result;
        const ordered = last.then(
          () => result,
          () => result,
        );
        last = ordered.catch(() => undefined);
        return ordered;
      };
    },
  });
  return {
    persistence: proxy,
    async idle(maxRounds = 50) {
      // aedes defers some persistence calls with setImmediate (delivery to each
      // subscriber), so "nothing in flight" counts only after a quiet turn.
      let quiet = 0;
      for (let round = 0; round < maxRounds && quiet < 3; round += 1) {
        await new Promise((resolve) => setImmediate(resolve));
        if (inFlight.size === 0) quiet += 1;
        else {
          quiet = 0;
          await Promise.all(inFlight);
        }
      }
    },
  };
}
