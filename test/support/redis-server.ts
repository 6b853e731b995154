// Debian's redis-server, started by the test on a free loopback port in a
// folder of its own and stopped by its pid. Without `persistence` it keeps
// nothing on disk (`--save '' --appendonly no`); a system redis that the
// package's post-install may have started on 6379 is neither used nor touched.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { freePort, tempDir, waitFor } from './node-red-process';

export const REDIS_SERVER = '/usr/bin/redis-server';
const STOP_BOUND_MS = 5_000;

// The last resort for a test that never reached its after hook.
const liveServers = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of liveServers) {
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      try { process.kill(child.pid, 'SIGKILL'); } catch { /* already gone */ }
    }
  }
});

export interface RedisServer {
  readonly port: number;
  /** redis://127.0.0.1:PORT */
  readonly url: string;
  readonly pid: number;
  output(): string;
  /** Sends one inline command and resolves with the raw reply (for the test's own checks, e.g. `DBSIZE`). */
  command(line: string): Promise<string>;
  /** Stops the server by its pid and removes its folder; safe twice. */
  stop(): Promise<void>;
}

export interface RedisServerOptions {
  /** Append-only file in the server's folder, so a restarted server keeps its data. Off by default. */
  persistence?: boolean;
  /** Default a free loopback port; give the port of a stopped one to bring Redis back where its clients look. */
  port?: number;
  /** `requirepass`: clients must AUTH with this password. */
  password?: string;
}

/** One inline command over a fresh socket; the reply as Redis wrote it. */
function inlineCommand(port: number, line: string, timeoutMs = 2_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let reply = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`redis on ${port} did not answer ${line} within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once('connect', () => socket.write(`${line}\r\n`));
    socket.on('data', (chunk: Buffer) => {
      reply += chunk.toString();
      if (reply.endsWith('\r\n')) {
        clearTimeout(timer);
        socket.end();
        resolve(reply.trimEnd());
      }
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  if (!existsSync(REDIS_SERVER)) throw new Error(`${REDIS_SERVER} is missing: install Debian's redis-server (.ci/run does)`);
  const port = options.port ?? (await freePort());
  const dir = await tempDir('tectonic-redis-');
  const args = [
    '--port', String(port),
    '--bind', '127.0.0.1',
    '--dir', dir.path,
    '--daemonize', 'no',
    '--save', '',
    '--appendonly', options.persistence === true ? 'yes' : 'no',
    '--logfile', '',
    ...(options.password === undefined ? [] : ['--requirepass', options.password]),
  ];
  let output = '';
  const child: ChildProcess = spawn(REDIS_SERVER, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  liveServers.add(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => {
    liveServers.delete(child);
    resolve();
  }));
  const running = (): boolean => child.pid !== undefined && child.exitCode === null && child.signalCode === null;
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    if (running()) {
      const pid = child.pid as number;
      process.kill(pid, 'SIGTERM');
      const timer = setTimeout(() => running() && process.kill(pid, 'SIGKILL'), STOP_BOUND_MS);
      await exited;
      clearTimeout(timer);
    }
    await dir.remove();
  };
  try {
    await waitFor(async () => {
      if (!running()) throw new Error(`redis-server exited: ${output}`);
      const reply = await inlineCommand(port, 'PING');
      // With requirepass a PING before AUTH is refused, which still says the server is up.
      return reply === '+PONG' || reply.startsWith('-NOAUTH');
    }, { timeoutMs: 10_000, message: `redis-server on 127.0.0.1:${port} to answer PING` });
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    get pid(): number {
      return running() ? (child.pid as number) : -1;
    },
    output: () => output,
    command: (line) => inlineCommand(port, line),
    stop,
  };
}
