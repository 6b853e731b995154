// Debian's mosquitto, started by the test on a free loopback port with a
// config of its own, and stopped by its pid.
import { type ChildProcess, spawn } from 'node:child_process';
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

export async function startMosquitto(port?: number): Promise<Mosquitto> {
  if (!existsSync(MOSQUITTO)) throw new Error(`${MOSQUITTO} is missing: install Debian's mosquitto (.ci/run does)`);
  const chosen = port ?? (await freePort());
  const dir = await mkdtemp(join(tmpdir(), 'tectonic-mosquitto-'));
  const config = join(dir, 'mosquitto.conf');
  await writeFile(config, [`listener ${chosen} 127.0.0.1`, 'allow_anonymous true', 'persistence false', 'log_dest stderr', 'log_type error', 'log_type warning', ''].join('\n'));
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
