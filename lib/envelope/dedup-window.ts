/**
 * Remembers the last `size` message keys seen, to drop redeliveries: the bus
 * is at-least-once (a publisher resends what was not acknowledged after a
 * reconnect or a crash), consumers want each message once. A Map keeps
 * insertion order, so the oldest key is the first one to evict.
 *
 * A key may also be admitted with an age (`forgetAfterMs`): it is then
 * forgotten that long after it was first admitted, whatever the count. Ids
 * made from an input (lib/envelope/derived-id.ts) need it: an equal reading
 * an hour later is a new event with the same id, and must pass. The time is
 * the window's clock, injected for tests; a repeat within the age does not
 * extend it, so a value repeated steadily still passes once per age.
 */
export interface DedupWindowOptions {
  /** The clock; default Date.now. */
  now?: () => number;
}

export class DedupWindow {
  /** Key → when it is forgotten (Infinity: only by count). */
  private readonly seen = new Map<string, number>();
  private readonly now: () => number;

  constructor(
    private readonly size: number,
    options: DedupWindowOptions = {},
  ) {
    this.now = options.now ?? Date.now;
  }

  /**
   * true the first time a key is offered within the window, false for a
   * duplicate. `forgetAfterMs`: the key is also forgotten that long after
   * it was admitted; absent: only by count, as ever.
   */
  admit(key: string, forgetAfterMs?: number): boolean {
    if (this.size <= 0) return true;
    const until = this.seen.get(key);
    const timed = forgetAfterMs !== undefined;
    const at = timed || until !== undefined ? this.now() : 0;
    if (until !== undefined) {
      if (until > at) return false;
      // Forgotten by age: admitted again, as the newest.
      this.seen.delete(key);
    }
    this.seen.set(key, timed ? at + forgetAfterMs : Infinity);
    if (this.seen.size > this.size) {
      const oldest = this.seen.keys().next();
      if (!oldest.done) this.seen.delete(oldest.value);
    }
    return true;
  }

  get remembered(): number {
    return this.seen.size;
  }
}

/** Site and id together: ids are unique per producing site, not across sites. */
export function messageKey(site: string, id: string): string {
  return `${site}\u0000${id}`;
}
