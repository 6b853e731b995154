// The centre at scale (issue 16): one central Node-RED running
// heartbeat-monitor on one broker process, tracking N simulated sites
// (MQTT.js clients in this process, each with a will, a retained online state
// and a retained heartbeat every 5 s, as a site's tectonic-bus and heartbeat
// node publish them), for N = 100 and 1,000. Measured on the central process
// only, over the same window for both: CPU (utime + stime from /proc), memory
// (RSS), the offline alert's delay for sites whose connection is killed
// during the window (their sockets destroyed, as SIGKILL closes them), how
// late past its threshold (3 intervals) the missing alert of a site that
// stops beating but stays connected comes, and
// how long GET /tectonic/fleet/data takes. Prints each figure and the ratio
// 1,000 / 100: linear growth is 10×.
//
//   node scripts/run-benches.mjs fleet-scale
//
// Bounded: connections in batches with a deadline, a fixed window per N
// (BENCH_FLEET_WINDOW_SECONDS, default 20), every process stopped by its pid.
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import mqtt, { type MqttClient } from 'mqtt';
import type { FleetAlert } from '../lib/fleet/alert-format';
import type { Heartbeat } from '../lib/fleet/heartbeat-format';
import { startBrokerProcess } from '../test/support/broker-process';
import { startNodeRed, waitFor } from '../test/support/node-red-process';
import { env } from './bench-env';

const SIZES = [100, 1000];
const BEAT_MS = 5_000;
/** Sites that stop beating (staying connected) at the window's start: their missing alert's delay past the threshold. */
const SILENT = 5;
const THRESHOLD_MS = 3 * BEAT_MS;
const WINDOW_MS = env('BENCH_FLEET_WINDOW_SECONDS', 20) * 1000;
const KILLED = 5;
const CLK_TCK = 100;

interface Result { sites: number; cpuPercent: number; cpuMsPerBeat: number; rssMiB: number; killDelaysMs: number[]; missingLateMs: number[]; dataMs: number; dataKiB: number; beats: number }

function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

function rssMiB(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match === null ? NaN : Number(match[1]) / 1024;
}

function beat(site: string, seq: number): string {
  const hb: Heartbeat = {
    format: 1, site, session: 1, seq, sentAt: new Date().toISOString(), intervalMs: BEAT_MS, uptimeSeconds: seq * 5,
    stages: { map: { in: seq * 50, out: seq * 49, rejected: { type: seq } }, publish: { in: seq * 49, out: seq * 49, rejected: {} } },
    outboxDepth: 0,
    versions: { pack: '0.1.0', nodeRed: '4.1.15', node: process.version, catalog: 'sha256:5d0c81e2', policy: 'central-default@7' },
    cdmPublished: ['shipment@1.1.0'],
    flows: { fingerprint: 'a'.repeat(64), template: { name: 'site-agent', version: '1.0.0' } },
    canary: { ok: true, at: new Date().toISOString(), nonce: `n${seq}`, latencyMs: 40, stagesMs: { map: 1 } },
  };
  return JSON.stringify(hb);
}

