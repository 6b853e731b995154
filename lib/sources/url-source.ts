import { type BundleProblem, BundleReporter, type BundleSource, type BundleEvent, type Decoded } from './bundle-source';
import { ConditionalFetch, type FetchOutcome } from './conditional-fetch';
import { PollLoop } from './poll-loop';
import { maskUrlPasswords } from '../redact-url';

export interface UrlSourceOptions {
  url: string;
  intervalMs: number;
  /** Bound for one request, headers and body; default 30 s. */
  timeoutMs?: number;
  maxBytes?: number;
  /** Extra request headers (e.g. an Authorization the central team requires). */
  headers?: Record<string, string>;
}

export interface UrlBundleOptions<T> {
  /** Where and how often, as the config node gives it. */
  source: UrlSourceOptions;
  /** This kind of bundle's size bound when the source sets none. */
  defaultMaxBytes: number;
  /** The `accept` header for this kind of bundle; the source's own headers may override it. */
  accept: string;
  decode(bytes: Buffer, maxBytes: number): Decoded<T>;
  failed(got: Extract<FetchOutcome, { kind: 'failed' }>, maxBytes: number): BundleProblem;
}

/**
 * A bundle served over HTTP(S), polled with a conditional GET: the server
 * answers 304 Not Modified to the ETag of the last bundle that decoded, so an
 * unchanged bundle costs one small round trip, and a corrupt body is fetched
 * again in full.
 */
export class UrlBundleSource<T> implements BundleSource<T> {
  readonly origin: string;
  private readonly fetcher: ConditionalFetch;
  private readonly poll: PollLoop;

  private readonly maxBytes: number;

  constructor(private readonly options: UrlBundleOptions<T>) {
    const { url, intervalMs, timeoutMs, headers } = options.source;
    // The origin is what logs and statuses show: never the URL's password.
    this.origin = maskUrlPasswords(url);
    this.maxBytes = options.source.maxBytes ?? options.defaultMaxBytes;
    this.poll = new PollLoop(intervalMs);
    this.fetcher = new ConditionalFetch({ url, timeoutMs, maxBytes: this.maxBytes, headers: { accept: options.accept, ...headers } });
  }

  start(listener: (event: BundleEvent<T>) => void): void {
    const reporter = new BundleReporter(listener);
    this.poll.start(() => this.fetchOnce(reporter));
  }

  private async fetchOnce(reporter: BundleReporter<T>): Promise<void> {
    const got = await this.fetcher.get();
    if (got.kind === 'unchanged' || got.kind === 'aborted') return;
    if (got.kind === 'failed') return reporter.problem(this.options.failed(got, this.maxBytes));
    const decoded = this.options.decode(got.bytes, this.maxBytes);
    if (decoded.ok) this.fetcher.remember(got.etag);
    reporter.report(decoded);
  }

  async close(): Promise<void> {
    this.fetcher.abort();
    await this.poll.stop();
  }
}
