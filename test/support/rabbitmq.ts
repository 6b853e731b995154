// Debian's rabbitmq-server with its MQTT plugin, as processes the test owns:
// an epmd on a free loopback port, then the broker node, everything in one
// temporary folder (config, enabled plugins, Mnesia, logs, the Erlang cookie
// under HOME). The AMQP, MQTT and Erlang distribution listeners bind
// 127.0.0.1. stop() ends the broker, then epmd, each by its pid, and removes
// the folder; a system rabbitmq the package's post-install may have started
// is neither used nor touched (other node name, other epmd port).
//
// RabbitMQ maps MQTT topics to routing keys on the exchange amq.topic with
// '.' for '/' (and '*' for '+'); topic permissions are regexes over those keys.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, tempDir, waitFor } from './node-red-process';

const RABBITMQ_BIN = '/usr/lib/rabbitmq/bin';
const EPMD = '/usr/bin/epmd';
const STOP_BOUND_MS = 30_000;
// Loopback only for the Erlang distribution listener too (the broker's and rabbitmqctl's).
const LOOPBACK_DIST = '-kernel inet_dist_use_interface {127,0,0,1}';

export interface RabbitPermissions {
  /** Regexes over resource names in vhost '/': queues the user may declare, write to and read from. */
  configure: string;
  write: string;
  read: string;
}

export interface RabbitMq {
  /** mqtt://127.0.0.1:PORT (MQTT 3.1.1: RabbitMQ 3.10's plugin has no MQTT 5). */
  readonly mqttUrl: string;
  /** From spawning epmd to the broker answering with its MQTT listener up. */
  readonly startupMs: number;
  readonly pid: number;
  output(): string;
  /** rabbitmqctl against this node; resolves with its stdout. */
  ctl(args: string[]): Promise<string>;
  /** add_user, set_permissions on '/', and set_topic_permissions on amq.topic when `topics` is given. */
  addUser(name: string, password: string, permissions: RabbitPermissions, topics?: { write: string; read: string }): Promise<void>;
  /** Stops the broker and epmd by their pids and removes the folder; safe twice. */
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

/** `count` distinct free loopback ports. */
async function freePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}

const liveChildren = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of liveChildren) {
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      // The broker's own process group (spawned detached), so the Erlang VM under the script goes too.
      try { process.kill(-child.pid, 'SIGKILL'); } catch { /* already gone */ }
      try { process.kill(child.pid, 'SIGKILL'); } catch { /* already gone */ }
    }
  }
});

