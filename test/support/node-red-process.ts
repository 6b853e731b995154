// A headless Node-RED in a child process, for end-to-end tests: the stock
// runtime from node_modules/node-red (or the one TECTONIC_NODE_RED_DIR names,
// see nodeRedDir), a fresh user folder under os.tmpdir(),
// and this pack made available the way a user would have it (an installed
// module, either a symlink to the checkout or an `npm install` of a packed
// tarball). Every process started here is stopped by its pid and every
// temporary folder removed, by stop() and, as a last resort, when the test
// process exits.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { cp, mkdtemp, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/** The checkout this file lives in. */
export const repoRoot = resolve(__dirname, '..', '..');
export const packageName = '@tectonic/node-red-hybrid';

/**
 * The Node-RED the tests run against: the devDependency in node_modules
 * unless TECTONIC_NODE_RED_DIR names another install, either its
 * `node-red` package folder or a prefix with node_modules/node-red in it.
 * CI's second leg points it at Node-RED 5 installed in .ci/nr5 (issue 18),
 * so one checkout tests both majors without reinstalling the first.
 */
export const nodeRedDir = findNodeRed(process.env.TECTONIC_NODE_RED_DIR);

function findNodeRed(setting: string | undefined): string {
  if (setting === undefined || setting === '') return join(repoRoot, 'node_modules', 'node-red');
  const given = resolve(repoRoot, setting);
  for (const dir of [given, join(given, 'node_modules', 'node-red')]) {
    if (existsSync(join(dir, 'red.js')) && existsSync(join(dir, 'package.json'))) return dir;
  }
  throw new Error(`TECTONIC_NODE_RED_DIR=${setting}: no Node-RED there (neither ${given}/red.js nor ${given}/node_modules/node-red/red.js)`);
}

/** The version of that Node-RED, from its package.json. */
export const nodeRedVersion = (JSON.parse(readFileSync(join(nodeRedDir, 'package.json'), 'utf8')) as { version: string }).version;

/** A core node's file of that Node-RED, e.g. coreNodeFile('common/25-catch.js'). */
export function coreNodeFile(file: string): string {
  // npm installs @node-red/nodes beside node-red, or under it when versions clash.
  const nested = join(nodeRedDir, 'node_modules', '@node-red', 'nodes');
  const base = existsSync(nested) ? nested : join(nodeRedDir, '..', '@node-red', 'nodes');
  return join(base, 'core', file);
}

const redJs = join(nodeRedDir, 'red.js');

/** One node of a flow as the admin API and flows.json carry it. */
export type FlowNode = { id: string; type: string } & Record<string, unknown>;

export interface NodeRedOptions {
  /** The flows.json the runtime starts with; none means an empty flow. */
  flows?: FlowNode[];
  /** Extra environment for the runtime (e.g. variables a flow reads as ${VAR}). */
  env?: Record<string, string>;
  /** Merged (deeply) over the default settings; must be JSON-serialisable. */
  settings?: Record<string, unknown>;
  /** Install this packed tarball with npm instead of symlinking the checkout. */
  tarball?: string;
  /** Load no copy of the pack at all (a stock Node-RED). */
  withoutPack?: boolean;
  /** Bound for the runtime to start and deploy its flows; default 60 s. */
  readyTimeoutMs?: number;
  /** Bound for `npm install` of a tarball; default 5 minutes. */
  installTimeoutMs?: number;
  /** Extra flags for the Node-RED process's node, e.g. `--cpu-prof` to profile a benchmark. */
  nodeArgs?: string[];
  /** A folder (a kit) copied into the user folder before the start, as a user unpacks it there; its flows.json and settings.js give way to the test's. */
  seedDir?: string;
}

export interface NodeRedProcess {
  /** http://127.0.0.1:PORT, the editor and the admin API (no trailing slash). */
  readonly url: string;
  readonly port: number;
  /** The pid of the current runtime process (changes on restart()). */
  readonly pid: number;
  readonly userDir: string;
  /** Everything the runtime printed so far, across restarts. */
  logs(): string;
  /** Waits (bounded) until the log printed after offset `from` matches. */
  waitForLog(pattern: RegExp, timeoutMs?: number, from?: number): Promise<void>;
  /** A request to the admin API, e.g. api('/nodes'). */
  api(path: string, init?: RequestInit): Promise<Response>;
  /** A full deployment (POST /flows): every node is stopped and started again; resolves once the new flows have started. */
  deploy(flows: FlowNode[]): Promise<string>;
  getFlows(): Promise<FlowNode[]>;
  /** SIGTERM, wait, SIGKILL past a bound; then removes the user folder. Safe to call twice. */
  stop(): Promise<void>;
  /** SIGKILL, as a crash would; keeps the user folder for restart(). */
  kill(): Promise<void>;
  /** Stops the runtime (if running) and starts it again in the same folder on the same port. */
  restart(): Promise<void>;
}

const STOP_BOUND_MS = 20_000;

