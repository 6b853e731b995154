import type { KeyObject } from 'node:crypto';
import { type Reason, reason } from '../reasons';
import { type CompiledPolicy, type HashKeys, type PolicyInput, type PolicyVerdict, systemClock } from './engine';
import { POLICY_UNAVAILABLE, PolicyState } from './policy-state';
import type { PolicyStatus } from './policy-state';
import type { PolicyCache, PolicySource, PolicySourceEvent } from './policy-source';
import { checkBundleTrust } from './trust';

export interface SitePolicyOptions {
  source: PolicySource;
  trustedKeys: readonly (string | KeyObject)[];
  site: string;
  hashKey?: HashKeys;
  now?: () => Date;
  maxBundleBytes?: number;
  /** When set, a bundle with another id is refused (`policy-wrong-id`), and a cache of another bundle is ignored. */
  bundleId?: string;
  /** The disk cache; without one a restart starts from nothing (tests, the command line). */
  cache?: PolicyCache;
  /** A central instance passes each bundle it puts in force on to the sites (publishPolicyToBus). */
  publish?: (bytes: Buffer, bundle: { id: string; version: number }) => Promise<void>;
  /** A standing warning the gates show while a bundle is in force (the demo key). */
  notice?: string;
  log?: { info(message: string): void; warn(message: string): void };
}

/** What a gate shows and why: PolicyStatus plus where the bundle came from and any standing warning. */
export type SitePolicyStatus = PolicyStatus & { origin: string; notice?: string };

/** setTimeout's ceiling (about 24.8 days); a later expiry is re-armed when this fires. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * The bundle one site enforces, kept current: it reads the disk cache, then
 * follows its source, verifies every bundle offered (PolicyState), writes the
 * last good one and the highest version back to the cache, and tells its
 * gates of every change, including a bundle that expires while in force.
 *
 * Refusal policy (issue 5): a refused bundle (tampered, wrong key, expired,
 * rolled back, too large) makes every gate fail closed with the refusal's
 * reason, even when a good bundle was in force: a site that is being fed a
 * bad bundle must be seen at once, not keep running on an old one. An outage
 * (the source unreachable) is not a refusal: the bundle in force stays.
 */
export class SitePolicy {
  readonly origin: string;
  readonly #options: SitePolicyOptions;
  readonly #now: () => Date;
  readonly #listeners = new Set<(status: SitePolicyStatus) => void>();
  #state: PolicyState;
  #closed = false;
  #expiryTimer: NodeJS.Timeout | undefined;
  #writes: Promise<void> = Promise.resolve();
  #lastPublished: string | undefined;
  #started: Promise<void> | undefined;

  constructor(options: SitePolicyOptions) {
    this.#options = options;
    this.origin = options.source.origin;
    this.#now = options.now ?? systemClock;
    this.#state = this.#newState(undefined);
  }