function track(child: ChildProcess, onOutput: (text: string) => void): Promise<void> {
  liveChildren.add(child);
  child.stdout?.on('data', (chunk: Buffer) => onOutput(chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => onOutput(chunk.toString()));
  return new Promise((resolve) => {
    child.once('exit', () => {
      liveChildren.delete(child);
      resolve();
    });
  });
}

const running = (child: ChildProcess): boolean => child.pid !== undefined && child.exitCode === null && child.signalCode === null;

async function stopChild(child: ChildProcess, exited: Promise<void>, group: boolean): Promise<void> {
  if (!running(child)) return;
  const pid = child.pid as number;
  process.kill(pid, 'SIGTERM');
  const timer = setTimeout(() => {
    if (!running(child)) return;
    try { process.kill(group ? -pid : pid, 'SIGKILL'); } catch { /* gone meanwhile */ }
  }, STOP_BOUND_MS);
  await exited;
  clearTimeout(timer);
}

export async function startRabbitMq(): Promise<RabbitMq> {
  if (!existsSync(join(RABBITMQ_BIN, 'rabbitmq-server'))) throw new Error(`${RABBITMQ_BIN}/rabbitmq-server is missing: install Debian's rabbitmq-server (.ci/run does)`);
  const dir = await tempDir('tectonic-rabbitmq-');
  const [epmdPort, amqpPort, distPort, mqttPort] = (await freePorts(4)) as [number, number, number, number];
  const home = join(dir.path, 'home');
  await mkdir(home);
  const config = join(dir.path, 'rabbitmq.conf');
  await writeFile(config, [
    `listeners.tcp.default = 127.0.0.1:${amqpPort}`,
    `mqtt.listeners.tcp.default = 127.0.0.1:${mqttPort}`,
    'mqtt.allow_anonymous = false',
    'mqtt.vhost = /',
    'mqtt.exchange = amq.topic',
    '',
  ].join('\n'));
  const plugins = join(dir.path, 'enabled_plugins');
  await writeFile(plugins, '[rabbitmq_mqtt].\n');
  const nodeName = `tectonic-${process.pid}-${mqttPort}@localhost`;
  // What both the broker and rabbitmqctl need to find each other: the cookie under HOME, epmd's port, the node's name.
  const common: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: home,
    LANG: 'C.UTF-8',
    ERL_EPMD_ADDRESS: '127.0.0.1',
    ERL_EPMD_PORT: String(epmdPort),
    RABBITMQ_NODENAME: nodeName,
    RABBITMQ_CONF_ENV_FILE: join(dir.path, 'rabbitmq-env.conf'),
    RABBITMQ_CTL_ERL_ARGS: LOOPBACK_DIST,
  };
  const serverEnv: NodeJS.ProcessEnv = {
    ...common,
    RABBITMQ_BASE: dir.path,
    RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
    RABBITMQ_NODE_PORT: String(amqpPort),
    RABBITMQ_DIST_PORT: String(distPort),
    RABBITMQ_MNESIA_BASE: join(dir.path, 'mnesia'),
    RABBITMQ_LOG_BASE: join(dir.path, 'log'),
    RABBITMQ_LOGS: '-',
    RABBITMQ_CONFIG_FILE: config,
    RABBITMQ_ADVANCED_CONFIG_FILE: join(dir.path, 'advanced.config'),
    RABBITMQ_ENABLED_PLUGINS_FILE: plugins,
    RABBITMQ_PID_FILE: join(dir.path, 'rabbitmq.pid'),
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: LOOPBACK_DIST,
  };

  let output = '';
  const append = (text: string): void => {
    output += text;
  };
  const started = Date.now();
  const epmd = spawn(EPMD, ['-address', '127.0.0.1', '-port', String(epmdPort)], { env: common, stdio: ['ignore', 'pipe', 'pipe'] });
  const epmdExited = track(epmd, append);
  let server: ChildProcess | undefined;
  let serverExited: Promise<void> = Promise.resolve();
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    // The script traps SIGTERM and stops the Erlang VM in order; the group kill is for a VM that hangs.
    if (server !== undefined) await stopChild(server, serverExited, true);
    await stopChild(epmd, epmdExited, false);
    await dir.remove();
  };

  const ctl = async (args: string[]): Promise<string> => {
    const { stdout } = await promisify(execFile)(join(RABBITMQ_BIN, 'rabbitmqctl'), ['--node', nodeName, ...args], { env: common, timeout: 60_000 });
    return stdout;
  };

  try {
    await waitFor(() => (running(epmd) ? accepts(epmdPort) : Promise.reject(new Error(`epmd exited: ${output}`))), { timeoutMs: 10_000, message: 'epmd to listen' });
    const proc = spawn(join(RABBITMQ_BIN, 'rabbitmq-server'), [], { env: serverEnv, cwd: dir.path, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    server = proc;
    serverExited = track(proc, append);
    // The MQTT listener opens last in the boot; await_startup then confirms the node says it is up.
    await waitFor(() => (running(proc) ? accepts(mqttPort) : Promise.reject(new Error('rabbitmq-server exited while starting'))), {
      timeoutMs: 150_000,
      intervalMs: 250,
      message: `rabbitmq-server's MQTT listener on 127.0.0.1:${mqttPort}`,
    });
    await ctl(['await_startup', '--timeout', '60']);
  } catch (err) {
    await stop();
    throw new Error(`${err instanceof Error ? err.message : String(err)}\n--- rabbitmq output ---\n${output.slice(-4000)}`, { cause: err });
  }
  const startupMs = Date.now() - started;
  const serverProc = server;

  return {
    mqttUrl: `mqtt://127.0.0.1:${mqttPort}`,
    startupMs,
    get pid(): number {
      return running(serverProc) ? (serverProc.pid as number) : -1;
    },
    output: () => output,
    ctl,
    async addUser(name, password, permissions, topics) {
      await ctl(['add_user', name, password]);
      await ctl(['set_permissions', '-p', '/', name, permissions.configure, permissions.write, permissions.read]);
      if (topics !== undefined) await ctl(['set_topic_permissions', '-p', '/', name, 'amq.topic', topics.write, topics.read]);
    },
    stop,
  };
}
