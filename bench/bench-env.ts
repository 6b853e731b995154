/** A positive number from the environment (BENCH_ROUNDS=2 ...), or `fallback` when unset or not one. */
export function env(name: string, fallback: number): number {
  const value = Number(process.env[name]);
  return Number.isFinite(value) && value > 0 ? value : fallback;
}
