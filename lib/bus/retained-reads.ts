import { Readable } from 'node:stream';

/**
 * aedes reads a new subscription's retained messages from its persistence as
 * a stream and `pipe`s it into the client with no 'error' listener
 * (lib/handlers/subscribe.js). A read that fails, as the LevelDB iterator
 * does when the store is closed under it ("Iterator is not open: cannot read
 * after close()") or a Redis read after its connection is gone, then throws
 * from an EventEmitter with nobody listening, and that ends the process: a
 * redeploy of the embedded broker while a site subscribed took down the whole
 * Node-RED runtime (seen in a CI run of test/nodes/secrets-in-logs.test.ts).
 *
 * This wraps the two stream methods on the persistence instance itself (no
 * proxy on the per-message path): every stream gets an 'error' listener, and
 * `endAll()` ends the reads still open so the store can be closed after them.
 */
export interface RetainedReads {
  /** Ends every retained read still open and resolves when they are closed (bounded by `boundMs`). */
  endAll(boundMs?: number): Promise<void>;
}

const STREAM_METHODS = ['createRetainedStreamCombi', 'createRetainedStream'] as const;

export function guardRetainedReads(persistence: object, onError: (err: Error) => void): RetainedReads {
  const open = new Set<Readable>();
  let ending = false;
  const target = persistence as Record<string, unknown>;
  for (const name of STREAM_METHODS) {
    const original = target[name];
    if (typeof original !== 'function') continue;
    target[name] = function guardedRetainedRead(this: unknown, ...args: unknown[]): unknown {
      const stream: unknown = (original as (...a: unknown[]) => unknown).apply(this, args);
      if (!(stream instanceof Readable)) return stream;
      open.add(stream);
      stream.once('close', () => open.delete(stream));
      stream.on('error', (err: Error) => {
        // A read cut short by the broker's own close is expected; anything else is the store failing.
        if (!ending) onError(err);
      });
      return stream;
    };
  }
  return {
    async endAll(boundMs = 2000) {
      ending = true;
      const closing = [...open].map((stream) => new Promise<void>((resolve) => (stream.closed ? resolve() : stream.once('close', () => resolve()))));
      for (const stream of open) stream.destroy();
      let timer: NodeJS.Timeout | undefined;
      const bound = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, boundMs);
        timer.unref();
      });
      await Promise.race([Promise.all(closing), bound]);
      clearTimeout(timer);
    },
  };
}
