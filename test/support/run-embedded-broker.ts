// The pack's embedded aedes broker on its own, in a process a test can stop
// (SIGTERM for an orderly stop, SIGKILL for a crash) and start again on the
// same port and folder:
//
//   node --import tsx test/support/run-embedded-broker.ts --port 1883 --dir /tmp/broker [--memory] [--qos1-ack on-receipt] [--sync]
//
// `--qos1-ack on-receipt` restores aedes' own QoS 1 order (PUBACK before the
// message is stored), for the crash test to show what lib/bus/ack-after-store.ts prevents;
// `--sync` syncs every LevelDB write (persistence `sync: true`), for the broker bench.
//
// It prints one line `embedded broker listening on HOST:PORT (pid N)` once it
// listens, closes the broker on SIGTERM/SIGINT, and also when its stdin
// closes: the test that started it holds the other end, so a test runner that
// dies does not leave a broker behind.
import { startEmbeddedBroker } from '../../lib/bus/embedded-broker';

const CLOSE_BOUND_MS = 10_000;

interface Args {
  host: string;
  port: number;
  dir: string | undefined;
  qos1Ack: 'after-store' | 'on-receipt' | undefined;
  sync: boolean;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { host: '127.0.0.1', port: 0, dir: undefined, qos1Ack: undefined, sync: false };
  for (let i = 0; i < argv.length; i += 1) {
    const flag = argv[i];
    const value = argv[i + 1];
    if (flag === '--memory') continue;
    if (flag === '--sync') {
      args.sync = true;
      continue;
    }
    if (value === undefined) throw new Error(`${String(flag)} needs a value`);
    if (flag === '--port') args.port = Number(value);
    else if (flag === '--host') args.host = value;
    else if (flag === '--dir') args.dir = value;
    else if (flag === '--qos1-ack') {
      if (value !== 'after-store' && value !== 'on-receipt') throw new Error(`--qos1-ack must be after-store or on-receipt, got ${value}`);
      args.qos1Ack = value;
    }
    else throw new Error(`unknown argument ${String(flag)}`);
    i += 1;
  }
  if (!Number.isInteger(args.port) || args.port < 0 || args.port > 65535) throw new Error(`--port must be a port number, got ${args.port}`);
  if (argv.includes('--memory')) args.dir = undefined;
  else if (args.dir === undefined) throw new Error('--dir is required (or --memory for a broker that forgets on stop)');
  return args;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const broker = await startEmbeddedBroker({
    host: args.host,
    port: args.port,
    persistence: args.dir === undefined ? 'memory' : { dir: args.dir, sync: args.sync },
    ...(args.qos1Ack === undefined ? {} : { qos1Ack: args.qos1Ack }),
  });
  let closing = false;
  const shutdown = (why: string): void => {
    if (closing) return;
    closing = true;
    process.stdout.write(`embedded broker closing (${why})\n`);
    const timer = setTimeout(() => {
      process.stderr.write(`embedded broker did not close within ${CLOSE_BOUND_MS} ms\n`);
      process.exit(1);
    }, CLOSE_BOUND_MS);
    broker.close().then(
      () => {
        clearTimeout(timer);
        process.exit(0);
      },
      (err: unknown) => {
        process.stderr.write(`embedded broker close failed: ${err instanceof Error ? err.message : String(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.stdin.once('end', () => shutdown('stdin closed'));
  process.stdin.resume();
  process.stdout.write(`embedded broker listening on ${broker.host}:${broker.port} (pid ${process.pid})\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`embedded broker failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
