// The site pipeline's throughput against a durable embedded broker, before
// and after the broker acknowledged QoS 1 only once the message is stored
// (docs/outbox.md, "What durable means"), in one run:
//
//   on-receipt   aedes' own order: PUBACK first, the message stored after (before)
//   after-store  PUBACK once the message is stored and queued (lib/bus/ack-after-store.ts; after, the default)
//
//   node scripts/run-benches.mjs ack-after-store [--json]
//
// The flow and the load are the pipeline bench's (bench/pipeline/): the
// tectonic flow (bus-subscribe -> cdm-map -> cdm-validate -> policy-gate ->
// bus-publish with its disk outbox), records at full speed with at most 1,000
// in flight, QoS 1 in and out. Unlike that bench, each broker has a LevelDB
// folder (the embedded broker's default), so tectonic-bus's persistent
// session has every inbound record queued on disk. One broker per mode, each
// with a Node-RED runtime of its own; the modes alternate within each round
// (the order turns round each time) so the shared machine's drift falls on
// both, and the ratio is the median of the per-round ratios. To stay under
// about 3 minutes it sends 20,000 records per phase (the pipeline bench
// 50,000) and 5,000 to warm up (10,000), over 3 rounds.
//
// Brokers: lib/bus/embedded-broker.ts in processes of their own on 127.0.0.1
// (test/support/broker-process.ts). Every load loop is bounded in count and
// time; every process is stopped by its pid; temp folders removed.
import { performance } from 'node:perf_hooks';
import { type BrokerProcess, startBrokerProcess } from '../test/support/broker-process';
import { type NodeRedProcess, delay, startNodeRed, tempDir } from '../test/support/node-red-process';
import { tectonicFlow, writePolicyFiles } from './pipeline/flows';
import { PipelineLoad } from './pipeline/load';
import { cpuMicros } from './pipeline/proc-stats';
import { env } from './bench-env';

const ROUNDS = env('BENCH_ROUNDS', 3);
const RECORDS = env('BENCH_RECORDS', 20_000);
const WINDOW = env('BENCH_WINDOW', 1_000);
const PHASE_CAP_MS = env('BENCH_PHASE_CAP_SECONDS', 20) * 1000;
const WARM_UP_RECORDS = env('BENCH_WARM_UP_RECORDS', 5_000);
/** Pause after each phase, so one mode's leftover collections and drains do not fall in the other's phase. */
const SETTLE_MS = env('BENCH_SETTLE_MS', 1_000);
/** The pipeline bench's outbox bound and flow-control window (their defaults there). */
const OUTBOX_MAX_COUNT = 10_000;
const MAX_IN_FLIGHT = 1_000;

type Mode = 'on-receipt' | 'after-store';
const MODES: readonly Mode[] = ['on-receipt', 'after-store'];

const json = process.argv.includes('--json');
// With --json, stdout carries the one JSON object and nothing else.
const say = (line = ''): void => {
  (json ? process.stderr : process.stdout).write(`${line}\n`);
};

interface PhaseFigures {
  throughput: number;
  /** The Node-RED runtime's CPU per record sent, µs. */
  cpuUsPerRecord: number;
  brokerCpuUsPerRecord: number;
  wrong: number;
  missing: number;
  invalidLetThrough: number;
  firstWrong?: string;
}

interface Site {
  broker: BrokerProcess;
  runtime: NodeRedProcess;
  load: PipelineLoad;
}

const round1 = (n: number, digits = 1): number => Math.round(n * 10 ** digits) / 10 ** digits;
/** The pipeline bench's median: the lower middle of an even count. */
const median = (xs: number[]): number => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted.length === 0 ? NaN : (sorted[Math.floor((sorted.length - 1) / 2)] as number);
};

