// The governed pipeline against Node-RED's own MQTT limit (issue 6), in one
// run: the bare broker (raw), Node-RED passing MQTT through (passthrough), the
// same job done with core nodes (core) and the pack's nodes (tectonic),
// alternated within each round so the machine's noise falls on all four, and
// the ratios taken between variants of the same round. Then an overload of
// tectonic at twice its capacity, watching resident memory.
//
// A fifth variant, fleet, is tectonic with issue 16's parts deployed (a
// heartbeat every second with a synthetic transaction every 5 beats, a
// sampled trace started for a tenth of the records (BENCH_FLEET_TRACE_SAMPLING), GET /tectonic/metrics scraped every
// second): ratios.fleetOverhead is its Node-RED CPU per record over
// tectonic's in extra phases of the two alternated A B B A within each
// round, the median of the rounds' ratios (target: within 5%).
//
// Issue 19's targets are ratios to Node-RED in the same run: tectonic at
// least 0.9 x passthrough and 3.5 x core, its p99 at the fixed rate at most
// passthrough's (ratios.p99TectonicVsPassthrough), fleetOverhead at most
// 1.05. After the rounds, a profiled phase of tectonic and of fleet gives
// the CPU per record of each of the pack's nodes (cpuBreakdown).
//
//   node scripts/run-benches.mjs pipeline [--json]
//
// Broker: the pack's embedded aedes (lib/bus/embedded-broker.ts) in a process
// of its own, memory persistence, on 127.0.0.1. Every load loop is bounded in
// count and time; every process is stopped by its pid; temp folders removed.
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { type BrokerProcess, startBrokerProcess } from '../test/support/broker-process';
import { type NodeRedProcess, delay, repoRoot, startNodeRed, tempDir } from '../test/support/node-red-process';
import { FLEET_HEARTBEAT_SECONDS, FLEET_PROBE_EVERY, FLEET_TRACE_SAMPLING, PUBLISH_NODE, coreFlow, fleetFlow, passthroughFlow, tectonicFlow, writePolicyFiles } from './pipeline/flows';
import { type PhaseTally, PipelineLoad, VARIANTS, type Variant, percentile } from './pipeline/load';
import { cpuMicros, cpuSplitMicros, hostCpuTimes, rssMb, stealPercent, untilQuiet } from './pipeline/proc-stats';
import { type CpuProfile, attributeCpu } from './pipeline/cpu-attribution';
import { writeProfilePreload } from './pipeline/profile-on-signal';
import { env } from './bench-env';

const ROUNDS = env('BENCH_ROUNDS', 5);
const RECORDS = env('BENCH_RECORDS', 50_000);
const WINDOW = env('BENCH_WINDOW', 1_000);
const PHASE_CAP_MS = env('BENCH_PHASE_CAP_SECONDS', 30) * 1000;
const RATE = env('BENCH_RATE', 1_000);
const LATENCY_SECONDS = env('BENCH_LATENCY_SECONDS', 10);
/**
 * Seconds at the fixed rate before the latency is measured: the figures are
 * then the steady state at that rate, not the collector's clean-up of the
 * full-speed phase just before (a site at 1,000/s has not just had a burst).
 */
const LEAD_IN_SECONDS = env('BENCH_LEAD_IN_SECONDS', 2);
/** Records each variant gets before the first round, so every JIT is warm. */
const WARM_UP_RECORDS = env('BENCH_WARM_UP_RECORDS', 10_000);
/** The bench's own event-loop delay is sampled this often (ms) during the latency phases. */
const LOOP_RESOLUTION_MS = 5;
/**
 * Pause after each full-speed phase, so that the collections and socket
 * drains a burst leaves behind in the broker and the runtime that just ran
 * do not fall in the next variant's phase: all of them share two cores.
 */
const SETTLE_MS = env('BENCH_SETTLE_MS', 1_000);
/**
 * After a full-speed phase the bench waits until the runtime that ran it and
 * the broker use at most QUIET_SHARE of a core over a QUIET_WINDOW_MS window
 * (at most QUIET_CAP_MS), counting their CPU until then, before the pause
 * above and the next phase.
 */
const QUIET_WINDOW_MS = env('BENCH_QUIET_WINDOW_MS', 250);
const QUIET_SHARE = env('BENCH_QUIET_SHARE_PCT', 5) / 100;
const QUIET_CAP_MS = env('BENCH_QUIET_CAP_SECONDS', 5) * 1000;
const OVERLOAD_SECONDS = env('BENCH_OVERLOAD_SECONDS', 60);
/** Bound on the overload's offered rate, whatever the measured capacity. */
const OVERLOAD_MAX_RATE = 100_000;
const OUTBOX_MAX_COUNT = env('BENCH_OUTBOX_MAX_COUNT', 10_000);
/** bus-subscribe's flow-control window in the tectonic flow (its default); 0 turns flow control off. */
const MAX_IN_FLIGHT = process.env.BENCH_MAX_IN_FLIGHT === '0' ? 0 : env('BENCH_MAX_IN_FLIGHT', 1_000);

