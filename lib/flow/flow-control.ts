import { type FlowClock, InFlight, type RecordEnded, systemClock } from './in-flight';
import { messageIdSource } from './message-ids';

/** What flow control asks of the node and its bus. */
export interface FlowControlHooks {
  /** Stops reading the bus until the returned function is called. */
  hold(): () => void;
  /** Holding started or ended. */
  changed(): void;
  /** Records outlived their lease and no longer count; said once per node, it points at a node that keeps messages. */
  overdue(expired: number, leaseMs: number): void;
  /** A record is still refused as transient after `tries` tries; said once per node (it is tried on regardless). */
  stillTransient?(tries: number): void;
  /**
   * False while the flow downstream is not ready (the entry's ReadinessHold):
   * a retry that comes due then waits for wake(), as it would only be refused
   * again. Absent: always ready.
   */
  ready?(): boolean;
}

/** A record waiting to be sent again: its timer until it is due, then only its turn (wake). */
interface WaitingRetry {
  timer: unknown;
  send: () => void;
  release: RecordRelease;
}

/** How a record whose acknowledgement waits for it left the flow, as the bus takes it (BusClient.deferAck). */
export type RecordRelease = (outcome: 'finished' | 'abandoned') => void;

/** A record refused as transient is sent again after 1 s, doubling up to 30 s between tries. */
export const TRANSIENT_RETRY_FIRST_MS = 1_000;
export const TRANSIENT_RETRY_MAX_MS = 30_000;
/** Tries after which a record still refused as transient is worth a warning. */
export const TRANSIENT_WARN_AFTER_TRIES = 5;

/**
 * Issue 6: without back-pressure the bus is read as fast as the socket
 * delivers and Node-RED's message queue grows without bound. Flow control
 * follows each record through the flow (the runtime's message hooks feed
 * `inFlight`) and holds the connection while `limit` of them are unfinished.
 */
export class FlowControl {
  readonly inFlight: InFlight;
  readonly counts = { held: 0, expired: 0 };
  private readonly nextId = messageIdSource();
  private release: (() => void) | undefined;
  private warned = false;
  private closed = false;
  private readonly hooks: FlowControlHooks;
  private readonly clock: FlowClock;
  /** Records waiting to be sent again after a transient refusal, in the order refused. */
  private readonly retries = new Set<WaitingRetry>();
  private warnedTransient = false;
  /** Held while any record waits for a retry: the site is not ready, so nothing new is read. */
  private retryHold: (() => void) | undefined;
  readonly retryCounts = { retried: 0 };

  constructor(limit: number, hooks: FlowControlHooks, clock: FlowClock = systemClock) {
    this.hooks = hooks;
    this.clock = clock;
    const inFlight = new InFlight({ limit, clock });
    this.inFlight = inFlight;
    inFlight.onPressure((holding) => {
      if (holding) {
        this.release ??= hooks.hold();
        this.counts.held += 1;
      } else {
        this.release?.();
        this.release = undefined;
      }
      if (!this.closed) hooks.changed();
    });
    inFlight.onExpired((expired) => {
      this.counts.expired += expired;
      if (this.warned) return;
      this.warned = true;
      hooks.overdue(expired, inFlight.leaseMs);
    });
  }

  /**
   * Sends a record into the flow, tracked from before `send` until every copy
   * of it is done. With `release` (its acknowledgement waits for it), the
   * record is told 'finished' or 'abandoned'; one refused as transient
   * (`msg.reject.transient`: the site is not ready) is not released but sent
   * again, as `again` makes it anew from what arrived (the flow changes the
   * message in place), after 1 s, then 2, 4, ... 30 s, for as long as it
   * takes: it is not the record's fault. A retry due while the flow is not
   * ready (`hooks.ready`) waits for it (wake). While one waits, reading is held
   * (its acknowledgement holds those behind it anyway), and the broker keeps
   * the rest. Without `again` a transient refusal finishes the record.
   */
  emit(msg: Record<string, unknown>, send: (msg: Record<string, unknown>) => void, release?: RecordRelease, again?: () => Record<string, unknown> | undefined): void {
    this.sendTracked(msg, send, release === undefined ? undefined : this.retrying(send, release, again));
  }

  private retrying(send: (msg: Record<string, unknown>) => void, release: RecordRelease, again: (() => Record<string, unknown> | undefined) | undefined): RecordEnded {
    let tries = 0;
    const ended: RecordEnded = (outcome) => {
      if (outcome === 'abandoned' || this.closed) return release('abandoned');
      if (outcome === 'finished' || again === undefined) return release('finished');
      tries += 1;
      if (tries === TRANSIENT_WARN_AFTER_TRIES && !this.warnedTransient) {
        this.warnedTransient = true;
        this.hooks.stillTransient?.(tries);
      }
      const wait = Math.min(TRANSIENT_RETRY_FIRST_MS * 2 ** (tries - 1), TRANSIENT_RETRY_MAX_MS);
      const waiting: WaitingRetry = {
        timer: undefined,
        release,
        send: () => {
          const msg = again();
          // It decoded once; bytes that no longer do cannot be retried, only acknowledged.
          if (msg === undefined) return release('finished');
          this.retryCounts.retried += 1;
          this.sendTracked(msg, send, ended);
        },
      };
      waiting.timer = this.clock.setTimeout(() => {
        waiting.timer = undefined;
        if (this.hooks.ready?.() !== false) this.sendRetry(waiting);
      }, wait);
      this.retries.add(waiting);
      this.retryHold ??= this.hooks.hold();
    };
    return ended;
  }

  /** The flow may be ready again: sends, in the order refused, every retry whose wait is over. */
  wake(): void {
    if (this.closed || this.hooks.ready?.() === false) return;
    for (const waiting of [...this.retries]) if (waiting.timer === undefined) this.sendRetry(waiting);
  }

  private sendRetry(waiting: WaitingRetry): void {
    this.retries.delete(waiting);
    this.releaseRetryHold();
    if (!this.closed) waiting.send();
  }

  private releaseRetryHold(): void {
    if (this.retries.size > 0) return;
    this.retryHold?.();
    this.retryHold = undefined;
  }

  private sendTracked(msg: Record<string, unknown>, send: (msg: Record<string, unknown>) => void, ended: RecordEnded | undefined): void {
    const id = this.nextId();
    msg._msgid = id;
    // The entry's own count keeps the record open while send() hands out its copies.
    this.inFlight.track(id, ended);
    try {
      send(msg);
    } finally {
      this.inFlight.complete(id);
    }
  }

  /** Forgets every record (their acknowledgements are not sent: the broker keeps them) and lets the bus read again. */
  close(): void {
    this.closed = true;
    for (const { timer, release } of this.retries) {
      if (timer !== undefined) this.clock.clearTimeout(timer);
      release('abandoned');
    }
    this.retries.clear();
    this.releaseRetryHold();
    this.inFlight.clear();
    this.release?.();
    this.release = undefined;
  }
}
