import { type FlowClock, systemClock } from './in-flight';

/** Wait before a record refused transiently goes through the flow again, ms: a refusal that does not clear by itself (a disk failing) is not retried in a tight loop. */
export const RETRY_DELAY_MS = 1000;

export interface TransientRetryOptions<R> {
  /** Stops reading the bus (the bus's holdInbound); held while any record waits here, so what waits is bounded by what was in flight. */
  hold: () => () => void;
  /** Sends a record through the flow again. */
  resend: (record: R) => void;
  /** False while the entry waits for its flow (ReadinessHold): records wait for wake(). */
  canSend: () => boolean;
  delayMs?: number;
  clock?: FlowClock;
}

/**
 * A bus entry's second chance for records the flow refused for the site's
 * state (msg.reject.transient): the broker already has their acknowledgement,
 * so the entry keeps them and sends them through again, in the order they
 * were refused, once the flow is ready again and at least `delayMs` later.
 * While any wait, the entry reads nothing new. In memory only: a crash loses
 * what waits here (docs/message-contract.md, Transient refusals).
 */
export class TransientRetry<R> {
  readonly counts = { retried: 0 };
  private readonly options: TransientRetryOptions<R>;
  private readonly clock: FlowClock;
  private readonly waiting: R[] = [];
  private release: (() => void) | undefined;
  private timer: unknown;
  private due = false;
  private closed = false;

  constructor(options: TransientRetryOptions<R>) {
    this.options = options;
    this.clock = options.clock ?? systemClock;
  }

  /** Records waiting for another pass. */
  get size(): number {
    return this.waiting.length;
  }

  /** Keeps `record` for another pass. */
  add(record: R): void {
    if (this.closed) return;
    this.waiting.push(record);
    this.release ??= this.options.hold();
    if (this.timer === undefined && !this.due) {
      this.timer = this.clock.setTimeout(() => {
        this.timer = undefined;
        this.due = true;
        this.flush();
      }, this.options.delayMs ?? RETRY_DELAY_MS);
    }
  }

  /** The flow may be ready again: sends what waits if its delay is over. */
  wake(): void {
    this.flush();
  }

  /** Forgets what waits (the node closes) and lets the bus read. */
  close(): void {
    this.closed = true;
    this.waiting.length = 0;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.release?.();
    this.release = undefined;
  }

  private flush(): void {
    if (this.closed || !this.due || !this.options.canSend()) return;
    this.due = false;
    // What is refused again during this pass is added behind, with a delay of its own.
    for (const record of this.waiting.splice(0)) {
      this.counts.retried += 1;
      this.options.resend(record);
    }
    if (this.waiting.length === 0) {
      this.release?.();
      this.release = undefined;
    }
  }
}
