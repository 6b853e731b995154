import { type Reason, describeReasons } from '../reasons';
import { type SequenceInForce, checkCatalogSequence } from './catalog-signing';
import type { Catalog } from './catalog-model';
import type { CatalogSource, CatalogSourceEvent } from './catalog-source';
import { CatalogStore, type CatalogSnapshot, type CatalogState } from './catalog-store';
import type { CompatibilityPolicy } from './types';

export interface SiteCatalogOptions {
  source: CatalogSource;
  policy: CompatibilityPolicy;
  /** A central instance passes each catalog it puts in force on to the sites (publishCatalogToBus). */
  publish?: (catalog: Catalog) => Promise<{ topics: string[] }>;
  log?: { info(message: string): void; warn(message: string): void };
  now?: () => Date;
}

/**
 * The catalog one site validates with, kept current: it follows its source,
 * lets a new catalog in only through the CatalogStore's compatibility gate,
 * tells its users of every change, and, on a central instance, publishes
 * each catalog it puts in force. The catalog's counterpart of SitePolicy.
 */
export class SiteCatalog {
  readonly origin: string;
  readonly #options: SiteCatalogOptions;
  readonly #store: CatalogStore;
  #closed = false;
  #started = false;
  // One publication at a time, in order, so the newest bundle is the one left retained.
  #publishing: Promise<void> = Promise.resolve();
  /** The sequence of the signed catalog in force; held in memory, so a restarted site takes the first validly signed one. */
  #sequence: SequenceInForce | undefined;

  constructor(options: SiteCatalogOptions) {
    this.#options = options;
    this.origin = options.source.origin;
    this.#store = new CatalogStore({ policy: options.policy, ...(options.now ? { now: options.now } : {}) });
  }

  get state(): CatalogState {
    return this.#store.state;
  }

  get snapshot(): CatalogSnapshot | undefined {
    return this.#store.snapshot;
  }

  onState(listener: (state: CatalogState) => void): () => void {
    return this.#store.onState(listener);
  }

  start(): void {
    if (this.#started || this.#closed) return;
    this.#started = true;
    this.#options.source.start((event) => this.#onSource(event));
  }

  /** Stops the source and waits for a publication in progress. Never rejects. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#store.close();
    await Promise.all([this.#options.source.close().catch(() => undefined), this.#publishing]);
  }

  #onSource(event: CatalogSourceEvent): void {
    if (this.#closed) return;
    const { log, policy } = this.#options;
    if (event.kind === 'unavailable') {
      log?.warn(`${this.origin}: ${describeReasons(event.reasons)}`);
      this.#store.reportUnavailable(this.origin, event.reasons);
      return;
    }
    const previous = this.#store.snapshot;
    const stays = previous ? `catalog ${previous.label} stays in force` : 'no catalog is in force';
    const refused = (reasons: readonly Reason[]): void => {
      log?.warn(`catalog from ${this.origin} refused, ${stays}:\n  ${reasons.map((r) => `${r.rule}${r.path ? ` at ${r.path}` : ''}: ${r.message}`).join('\n  ')}`);
    };
    if (event.kind === 'refused') {
      this.#store.reportRefused(this.origin, event.reasons);
      refused(event.reasons);
      return;
    }
    if (event.sequence !== undefined) {
      const rollback = checkCatalogSequence(event.sequence, event.digest, this.#sequence);
      if (rollback) {
        this.#store.reportRefused(this.origin, [rollback], event.digest);
        refused([rollback]);
        return;
      }
    }
    const outcome = this.#store.proposeFiles(event.files, this.origin, event.digest);
    if (outcome.ok && event.sequence !== undefined) this.#sequence = { sequence: event.sequence, digest: event.digest };
    if (!outcome.changed) return;
    if (outcome.ok) {
      const { snapshot } = outcome;
      const entities = [...snapshot.catalog.entities.values()].map((e) => `${e.name} ${e.versions.map((v) => v.version).join('/')}`).join(', ');
      log?.info(`catalog ${snapshot.label} in force (${policy}) from ${this.origin}${previous ? `, replacing ${previous.label}` : ''}: ${entities}`);
      this.#publish(snapshot);
      return;
    }
    refused(outcome.reasons);
  }

  #publish(snapshot: CatalogSnapshot): void {
    const { publish, log } = this.#options;
    if (!publish) return;
    this.#publishing = this.#publishing.then(async () => {
      if (this.#closed) return;
      try {
        const { topics } = await publish(snapshot.catalog);
        log?.info(`catalog ${snapshot.label} published to the bus: ${topics.length} retained messages`);
      } catch (err) {
        if (!this.#closed) log?.warn(`publishing catalog ${snapshot.label} to the bus failed: ${(err as Error).message}`);
      }
    });
  }
}
