import type { Reason } from '../reasons';

/**
 * What a source of a bundle (the catalog, a signed policy) found. A source
 * only fetches and decodes; whether the bundle may replace the one in force
 * is its owner's call (CatalogStore, SitePolicy).
 *
 * `refused` is a bundle the source itself will not hand over (a policy larger
 * than the site's limit): a trust failure, not an outage. `unavailable` is an
 * outage or junk on the wire: what is in force stays.
 */
export type BundleEvent<T> =
  | { kind: 'bundle'; value: T; digest: string }
  | { kind: 'refused'; reasons: Reason[] }
  | { kind: 'unavailable'; reasons: Reason[] };

export type BundleProblem = Extract<BundleEvent<never>, { reasons: Reason[] }>;

/** One read or one message, decoded: the bundle and its digest, or why not. */
/** `key`: what tells two offers apart when the digest alone does not (a signed catalog's sequence); the digest by default. */
export type Decoded<T> = { ok: true; value: T; digest: string; key?: string } | ({ ok: false } & BundleProblem);

export interface BundleSource<T> {
  /** In words, for logs and status: `folder /srv/cdm`, `https://hq.example/policy.json`, `bus tectonic/cdm/_catalog`. */
  readonly origin: string;
  start(listener: (event: BundleEvent<T>) => void): void;
  /** Stops timers, aborts a fetch in flight, unsubscribes; never rejects. */
  close(): Promise<void>;
}

/**
 * Passes on a bundle only when its digest changed and a problem only when it
 * is a new one, so a poll every few seconds stays quiet.
 */
export class BundleReporter<T> {
  private lastDigest: string | undefined;
  private lastProblem: string | undefined;

  constructor(private readonly listener: (event: BundleEvent<T>) => void) {}

  report(decoded: Decoded<T>): void {
    if (decoded.ok) return this.bundle(decoded.value, decoded.digest, decoded.key);
    this.problem({ kind: decoded.kind, reasons: decoded.reasons });
  }

  bundle(value: T, digest: string, key = digest): void {
    this.lastProblem = undefined;
    if (key === this.lastDigest) return;
    this.lastDigest = key;
    this.listener({ kind: 'bundle', value, digest });
  }

  problem(problem: BundleProblem): void {
    const key = `${problem.kind}\u0000${JSON.stringify(problem.reasons)}`;
    if (key === this.lastProblem) return;
    this.lastProblem = key;
    // A refusal is about bytes; the same bytes offered again after it must be passed on again.
    if (problem.kind === 'refused') this.lastDigest = undefined;
    this.listener(problem);
  }
}
