import { type BundleProblem, BundleReporter, type BundleSource, type BundleEvent, type Decoded } from './bundle-source';
import { PollLoop } from './poll-loop';

export interface DiskSourceOptions<T> {
  origin: string;
  /** Poll interval; 0 reads once (the package's own files never change while it runs). */
  intervalMs: number;
  /**
   * A changed bundle is read again after this pause and taken only when both
   * reads agree, so one caught half copied is not refused (and logged, or a
   * policy failing every gate closed for an interval) for nothing. Default: a
   * quarter of the interval, at most 1 s.
   */
  settleMs?: number;
  /** One read of the file or folder; may throw, `unexpected` words it. */
  read(): Promise<Decoded<T>>;
  unexpected(err: Error): BundleProblem;
}

/**
 * A file or folder on disk, polled. Polling rather than fs.watch: watch
 * events are missing or duplicated on network and container file systems,
 * which is exactly where a central team's files tend to live.
 */
export class DiskBundleSource<T> implements BundleSource<T> {
  readonly origin: string;
  private readonly poll: PollLoop;
  private readonly settleMs: number;
  private closed = false;
  private wake: (() => void) | undefined;

  constructor(private readonly options: DiskSourceOptions<T>) {
    this.origin = options.origin;
    this.poll = new PollLoop(options.intervalMs);
    this.settleMs = options.settleMs ?? Math.min(1000, Math.floor(options.intervalMs / 4));
  }

  start(listener: (event: BundleEvent<T>) => void): void {
    const reporter = new BundleReporter(listener);
    let seen: string | undefined;
    const tick = async (): Promise<void> => {
      const first = await this.options.read();
      if (this.closed) return;
      if (!first.ok) return reporter.report(first);
      // The first read at start-up is taken as it is: there is nothing from this source in force to protect yet.
      if (seen !== undefined && first.digest !== seen && this.settleMs > 0) {
        await this.pause(this.settleMs);
        if (this.closed) return;
        const second = await this.options.read();
        if (this.closed || !second.ok || second.digest !== first.digest) return;
      }
      seen = first.digest;
      reporter.report(first);
    };
    this.poll.start(() => tick().catch((err: unknown) => reporter.problem(this.options.unexpected(err as Error))));
  }

  /** A settle pause that close() cuts short. */
  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    this.wake?.();
    await this.poll.stop();
  }
}
