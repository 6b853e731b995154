import type { FlowClock } from '../flow/in-flight';
import { type EntryFields, encodeEntry, registryTopic } from './entry-format';

/** How the announcer reaches the bus: a retained QoS 1 publish. */
export type RetainedPublish = (topic: string, payload: string) => Promise<void>;

/** Refreshes per TTL: at a third of it, two refreshes may be lost before a reader sees the entry expire. */
export const REFRESHES_PER_TTL = 3;

export type AnnouncerState = 'announced' | 'withdrawn' | 'closed';

/**
 * One registry-announce node's entry on the bus: announced (retained) at
 * start and every TTL/3, withdrawn (an empty retained message) while its
 * health check fails, cleared for good on close. `session` is read at each
 * announcement, so an entry always names the connection that carries it.
 */
export class Announcer {
  readonly topic: string;
  private timer: unknown;
  private current: AnnouncerState = 'withdrawn';
  private wanted = true;

  constructor(
    private readonly fields: Omit<EntryFields, 'session'>,
    private readonly publish: RetainedPublish,
    private readonly clock: FlowClock,
    private readonly session: () => number | undefined,
    private readonly failed: (err: Error) => void,
  ) {
    this.topic = registryTopic(fields.service, fields.site, fields.instance);
  }

  get state(): AnnouncerState {
    return this.current;
  }

  get refreshMs(): number {
    return (this.fields.ttl * 1000) / REFRESHES_PER_TTL;
  }

  /** Announces now (at start, on every reconnect, on recovery) and keeps refreshing. */
  announce(): void {
    if (this.current === 'closed') return;
    this.wanted = true;
    this.current = 'announced';
    this.clock.clearTimeout(this.timer);
    const session = this.session();
    const payload = encodeEntry(session === undefined ? this.fields : { ...this.fields, session }, this.clock.now());
    this.publish(this.topic, payload).catch(this.failed);
    this.timer = this.clock.setTimeout(() => this.announce(), this.refreshMs);
  }

  /** On a reconnect: announce again only if the entry is meant to be up. */
  reannounce(): void {
    if (this.wanted) this.announce();
  }

  /** The service is down while the site is up: clear the entry until announce() again. */
  withdraw(): void {
    if (this.current === 'closed') return;
    this.wanted = false;
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    if (this.current === 'withdrawn') return;
    this.current = 'withdrawn';
    this.publish(this.topic, '').catch(this.failed);
  }

  /** For good: clears the entry; resolves once the broker has it (the caller bounds the wait). */
  close(): Promise<void> {
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    if (this.current === 'closed') return Promise.resolve();
    this.current = 'closed';
    return this.publish(this.topic, '');
  }
}
