/**
 * Issue 6: the records an entry node has sent into a flow that have not
 * finished there yet. A record is tracked by its `_msgid` (Node-RED keeps it
 * on every clone), with one count per open delivery: +1 when a copy is
 * delivered to a node, -1 when that node completes it. The entry holds one
 * count itself while it sends, so a record cannot finish half-way through its
 * own fan-out. At 0 the record has finished.
 *
 * A record still open after the lease counts as finished anyway: a node that
 * never calls done(), or keeps messages for minutes, must not stall the entry
 * for ever.
 */

/** Time and timers, injected so the lease can be tested without waiting. */
export interface FlowClock {
  now(): number;
  setTimeout(fire: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: FlowClock = {
  now: () => Date.now(),
  // unref: a pending lease must not keep a process alive that has nothing else to do.
  setTimeout: (fire, ms) => setTimeout(fire, ms).unref(),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** A minute: longer than any healthy flow takes per record, short enough that a stuck node does not stop the site. */
export const DEFAULT_LEASE_MS = 60_000;
/** What a new bus-subscribe takes when its field is empty. */
export const DEFAULT_MAX_IN_FLIGHT = 1000;

export interface InFlightOptions {
  /** Records in flight at which the entry stops taking more; 0 for no limit. */
  limit: number;
  /** Taking resumes once at most this many are in flight; three quarters of `limit` by default, so it does not flap. */
  lowWater?: number;
  leaseMs?: number;
  clock?: FlowClock;
}

interface OpenRecord {
  /** Deliveries announced or received and not completed, plus the entry's own hold. */
  count: number;
  /** Of those, copies announced at send and not arrived yet. */
  announced: number;
  /** Receipts a done() may still close. */
  receipts: number;
  since: number;
  /** What the entry would send again if a node refuses the record transiently (msg.reject.transient). */
  original?: unknown;
  /** A node refused it transiently: at its finish, `original` goes to the transient listeners. */
  transient?: true;
}

export type PressureListener = (holding: boolean) => void;
export type ExpiryListener = (expired: number) => void;
export type TransientListener = (original: unknown) => void;

export class InFlight {
  readonly limit: number;
  readonly lowWater: number;
  readonly leaseMs: number;
  private readonly clock: FlowClock;
  /** A Map keeps insertion order: the first entry is the oldest, the next to expire. */
  private readonly records = new Map<string, OpenRecord>();
  private readonly pressureListeners = new Set<PressureListener>();
  private readonly expiryListeners = new Set<ExpiryListener>();
  private readonly transientListeners = new Set<TransientListener>();
  private sweep: unknown;
  private full = false;

  constructor(options: InFlightOptions) {
    if (!Number.isSafeInteger(options.limit) || options.limit < 0) throw new RangeError(`limit must be a whole number, got ${options.limit}`);
    this.limit = options.limit;
    this.lowWater = Math.min(options.lowWater ?? Math.floor((options.limit * 3) / 4), Math.max(options.limit - 1, 0));
    this.leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
    this.clock = options.clock ?? systemClock;
  }

  get size(): number {
    return this.records.size;
  }

  /** True from the moment `limit` records are in flight until no more than `lowWater` are. */
  get holding(): boolean {
    return this.full;
  }

  has(id: string): boolean {
    return this.records.has(id);
  }

  /**
   * Starts tracking a record with the entry's own count of 1: call it before
   * sending, and complete(id) once send() has returned.
   */
  track(id: string, original?: unknown): void {
    const open = this.records.get(id);
    if (open !== undefined) {
      open.count += 1;
      return;
    }
    this.records.set(id, original === undefined ? { count: 1, announced: 0, receipts: 0, since: this.clock.now() } : { count: 1, announced: 0, receipts: 0, since: this.clock.now(), original });
    this.armSweep();
    if (!this.full && this.limit > 0 && this.records.size >= this.limit) this.setFull(true);
  }

  /** A copy of a tracked record was handed to a node; false if the id is not tracked (any more). */
  deliver(id: string): boolean {
    const open = this.records.get(id);
    if (open === undefined) return false;
    open.count += 1;
    return true;
  }

  /** A copy was handed to the router for a node (preDeliver); false if the id is not tracked. */
  announce(id: string): boolean {
    const open = this.records.get(id);
    if (open === undefined) return false;
    open.count += 1;
    open.announced += 1;
    return true;
  }

  /**
   * A node got a copy (onReceive). An announced copy is already counted; one
   * handed over without the router (a direct receive()) opens a count of its
   * own. False if the id is not tracked.
   */
  receive(id: string): boolean {
    const open = this.records.get(id);
    if (open === undefined) return false;
    if (open.announced > 0) open.announced -= 1;
    else open.count += 1;
    open.receipts += 1;
    return true;
  }

  /**
   * A node called done() for a copy it received. Counted per record, not per
   * copy: a done() with no receipt open is ignored, so a node calling done()
   * twice cannot finish a record while no other copy is open. False if the id
   * is not tracked.
   */
  settle(id: string): boolean {
    const open = this.records.get(id);
    if (open === undefined) return false;
    if (open.receipts <= 0) return true;
    open.receipts -= 1;
    open.count -= 1;
    if (open.count <= 0) this.finish(id, open);
    return true;
  }

  /** A node completed a copy; the record finishes when none is left open. False if the id is not tracked. */
  complete(id: string): boolean {
    const open = this.records.get(id);
    if (open === undefined) return false;
    open.count -= 1;
    if (open.count <= 0) this.finish(id, open);
    return true;
  }

  /**
   * A node refused a copy for the site's state (msg.reject.transient): when
   * the record finishes, its original goes to the transient listeners, to be
   * sent again. False if the id is not tracked.
   */
  refusedTransiently(id: string): boolean {
    const open = this.records.get(id);
    if (open === undefined) return false;
    open.transient = true;
    return true;
  }

  /** Counts every record open for `leaseMs` or longer as finished; returns how many. */
  expire(now = this.clock.now()): number {
    let expired = 0;
    for (const [id, open] of this.records) {
      if (open.since + this.leaseMs > now) break;
      this.records.delete(id);
      expired += 1;
    }
    if (expired > 0) {
      for (const listener of this.expiryListeners) listener(expired);
      this.checkRoom();
    }
    return expired;
  }

  /** Hears `true` when the limit is reached and `false` when there is room again. */
  onPressure(listener: PressureListener): () => void {
    this.pressureListeners.add(listener);
    return () => this.pressureListeners.delete(listener);
  }

  /** Hears the original of each record that finished after a transient refusal (one let go by the lease is not retried). */
  onTransient(listener: TransientListener): () => void {
    this.transientListeners.add(listener);
    return () => this.transientListeners.delete(listener);
  }

  /** Hears how many records the lease has just let go of. */
  onExpired(listener: ExpiryListener): () => void {
    this.expiryListeners.add(listener);
    return () => this.expiryListeners.delete(listener);
  }

  /** Forgets every record and timer (the node closes); tells a holding listener there is room. */
  clear(): void {
    this.records.clear();
    this.disarmSweep();
    this.checkRoom();
    this.pressureListeners.clear();
    this.expiryListeners.clear();
    this.transientListeners.clear();
  }

  private finish(id: string, open: OpenRecord): void {
    this.records.delete(id);
    if (open.transient === true && open.original !== undefined) for (const listener of this.transientListeners) listener(open.original);
    this.checkRoom();
  }

  // The sweep stays armed when the last record finishes: at a low rate every
  // record would otherwise set and clear a timer of its own. It finds nothing
  // and stops at its time, at most once per lease.
  private checkRoom(): void {
    if (this.full && this.records.size <= this.lowWater) this.setFull(false);
  }

  private setFull(full: boolean): void {
    this.full = full;
    for (const listener of this.pressureListeners) listener(full);
  }

  /** One timer for the oldest record, not one per record; it re-arms for the next oldest when it fires. */
  private armSweep(): void {
    if (this.sweep !== undefined) return;
    const oldest = this.records.values().next();
    if (oldest.done) return;
    const wait = Math.max(oldest.value.since + this.leaseMs - this.clock.now(), 0);
    this.sweep = this.clock.setTimeout(() => {
      this.sweep = undefined;
      this.expire();
      this.armSweep();
    }, wait);
  }

  private disarmSweep(): void {
    if (this.sweep === undefined) return;
    this.clock.clearTimeout(this.sweep);
    this.sweep = undefined;
  }
}
