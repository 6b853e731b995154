import type { Reason } from '../reasons';
import type { OutboxEntry } from './entry-codec';
import { SeqHeap } from './seq-heap';

/** A refusal is `transient` when the same message may be taken later (the outbox full, closing for a redeploy, a failed write). */
export type AppendResult = { ok: true; seq: number; dropped: readonly OutboxEntry[] } | { ok: false; reason: Reason; transient: boolean };

/** One entry the outbox holds, and where it is on its way to disk. */
export interface Slot {
  entry: OutboxEntry;
  bytes: number;
  /** pending: in the batch being collected; writing: in the batch being written; durable: on disk. */
  state: 'pending' | 'writing' | 'durable';
  /** The bus took it (or it was given up) before it was on disk: no put, or a delete after the put. */
  settled: boolean;
  dropped: readonly OutboxEntry[];
  /** The append waiting for this entry to be accepted; undefined once answered (and for entries loaded at open). */
  answer?: (result: AppendResult) => void;
}

/**
 * The in-memory mirror of what the outbox holds, within its bounds
 * (maxCount entries, maxBytes of payload and topic): the entries not yet
 * acked, the line of those waiting to be handed out, and those in flight.
 * next() never reads the disk.
 */
export class HeldEntries {
  /** Entries not yet acked, on disk or on their way there, handed out or not. */
  private readonly held = new Map<number, Slot>();
  /** Entries waiting to be handed out, oldest first (may hold seqs acked meanwhile; next() skips them). */
  private readonly waiting = new SeqHeap();
  private readonly inFlight = new Set<number>();
  private heldBytes = 0;

  constructor(
    private readonly maxCount: number,
    private readonly maxBytes: number,
  ) {}

  get size(): number {
    return this.held.size;
  }

  get bytes(): number {
    return this.heldBytes;
  }

  get(seq: number): Slot | undefined {
    return this.held.get(seq);
  }

  /** Holds `slot` and puts it in line. */
  add(slot: Slot): void {
    this.held.set(slot.entry.seq, slot);
    this.heldBytes += slot.bytes;
    this.waiting.push(slot.entry.seq);
  }

  /** Stops holding `slot` (acked, or its write failed). */
  remove(slot: Slot): void {
    this.held.delete(slot.entry.seq);
    this.heldBytes -= slot.bytes;
  }

  /** Whether one more entry of `size` bytes stays within both bounds. */
  fits(size: number): boolean {
    return this.held.size + 1 <= this.maxCount && this.heldBytes + size <= this.maxBytes;
  }

  isInFlight(seq: number): boolean {
    return this.inFlight.has(seq);
  }

  /** The entry is handed out no more (acked). */
  landed(seq: number): void {
    this.inFlight.delete(seq);
  }

  /** The oldest entry not handed out yet, now marked in flight; undefined when none waits. */
  next(): OutboxEntry | undefined {
    for (;;) {
      const seq = this.waiting.pop();
      if (seq === undefined) return undefined;
      const slot = this.held.get(seq);
      if (slot === undefined || this.inFlight.has(seq)) continue;
      this.inFlight.add(seq);
      return slot.entry;
    }
  }

  /** Hands an entry out again later: it comes before every newer entry. */
  release(seq: number): void {
    if (!this.inFlight.delete(seq)) return;
    if (this.held.has(seq)) this.waiting.push(seq);
  }

  /**
   * Removes the oldest waiting entries on disk until an entry of `size` fits;
   * puts them back if even that is not enough. Entries not yet on disk are
   * newer than every one that is, and their appends are not answered yet:
   * they are not dropped.
   */
  evictFor(size: number): OutboxEntry[] {
    const evicted: Slot[] = [];
    while (!this.fits(size)) {
      const seq = this.waiting.pop();
      if (seq === undefined) break;
      const slot = this.held.get(seq);
      if (slot === undefined || this.inFlight.has(seq)) continue;
      if (slot.state !== 'durable') {
        this.waiting.push(seq);
        break;
      }
      this.held.delete(seq);
      this.heldBytes -= slot.bytes;
      evicted.push(slot);
    }
    if (this.fits(size)) return evicted.map((slot) => slot.entry);
    for (const slot of evicted) {
      this.held.set(slot.entry.seq, slot);
      this.heldBytes += slot.bytes;
      this.waiting.push(slot.entry.seq);
    }
    return [];
  }
}
