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
 */
const ORDERED_METHODS = new Set(['storeRetained', 'subscriptionsByTopic', 'outgoingEnqueueCombi', 'outgoingEnqueue', 'outgoingUpdate']);

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
export function settleInCallOrder<T extends object>(persistence: T): TrackedPersistence<T> {
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