/**
 * fleetOverhead's own phases: after a round's full-speed phases, tectonic and
 * fleet run BENCH_FLEET_PAIRS more times each, BENCH_FLEET_PAIR_RECORDS
 * records a phase, in the order A B B A A B B A (B A A B B A A B in the next
 * round); the round's fleetOverhead is fleet's CPU per record over
 * tectonic's across those phases. A single phase of each, one after the
 * other, measured the order as much as the fleet: an A/A run (fleet's parts
 * all off, so the same flow twice) gave rounds from 0.80 to 1.56. In A B B A
 * drift during the phases falls alike on both, and each variant follows the
 * other as often as itself.
 */
const FLEET_PAIRS = env('BENCH_FLEET_PAIRS', 4);
const FLEET_PAIR_RECORDS = env('BENCH_FLEET_PAIR_RECORDS', Math.round(RECORDS / 2));
/**
 * The offered rate of those phases, records/s (0: full speed). At full
 * speed a runtime's CPU per record depends on how much each socket read,
 * write and PUBACK batch carries, which the phase's own throughput sets: two
 * runtimes of the same flow came out up to 11% apart in one round. At a
 * fixed rate both get the same arrivals, and the CPU per record is the work.
 */
const FLEET_PAIR_RATE = process.env.BENCH_FLEET_PAIR_RATE === '0' ? 0 : env('BENCH_FLEET_PAIR_RATE', 5_000);

/**
 * To tell the fleet's parts apart: BENCH_FLEET_TRACE=0 starts no traces,
 * BENCH_FLEET_PROBES=0 sends no probes, BENCH_FLEET_HEARTBEAT=0 deploys no
 * heartbeat (and so no probes), BENCH_FLEET_SCRAPE=0 scrapes no metrics. All
 * four off make fleet the same flow as tectonic: an A/A run, which shows what
 * the measurement itself gives two identical runtimes.
 */
const FLEET_PARTS = {
  trace: process.env.BENCH_FLEET_TRACE !== '0',
  probes: process.env.BENCH_FLEET_PROBES !== '0' && process.env.BENCH_FLEET_HEARTBEAT !== '0',
  heartbeat: process.env.BENCH_FLEET_HEARTBEAT !== '0',
};
const FLEET_SCRAPE = process.env.BENCH_FLEET_SCRAPE !== '0';

/**
 * The sampling interval of the per-node CPU breakdown (µs): after the rounds,
 * one more full-speed phase of tectonic runs with V8's sampling profiler on in
 * that runtime (bench/pipeline/profile-on-signal.ts, switched on and off by
 * SIGURG), and its samples are attributed to the pack's nodes, Node-RED and
 * the rest (bench/pipeline/cpu-attribution.ts). 0 skips it.
 */
const BREAKDOWN_INTERVAL_US = process.env.BENCH_BREAKDOWN_INTERVAL_US === '0' ? 0 : env('BENCH_BREAKDOWN_INTERVAL_US', 250);

/** BENCH_BREAKDOWN_KIND=heap: the breakdown phases take a sampling heap profile of every allocation instead (copied to BENCH_CPU_PROF, not attributed). */
const HEAP_PROFILE = process.env.BENCH_BREAKDOWN_KIND === 'heap';

/**
 * A folder for CPU profiles: the breakdown phases' profiles of the tectonic and
 * fleet runtimes are copied there; with BENCH_BREAKDOWN_INTERVAL_US=0, a
 * profile of the tectonic runtime's whole life instead, written when it stops.
 */
const PROFILE_DIR = process.env.BENCH_CPU_PROF;
/** More flags for the tectonic runtime's node, e.g. `--heap-prof --heap-prof-dir /tmp/p`. */
const EXTRA_NODE_ARGS = (process.env.BENCH_NODE_ARGS ?? '').split(/\s+/).filter((arg) => arg !== '');

const json = process.argv.includes('--json');
// With --json, stdout carries the one JSON object and nothing else.
const say = (line = ''): void => {
  (json ? process.stderr : process.stdout).write(`${line}\n`);
};

interface RoundFigures {
  throughput: number;
  cpuUsPerRecord: number | null;
  brokerCpuUsPerRecord: number;
  /** The bench process's own CPU per record (publisher and checker): it shares the two cores with the rest. */
  benchCpuUsPerRecord: number;
  /** How long after the full-speed phase's last record the runtime and the broker took to fall quiet (their CPU until then is counted). */
  quietAfterMs: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  latencyDelivered: number;
  latencySent: number;
  /** The host's steal during the latency phase, in percent of the machine's time. */
  latencyHostStealPct: number;
  /** The bench process's own event-loop delay, p99, during the latency phase: its stalls are in every latency it measures. */
  latencyBenchLoopP99Ms: number;
  invalidLetThrough: number | null;
  letThroughByKind: Record<string, number>;
  invalidSent: number;
  wrong: number;
  missing: number;
  firstWrong?: string;
}

/** fleetOverhead's A B B A phases of one round. */
interface FleetPairs {
  sequence: Array<'tectonic' | 'fleet'>;
  tectonicCpuUsPerRecord: number;
  fleetCpuUsPerRecord: number;
  tectonicSystemUsPerRecord: number;
  fleetSystemUsPerRecord: number;
  ratio: number;
}

interface VariantSummary {
  throughput: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  cpuUsPerRecord: number | null;
  brokerCpuUsPerRecord: number;
  rssStartMb: number;
  rssEndMb: number;
  wrong: number;
  missing: number;
  rounds: RoundFigures[];
}

