// node-red-node-test-helper with types, and ways to await what a node does
// instead of asserting inside its handlers.
import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import { coreNodeFile, nodeRedDir, repoRoot } from './node-red-process';

export interface HelperNode extends EventEmitter {
  id: string;
  receive(msg: Record<string, unknown>): void;
}

interface TestHelper {
  init(runtimePath: string, settings?: Record<string, unknown>): void;
  startServer(done: (err?: Error) => void): void;
  stopServer(done: (err?: Error) => void): void;
  load(nodes: unknown[], flow: unknown[], credentials: Record<string, unknown>, done: (err?: Error) => void): void;
  unload(): Promise<void>;
  getNode(id: string): HelperNode | null;
  /** A spy on the runtime's log: each call's first argument is the log event. */
  log(): { args: Array<[{ level: number; type?: string; msg?: unknown }]> };
  /** supertest against the runtime's admin API. */
  request(): AdminRequest;
}

interface AdminRequest {
  post(path: string): { send(body: unknown): PromiseLike<{ status: number; body: unknown }> };
  get(path: string): PromiseLike<{ status: number; body: unknown }>;
}

// eslint-disable-next-line @typescript-eslint/no-require-imports -- the helper ships no types
export const helper = require('node-red-node-test-helper') as TestHelper;
// The helper finds the runtime's internals beside the file it is given, so
// TECTONIC_NODE_RED_DIR switches these tests to another Node-RED as well.
helper.init(require.resolve(nodeRedDir));

/** The pack's compiled nodes (the test command builds first) and the core nodes the tests wire in. */
export const packNodes: unknown[] = ['tectonic-bus', 'bus-publish', 'bus-subscribe', 'cdm-catalog', 'cdm-validate', 'cdm-map', 'tectonic-policy', 'policy-gate', 'heartbeat'].map(
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  (name) => require(join(repoRoot, 'dist', 'nodes', `${name}.js`)) as unknown,
);
// eslint-disable-next-line @typescript-eslint/no-require-imports
export const catchNode = require(coreNodeFile('common/25-catch.js')) as unknown;

export function startServer(): Promise<void> {
  return new Promise((resolve, reject) => helper.startServer((err) => (err ? reject(err) : resolve())));
}

export function stopServer(): Promise<void> {
  return new Promise((resolve, reject) => helper.stopServer((err) => (err ? reject(err) : resolve())));
}

export function load(flow: unknown[], credentials: Record<string, unknown> = {}, nodes: unknown[] = [...packNodes, catchNode]): Promise<void> {
  return new Promise((resolve, reject) => helper.load(nodes, flow, credentials, (err) => (err ? reject(err) : resolve())));
}

export function node(id: string): HelperNode {
  const found = helper.getNode(id);
  if (found === null) throw new Error(`node ${id} is not in the loaded flow`);
  return found;
}

export type Msg = Record<string, unknown>;

/** Collects every message a helper node receives, for awaiting by count or content. */
export class Inbox {
  readonly messages: Msg[] = [];
  private readonly waiters = new Set<() => void>();

  constructor(target: HelperNode) {
    target.on('input', (msg: Msg) => {
      this.messages.push(msg);
      for (const wake of this.waiters) wake();
    });
  }

  async next(predicate: (msg: Msg) => boolean = () => true, timeoutMs = 5000): Promise<Msg> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.messages.find(predicate);
      if (found) return found;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no matching message within ${timeoutMs} ms (have ${this.messages.length})`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, left);
        const waiters = this.waiters;
        function done(): void {
          clearTimeout(timer);
          waiters.delete(done);
          resolve();
        }
        waiters.add(done);
      });
    }
  }

  async count(n: number, timeoutMs = 5000): Promise<Msg[]> {
    await this.next(() => this.messages.length >= n, timeoutMs);
    return this.messages.slice(0, n);
  }
}

/** What nodes of `type` logged at `level` (30 warn, 20 error) since the server started. */
export function logged(type: string, level: number): string[] {
  return helper
    .log()
    .args.map(([event]) => event)
    .filter((event) => event.type === type && event.level === level)
    .map((event) => String(event.msg));
}

/** Events the helper emits when a node calls status/warn/error: `call:status`, `call:warn`, `call:error`. */
export function calls(target: HelperNode, method: 'status' | 'warn' | 'error' | 'log'): Array<{ args: unknown[] }> {
  const seen: Array<{ args: unknown[] }> = [];
  target.on(`call:${method}`, (call: { args: unknown[] }) => seen.push(call));
  return seen;
}
