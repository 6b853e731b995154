import type { ClassicLevel } from 'classic-level';
import { TectonicError } from '../errors';
import { type Reason, reason } from '../reasons';
import { ENTRY_RANGE, NEXT_SEQ_KEY, type OutboxEntry, type OutboxMessage, decodeEntry, decodeSeq, encodeEntry, encodeSeq, entryBytes, entryKey, seqOfKey } from './entry-codec';
import { type AppendResult, HeldEntries, type Slot } from './held-entries';
import { openDatabase } from './outbox-database';

export type { OutboxEntry, OutboxMessage } from './entry-codec';
export type { AppendResult } from './held-entries';

export interface OutboxOptions {
  /** A folder of its own (LevelDB locks it: one outbox per folder per process). */
  dir: string;
  maxCount: number;
  /** Bound on payload + topic bytes of the entries held. */
  maxBytes: number;
  whenFull: 'reject' | 'drop-oldest';
  /** Group commit window: appends within it share one synced write. Default 2 ms; 0 = one write per event-loop turn. */
  commitIntervalMs?: number;
  /**
   * An entry on its way to the bus (in flight, or waiting while `sending()`
   * says the sender is sending) is left out of a batch for up to this long
   * after its append, so that the bus's acknowledgement, usually much
   * quicker, spares it the write. Default 0: every entry goes in the next batch.
   */
  sendGraceMs?: number;
  /** True while the sender is sending (the bus is connected). Default: only entries in flight get the grace. */
  sending?: () => boolean;
  now?: () => number;
  /** Problems no caller waits for: corrupt entries skipped at open, a failed delete. Never thrown. */
  onProblem?: (problem: Reason) => void;
}

type Operation = { type: 'put'; key: Buffer; value: Buffer } | { type: 'del'; key: Buffer };

/** Writes collected for one LevelDB batch. */
interface Batch {
  /** Entries appended since the last write, in seq order. */
  slots: Slot[];
  deletes: Buffer[];
  /** Acks waiting for their delete to be written. */
  acked: (() => void)[];
}

function emptyBatch(): Batch {
  return { slots: [], deletes: [], acked: [] };
}

/** Above this many operations a batch is written without waiting for the window: it bounds memory and latency under a burst. */
const MAX_BATCH_OPERATIONS = 4096;

/** What ack() returns when there is nothing to wait for: one resolved promise, not one per record. */
const SETTLED: Promise<void> = Promise.resolve();
const NONE_DROPPED: readonly OutboxEntry[] = Object.freeze([]);

/**
 * A bounded FIFO of outgoing bus messages on LevelDB, the store-and-forward
 * half of issue 7. An append is accepted (its promise resolves ok) once the
 * entry is safe: on disk with `sync: true` (fsync), or taken by the bus
 * (PUBACK), whichever comes first. Either way a SIGKILL or a power cut after
 * the promise resolved does not lose it.
 *
 * fsync costs a millisecond or more, so appends within `commitIntervalMs`
 * share one synced batch (group commit, as databases do for their logs), and
 * an entry is handed to the sender at once, not after its write: the publish
 * and the fsync run side by side, so the write is not on the path's latency.
 * An entry the bus takes before its batch is written is left out of the batch
 * and never touches the disk; while the bus is slow or away, entries are
 * written and wait there.
 *
 * The outbox keeps an in-memory mirror of the entries it holds (bounded by
 * maxCount and maxBytes like the disk), so next() never reads the disk.
 * Deletes (acks) are not synced: a delete lost in a crash only means the entry
 * is sent again, and consumers drop duplicates by envelope id.
 */
export class DurableOutbox {
  private readonly db: ClassicLevel<Buffer, Buffer>;
  private readonly options: OutboxOptions;
  private readonly now: () => number;
  private readonly commitIntervalMs: number;
  private readonly sendGraceMs: number;
  private readonly held: HeldEntries;
  private readonly listeners = new Set<(depth: number, bytes: number) => void>();
  private nextSeq: number;
  private batch = emptyBatch();
  private timer: NodeJS.Timeout | NodeJS.Immediate | undefined;
  private writing: Promise<void> | undefined;
  private compacting: Promise<void> | undefined;
  private deletedBytesSinceCompaction = 0;
  private closing: Promise<void> | undefined;

