// An aedes broker on a shared Redis (test/support/run-redis-broker.ts) as a
// child process: a test starts several on one Redis and stops or kills each
// by its pid.
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { answersConnect } from './broker-process';
import { freePort, repoRoot, waitFor } from './node-red-process';

const SCRIPT = join(repoRoot, 'test', 'support', 'run-redis-broker.ts');
const STOP_BOUND_MS = 12_000;

export interface RedisBrokerProcess {
  readonly port: number;
  /** mqtt://127.0.0.1:PORT */
  readonly url: string;
  /** -1 once it exited. */
  readonly pid: number;
  output(): string;
  /** Signals the process by its pid and resolves once it exited (SIGKILL after 12 s of SIGTERM). */
  stop(signal?: 'SIGTERM' | 'SIGKILL'): Promise<void>;
}

const liveChildren = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of liveChildren) {
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      try { process.kill(child.pid, 'SIGKILL'); } catch { /* already gone */ }
    }
  }
});

export async function startRedisBrokerProcess(redisUrl: string, options: { id?: string; qos1Ack?: 'after-store' | 'on-receipt'; readyTimeoutMs?: number } = {}): Promise<RedisBrokerProcess> {
  const port = await freePort();
  const url = `mqtt://127.0.0.1:${port}`;
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.NODE_OPTIONS;
  const args = ['--import', 'tsx', SCRIPT, '--port', String(port), '--redis', redisUrl, ...(options.id === undefined ? [] : ['--id', options.id]), ...(options.qos1Ack === undefined ? [] : ['--qos1-ack', options.qos1Ack])];
  const child = spawn(process.execPath, args, { cwd: repoRoot, env, stdio: ['pipe', 'pipe', 'pipe'] });
  liveChildren.add(child);
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stdin.on('error', () => undefined);
  const exited = new Promise<void>((resolve) => {
    child.once('exit', (code, sig) => {
      liveChildren.delete(child);
      output += `[redis-broker] pid ${child.pid ?? '?'} exited (code ${String(code)}, signal ${String(sig)})\n`;
      resolve();
    });
  });
  const running = (): boolean => child.pid !== undefined && child.exitCode === null && child.signalCode === null;
  const stop = async (signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<void> => {
    if (!running()) return;
    const pid = child.pid as number;
    process.kill(pid, signal);
    const timer = setTimeout(() => running() && process.kill(pid, 'SIGKILL'), STOP_BOUND_MS);
    await exited;
    clearTimeout(timer);
  };
  try {
    await waitFor(async () => {
      if (!running()) throw new Error('the broker process exited while starting');
      return answersConnect(url);
    }, { timeoutMs: options.readyTimeoutMs ?? 30_000, intervalMs: 100, message: `redis broker on ${url} to answer CONNECT` });
  } catch (err) {
    await stop('SIGKILL');
    throw new Error(`${err instanceof Error ? err.message : String(err)}\n--- broker output ---\n${output}`, { cause: err });
  }
  return {
    port,
    url,
    get pid(): number {
      return running() ? (child.pid as number) : -1;
    },
    output: () => output,
    stop,
  };
}
