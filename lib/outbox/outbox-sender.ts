import { type Reason, reason } from '../reasons';
import type { DurableOutbox, OutboxEntry } from './durable-outbox';

/** A policy bundle's `retry` rule, plus the cap of the doubling back-off. */
export interface RetryRule {
  /** Attempts before the sender gives an entry up (onGiveUp); undefined = never give up. */
  maxAttempts?: number;
  /** Wait after the first failure; it doubles with each further failure of the same entry. */
  backoffMs: number;
  /** Longest wait between attempts. Default 30 s. */
  maxBackoffMs?: number;
}

/** The two timer functions the sender uses, injectable so tests drive time by hand. */
export interface SenderTimers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface OutboxSenderOptions {
  outbox: Pick<DurableOutbox, 'next' | 'release' | 'ack' | 'onChange'>;
  /**
   * Hands the entry to the bus and calls `settled` once: with no argument
   * when the bus has taken it (PUBACK for QoS 1), with the error when it has
   * not. A callback, not a promise: this runs for every record.
   */
  publish: (entry: OutboxEntry, settled: (err?: unknown) => void) => void;
  /** Most publishes in flight at once. Default 64. */
  window?: number;
  /** Default: unlimited attempts, 1 s doubling to 30 s. */
  retry?: RetryRule;
  /** The rule for one entry, e.g. the policy bundle's retry rule for its entity; falls back to `retry`. */
  retryFor?: (entry: OutboxEntry) => RetryRule | undefined;
  /**
   * False while nothing can be sent (the bus is disconnected): entries then stay
   * in the outbox instead of piling up in the MQTT client's memory, and waiting
   * for a connection does not count as a failed attempt. kick() when it turns true.
   */
  canSend?: () => boolean;
  /**
   * A rate limit: 0 to send `entry` now (taking its token), or the milliseconds
   * until it may go. Entries wait in order, so a limited entity holds back
   * those behind it, as per-site order requires.
   */
  pace?: (entry: OutboxEntry) => number;
  onDelivered?: (entry: OutboxEntry) => void;
  /** After maxAttempts: the node dead-letters the entry; the sender deletes it from the outbox once this returns (or its promise resolves). */
  onGiveUp?: (entry: OutboxEntry, why: Reason) => void | Promise<void>;
  timers?: SenderTimers;
  /** Bound on stop() waiting for publishes in flight. Default 2 s. */
  stopTimeoutMs?: number;
  /**
   * Look for new entries once per event-loop turn instead of at each append:
   * the entries appended in one turn then go out in one socket write (MQTT.js
   * corks the stream until the next tick), not one write each. Default false.
   */
  onePumpPerTurn?: boolean;
}

