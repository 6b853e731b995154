/**
 * Runs a tick now and again `intervalMs` after each run ends (never two at
 * once, however slow a run is); an interval of 0 runs it once.
 */
export class PollLoop {
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly intervalMs: number) {}

  /** `tick` must not reject: it reports its own problems. After `stop()`, it runs at most once. */
  start(tick: () => Promise<void>): void {
    const loop = (): void => {
      this.inFlight = tick().finally(() => {
        this.inFlight = undefined;
        if (!this.stopped && this.intervalMs > 0) this.timer = setTimeout(loop, this.intervalMs);
      });
    };
    loop();
  }

  /** No run is scheduled after this; resolves once the run in progress (if any) ended. Never rejects. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.inFlight?.catch(() => undefined);
  }
}
