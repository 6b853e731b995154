/**
 * The refresh field of a config node that polls (cdm-catalog, tectonic-policy):
 * seconds, fractions allowed, empty for the source's default.
 */
export function parseRefresh(text: string | undefined): { ok: true; seconds: number | undefined } | { ok: false; problem: string } {
  const trimmed = (text ?? '').trim();
  if (trimmed === '') return { ok: true, seconds: undefined };
  if (!/^\d+(\.\d+)?$/.test(trimmed)) return { ok: false, problem: `refresh must be a number of seconds, got "${trimmed}"` };
  return { ok: true, seconds: Number(trimmed) };
}

/** The poll interval: the refresh given, or the source's default; at least 100 ms, so 0 cannot spin. */
export function refreshMs(seconds: number | undefined, fallbackS: number): number {
  return Math.max(100, Math.round((seconds ?? fallbackS) * 1000));
}

/** One request may take as long as the interval, within 1 to 30 s: a slow server is not cut off by a fast poll, nor waited on for ever. */
export function requestTimeoutMs(intervalMs: number): number {
  return Math.min(30_000, Math.max(1000, intervalMs));
}