const nodeRedVersion = (): string => (JSON.parse(readFileSync(join(repoRoot, 'node_modules', 'node-red', 'package.json'), 'utf8')) as { version: string }).version;

const sumKinds = (all: Array<Record<string, number>>): Record<string, number> => {
  const sum: Record<string, number> = {};
  for (const kinds of all) for (const [k, n] of Object.entries(kinds)) sum[k] = (sum[k] ?? 0) + n;
  return sum;
};

const round1 = (n: number, digits = 1): number => Math.round(n * 10 ** digits) / 10 ** digits;
const median = (xs: number[]): number => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted.length === 0 ? NaN : (sorted[Math.floor((sorted.length - 1) / 2)] as number);
};

async function main(): Promise<void> {
  const started = performance.now();
  const scratch = await tempDir('tectonic-pipeline-bench-');
  let broker: BrokerProcess | undefined;
  const runtimes: Partial<Record<Variant, NodeRedProcess>> = {};
  let load: PipelineLoad | undefined;
  let stopScraping = (): void => undefined;
  try {
    broker = await startBrokerProcess({ persistence: 'memory' });
    const policyFiles = await writePolicyFiles(scratch.path);
    const breakdownFile = join(scratch.path, 'tectonic-breakdown.cpuprofile');
    const preload = await writeProfilePreload(scratch.path);
    say(`broker: the pack's embedded aedes in its own process (pid ${broker.pid}) on ${broker.url}, memory persistence`);
    const [passthrough, core, tectonic, fleet] = await Promise.all([
      startNodeRed({ flows: passthroughFlow(broker.port), withoutPack: true}),
      startNodeRed({ flows: coreFlow(broker.port), withoutPack: true}),
      startNodeRed({
        flows: tectonicFlow(broker.port, policyFiles, OUTBOX_MAX_COUNT, MAX_IN_FLIGHT),
        nodeArgs: [...(PROFILE_DIR !== undefined && BREAKDOWN_INTERVAL_US === 0 ? ['--cpu-prof', '--cpu-prof-dir', PROFILE_DIR] : []), ...(BREAKDOWN_INTERVAL_US > 0 ? ['--require', preload] : []), ...EXTRA_NODE_ARGS],
        env: { TECTONIC_BENCH_PROFILE_FILE: breakdownFile, TECTONIC_BENCH_PROFILE_INTERVAL_US: String(BREAKDOWN_INTERVAL_US), TECTONIC_BENCH_PROFILE_KIND: HEAP_PROFILE ? 'heap' : 'cpu' },
      }),
      startNodeRed({
        flows: fleetFlow(broker.port, policyFiles, OUTBOX_MAX_COUNT, MAX_IN_FLIGHT, FLEET_PARTS),
        nodeArgs: [...(BREAKDOWN_INTERVAL_US > 0 ? ['--require', preload] : []), ...EXTRA_NODE_ARGS],
        env: { TECTONIC_BENCH_PROFILE_FILE: join(scratch.path, 'fleet-breakdown.cpuprofile'), TECTONIC_BENCH_PROFILE_INTERVAL_US: String(BREAKDOWN_INTERVAL_US), TECTONIC_BENCH_PROFILE_KIND: HEAP_PROFILE ? 'heap' : 'cpu' },
      }),
    ]);
    runtimes.passthrough = passthrough;
    runtimes.core = core;
    runtimes.tectonic = tectonic;
    runtimes.fleet = fleet;
    say(`Node-RED ${nodeRedVersion()}: passthrough pid ${passthrough.pid}, core pid ${core.pid}, tectonic pid ${tectonic.pid}, fleet pid ${fleet.pid}`);
    // Prometheus' part in the fleet variant: one scrape a second for the whole run, each checked to answer.
    let scrapes = 0;
    let scrapeFailures = 0;
    const scraper = setInterval(() => {
      if (!FLEET_SCRAPE) return;
      fleet.api('/tectonic/metrics', { signal: AbortSignal.timeout(2_000) }).then(
        async (res) => {
          if (res.ok && (await res.text()).includes('tectonic_records_total')) scrapes += 1;
          else scrapeFailures += 1;
        },
        () => (scrapeFailures += 1),
      );
    }, 1_000);
    stopScraping = () => clearInterval(scraper);
    load = await PipelineLoad.open(broker.url);

    // Warm up: connections made, JIT warm, the policy bundle loaded (the gate fails closed until it is).
    for (const variant of VARIANTS) await load.warmUp(variant, WARM_UP_RECORDS, 60_000);
    const pidOf = (variant: Variant): number => runtimes[variant]?.pid ?? -1;
    const rssStart = Object.fromEntries(VARIANTS.map((v) => [v, rssMb(pidOf(v))])) as Record<Variant, number>;
    const brokerRssStart = rssMb(broker.pid);

    const rounds: Array<Record<Variant, RoundFigures>> = [];
    const pairRounds: FleetPairs[] = [];
    // fleetOverhead's A B B A phases of round r (see FLEET_PAIRS).
    const fleetPairs = async (pipelineLoad: PipelineLoad, r: number): Promise<FleetPairs> => {
      const tally = { tectonic: { records: 0, user: 0, system: 0 }, fleet: { records: 0, user: 0, system: 0 } };
      const sequence: Array<'tectonic' | 'fleet'> = [];
      for (let p = 0; p < FLEET_PAIRS; p++) sequence.push(...((r + p) % 2 === 0 ? (['tectonic', 'fleet'] as const) : (['fleet', 'tectonic'] as const)));
      for (const variant of sequence) {
        const pid = pidOf(variant);
        const before = cpuSplitMicros(pid);
        const full =
          FLEET_PAIR_RATE > 0
            ? await pipelineLoad.fixedRate(variant, FLEET_PAIR_RATE, FLEET_PAIR_RECORDS / FLEET_PAIR_RATE, false)
            : await pipelineLoad.fullSpeed(variant, FLEET_PAIR_RECORDS, WINDOW, PHASE_CAP_MS);
        await untilQuiet([pid, broker?.pid ?? -1].filter((p) => p > 0), QUIET_WINDOW_MS, QUIET_SHARE, QUIET_CAP_MS);
        const after = cpuSplitMicros(pid);
        const t = tally[variant];
        t.records += full.sent;
        t.user += after.user - before.user;
        t.system += after.system - before.system;
        await delay(SETTLE_MS);
      }
      const perRecord = (t: { records: number; user: number; system: number }): number => (t.user + t.system) / Math.max(1, t.records);
      const ratio = round1(perRecord(tally.fleet) / perRecord(tally.tectonic), 3);
      const line = (t: { records: number; user: number; system: number }): string => `${round1(perRecord(t))} µs/rec (user ${round1(t.user / Math.max(1, t.records))}, system ${round1(t.system / Math.max(1, t.records))})`;
      say(`round ${r + 1} fleet overhead phases ${sequence.join(' ')}: tectonic ${line(tally.tectonic)}, fleet ${line(tally.fleet)}, ratio ${ratio}`);
      return {
        sequence,
        tectonicCpuUsPerRecord: round1(perRecord(tally.tectonic)),
        fleetCpuUsPerRecord: round1(perRecord(tally.fleet)),
        tectonicSystemUsPerRecord: round1(tally.tectonic.system / Math.max(1, tally.tectonic.records)),
        fleetSystemUsPerRecord: round1(tally.fleet.system / Math.max(1, tally.fleet.records)),
        ratio,
      };
    };
    for (let r = 0; r < ROUNDS; r++) {
      const figures = {} as Record<Variant, RoundFigures>;
      // The full-speed phases of a round run back to back, passthrough and
      // tectonic next to each other, so that the machine's drift (it is
      // shared) falls alike on the two the main ratio compares; the order
      // turns round each time, so neither always runs first. The latency
      // phases follow, in the same order.
      const order: Variant[] = r % 2 === 0 ? ['raw', 'passthrough', 'tectonic', 'fleet', 'core'] : ['core', 'fleet', 'tectonic', 'passthrough', 'raw'];
      const fullSpeed = {} as Record<Variant, { full: PhaseTally; seconds: number; cpu: number; brokerCpu: number; benchCpu: number; quietAfterMs: number }>;
      for (const variant of order) {
        const pid = pidOf(variant);
        const cpu0 = cpuMicros(pid);
        const brokerCpu0 = cpuMicros(broker.pid);
        const benchCpu0 = process.cpuUsage();
        const full: PhaseTally = await load.fullSpeed(variant, RECORDS, WINDOW, PHASE_CAP_MS);
        const benchCpu = process.cpuUsage(benchCpu0);
        // The runtime's and the broker's CPU until both are quiet again: what a burst leaves to do is the burst's.
        const quietAfterMs = await untilQuiet([pid, broker.pid].filter((p) => p > 0), QUIET_WINDOW_MS, QUIET_SHARE, QUIET_CAP_MS);
        fullSpeed[variant] = {
          full,
          seconds: (full.lastArrivalAt - full.firstSendAt) / 1000,
          cpu: cpuMicros(pid) - cpu0,
          brokerCpu: cpuMicros(broker.pid) - brokerCpu0,
          benchCpu: benchCpu.user + benchCpu.system,
          quietAfterMs,
        };
        await delay(SETTLE_MS);
      }
      const pairs = await fleetPairs(load, r);
      for (const variant of order) {
        const pid = pidOf(variant);
        const { full, seconds, cpu, brokerCpu, benchCpu, quietAfterMs } = fullSpeed[variant];
        await load.fixedRate(variant, RATE, LEAD_IN_SECONDS, false);
        const host0 = hostCpuTimes();
        const benchLoop = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
        benchLoop.enable();
        const paced = await load.fixedRate(variant, RATE, LATENCY_SECONDS, true);
        benchLoop.disable();
        const steal = stealPercent(host0, hostCpuTimes());
        const sorted = [...paced.latenciesMs].sort((a, b) => a - b);
        const transforms = variant === 'core' || variant === 'tectonic' || variant === 'fleet';
        figures[variant] = {
          throughput: Math.round(full.sent / seconds),
          cpuUsPerRecord: pid > 0 ? round1(cpu / full.sent) : null,
          brokerCpuUsPerRecord: round1(brokerCpu / full.sent),
          benchCpuUsPerRecord: round1(benchCpu / full.sent),
          quietAfterMs,
          p50Ms: round1(percentile(sorted, 50), 2),
          p95Ms: round1(percentile(sorted, 95), 2),
          p99Ms: round1(percentile(sorted, 99), 2),
          latencyDelivered: paced.correct,
          latencySent: paced.validSent,
          latencyHostStealPct: round1(steal),
          // The histogram holds whole timer intervals: what exceeds the resolution is the delay.
          latencyBenchLoopP99Ms: round1(Math.max(0, benchLoop.percentile(99) / 1e6 - LOOP_RESOLUTION_MS), 2),
          invalidLetThrough: transforms ? full.invalidLetThrough + paced.invalidLetThrough : null,
          letThroughByKind: Object.fromEntries(
            [...new Set([...Object.keys(full.letThroughByKind), ...Object.keys(paced.letThroughByKind)])].map((k) => [k, (full.letThroughByKind[k] ?? 0) + (paced.letThroughByKind[k] ?? 0)]),
          ),
          invalidSent: full.invalidSent + paced.invalidSent,
          wrong: full.wrong + paced.wrong,
          missing: full.validSent - full.correct - full.wrong + (paced.validSent - paced.correct - paced.wrong),
          ...(full.firstWrong ?? paced.firstWrong ? { firstWrong: full.firstWrong ?? paced.firstWrong } : {}),
        };
        const f = figures[variant];
        say(
          `round ${r + 1} ${variant.padEnd(11)} ${String(f.throughput).padStart(7)} rec/s  cpu ${f.cpuUsPerRecord ?? '-'} µs/rec (broker ${f.brokerCpuUsPerRecord}, bench ${f.benchCpuUsPerRecord}; quiet ${f.quietAfterMs} ms after)  ` +
            `@${RATE}/s p50 ${f.p50Ms} p95 ${f.p95Ms} p99 ${f.p99Ms} ms (host steal ${f.latencyHostStealPct}%, bench loop delay p99 ${f.latencyBenchLoopP99Ms} ms)  invalid let through ${f.invalidLetThrough ?? '-'}/${f.invalidSent}${f.invalidLetThrough ? ` ${JSON.stringify(f.letThroughByKind)}` : ''}  wrong ${f.wrong}  missing ${f.missing}` +
            (f.firstWrong !== undefined ? `\n    first wrong: ${f.firstWrong}` : ''),
        );
        await delay(200);
      }
      rounds.push(figures);
      pairRounds.push(pairs);
      const ratio = (a: Variant, b: Variant): string => (figures[a].throughput / figures[b].throughput).toFixed(2);
      const cpuRatio = (figures.fleet.cpuUsPerRecord ?? NaN) / (figures.tectonic.cpuUsPerRecord ?? NaN);
      say(
        `round ${r + 1} ratios: tectonic/passthrough ${ratio('tectonic', 'passthrough')}  tectonic/core ${ratio('tectonic', 'core')}  passthrough/raw ${ratio('passthrough', 'raw')}  core/passthrough ${ratio('core', 'passthrough')}  ` +
          `p99 tectonic/passthrough ${(figures.tectonic.p99Ms / figures.passthrough.p99Ms).toFixed(2)}  fleet/tectonic cpu per record ${cpuRatio.toFixed(3)}`,
      );
    }

    const rssEnd = Object.fromEntries(VARIANTS.map((v) => [v, rssMb(pidOf(v))])) as Record<Variant, number>;

    // Before the overload, whose backlog the runtime would still be working off. The fleet variant too, so that what its parts cost shows part by part (fleetOverhead is from the rounds, without the profiler).
    const breakdown = BREAKDOWN_INTERVAL_US > 0 ? await cpuBreakdown(load, 'tectonic', tectonic.pid, breakdownFile) : undefined;
    const fleetBreakdown = BREAKDOWN_INTERVAL_US > 0 ? await cpuBreakdown(load, 'fleet', fleet.pid, join(scratch.path, 'fleet-breakdown.cpuprofile')) : undefined;

    // Overload: tectonic offered twice its best measured capacity, open loop.
    const capacity = Math.max(...rounds.map((f) => f.tectonic.throughput));
    const offered = Math.min(OVERLOAD_MAX_RATE, Math.round(capacity * 2));
    say(`overload: tectonic offered ${offered} rec/s (2 x ${capacity}) for ${OVERLOAD_SECONDS} s`);
    const samples: Array<{ s: number; nodeRedRssMb: number; brokerRssMb: number; outboxDepth?: number }> = [];
    const overloadStart = performance.now();
    let nextSample = 0;
    const stats = async (): Promise<Record<string, number> | undefined> => {
      try {
        const res = await tectonic.api(`/tectonic/stats/${PUBLISH_NODE}`, { signal: AbortSignal.timeout(2_000) });
        return res.ok ? ((await res.json()) as Record<string, number>) : undefined;
      } catch {
        return undefined;
      }
    };
    const sample = (): void => {
      const s = (performance.now() - overloadStart) / 1000;
      if (s < nextSample) return;
      nextSample += Math.max(1, Math.floor(OVERLOAD_SECONDS / 30));
      const row: { s: number; nodeRedRssMb: number; brokerRssMb: number; outboxDepth?: number } = { s: round1(s), nodeRedRssMb: round1(rssMb(tectonic.pid)), brokerRssMb: round1(rssMb(broker?.pid ?? -1)) };
      samples.push(row);
      // The stats request is answered by the loaded runtime, maybe late: fill the depth in when it comes.
      void stats().then((st) => {
        if (st?.outboxDepth !== undefined) row.outboxDepth = st.outboxDepth;
      });
    };
    const statsBefore = await stats();
    const overload = await load.fixedRate('tectonic', offered, OVERLOAD_SECONDS, false, sample, 30_000);
    samples.push({ s: round1((performance.now() - overloadStart) / 1000), nodeRedRssMb: round1(rssMb(tectonic.pid)), brokerRssMb: round1(rssMb(broker.pid)) });
    const statsAfter = await stats();
    const delta = (key: string): number | null => (statsBefore?.[key] !== undefined && statsAfter?.[key] !== undefined ? (statsAfter[key]) - (statsBefore[key]) : null);
    const overloadSeconds = (overload.lastArrivalAt - overload.firstSendAt) / 1000;
    for (const row of samples) say(`  t=${String(row.s).padStart(5)} s  Node-RED RSS ${row.nodeRedRssMb} MB  broker RSS ${row.brokerRssMb} MB  outbox depth ${row.outboxDepth ?? '?'}`);
    const rssValues = samples.map((row) => row.nodeRedRssMb);
    const overloadReport = {
      offeredPerSecond: offered,
      seconds: OVERLOAD_SECONDS,
      sent: overload.sent,
      delivered: overload.correct,
      deliveredPerSecond: Math.round(overload.correct / overloadSeconds),
      undelivered: overload.validSent - overload.correct - overload.wrong,
      rejectedByOutbox: delta('rejected'),
      invalidLetThrough: overload.invalidLetThrough,
      wrong: overload.wrong,
      nodeRedRssMb: { first: rssValues[0] ?? NaN, max: Math.max(...rssValues), last: rssValues[rssValues.length - 1] ?? NaN },
      samples,
    };
    say(
      `overload: sent ${overloadReport.sent}, delivered ${overloadReport.delivered} (${overloadReport.deliveredPerSecond}/s), undelivered ${overloadReport.undelivered}, ` +
        `outbox rejects ${overloadReport.rejectedByOutbox ?? '?'}, Node-RED RSS first ${overloadReport.nodeRedRssMb.first} max ${overloadReport.nodeRedRssMb.max} last ${overloadReport.nodeRedRssMb.last} MB`,
    );

    // Summary: per variant, the median over rounds; ratios, the median of each round's ratio.
    const summarise = (v: Variant): VariantSummary => {
        const per = rounds.map((f) => f[v]);
        return {
            throughput: Math.round(median(per.map((f) => f.throughput))),
            p50Ms: median(per.map((f) => f.p50Ms)),
            p95Ms: median(per.map((f) => f.p95Ms)),
            p99Ms: median(per.map((f) => f.p99Ms)),
            cpuUsPerRecord: v === 'raw' ? null : median(per.map((f) => f.cpuUsPerRecord ?? NaN)),
            brokerCpuUsPerRecord: median(per.map((f) => f.brokerCpuUsPerRecord)),
            rssStartMb: v === 'raw' ? round1(brokerRssStart) : round1(rssStart[v]),
            rssEndMb: v === 'raw' ? round1(rssMb(broker?.pid ?? -1)) : round1(rssEnd[v]),
            wrong: per.reduce((n, f) => n + f.wrong, 0),
            missing: per.reduce((n, f) => n + f.missing, 0),
            rounds: per,
        };
    };
    const variants = { raw: summarise('raw'), passthrough: summarise('passthrough'), core: summarise('core'), tectonic: summarise('tectonic'), fleet: summarise('fleet') };
    const roundRatios = rounds.map((f, i) => ({
      tectonicVsPassthrough: round1(f.tectonic.throughput / f.passthrough.throughput, 3),
      tectonicVsCore: round1(f.tectonic.throughput / f.core.throughput, 3),
      passthroughVsRaw: round1(f.passthrough.throughput / f.raw.throughput, 3),
      coreVsPassthrough: round1(f.core.throughput / f.passthrough.throughput, 3),
      fleetOverhead: pairRounds[i]?.ratio ?? NaN,
      /** The same from the round's single fleet and tectonic phases, as measured before the A B B A phases. */
      fleetOverheadSinglePhases: round1((f.fleet.cpuUsPerRecord ?? NaN) / (f.tectonic.cpuUsPerRecord ?? NaN), 3),
      p99TectonicVsPassthrough: round1(f.tectonic.p99Ms / f.passthrough.p99Ms, 3),
    }));
    const ratios = {
      tectonicVsPassthrough: median(roundRatios.map((r) => r.tectonicVsPassthrough)),
      tectonicVsCore: median(roundRatios.map((r) => r.tectonicVsCore)),
      passthroughVsRaw: median(roundRatios.map((r) => r.passthroughVsRaw)),
      coreVsPassthrough: median(roundRatios.map((r) => r.coreVsPassthrough)),
      /** Node-RED CPU per record with the heartbeat, probes, traces and a metrics scrape a second, over without them (issue 16: within 5%). */
      fleetOverhead: median(roundRatios.map((r) => r.fleetOverhead)),
      /** tectonic's p99 at the fixed rate over passthrough's in the same round, the median of the rounds' ratios (issue 19: at most 1.0). */
      p99TectonicVsPassthrough: median(roundRatios.map((r) => r.p99TectonicVsPassthrough)),
      rounds: roundRatios,
    };
    const invalidLetThrough = {
      core: rounds.reduce((n, f) => n + (f.core.invalidLetThrough ?? 0), 0),
      tectonic: rounds.reduce((n, f) => n + (f.tectonic.invalidLetThrough ?? 0), 0) + overload.invalidLetThrough,
      invalidSentPerVariant: rounds.reduce((n, f) => n + f.core.invalidSent, 0),
      byKind: {
        core: sumKinds(rounds.map((f) => f.core.letThroughByKind)),
        tectonic: sumKinds([...rounds.map((f) => f.tectonic.letThroughByKind), overload.letThroughByKind]),
      },
    };
    const targets = {
      tectonicAtLeast09xPassthrough: ratios.tectonicVsPassthrough >= 0.9,
      tectonicAtLeast35xCore: ratios.tectonicVsCore >= 3.5,
      tectonicP99AtMostPassthroughs: ratios.p99TectonicVsPassthrough <= 1.0,
      zeroInvalidLetThrough: invalidLetThrough.tectonic === 0,
      fleetOverheadWithin5Pct: ratios.fleetOverhead <= 1.05,
    };
    stopScraping();

    say();
    say(`summary (median of ${ROUNDS} rounds; ${RECORDS} records per full-speed phase, window ${WINDOW}; latency at ${RATE}/s for ${LATENCY_SECONDS} s after a ${LEAD_IN_SECONDS} s lead-in; QoS 1 in and out)`);
    say('variant        rec/s   p50 ms  p95 ms  p99 ms  cpu µs/rec  broker µs/rec  RSS start -> end MB');
    for (const v of VARIANTS) {
      const f = variants[v];
      say(
        `${v.padEnd(12)} ${String(f.throughput).padStart(7)}  ${String(f.p50Ms).padStart(6)}  ${String(f.p95Ms).padStart(6)}  ${String(f.p99Ms).padStart(6)}  ${String(f.cpuUsPerRecord ?? '-').padStart(10)}  ${String(f.brokerCpuUsPerRecord).padStart(13)}  ${String(f.rssStartMb).padStart(6)} -> ${f.rssEndMb}${v === 'raw' ? ' (broker)' : ''}`,
      );
    }
    say(
      `ratios: tectonic/passthrough ${ratios.tectonicVsPassthrough} (target >= 0.9; per round ${roundRatios.map((r) => r.tectonicVsPassthrough).join(', ')})  ` +
        `tectonic/core ${ratios.tectonicVsCore} (target >= 3.5; per round ${roundRatios.map((r) => r.tectonicVsCore).join(', ')})  passthrough/raw ${ratios.passthroughVsRaw}  core/passthrough ${ratios.coreVsPassthrough}`,
    );
    say(`p99 at ${RATE}/s, tectonic over passthrough: ${ratios.p99TectonicVsPassthrough} (target <= 1.0; per round ${roundRatios.map((r) => r.p99TectonicVsPassthrough).join(', ')})`);
    say(
      `fleet overhead: Node-RED CPU per record in the A B B A phases ${median(pairRounds.map((p) => p.fleetCpuUsPerRecord))} µs with the fleet's parts vs ${median(pairRounds.map((p) => p.tectonicCpuUsPerRecord))} µs without (medians); ` +
        `ratio ${ratios.fleetOverhead} (median of rounds ${roundRatios.map((r) => r.fleetOverhead).join(', ')}; target <= 1.05; from the single phases ${median(roundRatios.map((r) => r.fleetOverheadSinglePhases))}); metrics scraped ${scrapes} times, ${scrapeFailures} failed`,
    );
    say(`invalid let through: core ${invalidLetThrough.core} ${JSON.stringify(invalidLetThrough.byKind.core)}, tectonic ${invalidLetThrough.tectonic} ${JSON.stringify(invalidLetThrough.byKind.tectonic)} (of ${invalidLetThrough.invalidSentPerVariant} invalid sent to each in the rounds, 5 kinds in turn)`);
    for (const v of ['passthrough', 'tectonic'] as const) {
      const per = variants[v].rounds;
      say(
        `latency phases, ${v}: p99 per round ${per.map((f) => f.p99Ms).join(', ')} ms; host steal ${per.map((f) => f.latencyHostStealPct).join(', ')} %; ` +
          `the bench's own event-loop delay p99 ${per.map((f) => f.latencyBenchLoopP99Ms).join(', ')} ms`,
      );
    }
    if (breakdown !== undefined) printBreakdown('tectonic', breakdown);
    if (fleetBreakdown !== undefined) printBreakdown('fleet', fleetBreakdown);
    say(`targets: ${Object.entries(targets).map(([k, ok]) => `${k} ${ok ? 'met' : 'NOT met'}`).join(', ')}`);
    say(`bench took ${Math.round((performance.now() - started) / 1000)} s`);

    if (json) {
      process.stdout.write(
        `${JSON.stringify({
          machine: { cpus: (await import('node:os')).cpus().length, node: process.version, platform: process.platform },
          fleet: { heartbeatSeconds: FLEET_HEARTBEAT_SECONDS, probeEveryBeats: FLEET_PARTS.probes ? FLEET_PROBE_EVERY : 0, traceSampling: FLEET_PARTS.trace ? FLEET_TRACE_SAMPLING : null, metricsScrapeSeconds: FLEET_SCRAPE ? 1 : null, heartbeat: FLEET_PARTS.heartbeat, scrapes, scrapeFailures, overheadPhases: pairRounds },
          settings: { rounds: ROUNDS, records: RECORDS, window: WINDOW, rate: RATE, latencySeconds: LATENCY_SECONDS, leadInSeconds: LEAD_IN_SECONDS, warmUpRecords: WARM_UP_RECORDS, overloadSeconds: OVERLOAD_SECONDS, fleetPairs: FLEET_PAIRS, fleetPairRecords: FLEET_PAIR_RECORDS, fleetPairRate: FLEET_PAIR_RATE, quiet: { windowMs: QUIET_WINDOW_MS, share: QUIET_SHARE, capMs: QUIET_CAP_MS }, qos: 1, broker: 'embedded aedes, own process' },
          variants,
          ratios,
          invalidLetThrough,
          overload: overloadReport,
          ...(breakdown !== undefined ? { cpuBreakdown: breakdown } : {}),
          ...(fleetBreakdown !== undefined ? { fleetCpuBreakdown: fleetBreakdown } : {}),
          targets,
        })}\n`,
      );
    }
  } finally {
    // BENCH_RUNTIME_LOG=<file>: what the tectonic runtime printed (with BENCH_NODE_ARGS=--trace-gc, its collections).
    if (process.env.BENCH_RUNTIME_LOG !== undefined && runtimes.tectonic !== undefined) writeFileSync(process.env.BENCH_RUNTIME_LOG, runtimes.tectonic.logs());
    stopScraping();
    await load?.close().catch(() => undefined);
    await Promise.all(Object.values(runtimes).map((rt) => rt.stop().catch(() => undefined)));
    await broker?.stop().catch(() => undefined);
    await scratch.remove();
  }
}