const DEFAULT_RETRY: RetryRule = { backoffMs: 1000, maxBackoffMs: 30_000 };
const DEFAULT_TIMERS: SenderTimers = {
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** The wait before the next attempt of an entry that has failed `attempts` times. */
export function backoffDelay(retry: RetryRule, attempts: number): number {
  const cap = retry.maxBackoffMs ?? 30_000;
  // 2^30 already exceeds any sensible cap; the bound keeps the power finite.
  return Math.min(cap, retry.backoffMs * 2 ** Math.min(Math.max(attempts - 1, 0), 30));
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Moves entries from the outbox to the bus in sequence order, up to `window`
 * at a time. When a publish fails, the entry goes back to the outbox (in front
 * of every newer one) and the sender sends nothing new until the back-off has
 * passed, so the retry goes out before anything newer and per-site order holds
 * across a failure. Publishes already in flight complete on their own; each
 * delivery is reported per entry, whatever order the acknowledgements come in.
 */
export class OutboxSender {
  private readonly outbox: OutboxSenderOptions['outbox'];
  private readonly publish: OutboxSenderOptions['publish'];
  private readonly window: number;
  private readonly retry: RetryRule;
  private readonly timers: SenderTimers;
  private readonly stopTimeoutMs: number;
  private readonly options: OutboxSenderOptions;
  /** Entries handed out by the outbox and not yet settled (publishing, or being given up). */
  private readonly inFlight = new Map<number, OutboxEntry>();
  private running = false;
  private backoff: unknown;
  private paced: unknown;
  private pumping = false;
  private pumpAgain = false;
  private unsubscribe: (() => void) | undefined;
  private stopping: Promise<void> | undefined;
  private settled: (() => void) | undefined;
  private turnPump: NodeJS.Immediate | undefined;

  constructor(options: OutboxSenderOptions) {
    this.options = options;
    this.outbox = options.outbox;
    this.publish = options.publish;
    this.window = Math.max(1, Math.floor(options.window ?? 64));
    this.retry = options.retry ?? DEFAULT_RETRY;
    this.timers = options.timers ?? DEFAULT_TIMERS;
    this.stopTimeoutMs = options.stopTimeoutMs ?? 2000;
  }

  /** Publishes in flight right now. */
  get inFlightCount(): number {
    return this.inFlight.size;
  }

  /** True while a failure holds new sends back. */
  get backingOff(): boolean {
    return this.backoff !== undefined;
  }

  /** Starts sending, and sends again whenever the outbox changes (a new durable entry, an ack). */
  start(): void {
    if (this.running || this.stopping !== undefined) return;
    this.running = true;
    this.unsubscribe = this.outbox.onChange(() => (this.options.onePumpPerTurn === true ? this.pumpThisTurn() : this.pump()));
    this.pump();
  }

  /**
   * Looks for work now. `retryNow` also ends a back-off: call it with that
   * when the bus has just reconnected, since the failure the back-off was for
   * is probably over. Without it, a kick (new entries) respects the back-off.
   */
  kick(options: { retryNow?: boolean } = {}): void {
    if (!this.running) return;
    if (options.retryNow === true) this.endBackoff();
    this.pump();
  }

  /**
   * Sends nothing new, waits up to stopTimeoutMs for the publishes in flight,
   * then gives the rest back to the outbox (they stay on disk and are sent by
   * the next sender). Idempotent.
   */
  stop(): Promise<void> {
    this.stopping ??= new Promise<void>((resolve) => {
      this.running = false;
      this.endBackoff();
      if (this.turnPump !== undefined) clearImmediate(this.turnPump);
      this.turnPump = undefined;
      if (this.paced !== undefined) this.timers.clearTimeout(this.paced);
      this.paced = undefined;
      this.unsubscribe?.();
      this.unsubscribe = undefined;
      if (this.inFlight.size === 0) {
        resolve();
        return;
      }
      const timer = this.timers.setTimeout(() => finish(), this.stopTimeoutMs);
      const finish = (): void => {
        this.timers.clearTimeout(timer);
        this.settled = undefined;
        for (const seq of this.inFlight.keys()) this.outbox.release(seq);
        this.inFlight.clear();
        resolve();
      };
      this.settled = finish;
    });
    return this.stopping;
  }

  private pumpThisTurn(): void {
    this.turnPump ??= setImmediate(() => {
      this.turnPump = undefined;
      this.pump();
    });
  }

  private pump(): void {
    // An ack inside the loop can call back here through onChange; loop again instead of nesting.
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = true;
    try {
      do {
        this.pumpAgain = false;
        while (this.running && this.backoff === undefined && this.paced === undefined && this.inFlight.size < this.window && (this.options.canSend?.() ?? true)) {
          const entry = this.outbox.next();
          if (entry === undefined) break;
          const wait = this.options.pace?.(entry) ?? 0;
          if (wait > 0) {
            this.outbox.release(entry.seq);
            this.paced = this.timers.setTimeout(() => {
              this.paced = undefined;
              this.pump();
            }, wait);
            break;
          }
          this.send(entry);
        }
      } while (this.pumpAgain);
    } finally {
      this.pumping = false;
    }
  }

  private send(entry: OutboxEntry): void {
    entry.attempts += 1;
    this.inFlight.set(entry.seq, entry);
    let answered = false;
    const settled = (err?: unknown): void => {
      if (answered) return;
      answered = true;
      if (err === undefined) this.delivered(entry);
      else this.failed(entry, err);
    };
    try {
      this.publish(entry, settled);
    } catch (err) {
      // A publish that throws counts as a failed one, answered later as a rejected promise would be.
      queueMicrotask(() => settled(err instanceof Error ? err : new Error(String(err))));
    }
  }

  private delivered(entry: OutboxEntry): void {
    const mine = this.inFlight.delete(entry.seq);
    // Delivered is delivered, even after stop(): delete it so it is not sent twice.
    void this.outbox.ack(entry.seq);
    if (mine && this.running) this.call(() => this.options.onDelivered?.(entry));
    this.afterSettle();
  }

  private failed(entry: OutboxEntry, err: unknown): void {
    if (!this.running) {
      this.inFlight.delete(entry.seq);
      this.outbox.release(entry.seq);
      this.afterSettle();
      return;
    }
    const rule = this.ruleFor(entry);
    const max = rule.maxAttempts;
    if (max !== undefined && entry.attempts >= max) {
      this.giveUp(entry, err);
      return;
    }
    this.inFlight.delete(entry.seq);
    this.outbox.release(entry.seq);
    this.startBackoff(backoffDelay(rule, entry.attempts));
    this.afterSettle();
  }

  private ruleFor(entry: OutboxEntry): RetryRule {
    return this.options.retryFor?.(entry) ?? this.retry;
  }

  /** Hands the entry to onGiveUp and deletes it once that is done; if onGiveUp fails, the entry stays and is retried. */
  private giveUp(entry: OutboxEntry, err: unknown): void {
    const why = reason('', 'retry-exhausted', `the bus did not take the message after ${entry.attempts} attempts (limit ${this.ruleFor(entry).maxAttempts}); the last error: ${message(err)}`);
    Promise.resolve()
      .then(() => this.options.onGiveUp?.(entry, why))
      .then(
        () => {
          this.inFlight.delete(entry.seq);
          void this.outbox.ack(entry.seq);
          this.afterSettle();
        },
        () => {
          this.inFlight.delete(entry.seq);
          this.outbox.release(entry.seq);
          if (this.running) this.startBackoff(backoffDelay(this.ruleFor(entry), entry.attempts));
          this.afterSettle();
        },
      );
  }

  private afterSettle(): void {
    if (this.inFlight.size === 0) this.settled?.();
    this.pump();
  }

  /** A back-off already running is kept, not extended: the oldest failure sets the pace. */
  private startBackoff(ms: number): void {
    if (this.backoff !== undefined) return;
    this.backoff = this.timers.setTimeout(() => {
      this.backoff = undefined;
      this.pump();
    }, ms);
  }

  private endBackoff(): void {
    if (this.backoff === undefined) return;
    this.timers.clearTimeout(this.backoff);
    this.backoff = undefined;
  }

  private call(callback: () => void): void {
    try {
      callback();
    } catch {
      // A listener's bug must not stall the pump; the node reports its own errors.
    }
  }
}