  private constructor(db: ClassicLevel<Buffer, Buffer>, options: OutboxOptions, nextSeq: number) {
    this.db = db;
    this.options = options;
    this.now = options.now ?? Date.now;
    this.commitIntervalMs = options.commitIntervalMs ?? 2;
    this.sendGraceMs = options.sendGraceMs ?? 0;
    this.nextSeq = nextSeq;
    this.held = new HeldEntries(options.maxCount, options.maxBytes);
  }

  /**
   * Opens (or creates) the outbox in `dir` and loads what a previous process
   * left there, in order. A corrupt entry is deleted and reported through
   * onProblem; it does not stop the rest from loading.
   */
  static async open(options: OutboxOptions): Promise<DurableOutbox> {
    if (!(Number.isInteger(options.maxCount) && options.maxCount >= 1)) throw new TectonicError('BAD_CONFIG', `outbox maxCount must be a whole number of at least 1, not ${options.maxCount}`);
    if (!(Number.isFinite(options.maxBytes) && options.maxBytes >= 1)) throw new TectonicError('BAD_CONFIG', `outbox maxBytes must be at least 1, not ${options.maxBytes}`);
    const report = options.onProblem ?? (() => undefined);
    const db = await openDatabase(options.dir, options.maxBytes, report);

    let nextSeq = 0;
    const stored = await db.get(NEXT_SEQ_KEY);
    if (stored !== undefined) nextSeq = decodeSeq(stored) ?? 0;

    const outbox = new DurableOutbox(db, options, nextSeq);
    const corrupt: Buffer[] = [];
    for await (const [key, value] of db.iterator(ENTRY_RANGE)) {
      const seq = seqOfKey(key);
      if (seq === undefined) {
        corrupt.push(key);
        report(reason('outbox', 'outbox-corrupt-entry', `the outbox in ${options.dir} holds a key of ${key.length} bytes that is not an entry; it was removed`));
        continue;
      }
      const decoded = decodeEntry(seq, value);
      if (!decoded.ok) {
        corrupt.push(key);
        for (const r of decoded.reasons) report({ ...r, message: `${r.message}; it was removed` });
        continue;
      }
      const bytes = entryBytes(decoded.value);
      outbox.held.add({ entry: decoded.value, bytes, state: 'durable', settled: false, dropped: [] });
      // The next-seq record is written with every append batch, but take the
      // highest key too in case it was written by an older layout or lost.
      if (seq >= outbox.nextSeq) outbox.nextSeq = seq + 1;
    }
    if (corrupt.length > 0) await db.batch(corrupt.map((key) => ({ type: 'del' as const, key })), { sync: true });
    return outbox;
  }

  /** Entries held (accepted or being accepted, not yet acked), including those handed out. */
  get depth(): number {
    return this.held.size;
  }

  /** Payload + topic bytes of the entries held. */
  get bytes(): number {
    return this.held.bytes;
  }

