import type { RegistrySnapshot } from '../fleet/registry-format';
import { parseSiteState, type SiteState } from '../fleet/site-state';
import type { Checked } from '../reasons';
import { parseEntry, type RegistryEntry } from './entry-format';

/** What a lookup returns: one endpoint, frozen and shared, so a lookup allocates nothing. */
export interface Endpoint {
  readonly service: string;
  readonly site: string;
  readonly instance: string;
  /** `{site}/{instance}`: unique within a service; what feedback may name instead of the URL. */
  readonly key: string;
  readonly url: string;
  readonly weight: number;
  readonly region?: string;
  readonly metadata: Readonly<Record<string, unknown>>;
}

export interface RegistryClock {
  now(): number;
}

export interface ViewOptions {
  /**
   * How far the announcer's clock may run behind ours before its own
   * `expiresAt` cuts an entry short (default 30 s): a retained entry whose
   * announcer vanished long ago arrives already expired, whatever our clock.
   */
  skewToleranceMs?: number;
  /**
   * How long an expired entry stays in the view (shown as `expired` in the
   * snapshot) before it is forgotten, as Consul de-registers a critical
   * service after a longer bound (default 10 minutes). A retained message
   * that arrives again brings it back.
   */
  forgetExpiredAfterMs?: number;
}

export const DEFAULT_SKEW_TOLERANCE_MS = 30_000;
export const DEFAULT_FORGET_EXPIRED_AFTER_MS = 10 * 60_000;

interface Held {
  entry: RegistryEntry;
  endpoint: Endpoint;
  /** Local time (our clock) past which the entry is expired. */
  expiresAt: number;
}

/** One service's entries and the healthy list lookups read, rebuilt only when something changed or a deadline passed. */
class ServiceEntries {
  readonly held = new Map<string, Held>();
  readonly failedUntil = new Map<string, number>();
  healthy: readonly Endpoint[] = [];
  /** Our time until which `healthy` stays right without a new message: the next expiry or end of a cool-down. */
  validUntil = -Infinity;
  generation = -1;
}

const EMPTY: readonly Endpoint[] = Object.freeze([]);

/**
 * The local view of the registry one runtime keeps per bus: entries by
 * service (from retained `tectonic/registry/{service}/#` messages) and the
 * sites' liveness (`tectonic/health/+/state`). An entry is returned only
 * while it is fresh (our clock: received + TTL, bounded by its own
 * expiresAt plus the skew tolerance), its site is not offline in the
 * entry's session, and no flow has reported it failed within a cool-down.
 * Healthy lists are sorted once (weight descending, then key) and cached
 * until the next change or deadline, so a lookup is a map read and a
 * comparison.
 */
export class RegistryView {
  private readonly services = new Map<string, ServiceEntries>();
  private readonly sites = new Map<string, SiteState>();
  /** Bumped by every site state change: every service's healthy list may depend on it. */
  private generation = 0;
  private readonly skewMs: number;
  private readonly forgetMs: number;

  constructor(
    private readonly clock: RegistryClock,
    options: ViewOptions = {},
  ) {
    this.skewMs = options.skewToleranceMs ?? DEFAULT_SKEW_TOLERANCE_MS;
    this.forgetMs = options.forgetExpiredAfterMs ?? DEFAULT_FORGET_EXPIRED_AFTER_MS;
  }

  /** Starts keeping `service` (entries arriving for services not kept are ignored). */
  keep(service: string): void {
    if (!this.services.has(service)) this.services.set(service, new ServiceEntries());
  }

  forget(service: string): void {
    this.services.delete(service);
  }

  get serviceNames(): string[] {
    return [...this.services.keys()];
  }

  /** A message on a registry topic: an entry, or an empty payload deleting one. Refusals leave the view as it was. */
  receiveEntry(topic: string, payload: Buffer | string): Checked<RegistryEntry | null> {
    const parsed = parseEntry(topic, payload);
    if (!parsed.ok) return parsed;
    const entry = parsed.value;
    const parts = topic.split('/');
    const service = this.services.get(parts[2] as string);
    if (service === undefined) return parsed;
    const key = `${parts[3] as string}/${parts[4] as string}`;
    if (entry === null) service.held.delete(key);
    else service.held.set(key, this.hold(entry, key));
    service.validUntil = -Infinity;
    return parsed;
  }

