/**
 * Remembers the last `size` message keys seen, to drop redeliveries: the bus
 * is at-least-once (a publisher resends what was not acknowledged after a
 * reconnect or a crash), consumers want each message once. A Map keeps
 * insertion order, so the oldest key is the first one to evict.
 */
export class DedupWindow {
  private readonly seen = new Map<string, true>();

  constructor(private readonly size: number) {}

  /** true the first time a key is offered within the window, false for a duplicate. */
  admit(key: string): boolean {
    if (this.size <= 0) return true;
    if (this.seen.has(key)) return false;
    this.seen.set(key, true);
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
