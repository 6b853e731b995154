// The pack's embedded aedes broker (lib/bus/embedded-broker.ts) in a child
// process of its own, so an end-to-end test can stop it the way a site loses
// its broker (SIGTERM, or SIGKILL as a crash would) and start it again on the
// same port with the same persistence folder. The process is always stopped
// by its pid; the folder is removed by stop(), or when the test process exits.
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { connect as mqttConnect } from 'mqtt';
import { freePort, repoRoot, tempDir, waitFor } from './node-red-process';

const SCRIPT = join(repoRoot, 'test', 'support', 'run-embedded-broker.ts');
const STOP_BOUND_MS = 12_000;

export interface BrokerProcessOptions {
  /** Default: a free loopback port, kept for every start(). */
  port?: number;
  /** 'disk' (default) keeps sessions, subscriptions, queued QoS 1 and retained messages in `dir`; 'memory' forgets them on stop. */
  persistence?: 'disk' | 'memory';
  /** The persistence folder; default a fresh temporary one, removed by stop(). */
  dir?: string;
  /** Bound for the broker to start and answer an MQTT CONNECT; default 20 s. */
  readyTimeoutMs?: number;
  /** When the broker acknowledges QoS 1 (lib/bus/embedded-broker.ts `qos1Ack`); default the broker's. */
  qos1Ack?: 'after-store' | 'on-receipt';
  /** Sync every write of the broker's LevelDB (persistence `sync: true`); default false. */
  sync?: boolean;
}

/** A broker a test runs as a process of its own and can stop and start again, as a site loses its broker. */
export interface RestartableBroker {
  readonly port: number;
  /** mqtt://127.0.0.1:PORT */
  readonly url: string;
  /** Its folder (persistence, config). */
  readonly dir: string;
  /** The pid of the current broker process; -1 while halted. */
  readonly pid: number;
  /** Everything the broker processes printed, across starts. */
  output(): string;
  /** Stops the broker process by its pid, keeping port, config and folder. SIGTERM shuts down in order; SIGKILL is a crash. */
  halt(signal?: 'SIGTERM' | 'SIGKILL'): Promise<void>;
  /** Starts the broker (again) on the same port and folder; resolves once it is ready. */
  start(): Promise<void>;
  /** halt() then start(). */
  restart(signal?: 'SIGTERM' | 'SIGKILL'): Promise<void>;
  /** Stops the broker for good and removes a folder it created. Safe to call twice. */
  stop(): Promise<void>;
}

export interface BrokerProcess extends RestartableBroker {
  readonly running: boolean;
}

// The last resort for a test that never reached its after hook: the child
// also exits when its stdin (our end of the pipe) closes.
const liveChildren = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of liveChildren) {
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      try { process.kill(child.pid, 'SIGKILL'); } catch { /* already gone */ }
    }
  }
});

/** Resolves once an MQTT client gets a CONNACK on `url` (a throwaway clean session), false on refusal or timeout. */
export function answersConnect(url: string, timeoutMs = 2_000): Promise<boolean> {
  return new Promise((resolve) => {
    const client = mqttConnect(url, { clientId: `probe_${process.pid}_${Date.now()}`, clean: true, reconnectPeriod: 0, connectTimeout: timeoutMs, protocolVersion: 4 });
    let settled = false;
    const finish = (ok: boolean): void => {
      if (settled) return;
      settled = true;
      client.end(true, () => resolve(ok));
    };
    client.once('connect', () => finish(true));
    client.once('error', () => finish(false));
    client.once('close', () => finish(false));
  });
}

export async function startBrokerProcess(options: BrokerProcessOptions = {}): Promise<BrokerProcess> {
  const port = options.port ?? (await freePort());
  const url = `mqtt://127.0.0.1:${port}`;
  const persistence = options.persistence ?? 'disk';
  const owned = options.dir === undefined ? await tempDir('tectonic-broker-') : undefined;
  const dir = options.dir ?? (owned as { path: string }).path;
  const readyTimeoutMs = options.readyTimeoutMs ?? 20_000;
  let output = '';
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let stopped = false;

  const running = (proc: ChildProcess | undefined): proc is ChildProcess =>
    proc !== undefined && proc.pid !== undefined && proc.exitCode === null && proc.signalCode === null;

  const signal = (proc: ChildProcess, name: NodeJS.Signals): void => {
    if (!running(proc)) return;
    try { process.kill(proc.pid as number, name); } catch { /* exited meanwhile */ }
  };

  const halt = async (name: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<void> => {
    const proc = child;
    if (!running(proc)) return;
    signal(proc, name);
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        output += `\n[broker-process] pid ${proc.pid ?? '?'} ignored ${name} for ${STOP_BOUND_MS} ms: SIGKILL\n`;
        signal(proc, 'SIGKILL');
        resolve();
      }, STOP_BOUND_MS);
    });
    await Promise.race([exited, bound]);
    clearTimeout(timer);
    await exited;
  };

  const start = async (): Promise<void> => {
    if (stopped) throw new Error('start() after stop()');
    if (running(child)) return;
    const env: NodeJS.ProcessEnv = { ...process.env };
    // The child is not a test file, whatever the runner that started us says.
    delete env.NODE_TEST_CONTEXT;
    delete env.NODE_OPTIONS;
    const args = [
      '--import',
      'tsx',
      SCRIPT,
      '--port',
      String(port),
      ...(persistence === 'disk' ? ['--dir', dir] : ['--memory']),
      ...(options.qos1Ack === undefined ? [] : ['--qos1-ack', options.qos1Ack]),
      ...(options.sync === true ? ['--sync'] : []),
    ];
    const proc = spawn(process.execPath, args, { cwd: repoRoot, env, stdio: ['pipe', 'pipe', 'pipe'] });
    child = proc;
    liveChildren.add(proc);
    proc.stdout?.on('data', (chunk: Buffer) => { output += chunk.toString(); });
    proc.stderr?.on('data', (chunk: Buffer) => { output += chunk.toString(); });
    // Writing to the stdin of a process that died raises EPIPE on the stream; nothing is ever written.
    proc.stdin?.on('error', () => undefined);
    exited = new Promise<void>((resolve) => {
      proc.once('exit', (code, sig) => {
        liveChildren.delete(proc);
        output += `[broker-process] pid ${proc.pid ?? '?'} exited (code ${String(code)}, signal ${String(sig)})\n`;
        resolve();
      });
    });
    try {
      await waitFor(async () => {
        if (!running(proc)) throw new Error('the broker process exited while starting');
        return answersConnect(url);
      }, { timeoutMs: readyTimeoutMs, intervalMs: 100, message: `embedded broker on ${url} to answer CONNECT` });
    } catch (err) {
      await halt('SIGKILL');
      throw new Error(`${err instanceof Error ? err.message : String(err)}\n--- broker output ---\n${output}`, { cause: err });
    }
  };

  await start().catch(async (err: unknown) => {
    await owned?.remove();
    throw err;
  });

  return {
    port,
    url,
    dir,
    get pid(): number {
      return running(child) ? (child.pid as number) : -1;
    },
    get running(): boolean {
      return running(child);
    },
    output: () => output,
    halt,
    start,
    async restart(name) {
      await halt(name);
      await start();
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await halt();
      await owned?.remove();
    },
  };
}
