// Debian's mosquitto, started by the test on a free loopback port with a
// config of its own, and stopped by its pid.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitFor } from './node-red-process';

export const MOSQUITTO = '/usr/sbin/mosquitto';

export interface Mosquitto {
  readonly port: number;
  readonly url: string;
  /** The same broker over WebSockets. */
  readonly wsUrl: string;
  readonly pid: number;
  output(): string;
  stop(): Promise<void>;
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
}

export async function startMosquitto(options: MosquittoOptions = {}): Promise<Mosquitto> {
  const port = options.port;
  if (!existsSync(MOSQUITTO)) throw new Error(`${MOSQUITTO} is missing: install Debian's mosquitto (.ci/run does)`);
  const chosen = port ?? (await freePort());
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
  const lines = [`listener ${chosen} 127.0.0.1`, `listener ${wsPort} 127.0.0.1`, 'protocol websockets', ...access, 'persistence false', 'log_dest stderr', 'log_type error', 'log_type warning', ''];
  await writeFile(config, lines.join('\n'));
  const child: ChildProcess = spawn(MOSQUITTO, ['-c', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const pid = child.pid;
  if (pid === undefined) throw new Error('mosquitto did not start');
  await waitFor(async () => (child.exitCode === null ? accepts(chosen) : Promise.reject(new Error(`mosquitto exited: ${output}`))), {
    timeoutMs: 10_000,
    message: 'mosquitto to listen',
  });
  return {
    port: chosen,
    url: `mqtt://127.0.0.1:${chosen}`,
    wsUrl: `ws://127.0.0.1:${wsPort}`,
    pid,
    output: () => output,
    async stop() {
      if (child.exitCode === null) {
        process.kill(pid, 'SIGTERM');
        const timer = setTimeout(() => child.exitCode === null && process.kill(pid, 'SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}