async function main(): Promise<void> {
  const started = performance.now();
  const scratch = await tempDir('tectonic-ack-bench-');
  const brokers: BrokerProcess[] = [];
  const runtimes: NodeRedProcess[] = [];
  const loads: PipelineLoad[] = [];
  try {
    const policyFiles = await writePolicyFiles(scratch.path);
    // Both brokers with a fresh persistence folder each ('disk', removed by stop()), no sync: the default "written".
    const sites = {} as Record<Mode, Site>;
    await Promise.all(
      MODES.map(async (mode) => {
        const broker = await startBrokerProcess({ persistence: 'disk', qos1Ack: mode });
        brokers.push(broker);
        const runtime = await startNodeRed({ flows: tectonicFlow(broker.port, policyFiles, OUTBOX_MAX_COUNT, MAX_IN_FLIGHT) });
        runtimes.push(runtime);
        const load = await PipelineLoad.open(broker.url);
        loads.push(load);
        sites[mode] = { broker, runtime, load };
      }),
    );
    for (const mode of MODES) {
      const { broker, runtime } = sites[mode];
      say(`${mode.padEnd(11)}: embedded aedes pid ${broker.pid} on ${broker.url}, persistence folder ${broker.dir}; Node-RED pid ${runtime.pid}`);
    }
    // Warm up: connections made, JIT warm, the policy bundle loaded (the gate fails closed until it is).
    for (const mode of MODES) await sites[mode].load.warmUp('tectonic', WARM_UP_RECORDS, 60_000);

    const rounds: Array<Record<Mode, PhaseFigures>> = [];
    for (let r = 0; r < ROUNDS; r++) {
      const figures = {} as Record<Mode, PhaseFigures>;
      const order: readonly Mode[] = r % 2 === 0 ? MODES : [...MODES].reverse();
      for (const mode of order) {
        const { broker, runtime, load } = sites[mode];
        const cpu0 = cpuMicros(runtime.pid);
        const brokerCpu0 = cpuMicros(broker.pid);
        const full = await load.fullSpeed('tectonic', RECORDS, WINDOW, PHASE_CAP_MS);
        const cpu = cpuMicros(runtime.pid) - cpu0;
        const brokerCpu = cpuMicros(broker.pid) - brokerCpu0;
        const seconds = (full.lastArrivalAt - full.firstSendAt) / 1000;
        figures[mode] = {
          throughput: Math.round(full.sent / seconds),
          cpuUsPerRecord: round1(cpu / full.sent),
          brokerCpuUsPerRecord: round1(brokerCpu / full.sent),
          wrong: full.wrong,
          missing: full.validSent - full.correct - full.wrong,
          invalidLetThrough: full.invalidLetThrough,
          ...(full.firstWrong !== undefined ? { firstWrong: full.firstWrong } : {}),
        };
        const f = figures[mode];
        say(
          `round ${r + 1} ${mode.padEnd(11)} ${String(f.throughput).padStart(6)} rec/s  cpu ${f.cpuUsPerRecord} µs/rec (broker ${f.brokerCpuUsPerRecord})  ` +
            `sent ${full.sent} in ${seconds.toFixed(1)} s  wrong ${f.wrong}  missing ${f.missing}  invalid let through ${f.invalidLetThrough}` +
            (f.firstWrong !== undefined ? `\n    first wrong: ${f.firstWrong}` : ''),
        );
        await delay(SETTLE_MS);
      }
      rounds.push(figures);
      say(`round ${r + 1} ratio after-store/on-receipt ${(figures['after-store'].throughput / figures['on-receipt'].throughput).toFixed(3)}`);
    }

    // Per mode, the median over rounds; the ratio, the median of each round's ratio.
    const summarise = (mode: Mode) => {
      const per = rounds.map((f) => f[mode]);
      return {
        throughput: Math.round(median(per.map((f) => f.throughput))),
        cpuUsPerRecord: median(per.map((f) => f.cpuUsPerRecord)),
        brokerCpuUsPerRecord: median(per.map((f) => f.brokerCpuUsPerRecord)),
        wrong: per.reduce((n, f) => n + f.wrong, 0),
        missing: per.reduce((n, f) => n + f.missing, 0),
        invalidLetThrough: per.reduce((n, f) => n + f.invalidLetThrough, 0),
        rounds: per,
      };
    };
    const modes = { 'on-receipt': summarise('on-receipt'), 'after-store': summarise('after-store') };
    const roundRatios = rounds.map((f) => round1(f['after-store'].throughput / f['on-receipt'].throughput, 3));
    const ratio = { afterStoreVsOnReceipt: median(roundRatios), rounds: roundRatios };

    say();
    say(`summary (median of ${ROUNDS} rounds; ${RECORDS} records per phase, window ${WINDOW}; tectonic flow, QoS 1 in and out; broker with a LevelDB folder, no sync)`);
    say('mode          rec/s  Node-RED µs/rec  broker µs/rec  wrong  missing');
    for (const mode of MODES) {
      const f = modes[mode];
      say(`${mode.padEnd(11)} ${String(f.throughput).padStart(7)}  ${String(f.cpuUsPerRecord).padStart(15)}  ${String(f.brokerCpuUsPerRecord).padStart(13)}  ${String(f.wrong).padStart(5)}  ${String(f.missing).padStart(7)}`);
    }
    say(`ratio after-store/on-receipt ${ratio.afterStoreVsOnReceipt} (per round ${roundRatios.join(', ')})`);
    say(`bench took ${Math.round((performance.now() - started) / 1000)} s`);

    if (json) {
      process.stdout.write(
        `${JSON.stringify({
          machine: { cpus: (await import('node:os')).cpus().length, node: process.version, platform: process.platform },
          settings: { rounds: ROUNDS, records: RECORDS, window: WINDOW, warmUpRecords: WARM_UP_RECORDS, qos: 1, broker: 'embedded aedes, own process, LevelDB folder, no sync' },
          modes,
          ratio,
        })}\n`,
      );
    }
  } finally {
    await Promise.all(loads.map((load) => load.close().catch(() => undefined)));
    await Promise.all(runtimes.map((rt) => rt.stop().catch(() => undefined)));
    await Promise.all(brokers.map((broker) => broker.stop().catch(() => undefined)));
    await scratch.remove();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
