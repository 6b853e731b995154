/**
 * The announcer's own health check: an HTTP GET of the service every
 * interval, bounded by a timeout, a 2xx answer being healthy. Consul damps
 * flapping checks; here `failuresToWithdraw` failures in a row withdraw the
 * entry and one success announces it again.
 */
export interface HealthCheckSettings {
  url: string;
  intervalMs: number;
  timeoutMs: number;
  failuresToWithdraw: number;
}

export type CheckOutcome = { healthy: true } | { healthy: false; why: string };

/** What a run of outcomes means for the entry: `withdraw` and `announce` only on a change. */
export class CheckVerdicts {
  private failures = 0;
  private up: boolean;

  /** `initiallyUp` false: the entry waits for a first success before it is announced. */
  constructor(
    private readonly failuresToWithdraw: number,
    initiallyUp = true,
  ) {
    this.up = initiallyUp;
  }

  get healthy(): boolean {
    return this.up;
  }

  record(outcome: CheckOutcome): 'announce' | 'withdraw' | 'unchanged' {
    if (outcome.healthy) {
      this.failures = 0;
      if (this.up) return 'unchanged';
      this.up = true;
      return 'announce';
    }
    this.failures += 1;
    if (!this.up || this.failures < this.failuresToWithdraw) return 'unchanged';
    this.up = false;
    return 'withdraw';
  }
}

/** One GET, never a throw: a refused connection, a timeout or a non-2xx status is unhealthy, with why. */
export async function checkOnce(url: string, timeoutMs: number, fetchFn: typeof fetch = fetch): Promise<CheckOutcome> {
  try {
    const response = await fetchFn(url, { signal: AbortSignal.timeout(timeoutMs), redirect: 'manual' });
    // The body is not needed; reading it frees the socket.
    await response.arrayBuffer().catch(() => undefined);
    return response.status >= 200 && response.status < 300 ? { healthy: true } : { healthy: false, why: `HTTP ${response.status}` };
  } catch (err) {
    const e = err as Error;
    return { healthy: false, why: e.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : ((e.cause as Error | undefined)?.message ?? e.message) };
  }
}

/**
 * Runs the check every interval (the next one scheduled after the previous
 * answer, so slow answers never pile up) and tells the announcer only when
 * the verdict changes.
 */
export class HealthWatch {
  private timer: unknown;
  private stopped = false;
  private readonly verdicts: CheckVerdicts;
  lastOutcome: CheckOutcome | undefined;

  constructor(
    private readonly settings: HealthCheckSettings,
    private readonly clock: { setTimeout(fire: () => void, ms: number): unknown; clearTimeout(handle: unknown): void },
    private readonly changed: (verdict: 'announce' | 'withdraw', outcome: CheckOutcome) => void,
    private readonly check: (url: string, timeoutMs: number) => Promise<CheckOutcome> = checkOnce,
  ) {
    this.verdicts = new CheckVerdicts(settings.failuresToWithdraw, false);
  }

  get healthy(): boolean {
    return this.verdicts.healthy;
  }

  /** The first check runs at once: an entry is announced only once its service answers. */
  start(): void {
    void this.run();
  }

  private async run(): Promise<void> {
    const outcome = await this.check(this.settings.url, this.settings.timeoutMs);
    if (this.stopped) return;
    this.lastOutcome = outcome;
    const verdict = this.verdicts.record(outcome);
    if (verdict !== 'unchanged') this.changed(verdict, outcome);
    this.timer = this.clock.setTimeout(() => void this.run(), this.settings.intervalMs);
  }

  stop(): void {
    this.stopped = true;
    this.clock.clearTimeout(this.timer);
  }
}