  private hold(entry: RegistryEntry, key: string): Held {
    const now = this.clock.now();
    const endpoint: Endpoint = Object.freeze({
      service: entry.service,
      site: entry.site,
      instance: entry.instance,
      key,
      url: entry.url,
      weight: entry.weight,
      ...(entry.region === undefined ? {} : { region: entry.region }),
      metadata: Object.freeze(entry.metadata),
    });
    return { entry, endpoint, expiresAt: Math.min(now + entry.ttl * 1000, Date.parse(entry.expiresAt) + this.skewMs) };
  }

  /** A message on `tectonic/health/{site}/state`; an empty or malformed one forgets the site's state. */
  receiveSiteState(site: string, payload: Buffer | string): Checked<SiteState> {
    const parsed = parseSiteState(payload);
    if (parsed.ok) this.sites.set(site, parsed.value);
    else this.sites.delete(site);
    this.generation += 1;
    return parsed;
  }

  /**
   * Whether the site's state says the entry's announcer is gone: offline in
   * the entry's session (or a later one), or online in a later session the
   * entry was not re-announced in. An entry without a session follows the
   * state alone; a site with no state (a broker without fleet health) does
   * not mark anything offline.
   */
  private siteOffline(entry: RegistryEntry): boolean {
    const state = this.sites.get(entry.site);
    if (state === undefined) return false;
    if (entry.session === undefined) return state.state === 'offline';
    if (entry.session > state.session) return false;
    return entry.session < state.session || state.state === 'offline';
  }

  /** The healthy endpoints of `service`, primary first (weight descending, then key). */
  healthy(service: string): readonly Endpoint[] {
    const entries = this.services.get(service);
    if (entries === undefined) return EMPTY;
    const now = this.clock.now();
    if (now < entries.validUntil && entries.generation === this.generation) return entries.healthy;
    return this.rebuild(entries, now);
  }

  private rebuild(entries: ServiceEntries, now: number): readonly Endpoint[] {
    let validUntil = Infinity;
    const up: Endpoint[] = [];
    for (const [key, until] of entries.failedUntil) {
      if (until <= now) entries.failedUntil.delete(key);
      else validUntil = Math.min(validUntil, until);
    }
    for (const [key, held] of entries.held) {
      if (held.expiresAt <= now) {
        // Expired: rebuild again when it is due to be forgotten.
        if (held.expiresAt + this.forgetMs <= now) entries.held.delete(key);
        else validUntil = Math.min(validUntil, held.expiresAt + this.forgetMs);
        continue;
      }
      if (this.siteOffline(held.entry) || entries.failedUntil.has(held.endpoint.key)) continue;
      up.push(held.endpoint);
      validUntil = Math.min(validUntil, held.expiresAt);
    }
    up.sort((a, b) => b.weight - a.weight || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    entries.healthy = Object.freeze(up);
    entries.validUntil = validUntil;
    entries.generation = this.generation;
    return entries.healthy;
  }

  /**
   * A flow reported `keyOrUrl` (an endpoint's key `{site}/{instance}` or its
   * URL) failed: it is skipped for `coolDownMs`. Returns the endpoints marked.
   */
  markFailed(service: string, keyOrUrl: string, coolDownMs: number): Endpoint[] {
    const entries = this.services.get(service);
    if (entries === undefined) return [];
    const marked: Endpoint[] = [];
    const until = this.clock.now() + coolDownMs;
    for (const held of entries.held.values()) {
      if (held.endpoint.key !== keyOrUrl && held.endpoint.url !== keyOrUrl) continue;
      entries.failedUntil.set(held.endpoint.key, until);
      marked.push(held.endpoint);
    }
    if (marked.length > 0) entries.validUntil = -Infinity;
    return marked;
  }

  /** Every kept service with every endpoint and its state, for GET /tectonic/fleet/registry. */
  snapshot(): RegistrySnapshot {
    const now = this.clock.now();
    const services: RegistrySnapshot['services'] = [];
    for (const [service, entries] of [...this.services].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
      // Brings the service up to date first: forgets entries long expired, ends cool-downs.
      this.healthy(service);
      const endpoints = [...entries.held.values()].map((held) => {
        const { site, instance, url, region, weight } = held.endpoint;
        const failed = (entries.failedUntil.get(held.endpoint.key) ?? -Infinity) > now;
        const state = this.siteOffline(held.entry) ? 'offline' : held.expiresAt <= now ? 'expired' : failed ? 'failed' : 'up';
        return { site, instance, url, ...(region === undefined ? {} : { region }), weight, state, expiresAt: new Date(held.expiresAt).toISOString() } as const;
      });
      endpoints.sort((a, b) => b.weight - a.weight || (`${a.site}/${a.instance}` < `${b.site}/${b.instance}` ? -1 : 1));
      services.push({ service, endpoints });
    }
    return { services };
  }
}
