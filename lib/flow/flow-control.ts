import { InFlight } from './in-flight';
import { messageIdSource } from './message-ids';

/** What flow control asks of the node and its bus. */
export interface FlowControlHooks {
  /** Stops reading the bus until the returned function is called. */
  hold(): () => void;
  /** Holding started or ended. */
  changed(): void;
  /** Records outlived their lease and no longer count; said once per node, it points at a node that keeps messages. */
  overdue(expired: number, leaseMs: number): void;
  /** A record sent with an original finished after a node refused it transiently: the original, to send again. */
  refusedTransiently?: (original: unknown) => void;
}

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

  constructor(limit: number, hooks: FlowControlHooks) {
    const inFlight = new InFlight({ limit });
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
    const retry = hooks.refusedTransiently;
    if (retry !== undefined) inFlight.onTransient((original) => retry(original));
    inFlight.onExpired((expired) => {
      this.counts.expired += expired;
      if (this.warned) return;
      this.warned = true;
      hooks.overdue(expired, inFlight.leaseMs);
    });
  }

  /**
   * Sends a record into the flow, tracked from before `send` until every copy
   * of it is done. `original`: what to send again if a node refuses it transiently.
   */
  emit(msg: Record<string, unknown>, send: (msg: Record<string, unknown>) => void, original?: unknown): void {
    const id = this.nextId();
    msg._msgid = id;
    // The entry's own count keeps the record open while send() hands out its copies.
    this.inFlight.track(id, original);
    try {
      send(msg);
    } finally {
      this.inFlight.complete(id);
    }
  }

  /** Forgets every record and lets the bus read again. */
  close(): void {
    this.closed = true;
    this.inFlight.clear();
    this.release?.();
    this.release = undefined;
  }
}
