import { CATALOG_BUNDLE_TOPIC, DEFAULT_MAX_BUNDLE_BYTES, catalogDigest, decodeCatalogBundle, encodeCatalogBundle, schemaMessages } from './catalog-bundle';
import { readCatalogFolder } from './catalog-loader';
import type { Catalog } from './catalog-model';
import type { Reason } from '../reasons';
import { ConditionalFetch } from '../sources/conditional-fetch';
import { checkHttpUrl } from '../sources/http-url';
import { PollLoop } from '../sources/poll-loop';

/**
 * Where a catalog comes from. A source only fetches files and tells what it
 * found; the CatalogStore decides whether they may replace the catalog in
 * force. Each source reports a catalog only when its digest changed, and a
 * problem only when it is a new one, so a poll every few seconds is quiet.
 */
export type CatalogSourceEvent =
  | { kind: 'files'; files: ReadonlyMap<string, string>; digest: string }
  | { kind: 'unavailable'; reasons: Reason[] };

export interface CatalogSource {
  /** In words, for logs and status: `folder /srv/cdm`, `https://hq.example/cdm.json`. */
  readonly origin: string;
  start(listener: (event: CatalogSourceEvent) => void): void;
  /** Stops timers, aborts a fetch in flight, unsubscribes; never rejects. */
  close(): Promise<void>;
}

/** The part of the shared bus a catalog needs; lib/bus's SharedBus has this shape. */
export interface CatalogBus {
  publish(topic: string, payload: Buffer, options: { qos: 0 | 1 | 2; retain?: boolean }): Promise<void>;
  subscribe(filter: string, qos: 0 | 1 | 2, handler: (topic: string, payload: Buffer) => void): Promise<() => Promise<void>>;
}



/** Calls `listener` once per distinct problem and for every new digest. */
class Reporter {
  private lastDigest: string | undefined;
  private lastProblem: string | undefined;

  constructor(private readonly listener: (event: CatalogSourceEvent) => void) {}

  files(files: ReadonlyMap<string, string>, digest: string): void {
    this.lastProblem = undefined;
    if (digest === this.lastDigest) return;
    this.lastDigest = digest;
    this.listener({ kind: 'files', files, digest });
  }

  unavailable(reasons: Reason[]): void {
    const key = JSON.stringify(reasons);
    if (key === this.lastProblem) return;
    this.lastProblem = key;
    this.listener({ kind: 'unavailable', reasons });
  }
}

export interface FolderSourceOptions {
  dir: string;
  /** Poll interval; 0 reads once (the bundled sample never changes). */
  intervalMs: number;
  /**
   * A changed folder is read again after this pause and taken only when both
   * reads agree, so a catalog caught half copied is not refused (and logged)
   * for nothing. Default: a quarter of the interval, at most 1 s.
   */
  settleMs?: number;
  origin?: string;
}

/**
 * A folder on disk, polled. Polling rather than fs.watch: watch events are
 * missing or duplicated on network and container file systems, which is
 * exactly where a central team's catalog folder tends to live.
 */
export { readCatalogFolder };

export class FolderCatalogSource implements CatalogSource {
  readonly origin: string;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly settleMs: number;

  constructor(private readonly options: FolderSourceOptions) {
    this.origin = options.origin ?? `folder ${options.dir}`;
    this.settleMs = options.settleMs ?? Math.min(1000, Math.floor(options.intervalMs / 4));
  }

  start(listener: (event: CatalogSourceEvent) => void): void {
    const reporter = new Reporter(listener);
    let seen: string | undefined;
    const tick = async (): Promise<void> => {
      const first = await readCatalogFolder(this.options.dir);
      if (this.closed) return;
      if (!first.ok) return reporter.unavailable(first.reasons);
      const digest = catalogDigest(first.files);
      // The first read at start-up is taken as it is: there is nothing in force to protect yet.
      if (seen !== undefined && digest !== seen && this.settleMs > 0) {
        await new Promise<void>((resolve) => {
          this.timer = setTimeout(resolve, this.settleMs);
        });
        if (this.closed) return;
        const second = await readCatalogFolder(this.options.dir);
        if (this.closed || !second.ok || catalogDigest(second.files) !== digest) return;
      }
      seen = digest;
      reporter.files(first.files, digest);
    };
    const loop = (): void => {
      tick()
        .catch((err: unknown) => reporter.unavailable([{ path: this.options.dir, rule: 'unreadable', message: (err as Error).message }]))
        .finally(() => {
          if (!this.closed && this.options.intervalMs > 0) this.timer = setTimeout(loop, this.options.intervalMs);
        });
    };
    loop();
  }

  close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    return Promise.resolve();
  }
}

export interface UrlSourceOptions {
  url: string;
  intervalMs: number;
  /** Bound for one request, headers and body; default 30 s. */
  timeoutMs?: number;
  maxBytes?: number;
  /** Extra request headers (e.g. an Authorization the central team requires). */
  headers?: Record<string, string>;
}