  /** Calls `listener` on every change of depth or bytes (an entry was appended, acked or dropped). */
  onChange(listener: (depth: number, bytes: number) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Adds `message` at the end of the line and hands it to the sender at once.
   * Resolves once the entry is synced to disk or the bus has taken it;
   * `{ ok: false }` when the outbox is full (policy 'reject'), the message
   * alone exceeds maxBytes, the outbox is closed or the disk write failed
   * before the bus took it. With 'drop-oldest', the entries evicted to make
   * room are returned in `dropped` so the node can report them. The outbox
   * keeps `message.payload` as it is: the caller must not change it after.
   */
  append(message: OutboxMessage): Promise<AppendResult> {
    return new Promise((resolve) => this.appendThen(message, resolve));
  }

  /**
   * append() with a callback, for the path every record takes: no promise
   * per message. `answer` is called once; at once (synchronously) when the
   * message is refused before it is taken in, later when it is accepted or
   * its write fails.
   */
  appendThen(message: OutboxMessage, answer: (result: AppendResult) => void): void {
    if (this.closing !== undefined) return answer({ ok: false, reason: reason('', 'outbox-closed', 'the outbox is closed (the node is being redeployed or stopped)'), transient: true });
    const size = entryBytes(message);
    const { maxBytes, maxCount } = this.options;
    if (size > maxBytes) {
      return answer({ ok: false, reason: reason('', 'outbox-message-too-large', `the message is ${size} bytes (payload and topic), more than the whole outbox may hold (${maxBytes} bytes)`), transient: false });
    }
    let dropped: readonly OutboxEntry[] = NONE_DROPPED;
    if (!this.held.fits(size)) {
      const state = `the outbox holds ${this.held.size} messages (limit ${maxCount}) and ${this.held.bytes} bytes (limit ${maxBytes})`;
      if (this.options.whenFull === 'reject') {
        return answer({ ok: false, reason: reason('', 'outbox-full', `${state}; the bus has not taken them yet, so this message was refused`), transient: true });
      }
      dropped = this.held.evictFor(size);
      if (!this.held.fits(size)) {
        return answer({ ok: false, reason: reason('', 'outbox-full', `${state} and every one that could be dropped is being sent or not yet on disk, so this message was refused`), transient: true });
      }
      for (const entry of dropped) this.batch.deletes.push(entryKey(entry.seq));
    }

    const seq = this.nextSeq;
    this.nextSeq += 1;
    const entry: OutboxEntry = {
      seq,
      topic: message.topic,
      // Not copied: append() takes the buffer over (see its doc). Most entries
      // never reach the disk, so they are encoded only when written.
      payload: message.payload,
      qos: message.qos,
      enqueuedAt: this.now(),
      attempts: 0,
    };
    if (message.properties !== undefined) entry.properties = message.properties;
    if (message.key !== undefined) entry.key = message.key;
    if (message.probe !== undefined) entry.probe = message.probe;
    const slot: Slot = { entry, bytes: size, state: 'pending', settled: false, dropped, answer };
    this.held.add(slot);
    this.batch.slots.push(slot);
    this.schedule();
    // Listeners include the sender: it may publish the entry right now, beside the write.
    this.emit();
  }

  /** The oldest entry not handed out yet, now marked in flight; undefined when none waits. */
  next(): OutboxEntry | undefined {
    return this.held.next();
  }

  /** Hands an entry out again later (its publish failed): it comes before every newer entry. */
  release(seq: number): void {
    this.held.release(seq);
  }

  /**
   * The entry was delivered: forget it. An entry not yet written is left out
   * of its batch (and its append is answered: the bus has it); one on disk is
   * deleted in a batch that is not synced (a lost delete only means a resend).
   */
  ack(seq: number): Promise<void> {
    const slot = this.held.get(seq);
    this.held.landed(seq);
    if (slot === undefined || this.closing !== undefined) return SETTLED;
    this.held.remove(slot);
    this.emit();
    if (slot.state !== 'durable') {
      // committed() deletes it if its write is under way.
      slot.settled = true;
      this.answer(slot, { ok: true, seq, dropped: slot.dropped });
      return SETTLED;
    }
    this.deletedBytesSinceCompaction += slot.bytes;
    return new Promise((resolve) => {
      this.batch.deletes.push(entryKey(seq));
      this.batch.acked.push(resolve);
      this.schedule();
    });
  }

  /** Writes what is pending, waits for it, and closes the database. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.clearTimer();
      // Bounded: each pass writes what earlier passes left; no appends are accepted now.
      for (let pass = 0; pass < 3 && (this.writing !== undefined || this.pendingOperations() > 0); pass += 1) {
        if (this.writing === undefined) this.flush();
        await this.writing;
      }
      await this.compacting;
      this.listeners.clear();
      await this.db.close();
    })();
    return this.closing;
  }

  private pendingOperations(): number {
    return this.batch.slots.length + this.batch.deletes.length;
  }

  private answer(slot: Slot, result: AppendResult): void {
    const answer = slot.answer;
    slot.answer = undefined;
    answer?.(result);
  }

  private schedule(): void {
    if (this.writing !== undefined || this.timer !== undefined) return;
    if (this.pendingOperations() >= MAX_BATCH_OPERATIONS) {
      this.flush();
    } else if (this.commitIntervalMs <= 0) {
      this.timer = setImmediate(() => this.flush());
    } else {
      this.timer = setTimeout(() => this.flush(), this.commitIntervalMs);
    }
  }

  private clearTimer(): void {
    if (this.timer === undefined) return;
    clearTimeout(this.timer as NodeJS.Timeout);
    clearImmediate(this.timer as NodeJS.Immediate);
    this.timer = undefined;
  }

  /**
   * Writes the collected batch. One write at a time: LevelDB runs batches on
   * libuv's thread pool, where two could land in either order; appends that
   * arrive meanwhile gather in the next batch, which is written as soon as
   * this one is done (they have waited a whole fsync already).
   */
  private flush(): void {
    this.clearTimer();
    if (this.writing !== undefined || this.pendingOperations() === 0) return;
    const batch = this.batch;
    this.batch = emptyBatch();
    const operations: Operation[] = [];
    const written: Slot[] = [];
    const graceFrom = this.closing === undefined && this.sendGraceMs > 0 ? this.now() - this.sendGraceMs : Infinity;
    const sending = graceFrom !== Infinity && (this.options.sending?.() ?? false);
    for (const slot of batch.slots) {
      if (slot.settled) continue;
      if (slot.entry.enqueuedAt > graceFrom && (sending || this.held.isInFlight(slot.entry.seq))) {
        // On its way to the bus: its ack will most likely come first.
        this.batch.slots.push(slot);
        continue;
      }
      slot.state = 'writing';
      written.push(slot);
      operations.push({ type: 'put', key: entryKey(slot.entry.seq), value: encodeEntry(slot.entry, slot.entry.enqueuedAt) });
    }
    for (const key of batch.deletes) operations.push({ type: 'del', key });
    if (operations.length === 0) {
      for (const resolve of batch.acked) resolve();
      if (this.batch.slots.length > 0) this.timer = setTimeout(() => this.flush(), Math.max(1, this.commitIntervalMs));
      return;
    }
    const synced = written.length > 0;
    if (synced) operations.push({ type: 'put', key: NEXT_SEQ_KEY, value: encodeSeq(this.nextSeq) });
    this.writing = this.db
      .batch(operations, { sync: synced })
      .then(
        () => this.committed(written, batch.acked),
        (err: unknown) => this.failed(written, batch.acked, err),
      )
      .finally(() => {
        this.writing = undefined;
        this.flush();
      });
  }

  private committed(written: Slot[], acked: (() => void)[]): void {
    for (const slot of written) {
      slot.state = 'durable';
      if (slot.settled) {
        // The bus took it while it was being written: it only needs deleting.
        this.batch.deletes.push(entryKey(slot.entry.seq));
        this.deletedBytesSinceCompaction += slot.bytes;
        this.schedule();
      } else {
        this.answer(slot, { ok: true, seq: slot.entry.seq, dropped: slot.dropped });
      }
    }
    for (const resolve of acked) resolve();
    this.compactIfDue();
  }

  private failed(written: Slot[], acked: (() => void)[], err: unknown): void {
    const why = err instanceof Error ? err.message : String(err);
    let lost = false;
    for (const slot of written) {
      // One the bus took meanwhile was answered already: nothing is lost.
      if (slot.settled || this.held.get(slot.entry.seq) !== slot) continue;
      // The sender may have it in flight: its ack or release then finds nothing held.
      this.held.remove(slot);
      lost = true;
      this.answer(slot, { ok: false, reason: reason('', 'outbox-write-failed', `the outbox could not write to disk (${why}); the message was not accepted`), transient: true });
    }
    if (lost) this.emit();
    if (acked.length > 0) {
      // The entries are gone from memory already; on disk they stay and are sent again after a restart.
      this.report(reason('', 'outbox-delete-failed', `the outbox could not delete ${acked.length} delivered messages (${why}); they may be sent again after a restart`));
    }
    for (const resolve of acked) resolve();
  }

  /**
   * LevelDB reclaims the space of deleted entries only when it compacts, and
   * it compacts a level only once the level is full. Under steady append/ack
   * traffic that can leave several times maxBytes of dead entries on disk, so
   * compact the entry range once as many bytes were deleted as the outbox may
   * hold (issue 7: disk stays within the bound).
   */
  private compactIfDue(): void {
    if (this.compacting !== undefined || this.closing !== undefined) return;
    if (this.deletedBytesSinceCompaction < Math.max(this.options.maxBytes, 1 << 20)) return;
    this.deletedBytesSinceCompaction = 0;
    this.compacting = this.db
      .compactRange(ENTRY_RANGE.gte, ENTRY_RANGE.lt)
      .catch((err: unknown) => this.report(reason('', 'outbox-compaction-failed', `the outbox could not compact (${err instanceof Error ? err.message : String(err)})`)))
      .finally(() => {
        this.compacting = undefined;
      });
  }

  private report(problem: Reason): void {
    try {
      this.options.onProblem?.(problem);
    } catch {
      // A listener that throws must not break the write path.
    }
  }

  private emit(): void {
    for (const listener of this.listeners) listener(this.held.size, this.held.bytes);
  }
}
