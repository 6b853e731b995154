import type { FlowControl } from '../flow/flow-control';
import type { CounterReads } from './counters';

/**
 * bus-subscribe's counters in the store: its decoder counts, so in, out and
 * rejects are read from there. In: every message decoded; out: those let
 * into the flow; rejected: duplicates dropped and malformed messages.
 * Probes are neither (the decoder drops them before it counts).
 */
export function subscribeCounterReads(counts: { received: number; duplicatesDropped: number; malformed: number }, probes: { dropped: number }, flow: FlowControl | undefined): CounterReads {
  return {
    counts: () => ({ ...counts, probesDropped: probes.dropped, held: flow?.counts.held ?? 0, expired: flow?.counts.expired ?? 0, retried: flow?.retryCounts.retried ?? 0 }),
    levels: () => ({ inFlight: flow?.inFlight.size ?? 0 }),
    sync: (c) => {
      c.in = counts.received + counts.duplicatesDropped + counts.malformed;
      c.out = counts.received;
      c.setRejected('duplicate', counts.duplicatesDropped);
      c.setRejected('malformed', counts.malformed);
    },
  };
}
