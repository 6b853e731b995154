// CPU time and resident memory of another process, read from /proc (Linux):
// the Node-RED runtime and the broker run in processes of their own, so
// process.cpuUsage() of the bench would measure the wrong one.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

let ticksPerSecond: number | undefined;

function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** User plus system CPU time of `pid` so far, in microseconds (utime and stime of /proc/<pid>/stat). */
export function cpuMicros(pid: number): number {
  const { user, system } = cpuSplitMicros(pid);
  return user + system;
}

/** User and system CPU time of `pid` so far, apart, in microseconds. */
export function cpuSplitMicros(pid: number): { user: number; system: number } {
  if (pid <= 0) return { user: 0, system: 0 };
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const tick = 1e6 / clockTicks();
  return { user: Number(fields[11]) * tick, system: Number(fields[12]) * tick };
}

/** VmRSS of `pid`, in MB. */
export function rssMb(pid: number): number {
  if (pid <= 0) return 0;
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  return match ? Number(match[1]) / 1024 : 0;
}

export interface HostCpuTimes {
  steal: number;
  total: number;
}

/** The machine's CPU time so far, all cores, in clock ticks (the `cpu` line of /proc/stat). */
export function hostCpuTimes(): HostCpuTimes {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
  // user nice system idle iowait irq softirq steal [guest guest_nice]: guest time is already in user.
  const ticks = line.trim().split(/\s+/).slice(1, 9).map(Number);
  return { steal: ticks[7] ?? 0, total: ticks.reduce((sum, t) => sum + t, 0) };
}

/**
 * The share of the machine's time its host took back (steal) between two
 * readings, in percent: on a shared virtual machine, time no process here got.
 */
export function stealPercent(from: HostCpuTimes, to: HostCpuTimes): number {
  const total = to.total - from.total;
  return total > 0 ? (100 * (to.steal - from.steal)) / total : 0;
}

/**
 * Waits until every process in `pids` has used at most `maxBusyShare` of a
 * core over one `windowMs` window, or `capMs` has passed; returns how long it
 * waited. A runtime goes on working after a burst's last record (collections,
 * its outbox's clean-up, socket drains): measured until it is quiet, that work
 * counts for the variant that caused it, and the next phase does not run
 * beside it (with two cores, the one that ran just before otherwise paid
 * for it: issue 19's fleetOverhead was 1.10 to 1.17 in the rounds where
 * fleet followed tectonic and 0.95 to 1.05 where it did not).
 */
export async function untilQuiet(pids: number[], windowMs = 250, maxBusyShare = 0.05, capMs = 5_000): Promise<number> {
  const started = Date.now();
  let before = pids.map(cpuMicros);
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, windowMs));
    const now = pids.map(cpuMicros);
    const quiet = now.every((cpu, i) => cpu - (before[i] ?? 0) <= maxBusyShare * windowMs * 1000);
    before = now;
    if (quiet || Date.now() - started >= capMs) return Date.now() - started;
  }
}
