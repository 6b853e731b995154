/** The part of a socket (or any duplex stream) coalesceWrites needs. */
export interface CorkableStream {
  on(event: 'data', listener: (chunk: unknown) => void): unknown;
  cork(): void;
  uncork(): void;
  readonly destroyed?: boolean;
}

/**
 * Gathers what is written to `stream` in the event-loop turn in which data
 * arrived into one write. MQTT.js writes each packet in its own tick, so at
 * thousands of messages a second every PUBACK was a system call of its own
 * (a tenth of the pipeline's CPU in the benchmark's profile). The cork is
 * lifted in the same turn's check phase, after the messages read have been
 * handled: acknowledgements wait a fraction of a millisecond, never a timer.
 */
export function coalesceWrites(stream: CorkableStream): () => void {
  let corked = false;
  const uncork = (): void => {
    corked = false;
    stream.uncork();
  };
  const corkForTurn = (): void => {
    if (corked || stream.destroyed === true) return;
    corked = true;
    stream.cork();
    setImmediate(uncork);
  };
  stream.on('data', corkForTurn);
  // Also for writes that answer something else: withheld PUBACKs go out when records finish, which happens on another connection's data (issue 19).
  return corkForTurn;
}
