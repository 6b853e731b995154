import { performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { encodeEntry, registryTopic } from '../lib/registry/entry-format';
import { EndpointPicker } from '../lib/registry/strategies';
import { RegistryView } from '../lib/registry/view';
import { env } from './bench-env';

/**
 * Registry lookups from the local view (issue 17): a lookup must be nothing
 * but a map read, over a million a second. Each strategy against a bare
 * Map.get of a prepared endpoint, measured in the same run (the ratio is what
 * to compare across machines), and the view's heap for 10,000 endpoints.
 * Bounded: at most ITERATIONS lookups or TIME_CAP_MS per case.
 */
const ITERATIONS = env('BENCH_ITERATIONS', 5_000_000);
const TIME_CAP_MS = env('BENCH_TIME_CAP_MS', 1_000);
const ROUNDS = env('BENCH_ROUNDS', 3);

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const now = Date.now();
const clock = { now: () => Date.now() };

function fill(view: RegistryView, services: number, perService: number): void {
  for (let s = 0; s < services; s++) {
    const service = `svc-${s}`;
    view.keep(service);
    for (let i = 0; i < perService; i++) {
      const site = `site-${i}`;
      const fields = { service, site, instance: 'main', url: `http://10.${s % 250}.${i % 250}.1:8080/${service}`, metadata: { version: '1.4.2', tier: i === 0 ? 'primary' : 'backup' }, weight: 100 - i, region: i % 2 === 0 ? 'eu' : 'us', ttl: 3600, session: 1 };
      const parsed = view.receiveEntry(registryTopic(service, site, 'main'), encodeEntry(fields, now));
      if (!parsed.ok) throw new Error(JSON.stringify(parsed.reasons));
    }
  }
}

/** Lookups per second of `lookup`, over `ITERATIONS` or `TIME_CAP_MS`; the sink keeps the work from being optimised away. */
function rate(lookup: (i: number) => unknown): number {
  let sink = 0;
  const start = performance.now();
  let done = 0;
  while (done < ITERATIONS) {
    for (let i = 0; i < 10_000; i++) if (lookup(done + i) !== undefined) sink += 1;
    done += 10_000;
    if (performance.now() - start > TIME_CAP_MS) break;
  }
  const seconds = (performance.now() - start) / 1000;
  if (sink < 0) console.log(sink);
  return done / seconds;
}

const view = new RegistryView(clock);
fill(view, 100, 3);
const names = Array.from({ length: 100 }, (_, i) => `svc-${i}`);
const baseline = new Map(names.map((n) => [n, view.healthy(n)[0]]));
const pickers = {
  failover: new EndpointPicker('failover'),
  'round-robin': new EndpointPicker('round-robin'),
  'same-region': new EndpointPicker('same-region', { region: 'us' }),
};

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const results: Record<string, number[]> = { 'Map.get (baseline)': [] };
for (const name of Object.keys(pickers)) results[name] = [];
for (let round = 0; round < ROUNDS; round++) {
  results['Map.get (baseline)']?.push(rate((i) => baseline.get(names[i % 100] as string)));
  for (const [name, picker] of Object.entries(pickers)) results[name]?.push(rate((i) => picker.pick(view.healthy(names[i % 100] as string))));
}
const base = median(results['Map.get (baseline)'] ?? []);
console.log(`lookups per second, 100 services of 3 endpoints (median of ${ROUNDS} rounds):`);
let slowest = Infinity;
for (const [name, rates] of Object.entries(results)) {
  const m = median(rates);
  if (name !== 'Map.get (baseline)') slowest = Math.min(slowest, m);
  console.log(`  ${name.padEnd(20)} ${fmt(m).padStart(13)} /s   ${(m / base).toFixed(2)}× the Map.get baseline`);
}
console.log(`  target over 1,000,000 lookups/s: ${slowest > 1_000_000 ? 'met' : 'NOT met'} (slowest strategy ${fmt(slowest)} /s)`);

// Memory: 10,000 endpoints (1,000 services of 10), the heap the view adds.
gc();
const heapBefore = process.memoryUsage().heapUsed;
const big = new RegistryView(clock);
fill(big, 1_000, 10);
for (let s = 0; s < 1_000; s++) big.healthy(`svc-${s}`);
gc();
const heapAfter = process.memoryUsage().heapUsed;
const bytes = heapAfter - heapBefore;
console.log(`view of 10,000 endpoints (1,000 services × 10, healthy lists built): ${(bytes / 1024 / 1024).toFixed(2)} MiB heap, ${Math.round(bytes / 10_000)} bytes per endpoint`);
if (big.healthy('svc-0').length !== 10) throw new Error('the big view lost endpoints');
