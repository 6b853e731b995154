// Debian's mosquitto, started by the test on a free loopback port with a
// config of its own, and stopped by its pid. With `persistence` it keeps its
// sessions, subscriptions and queued QoS 1/2 messages in its own folder, and
// halt() + start() bring the same broker back on the same ports with them.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RestartableBroker } from './broker-process';
import { freePort, waitFor } from './node-red-process';

export const MOSQUITTO = '/usr/sbin/mosquitto';

export interface Mosquitto extends RestartableBroker {
  /** The same broker over WebSockets. */
  readonly wsUrl: string;
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export interface MosquittoOptions {
  port?: number;
  /** When given, only these users may connect (a password file made with mosquitto_passwd). */
  users?: Record<string, string>;
  /**
   * Keep sessions and queued messages on disk (`persistence true` in the
   * broker's folder), so they survive halt() + start(). Off by default.
   */
  persistence?: boolean;
  /**
   * `max_queued_messages`: QoS 1/2 messages held per client beyond those in
   * flight. Mosquitto's default of 1000 silently drops the rest, which a
   * subscriber that is away while a site flushes its outbox can exceed.
   */
  maxQueuedMessages?: number;
}

const STOP_BOUND_MS = 5_000;

export async function startMosquitto(options: MosquittoOptions = {}): Promise<Mosquitto> {
  if (!existsSync(MOSQUITTO)) throw new Error(`${MOSQUITTO} is missing: install Debian's mosquitto (.ci/run does)`);
  const chosen = options.port ?? (await freePort());
  const wsPort = await freePort();
  const dir = await mkdtemp(join(tmpdir(), 'tectonic-mosquitto-'));
  const config = join(dir, 'mosquitto.conf');
  const access = ['allow_anonymous true'];
  if (options.users !== undefined) {
    const passwords = join(dir, 'passwords');
    await writeFile(passwords, '');
    for (const [user, password] of Object.entries(options.users)) {
      execFileSync('/usr/bin/mosquitto_passwd', ['-b', passwords, user, password]);
    }
    access.splice(0, 1, 'allow_anonymous false', `password_file ${passwords}`);
  }
  // As root mosquitto drops to its own user, which cannot read this private temp folder.
  if (process.getuid?.() === 0) access.push('user root');
  // mosquitto.conf(5): persistence_location must end with a slash.
  const persistence = options.persistence === true ? ['persistence true', `persistence_location ${dir}/`] : ['persistence false'];
  const queue = options.maxQueuedMessages !== undefined ? [`max_queued_messages ${options.maxQueuedMessages}`] : [];
  const lines = [
    `listener ${chosen} 127.0.0.1`,
    `listener ${wsPort} 127.0.0.1`,
    'protocol websockets',
    ...access,
    ...persistence,
    ...queue,
    'log_dest stderr',
    'log_type error',
    'log_type warning',
    '',
  ];
  await writeFile(config, lines.join('\n'));

  let output = '';
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let stopped = false;

  const running = (proc: ChildProcess | undefined): proc is ChildProcess =>
    proc !== undefined && proc.pid !== undefined && proc.exitCode === null && proc.signalCode === null;

  const launch = async (): Promise<void> => {
    const proc: ChildProcess = spawn(MOSQUITTO, ['-c', config], { stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    proc.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    proc.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    if (proc.pid === undefined) throw new Error('mosquitto did not start');
    await waitFor(async () => (running(proc) ? accepts(chosen) : Promise.reject(new Error(`mosquitto exited: ${output}`))), {
      timeoutMs: 10_000,
      message: 'mosquitto to listen',
    });
  };

  const halt = async (signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<void> => {
    const proc = child;
    if (!running(proc)) return;
    const pid = proc.pid as number;
    process.kill(pid, signal);
    const timer = setTimeout(() => running(proc) && process.kill(pid, 'SIGKILL'), STOP_BOUND_MS);
    await exited;
    clearTimeout(timer);
  };

  const start = async (): Promise<void> => {
    if (stopped) throw new Error('start() after stop(): the broker folder is gone');
    if (running(child)) return;
    await launch();
  };

  try {
    await launch();
  } catch (err) {
    await halt('SIGKILL');
    await rm(dir, { recursive: true, force: true });
    throw err;
  }

  return {
    port: chosen,
    url: `mqtt://127.0.0.1:${chosen}`,
    wsUrl: `ws://127.0.0.1:${wsPort}`,
    get pid(): number {
      return running(child) ? (child.pid as number) : -1;
    },
    dir,
    output: () => output,
    halt,
    start,
    async restart(signal) {
      await halt(signal);
      await start();
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await halt();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