// The last resort: a test that forgot stop() (or died before its after hook)
// must not leave a Node-RED running or a folder behind.
const liveChildren = new Set<ChildProcess>();
const liveDirs = new Set<string>();
process.once('exit', () => {
  for (const child of liveChildren) {
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      try { process.kill(child.pid, 'SIGKILL'); } catch { /* already gone */ }
    }
  }
  for (const dir of liveDirs) rmSync(dir, { recursive: true, force: true });
});

/** A port nobody listens on right now, on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolvePort(port) : reject(new Error('no port assigned'))));
    });
  });
}

export interface WaitOptions { timeoutMs?: number; intervalMs?: number; message?: string }

/** Polls `probe` until it returns a value other than undefined/false, within a bound. */
export async function waitFor<T>(probe: () => T | undefined | false | Promise<T | undefined | false>, options: WaitOptions = {}): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const intervalMs = options.intervalMs ?? 100;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const why = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new Error(`${options.message ?? 'condition'} not met within ${timeoutMs} ms${why}`);
    }
    await delay(intervalMs);
  }
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolveDelay) => setTimeout(resolveDelay, ms));
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const current = out[key];
    out[key] = isPlainObject(current) && isPlainObject(value) ? deepMerge(current, value) : value;
  }
  return out;
}

function run(command: string, args: string[], cwd: string, timeoutMs: number): Promise<string> {
  return new Promise((resolveRun, reject) => {
    execFile(command, args, { cwd, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${command} ${args.join(' ')} failed: ${err.message}\n${stdout}\n${stderr}`));
      else resolveRun(stdout);
    });
  });
}

/** Installs the pack into a Node-RED user folder: a symlink to the checkout, or npm install of a tarball. */
async function providePack(userDir: string, options: NodeRedOptions): Promise<void> {
  const manifest = { name: 'tectonic-e2e-user', version: '0.0.0', private: true, description: 'Node-RED user folder of an end-to-end test', dependencies: {} as Record<string, string> };
  if (options.withoutPack) {
    // Node-RED reads the user folder's package.json and logs an error without one.
    await writeFile(join(userDir, 'package.json'), JSON.stringify(manifest, null, 2));
  } else if (options.tarball !== undefined) {
    await writeFile(join(userDir, 'package.json'), JSON.stringify(manifest, null, 2));
    await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', options.tarball], userDir, options.installTimeoutMs ?? 300_000);
  } else {
    manifest.dependencies[packageName] = `file:${repoRoot}`;
    await writeFile(join(userDir, 'package.json'), JSON.stringify(manifest, null, 2));
    const scopeDir = join(userDir, 'node_modules', '@tectonic');
    await mkdir(scopeDir, { recursive: true });
    await symlink(repoRoot, join(scopeDir, 'node-red-hybrid'), 'dir');
  }
}

function settingsFor(port: number, overrides: Record<string, unknown> | undefined): Record<string, unknown> {
  const defaults: Record<string, unknown> = {
    uiHost: '127.0.0.1',
    uiPort: port,
    flowFile: 'flows.json',
    flowFilePretty: true,
    credentialSecret: 'tectonic-e2e-not-a-secret',
    logging: { console: { level: 'info', metrics: false, audit: false } },
    // Nothing may reach outside this machine: no update checks, no catalogue.
    telemetry: { enabled: false, updateNotification: false },
    externalModules: { autoInstall: false, palette: { allowInstall: false, allowUpdate: false, allowUpload: false } },
    editorTheme: { tours: false, projects: { enabled: false } },
    diagnostics: { enabled: true, ui: false },
  };
  return overrides ? deepMerge(defaults, overrides) : defaults;
}

/** Starts a headless Node-RED and waits until it has deployed its flows. */
export async function startNodeRed(options: NodeRedOptions = {}): Promise<NodeRedProcess> {
  const userDir = await mkdtemp(join(tmpdir(), 'tectonic-nr-'));
  liveDirs.add(userDir);
  let child: ChildProcess | undefined;
  let output = '';
  let stopped = false;
  try {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    if (options.seedDir !== undefined) await cp(options.seedDir, userDir, { recursive: true });
    await providePack(userDir, options);
    const settingsFile = join(userDir, 'settings.js');
    await writeFile(settingsFile, `module.exports = ${JSON.stringify(settingsFor(port, options.settings), null, 2)};\n`);
    await writeFile(join(userDir, 'flows.json'), JSON.stringify(options.flows ?? [], null, 2));

    const env: NodeJS.ProcessEnv = { ...process.env, ...options.env };
    // The child is not a test file, whatever the runner that started us says.
    delete env.NODE_TEST_CONTEXT;
    delete env.NODE_OPTIONS;

    const readyTimeoutMs = options.readyTimeoutMs ?? 60_000;

    const launch = async (): Promise<void> => {
      const from = output.length;
      const proc = spawn(process.execPath, [...(options.nodeArgs ?? []), redJs, '--userDir', userDir, '--settings', settingsFile, '--port', String(port)], {
        cwd: userDir,
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child = proc;
      liveChildren.add(proc);
      proc.stdout?.on('data', (chunk: Buffer) => { output += chunk.toString(); });
      proc.stderr?.on('data', (chunk: Buffer) => { output += chunk.toString(); });
      proc.once('exit', (code, signal) => {
        liveChildren.delete(proc);
        output += `\n[node-red-process] pid ${proc.pid ?? '?'} exited (code ${String(code)}, signal ${String(signal)})\n`;
      });
      await waitFor(async () => {
        if (proc.exitCode !== null || proc.signalCode !== null) throw new Error('Node-RED exited while starting');
        const res = await fetch(`${url}/settings`, { headers: { accept: 'application/json' } });
        await res.arrayBuffer();
        if (!res.ok) return false;
        // The admin API listens before the flows have started: wait for the
        // runtime to say so (or that it is stuck on missing types, which a
        // test wants to see rather than time out on).
        const since = output.slice(from);
        return /Started flows|Waiting for missing types/.test(since);
      }, { timeoutMs: readyTimeoutMs, intervalMs: 150, message: `Node-RED on ${url} ready` }).catch((err: unknown) => {
        throw new Error(`${err instanceof Error ? err.message : String(err)}\n--- Node-RED log ---\n${output}`);
      });
    };

    const waitExit = (proc: ChildProcess, ms: number): Promise<boolean> => {
      if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve(true);
      return new Promise((resolveExit) => {
        const timer = setTimeout(() => { proc.off('exit', onExit); resolveExit(false); }, ms);
        const onExit = (): void => { clearTimeout(timer); resolveExit(true); };
        proc.once('exit', onExit);
      });
    };

    const signal = (proc: ChildProcess, name: NodeJS.Signals): void => {
      if (proc.pid === undefined || proc.exitCode !== null || proc.signalCode !== null) return;
      try { process.kill(proc.pid, name); } catch { /* exited meanwhile */ }
    };

    const terminate = async (): Promise<void> => {
      const proc = child;
      if (!proc) return;
      signal(proc, 'SIGTERM');
      if (!(await waitExit(proc, STOP_BOUND_MS))) {
        output += `\n[node-red-process] pid ${proc.pid ?? '?'} ignored SIGTERM for ${STOP_BOUND_MS} ms: SIGKILL\n`;
        signal(proc, 'SIGKILL');
        await waitExit(proc, 5_000);
      }
    };

    const api = (path: string, init: RequestInit = {}): Promise<Response> => {
      const headers = new Headers(init.headers);
      if (!headers.has('accept')) headers.set('accept', 'application/json');
      return fetch(`${url}${path}`, { ...init, headers });
    };

    await launch();

    const handle: NodeRedProcess = {
      url,
      port,
      get pid(): number { return child?.pid ?? -1; },
      userDir,
      logs: () => output,
      waitForLog: async (pattern, timeoutMs = 10_000, from = 0) => {
        await waitFor(() => pattern.test(output.slice(from)), { timeoutMs, message: `log line ${String(pattern)}` });
      },
      api,
      deploy: async (flows) => {
        const from = output.length;
        const res = await api('/flows', {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'Node-RED-Deployment-Type': 'full', 'Node-RED-API-Version': 'v2' },
          body: JSON.stringify({ flows }),
        });
        const text = await res.text();
        if (!res.ok) throw new Error(`POST /flows answered ${res.status}: ${text}`);
        const body = JSON.parse(text) as { rev?: string };
        // The runtime answers once the old flows have stopped and starts the
        // new ones afterwards; a deployment is done when it says so.
        await waitFor(() => /Started flows|Waiting for missing types/.test(output.slice(from)), {
          timeoutMs: readyTimeoutMs,
          message: 'the deployed flows to start',
        });
        return body.rev ?? '';
      },
      getFlows: async () => {
        const res = await api('/flows', { headers: { 'Node-RED-API-Version': 'v2' } });
        if (!res.ok) throw new Error(`GET /flows answered ${res.status}`);
        const body = (await res.json()) as { flows: FlowNode[] };
        return body.flows;
      },
      stop: async () => {
        if (stopped) return;
        stopped = true;
        await terminate();
        await rm(userDir, { recursive: true, force: true });
        liveDirs.delete(userDir);
      },
      kill: async () => {
        const proc = child;
        if (!proc) return;
        signal(proc, 'SIGKILL');
        await waitExit(proc, 5_000);
      },
      restart: async () => {
        if (stopped) throw new Error('restart() after stop(): the user folder is gone');
        await terminate();
        await launch();
      },
    };
    return handle;
  } catch (err) {
    if (child?.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      try { process.kill(child.pid, 'SIGKILL'); } catch { /* gone */ }
    }
    rmSync(userDir, { recursive: true, force: true });
    liveDirs.delete(userDir);
    throw err;
  }
}

/** A scratch folder under os.tmpdir() that the exit hook removes if a test does not. */
export async function tempDir(prefix: string): Promise<{ path: string; remove(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  liveDirs.add(path);
  return {
    path,
    remove: async () => {
      await rm(path, { recursive: true, force: true });
      liveDirs.delete(path);
    },
  };
}

