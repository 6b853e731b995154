import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { TectonicError } from '../errors';
import type { FlowNode } from './flow-harness';

const PACK_NAME = '@tectonic/node-red-hybrid';

/** The pack's own folder (the one with its package.json), from this file in lib/ or dist/lib/. */
export function packRoot(): string {
  let dir = __dirname;
  for (let i = 0; i < 6; i += 1) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === PACK_NAME) return dir;
    dir = dirname(dir);
  }
  throw new TectonicError('USAGE', 'cannot find the pack\'s own folder');
}

/** Node-RED's red.js: given, or the node-red package beside the pack or in the working folder. */
export function findNodeRed(given: string | undefined, cwd: string): string {
  if (given !== undefined) {
    const red = given.endsWith('.js') ? resolve(cwd, given) : join(resolve(cwd, given), 'red.js');
    if (!existsSync(red)) throw new TectonicError('USAGE', `no Node-RED at ${given} (expected red.js)`);
    return red;
  }
  try {
    return require.resolve('node-red/red.js', { paths: [cwd, packRoot()] });
  } catch {
    throw new TectonicError('USAGE', 'certify runs the flow in Node-RED, and none is installed here: npm install node-red, or give --node-red DIR');
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolvePort(port));
    });
  });
}

export interface HeadlessNodeRed {
  readonly url: string;
  logs(): string;
  /** The node types this runtime has, from its admin API. */
  installedTypes(): Promise<Set<string>>;
  deploy(flows: FlowNode[]): Promise<void>;
  post(path: string, body: unknown): Promise<number>;
  /** SIGTERM (a clean stop: the site's bus says offline first), SIGKILL past a bound. */
  stop(): Promise<void>;
}

async function waitUntil(probe: () => Promise<boolean> | boolean, timeoutMs: number, what: string): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (
      await Promise.resolve()
        .then(probe)
        .catch((err: unknown) => {
          if (err instanceof TectonicError) throw err;
          return false;
        })
    )
      return;
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new TectonicError('USAGE', `timed out waiting for ${what}`);
}

/**
 * A Node-RED of its own for one certification: a temporary user folder with
 * the pack linked in, loopback only, no editor, nothing reaching outside.
 * The environment is the kit's `site.env` plus what certify sets.
 */
export async function startHeadlessNodeRed(options: { redJs: string; env: Record<string, string>; readyTimeoutMs?: number; workDir?: string }): Promise<HeadlessNodeRed> {
  const userDir = await mkdtemp(join(tmpdir(), 'tectonic-certify-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  await writeFile(join(userDir, 'package.json'), JSON.stringify({ name: 'tectonic-certify', version: '0.0.0', private: true, dependencies: { [PACK_NAME]: `file:${packRoot()}` } }));
  await mkdir(join(userDir, 'node_modules', '@tectonic'), { recursive: true });
  await symlink(packRoot(), join(userDir, 'node_modules', '@tectonic', 'node-red-hybrid'), 'dir');
  const settings = {
    uiHost: '127.0.0.1',
    uiPort: port,
    // Absolute: Node-RED prefers a relative flowFile found in its working
    // directory, which is the kit's folder (for the kit's relative paths), and
    // would deploy into the kit's own flows.json.
    flowFile: join(userDir, 'flows.json'),
    credentialSecret: false,
    logging: { console: { level: 'info', metrics: false, audit: false } },
    telemetry: { enabled: false, updateNotification: false },
    externalModules: { autoInstall: false, palette: { allowInstall: false } },
    editorTheme: { tours: false, projects: { enabled: false } },
  };
  await writeFile(join(userDir, 'settings.js'), `module.exports = ${JSON.stringify(settings)};\n`);
  await writeFile(join(userDir, 'flows.json'), '[]');
  const env: NodeJS.ProcessEnv = { ...process.env, ...options.env };
  delete env.NODE_OPTIONS;
  let output = '';
  const child: ChildProcess = spawn(process.execPath, [options.redJs, '--userDir', userDir, '--settings', join(userDir, 'settings.js'), '--port', String(port)], { cwd: options.workDir ?? userDir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const exited = (): boolean => child.exitCode !== null || child.signalCode !== null;
  const stop = async (): Promise<void> => {
    if (!exited()) {
      child.kill('SIGTERM');
      const bound = Date.now() + 15_000;
      while (!exited() && Date.now() < bound) await new Promise((r) => setTimeout(r, 100));
      if (!exited()) child.kill('SIGKILL');
    }
    await rm(userDir, { recursive: true, force: true });
  };
  const api = (path: string, init: RequestInit = {}): Promise<Response> => fetch(`${url}${path}`, { ...init, headers: { accept: 'application/json', ...(init.headers as Record<string, string> | undefined) } });
  try {
    await waitUntil(async () => {
      if (exited()) throw new TectonicError('USAGE', `Node-RED exited while starting:\n${output}`);
      return (await api('/settings')).ok && /Started flows/.test(output);
    }, options.readyTimeoutMs ?? 60_000, 'Node-RED to start');
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    url,
    logs: () => output,
    async installedTypes() {
      const res = await api('/nodes');
      const sets = (await res.json()) as Array<{ types?: string[]; enabled?: boolean }>;
      return new Set(sets.filter((s) => s.enabled !== false).flatMap((s) => s.types ?? []));
    },
    async deploy(flows) {
      const from = output.length;
      const res = await api('/flows', { method: 'POST', headers: { 'content-type': 'application/json', 'Node-RED-Deployment-Type': 'full', 'Node-RED-API-Version': 'v2' }, body: JSON.stringify({ flows }) });
      if (!res.ok) throw new TectonicError('USAGE', `Node-RED refused the flow: ${res.status} ${await res.text()}`);
      await waitUntil(() => /Started flows|Waiting for missing types/.test(output.slice(from)), 60_000, 'the flow to start');
      if (/Waiting for missing types/.test(output.slice(from))) throw new TectonicError('USAGE', `the flow needs node types this Node-RED lacks:\n${output.slice(from)}`);
    },
    async post(path, body) {
      const res = await fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      await res.arrayBuffer();
      return res.status;
    },
    stop,
  };
}