async function run(n: number): Promise<Result> {
  const broker = await startBrokerProcess({ persistence: 'memory' });
  const centre = await startNodeRed({
    flows: [
      { id: 'tab', type: 'tab', label: 'centre' },
      { id: 'bus', type: 'tectonic-bus', mode: 'external', url: broker.url, protocolVersion: '4', keepalive: '30', session: 'clean' },
      { id: 'mon', type: 'heartbeat-monitor', z: 'tab', bus: 'bus', checkPeriod: '1', missingAfter: '3', maxAlerts: '6', alertWindow: '60', alertSites: true, wires: [[]] },
    ],
  });
  const sites: Array<{ id: string; client: MqttClient; seq: number; timer?: NodeJS.Timeout; lastBeat?: number }> = [];
  const observer = await mqtt.connectAsync(broker.url, { clientId: 'bench-observer', protocolVersion: 4, reconnectPeriod: 0 });
  const offlineAt = new Map<string, number>();
  const missingAt = new Map<string, number>();
  observer.on('message', (_t, payload) => {
    const alert = JSON.parse(payload.toString()) as FleetAlert;
    if (alert.kind === 'offline' && !offlineAt.has(alert.site)) offlineAt.set(alert.site, performance.now());
    if (alert.kind === 'missing' && !missingAt.has(alert.site)) missingAt.set(alert.site, performance.now());
  });
  await observer.subscribeAsync('tectonic/alerts/#', { qos: 1 });
  let beats = 0;
  try {
    const connectDeadline = Date.now() + 60_000;
    for (let start = 0; start < n; start += 50) {
      if (Date.now() > connectDeadline) throw new Error(`only ${sites.length} of ${n} sites connected within 60 s`);
      await Promise.all(
        Array.from({ length: Math.min(50, n - start) }, async (_, k) => {
          const id = `site-${String(start + k).padStart(4, '0')}`;
          const will = { topic: `tectonic/health/${id}/state`, payload: Buffer.from(JSON.stringify({ state: 'offline', session: 1, since: new Date().toISOString(), reason: 'connection-lost' })), qos: 1 as const, retain: true };
          const client = await mqtt.connectAsync(broker.url, { clientId: `bench-${id}`, protocolVersion: 4, reconnectPeriod: 0, keepalive: 60, will });
          await client.publishAsync(`tectonic/health/${id}/state`, JSON.stringify({ state: 'online', session: 1, since: new Date().toISOString() }), { qos: 1, retain: true });
          sites.push({ id, client, seq: 0 });
        }),
      );
    }
    // Beats spread over the interval, as independent sites would be.
    for (const site of sites) {
      const send = (): void => {
        beats += 1;
        site.lastBeat = performance.now();
        site.client.publish(`tectonic/health/${site.id}/heartbeat`, beat(site.id, site.seq++), { qos: 1, retain: true });
      };
      setTimeout(() => {
        send();
        site.timer = setInterval(send, BEAT_MS);
      }, Math.random() * BEAT_MS);
    }
    // Every site heard at the centre before measuring.
    await waitFor(async () => {
      const res = await centre.api('/tectonic/fleet/data');
      const view = (await res.json()) as { sites: Array<{ heartbeat?: unknown }> };
      return view.sites.filter((s) => s.heartbeat !== undefined).length >= n;
    }, { timeoutMs: 30_000, intervalMs: 1000, message: `${n} sites beating at the centre` });

    const beatsBefore = beats;
    const ticksBefore = cpuTicks(centre.pid);
    const started = performance.now();
    // Silent from the window's start: connected, no more beats.
    const silent = sites.slice(KILLED, KILLED + SILENT);
    for (const v of silent) clearInterval(v.timer);
    // Killed during the window: their sockets closed at once, as a SIGKILL does.
    const killedAt = new Map<string, number>();
    const victims = sites.slice(0, KILLED);
    setTimeout(() => {
      for (const v of victims) {
        clearInterval(v.timer);
        killedAt.set(v.id, performance.now());
        v.client.stream.destroy();
      }
    }, WINDOW_MS / 2);
    await new Promise((resolve) => setTimeout(resolve, WINDOW_MS));
    const elapsed = performance.now() - started;
    const ticks = cpuTicks(centre.pid) - ticksBefore;
    const cpuMs = (ticks * 1000) / CLK_TCK;
    const rss = rssMiB(centre.pid);
    const t0 = performance.now();
    const res = await centre.api('/tectonic/fleet/data');
    const body = await res.text();
    const dataMs = performance.now() - t0;
    const killDelaysMs = victims.map((v) => (offlineAt.get(v.id) ?? NaN) - (killedAt.get(v.id) ?? NaN));
    const missingLateMs = silent.map((v) => (missingAt.get(v.id) ?? NaN) - ((v.lastBeat ?? NaN) + THRESHOLD_MS));
    const windowBeats = beats - beatsBefore;
    return { sites: n, cpuPercent: (cpuMs / elapsed) * 100, cpuMsPerBeat: cpuMs / Math.max(1, windowBeats), rssMiB: rss, killDelaysMs, missingLateMs, dataMs, dataKiB: body.length / 1024, beats: windowBeats };
  } finally {
    for (const site of sites) clearInterval(site.timer);
    await Promise.all(sites.map((s) => s.client.endAsync(true).catch(() => undefined)));
    await observer.endAsync(true).catch(() => undefined);
    await centre.stop();
    await broker.stop();
  }
}

const median = (xs: number[]): number => {
  const sorted = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  return sorted.length === 0 ? NaN : (sorted[Math.floor((sorted.length - 1) / 2)] as number);
};

async function main(): Promise<void> {
  const results: Result[] = [];
  for (const n of SIZES) {
    const r = await run(n);
    results.push(r);
    console.log(
      `fleet-scale: ${String(n).padStart(5)} sites: central CPU ${r.cpuPercent.toFixed(2)}% of a core (${(r.cpuMsPerBeat * 1000).toFixed(0)} µs per heartbeat, ${r.beats} beats in ${WINDOW_MS / 1000} s), RSS ${r.rssMiB.toFixed(1)} MiB, ` +
        `offline alert after a killed connection: median ${median(r.killDelaysMs).toFixed(0)} ms, max ${Math.max(...r.killDelaysMs).toFixed(0)} ms (${KILLED} sites), missing alert past its ${THRESHOLD_MS / 1000} s threshold: median ${median(r.missingLateMs).toFixed(0)} ms, max ${Math.max(...r.missingLateMs).toFixed(0)} ms (${SILENT} silent sites, check period 1 s), GET /tectonic/fleet/data ${r.dataMs.toFixed(0)} ms (${r.dataKiB.toFixed(0)} KiB)`,
    );
    if (r.killDelaysMs.some((d) => !Number.isFinite(d))) throw new Error(`a killed site got no offline alert at ${n} sites`);
    if (r.missingLateMs.some((d) => !Number.isFinite(d))) throw new Error(`a silent site got no missing alert at ${n} sites`);
  }
  const [small, large] = results as [Result, Result];
  const ratio = (a: number, b: number): string => `${(b / a).toFixed(2)}×`;
  console.log(`fleet-scale: growth 1000 / 100 sites (10× the sites; linear is 10×): CPU ${ratio(small.cpuPercent, large.cpuPercent)}, CPU per heartbeat ${ratio(small.cpuMsPerBeat, large.cpuMsPerBeat)}, RSS ${ratio(small.rssMiB, large.rssMiB)}, offline alert delay (median) ${ratio(median(small.killDelaysMs), median(large.killDelaysMs))}, missing alert lateness (median) ${ratio(median(small.missingLateMs), median(large.missingLateMs))}, fleet data ${ratio(small.dataMs, large.dataMs)}`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
