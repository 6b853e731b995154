import { type BundleProblem, BundleReporter, type BundleSource, type BundleEvent, type Decoded } from './bundle-source';
import { ConditionalFetch, type FetchOutcome } from './conditional-fetch';
import { PollLoop } from './poll-loop';

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
  url: string;
  intervalMs: number;
  timeoutMs?: number | undefined;
  maxBytes: number;
  /** Request headers, `accept` included. */
  headers: Record<string, string>;
  decode(bytes: Buffer): Decoded<T>;
  failed(got: Extract<FetchOutcome, { kind: 'failed' }>): BundleProblem;
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

  constructor(private readonly options: UrlBundleOptions<T>) {
    this.origin = options.url;
    this.poll = new PollLoop(options.intervalMs);
    this.fetcher = new ConditionalFetch({ url: options.url, timeoutMs: options.timeoutMs, maxBytes: options.maxBytes, headers: options.headers });
  }

  start(listener: (event: BundleEvent<T>) => void): void {
    const reporter = new BundleReporter(listener);
    this.poll.start(() => this.fetchOnce(reporter));
  }

  private async fetchOnce(reporter: BundleReporter<T>): Promise<void> {
    const got = await this.fetcher.get();
    if (got.kind === 'unchanged' || got.kind === 'aborted') return;
    if (got.kind === 'failed') return reporter.problem(this.options.failed(got));
    const decoded = this.options.decode(got.bytes);
    if (decoded.ok) this.fetcher.remember(got.etag);
    reporter.report(decoded);
  }

  async close(): Promise<void> {
    this.fetcher.abort();
    await this.poll.stop();
  }
}
