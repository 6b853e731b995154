import { dirname, resolve } from 'node:path';
import { parseBrokerConfig, parseConfigText } from '../broker/broker-config';
import type { BrokerConfig } from '../broker/broker-config';
import { hashPassword } from '../broker/password-hash';
import { startEmbeddedBroker } from '../bus/embedded-broker';
import { TectonicError } from '../errors';
import { parseCommandArgs, readText } from './cli-input';
import { EXIT } from './cli-types';
import type { CliCommand, CliIo, ExitCode } from './cli-types';
import { formatReason } from './reason-format';

/** How long a stop may take before the process gives up waiting (well under a service manager's kill timeout). */
const CLOSE_BOUND_MS = 10_000;

export const brokerCommand: CliCommand = {
  name: 'broker',
  summary: 'run the bus broker without Node-RED, check its config, or hash a password for it',
  usage: `tectonic broker --config FILE
    runs the broker FILE describes (YAML or JSON, docs/security.md) until SIGTERM or SIGINT;
    users and acl are read again whenever FILE changes, TLS files whenever they change;
    logs one line per refused connection or operation, never a password
  tectonic broker check --config FILE
    exit 0 FILE is a valid broker config, 1 it is not (with the reasons)
  tectonic broker hash-password
    reads a password on standard input (one line) and prints its scrypt hash for a user's passwordHash`,
  async run(args, io) {
    if (args[0] === 'hash-password') return hashPasswordCommand(args.slice(1), io);
    if (args[0] === 'check') return checkCommand(args.slice(1), io);
    return runCommand(args, io);
  },
};

async function readConfig(args: string[], io: CliIo): Promise<{ file: string; config: ReturnType<typeof parseBrokerConfig> }> {
  const { values, positionals } = parseCommandArgs(args, { config: { type: 'string' } });
  if (positionals.length > 0) throw new TectonicError('USAGE', `unexpected argument ${positionals[0] ?? ''}`);
  if (typeof values.config !== 'string') throw new TectonicError('USAGE', '--config FILE is required');
  const file = resolve(io.cwd, values.config);
  const raw = parseConfigText(await readText(file, io));
  return { file, config: raw.ok ? parseBrokerConfig(raw.value, dirname(file)) : raw };
}

async function checkCommand(args: string[], io: CliIo): Promise<ExitCode> {
  const { file, config } = await readConfig(args, io);
  if (!config.ok) {
    io.err(`${file}: not a valid broker config\n${config.reasons.map((r) => `  ${formatReason(r)}\n`).join('')}`);
    return EXIT.failed;
  }
  io.out(`${file}: valid (${config.value.listeners.length} listeners, ${config.value.users.length} users, ${config.value.acl.length} ACL rules)\n`);
  return EXIT.ok;
}

async function hashPasswordCommand(args: string[], io: CliIo): Promise<ExitCode> {
  if (args.length > 0) throw new TectonicError('USAGE', 'hash-password takes no arguments; give the password on standard input');
  // One line: a trailing newline (echo, a heredoc) is not part of the password.
  const password = (await io.readStdin()).replace(/\r?\n$/, '');
  if (password === '') throw new TectonicError('USAGE', 'no password on standard input');
  io.out(`${await hashPassword(password)}\n`);
  return EXIT.ok;
}

function persistenceOption(config: BrokerConfig): Parameters<typeof startEmbeddedBroker>[0]['persistence'] {
  const p = config.persistence;
  if (p.kind === 'disk') return { dir: p.dir, sync: p.sync };
  if (p.kind === 'redis') return { redis: p.url };
  return 'memory';
}

async function runCommand(args: string[], io: CliIo): Promise<ExitCode> {
  const { file, config } = await readConfig(args, io);
  if (!config.ok) {
    io.err(`${file}: not a valid broker config\n${config.reasons.map((r) => `  ${formatReason(r)}\n`).join('')}`);
    return EXIT.usage;
  }
  const first = config.value.listeners[0] as BrokerConfig['listeners'][number];
  const log = (line: string): void => io.out(`${new Date().toISOString()} ${line}\n`);
  let broker;
  try {
    broker = await startEmbeddedBroker({
      host: first.host,
      port: first.port,
      listeners: config.value.listeners,
      persistence: persistenceOption(config.value),
      accessFile: file,
      limits: config.value.limits,
      log,
      label: 'broker',
    });
  } catch (err) {
    if (!(err instanceof TectonicError)) throw err;
    io.err(`tectonic broker: ${err.message}\n`);
    return EXIT.failed;
  }
  for (const l of broker.listeners) log(`broker listening on ${l.kind}://${l.host.includes(':') ? `[${l.host}]` : l.host}:${l.port} (pid ${process.pid})`);
  log(broker.secured() ? `broker has ${config.value.users.length} users; anonymous clients are refused` : 'broker has no users: anyone on loopback may connect');
  await new Promise<void>((done) => {
    process.once('SIGTERM', done);
    process.once('SIGINT', done);
  });
  log('broker stopping');
  await Promise.race([broker.close(), new Promise((r) => setTimeout(r, CLOSE_BOUND_MS).unref())]);
  return EXIT.ok;
}