  #newState(lastSeenVersion: number | undefined): PolicyState {
    const o = this.#options;
    return new PolicyState({
      trustedKeys: o.trustedKeys,
      site: o.site,
      now: this.#now,
      ...(o.hashKey !== undefined ? { hashKey: o.hashKey } : {}),
      ...(o.maxBundleBytes !== undefined ? { maxBundleBytes: o.maxBundleBytes } : {}),
      ...(lastSeenVersion !== undefined ? { lastSeenVersion } : {}),
      onRefusal: 'fail-closed',
    });
  }

  /** Loads the cache, then starts the source. Resolves once the cached bundle (if any) is in force. */
  start(): Promise<void> {
    this.#started ??= this.#loadCache().then(() => {
      if (!this.#closed) this.#options.source.start((event) => this.#onSource(event));
    });
    return this.#started;
  }

  async #loadCache(): Promise<void> {
    const { cache, bundleId } = this.#options;
    if (!cache) return;
    const { cached, problem } = await cache.read();
    if (this.#closed) return;
    if (problem) this.#options.log?.warn(`policy cache ignored: ${problem}`);
    if (bundleId !== undefined && cached.bundleId !== undefined && cached.bundleId !== bundleId) {
      this.#options.log?.info(`policy cache ${cache.file} holds bundle ${cached.bundleId}, not ${bundleId}: ignored`);
      return;
    }
    // The highest version survives even when the cached bundle itself no longer verifies: a rollback stays refused.
    this.#state = this.#newState(cached.highestVersion);
    if (cached.signed !== undefined) this.#accept(Buffer.from(cached.signed, 'utf8'), `the cache (${cache.file})`, false);
    else this.#changed();
  }

  get status(): SitePolicyStatus {
    const extra = { origin: this.origin, ...(this.#options.notice !== undefined ? { notice: this.#options.notice } : {}) };
    return { ...this.#state.status(), ...extra };
  }

  /** The compiled policy while one is in force and current (bus-publish reads retryFor / rateLimiter). */
  get compiled(): CompiledPolicy | undefined {
    return this.#state.policy;
  }

  /** The highest version enforced so far. */
  get highestVersion(): number | undefined {
    return this.#state.lastSeenVersion;
  }

  evaluate(input: PolicyInput): PolicyVerdict {
    return this.#state.evaluate(input);
  }

  /** Calls `listener` now and on every change; returns the way to stop. */
  onChange(listener: (status: SitePolicyStatus) => void): () => void {
    this.#listeners.add(listener);
    listener(this.status);
    return () => this.#listeners.delete(listener);
  }

  /** Stops the source and the expiry timer, and waits for a cache write in progress. Never rejects. */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#expiryTimer);
    this.#listeners.clear();
    await this.#options.source.close().catch(() => undefined);
    await this.#writes;
  }

  #onSource(event: PolicySourceEvent): void {
    if (this.#closed) return;
    const log = this.#options.log;
    switch (event.kind) {
      case 'bundle':
        this.#accept(event.bytes, this.origin, true);
        return;
      case 'refused':
        this.#refuse(event.reason, this.origin, this.#state.status(), false);
        return;
      case 'unavailable': {
        const status = this.#state.status();
        if (status.state === 'in-force') {
          log?.warn(`policy source ${this.origin}: ${event.reason.message}; ${status.name} stays in force`);
        } else if (status.reason.rule === POLICY_UNAVAILABLE) {
          // Nothing was ever loaded: say why in the gates' reason instead of "not loaded yet".
          log?.warn(`policy source ${this.origin}: ${event.reason.message}; no bundle is in force, every gate rejects`);
          this.#state.failClosed(reason('', POLICY_UNAVAILABLE, `no policy bundle is in force: ${event.reason.message}`));
          this.#changed();
        } else {
          // A refusal is the more important news: keep it as the gates' reason.
          log?.warn(`policy source ${this.origin}: ${event.reason.message}`);
        }
      }
    }
  }

  #accept(bytes: Buffer, origin: string, fresh: boolean): void {
    const o = this.#options;
    const before = this.#state.status();
    if (o.bundleId !== undefined) {
      // Checked before the offer, so a bundle of another id never raises the highest version.
      const trust = checkBundleTrust({
        signed: bytes,
        trustedKeys: o.trustedKeys,
        now: this.#now,
        ...(o.maxBundleBytes !== undefined ? { maxBundleBytes: o.maxBundleBytes } : {}),
      });
      if (trust.ok && trust.bundle.id !== o.bundleId) {
        return this.#refuse(reason('id', 'policy-wrong-id', `${trust.bundle.id}@${trust.bundle.version} is not bundle ${o.bundleId}, which this site is configured for`), origin, before, false);
      }
    }
    const offer = this.#state.offer(bytes);
    if (!offer.ok) return this.#refuse(offer.reason, origin, before, true);
    const status = this.#state.status();
    const replacing = before.state === 'in-force' && before.name !== offer.name ? `, replacing ${before.name}` : '';
    o.log?.info(`policy ${offer.name} in force from ${origin} (key ${offer.keyId})${replacing}`);
    if (status.state === 'in-force') {
      const id = status.id;
      const version = status.version;
      if (fresh && o.cache) {
        const cache = o.cache;
        const record = { signed: bytes.toString('utf8'), bundleId: id, highestVersion: this.#state.lastSeenVersion ?? version };
        this.#writes = this.#writes.then(() =>
          cache.write(record).catch((err: unknown) => o.log?.warn(`policy cache ${cache.file} not written: ${(err as Error).message}`)),
        );
      }
      if (o.publish && this.#lastPublished !== offer.name) {
        const publish = o.publish;
        this.#lastPublished = offer.name;
        this.#writes = this.#writes.then(() =>
          publish(bytes, { id, version }).then(
            () => o.log?.info(`policy ${offer.name} published to the bus`),
            (err: unknown) => {
              this.#lastPublished = undefined;
              if (!this.#closed) o.log?.warn(`policy ${offer.name} not published to the bus: ${(err as Error).message}`);
            },
          ),
        );
      }
    }
    this.#changed();
  }

  /** `applied`: PolicyState already failed closed on its own refusal; the source's and the id check's are applied here. */
  #refuse(why: Reason, origin: string, before: PolicyStatus, applied: boolean): void {
    if (!applied) this.#state.failClosed(why);
    const was = before.state === 'in-force' ? `${before.name} was in force; ` : '';
    this.#options.log?.warn(`policy bundle from ${origin} refused (${why.rule}): ${why.message}; ${was}every gate now rejects with this reason`);
    this.#changed();
  }

  #changed(): void {
    if (this.#closed) return;
    clearTimeout(this.#expiryTimer);
    this.#expiryTimer = undefined;
    const status = this.status;
    if (status.state === 'in-force') {
      const left = Date.parse(status.expiresAt) - this.#now().getTime();
      // Wakes the gates when the bundle runs out, so their status turns red without waiting for a message.
      this.#expiryTimer = setTimeout(() => {
        const now = this.status;
        if (now.state === 'fail-closed') this.#options.log?.warn(`policy ${status.name}: ${now.reason.message}; every gate now rejects`);
        this.#changed();
      }, Math.min(Math.max(left + 5, 0), MAX_TIMER_MS));
      this.#expiryTimer.unref();
    }
    for (const listener of this.#listeners) listener(status);
  }
}

const PEM_PUBLIC_KEY = /-----BEGIN PUBLIC KEY-----[\s\S]*?-----END PUBLIC KEY-----/g;

/**
 * The PEM public keys in a text (a credential or a file may hold several, one
 * after the other). Text that holds none is returned whole, so the trust
 * check names it (`policy-trust-config`) instead of it vanishing.
 */
export function splitPublicKeys(text: string): string[] {
  const found = text.match(PEM_PUBLIC_KEY) ?? [];
  if (found.length > 0) return found;
  return text.trim() === '' ? [] : [text.trim()];
}
