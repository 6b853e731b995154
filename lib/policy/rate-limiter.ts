/**
 * A token bucket for a bundle's `rate` rule, honoured by bus-publish. It
 * holds `burst` tokens (default: one second's worth), refills at `perSecond`,
 * and a publish takes one. The clock is injected so tests and the bench do
 * not wait on real time.
 */
export interface RateLimiter {
  readonly perSecond: number;
  readonly burst: number;
  /** Takes `count` tokens if there are that many; false (and nothing taken) otherwise. */
  tryTake(count?: number): boolean;
  /** Milliseconds until `count` tokens are there (0 when they are now). */
  waitMs(count?: number): number;
}

export function createTokenBucket(options: { perSecond: number; burst?: number; now: () => Date }): RateLimiter {
  const { perSecond, now } = options;
  const burst = options.burst ?? Math.max(1, Math.ceil(perSecond));
  let tokens = burst;
  let last = now().getTime();
  const refill = (): void => {
    const t = now().getTime();
    // A clock that steps backwards (NTP) adds nothing rather than taking tokens away.
    if (t > last) tokens = Math.min(burst, tokens + ((t - last) / 1000) * perSecond);
    last = Math.max(last, t);
  };
  return {
    perSecond,
    burst,
    tryTake(count = 1) {
      refill();
      if (tokens + 1e-9 < count) return false;
      tokens -= count;
      return true;
    },
    waitMs(count = 1) {
      refill();
      if (count > burst) return Number.POSITIVE_INFINITY;
      return tokens + 1e-9 >= count ? 0 : Math.ceil(((count - tokens) / perSecond) * 1000);
    },
  };
}
