/**
 * "Ready before reading": what a node needs before a record sent to it can be
 * handled on its merits (a catalog in force, a policy in force, an open
 * outbox with room), as a small view an entry can follow. A node that needs
 * such a resource exposes one as `node.readiness`; `bus-subscribe` walks its
 * flow, combines what it finds (AllReady) and holds its inbound lane while
 * the combination is not ready (ReadinessHold), so the broker keeps the
 * backlog instead of the flow refusing it for a reason that would pass.
 */
export interface Readiness {
  readonly ready: boolean;
  /** What is missing, in words for a status line ("catalog cdm-catalog 'site catalog'"); '' while ready. */
  readonly waitingFor: string;
  /** Calls `listener` after every change of `ready` or `waitingFor`; returns the way to stop. */
  onChange(listener: () => void): () => void;
}

/** True for anything shaped like a Readiness: a node's `readiness` member is found by shape, so any node type may offer one. */
export function isReadiness(value: unknown): value is Readiness {
  if (typeof value !== 'object' || value === null) return false;
  const r = value as Partial<Readiness>;
  return typeof r.ready === 'boolean' && typeof r.waitingFor === 'string' && typeof r.onChange === 'function';
}

/** A Readiness its owner sets: the resource says when it is ready and what it waits for. */
export class ReadinessSignal implements Readiness {
  #ready: boolean;
  /** What it waits for while not ready: the last text given. */
  #whenWaiting: string;
  readonly #listeners = new Set<() => void>();

  constructor(ready: boolean, waitingFor = '') {
    this.#ready = ready;
    this.#whenWaiting = waitingFor;
  }

  get ready(): boolean {
    return this.#ready;
  }

  get waitingFor(): string {
    return this.#ready ? '' : this.#whenWaiting;
  }

  /** Ready, or waiting for `waitingFor` (by default what it waited for last); listeners hear only of a change. */
  set(ready: boolean, waitingFor = this.#whenWaiting): void {
    const before = this.waitingFor;
    const wasReady = this.#ready;
    this.#ready = ready;
    this.#whenWaiting = waitingFor;
    if (wasReady === ready && before === this.waitingFor) return;
    for (const listener of [...this.#listeners]) listener();
  }

  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}

/**
 * Ready when every part is: what a flow needs as one Readiness. `waitingFor`
 * names the first part that is not ready, then how many more are waiting.
 */
export class AllReady implements Readiness {
  readonly #parts: readonly Readiness[];
  readonly #listeners = new Set<() => void>();
  readonly #stops: Array<() => void>;

  constructor(parts: readonly Readiness[]) {
    this.#parts = [...parts];
    this.#stops = this.#parts.map((part) => part.onChange(() => this.#changed()));
  }

  get ready(): boolean {
    return this.#parts.every((part) => part.ready);
  }

  get waitingFor(): string {
    const waiting = this.#parts.filter((part) => !part.ready);
    const first = waiting[0];
    if (first === undefined) return '';
    return waiting.length === 1 ? first.waitingFor : `${first.waitingFor} (+${waiting.length - 1})`;
  }

  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Stops following the parts. */
  close(): void {
    for (const stop of this.#stops.splice(0)) stop();
    this.#listeners.clear();
  }

  #changed(): void {
    for (const listener of [...this.#listeners]) listener();
  }
}

/**
 * An entry's hold on its reading while what it feeds is not ready. It holds
 * from the start (`initialWaitingFor`: nothing is known until the flow has
 * been looked at), follows the Readiness it is given, and can be given a new
 * one when the flow is redeployed. `hold` is the bus's `holdInbound`: every
 * call must be released, and each is released exactly once.
 */
export class ReadinessHold {
  readonly #hold: () => () => void;
  readonly #changed: () => void;
  #release: (() => void) | undefined;
  #following: Readiness | undefined;
  #stopFollowing: (() => void) | undefined;
  #waitingFor: string;
  #closed = false;

  constructor(hold: () => () => void, changed: () => void, initialWaitingFor: string) {
    this.#hold = hold;
    this.#changed = changed;
    this.#waitingFor = initialWaitingFor;
    this.#release = hold();
  }

  /** True while reading is held. */
  get holding(): boolean {
    return this.#release !== undefined;
  }

  /** What the entry waits for; '' while it reads. */
  get waitingFor(): string {
    return this.holding ? this.#waitingFor : '';
  }

  /** Follows `readiness` from now on (instead of any earlier one). */
  follow(readiness: Readiness): void {
    if (this.#closed) return;
    this.#stopFollowing?.();
    this.#following = readiness;
    this.#stopFollowing = readiness.onChange(() => this.#evaluate());
    this.#evaluate();
  }

  /** Holds again with `waitingFor` until the next follow() (the flow is being redeployed). */
  suspend(waitingFor: string): void {
    if (this.#closed) return;
    this.#stopFollowing?.();
    this.#stopFollowing = undefined;
    this.#following = undefined;
    this.#set(false, waitingFor);
  }

  /** Lets go of the hold and the readiness followed, for good. */
  close(): void {
    this.#closed = true;
    this.#stopFollowing?.();
    this.#stopFollowing = undefined;
    this.#release?.();
    this.#release = undefined;
  }

  #evaluate(): void {
    const r = this.#following;
    if (r !== undefined && !this.#closed) this.#set(r.ready, r.waitingFor);
  }

  #set(ready: boolean, waitingFor: string): void {
    const before = { holding: this.holding, waitingFor: this.#waitingFor };
    this.#waitingFor = ready ? '' : waitingFor;
    if (ready) {
      this.#release?.();
      this.#release = undefined;
    } else if (this.#release === undefined) {
      this.#release = this.#hold();
    }
    if (before.holding !== this.holding || before.waitingFor !== this.#waitingFor) this.#changed();
  }
}