/** Checks a catalog URL: http or https, nothing else (no file:, no data:). */
export function checkCatalogUrl(text: string): { ok: true; url: URL } | { ok: false; reasons: Reason[] } {
  const checked = checkHttpUrl(text, 'catalog');
  return checked.ok ? checked : { ok: false, reasons: [checked.reason] };
}

/**
 * A bundle served over HTTP(S), polled with a conditional GET: the server
 * answers 304 Not Modified to the ETag of the last good bundle, so an
 * unchanged catalog costs one small round trip.
 */
export class UrlCatalogSource implements CatalogSource {
  readonly origin: string;
  private readonly fetcher: ConditionalFetch;
  private readonly maxBytes: number;
  private readonly poll: PollLoop;

  constructor(private readonly options: UrlSourceOptions) {
    this.origin = options.url;
    this.poll = new PollLoop(options.intervalMs);
    this.maxBytes = options.maxBytes ?? DEFAULT_MAX_BUNDLE_BYTES;
    this.fetcher = new ConditionalFetch({
      url: options.url,
      timeoutMs: options.timeoutMs,
      maxBytes: this.maxBytes,
      headers: { accept: 'application/json', ...options.headers },
    });
  }

  start(listener: (event: CatalogSourceEvent) => void): void {
    const reporter = new Reporter(listener);
    this.poll.start(() => this.fetchOnce(reporter));
  }

  private async fetchOnce(reporter: Reporter): Promise<void> {
    const { url } = this.options;
    const got = await this.fetcher.get();
    if (got.kind === 'unchanged' || got.kind === 'aborted') return;
    // A body too large is named by where it came from after redirects.
    if (got.kind === 'failed') return reporter.unavailable([{ path: got.rule === 'too-large' ? got.url : url, rule: got.rule, message: got.message }]);
    const bundle = decodeCatalogBundle(got.bytes, { maxBytes: this.maxBytes });
    if (!bundle.ok) return reporter.unavailable(bundle.reasons.map((r) => ({ ...r, message: `${url}: ${r.message}` })));
    // Remember the ETag only for a bundle that decoded: a corrupt body must be fetched again in full.
    this.fetcher.remember(got.etag);
    reporter.files(bundle.files, bundle.digest);
  }

  async close(): Promise<void> {
    this.fetcher.abort();
    await this.poll.stop();
  }
}

/**
 * Retained messages on the bus: the bundle on `tectonic/cdm/_catalog`, which
 * the broker hands to a site as soon as it subscribes, however long ago the
 * central instance published it.
 */
export class BusCatalogSource implements CatalogSource {
  readonly origin = `bus ${CATALOG_BUNDLE_TOPIC}`;
  private closed = false;
  private unsubscribe: (() => Promise<void>) | undefined;

  constructor(
    private readonly bus: Pick<CatalogBus, 'subscribe'>,
    private readonly options: { maxBytes?: number } = {},
  ) {}

  start(listener: (event: CatalogSourceEvent) => void): void {
    const reporter = new Reporter(listener);
    const onMessage = (_topic: string, payload: Buffer): void => {
      // An empty retained message clears the topic: no catalog offered, nothing to change.
      if (payload.length === 0) return;
      const bundle = decodeCatalogBundle(payload, this.options);
      if (bundle.ok) reporter.files(bundle.files, bundle.digest);
      else reporter.unavailable(bundle.reasons.map((r) => ({ ...r, message: `${CATALOG_BUNDLE_TOPIC}: ${r.message}` })));
    };
    this.bus.subscribe(CATALOG_BUNDLE_TOPIC, 1, onMessage).then(
      (unsubscribe) => {
        if (this.closed) void unsubscribe();
        else this.unsubscribe = unsubscribe;
      },
      (err: Error) => {
        if (!this.closed) reporter.unavailable([{ path: CATALOG_BUNDLE_TOPIC, rule: 'subscribe-failed', message: err.message }]);
      },
    );
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.unsubscribe?.().catch(() => undefined);
  }
}

/**
 * What a central instance publishes, all retained at QoS 1: one message per
 * schema on `tectonic/cdm/{folder}/{version}` (its file text, unchanged), then
 * the bundle. The bundle goes last so a site that loads it can also find
 * every schema it names on its own topic.
 */
export async function publishCatalogToBus(bus: Pick<CatalogBus, 'publish'>, catalog: Catalog): Promise<{ topics: string[]; digest: string }> {
  const topics: string[] = [];
  for (const { topic, text } of schemaMessages(catalog)) {
    await bus.publish(topic, Buffer.from(text, 'utf8'), { qos: 1, retain: true });
    topics.push(topic);
  }
  const { bundle, text } = encodeCatalogBundle(catalog.sourceFiles);
  await bus.publish(CATALOG_BUNDLE_TOPIC, Buffer.from(text, 'utf8'), { qos: 1, retain: true });
  topics.push(CATALOG_BUNDLE_TOPIC);
  return { topics, digest: bundle.digest };
}