interface CpuBreakdown {
  /** How it was measured, for the reader of the JSON. */
  method: string;
  samplingIntervalUs: number;
  records: number;
  recordsPerSecond: number;
  /** The runtime's CPU per record in the profiled phase, from /proc: the profiler's own cost is in it. */
  runtimeCpuUsPerRecord: number;
  /** The profile's non-idle time per record, by part (µs). */
  usPerRecord: Record<string, number>;
}

/**
 * One more full-speed phase of tectonic with V8's sampling profiler on in its
 * runtime, attributed by part (see BREAKDOWN_INTERVAL_US). Undefined, with a
 * line saying why, when the profile does not come.
 */
async function cpuBreakdown(load: PipelineLoad, variant: 'tectonic' | 'fleet', pid: number, file: string): Promise<CpuBreakdown | undefined> {
  process.kill(pid, 'SIGURG');
  await delay(200);
  const cpu0 = cpuMicros(pid);
  const full = await load.fullSpeed(variant, RECORDS, WINDOW, PHASE_CAP_MS);
  const cpu = cpuMicros(pid) - cpu0;
  process.kill(pid, 'SIGURG');
  for (let waited = 0; !existsSync(file) && waited < 30_000; waited += 100) await delay(100);
  if (!existsSync(file)) {
    say(`cpu breakdown: the ${variant} runtime wrote no profile within 30 s`);
    return undefined;
  }
  // Kept for a closer look (e.g. in Chrome's DevTools) when BENCH_CPU_PROF names a folder.
  if (PROFILE_DIR !== undefined) copyFileSync(file, join(PROFILE_DIR, `${variant}-breakdown.${HEAP_PROFILE ? 'heapprofile' : 'cpuprofile'}`));
  if (HEAP_PROFILE) {
    say(`allocation profile of the ${variant} runtime over ${full.sent} records${PROFILE_DIR !== undefined ? ` in ${PROFILE_DIR}` : ' (set BENCH_CPU_PROF to keep it)'}`);
    return undefined;
  }
  const shares = attributeCpu(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile);
  const usPerRecord = Object.fromEntries(
    Object.entries(shares)
      .sort((a, b) => b[1] - a[1])
      .map(([part, us]) => [part, round1(us / full.sent, 2)]),
  );
  await delay(SETTLE_MS);
  return {
    method: `V8 sampling profiler in the ${variant} runtime (every ${BREAKDOWN_INTERVAL_US} µs) during one extra full-speed phase; each sample goes to the first pack or Node-RED frame from the top of its stack, and within the pack to the nearest node file on the stack`,
    samplingIntervalUs: BREAKDOWN_INTERVAL_US,
    records: full.sent,
    recordsPerSecond: Math.round(full.sent / ((full.lastArrivalAt - full.firstSendAt) / 1000)),
    runtimeCpuUsPerRecord: round1(cpu / full.sent),
    usPerRecord,
  };
}

function printBreakdown(variant: string, b: CpuBreakdown): void {
  const total = Object.values(b.usPerRecord).reduce((n, us) => n + us, 0);
  say(`cpu per record by part of the ${variant} runtime (${b.records} records at ${b.recordsPerSecond}/s, profiled every ${b.samplingIntervalUs} µs; runtime CPU ${b.runtimeCpuUsPerRecord} µs/record from /proc, ${round1(total)} in the profile):`);
  for (const [part, us] of Object.entries(b.usPerRecord)) if (us >= 0.05) say(`  ${part.padEnd(48)} ${us.toFixed(2).padStart(7)} µs  ${((100 * us) / total).toFixed(1).padStart(5)} %`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
