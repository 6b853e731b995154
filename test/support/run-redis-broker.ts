// One aedes broker on a shared Redis (lib/bus/redis-backplane.ts), in a
// process of its own, so a test runs several on one Redis and kills one:
//
//   node --import tsx test/support/run-redis-broker.ts --port 1883 --redis redis://127.0.0.1:6379 [--id a] [--qos1-ack on-receipt]
//
// QoS 1 is acknowledged once the message is stored in Redis and queued for
// every persistent subscriber (lib/bus/ack-after-store.ts), as the embedded
// broker does with LevelDB; `--qos1-ack on-receipt` keeps aedes' own order.
//
// It prints `redis broker listening on 127.0.0.1:PORT (pid N)` once it
// listens, closes on SIGTERM/SIGINT and when its stdin closes (the test holds
// the other end, so a runner that dies leaves no broker behind).
import net from 'node:net';
import { createAckAfterStore } from '../../lib/bus/ack-after-store';
import { openRedisBackplane } from '../../lib/bus/redis-backplane';

const CLOSE_BOUND_MS = 10_000;

interface Args {
  port: number;
  redis: string;
  id: string | undefined;
  qos1Ack: 'after-store' | 'on-receipt';
}

function parseArgs(argv: string[]): Args {
  const flags = ['--port', '--redis', '--id', '--qos1-ack'];
  const values = new Map<string, string>();
  for (let i = 0; i < argv.length; i += 2) {
    const flag = argv[i];
    const value = argv[i + 1];
    if (flag === undefined || value === undefined || !flags.includes(flag)) throw new Error(`usage: --port N --redis URL [--id ID] [--qos1-ack after-store|on-receipt], got ${argv.join(' ')}`);
    values.set(flag, value);
  }
  const port = Number(values.get('--port') ?? '0');
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be a port number, got ${String(values.get('--port'))}`);
  const redis = values.get('--redis');
  if (redis === undefined) throw new Error('--redis URL is required');
  const qos1Ack = values.get('--qos1-ack') ?? 'after-store';
  if (qos1Ack !== 'after-store' && qos1Ack !== 'on-receipt') throw new Error(`--qos1-ack must be after-store or on-receipt, got ${qos1Ack}`);
  return { port, redis, id: values.get('--id'), qos1Ack };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const backplane = await openRedisBackplane(args.redis);
  // aedes 1.x is an ES module; tsx runs this file as CommonJS.
  const { Aedes } = await import('aedes');
  const ackAfterStore = args.qos1Ack === 'after-store' ? createAckAfterStore() : undefined;
  const broker = await Aedes.createBroker({
    ...(args.id === undefined ? {} : { id: args.id }),
    persistence: backplane.persistence as never,
    mq: backplane.mq as never,
    ...(ackAfterStore === undefined ? {} : { authorizePublish: ackAfterStore.authorizePublish }),
  });
  // Before the server listens, so no client's publish can come first.
  ackAfterStore?.install(broker);
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ noDelay: true }, (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    broker.handle(socket);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(args.port, '127.0.0.1', () => resolve());
  });
  let closing = false;
  const shutdown = (why: string): void => {
    if (closing) return;
    closing = true;
    process.stdout.write(`redis broker closing (${why})\n`);
    const timer = setTimeout(() => {
      process.stderr.write(`redis broker did not close within ${CLOSE_BOUND_MS} ms\n`);
      process.exit(1);
    }, CLOSE_BOUND_MS);
    server.close();
    for (const socket of sockets) socket.destroy();
    broker.close(() => {
      backplane.close().then(
        () => {
          clearTimeout(timer);
          process.exit(0);
        },
        (err: unknown) => {
          process.stderr.write(`redis backplane close failed: ${err instanceof Error ? err.message : String(err)}\n`);
          process.exit(1);
        },
      );
    });
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.stdin.once('end', () => shutdown('stdin closed'));
  process.stdin.resume();
  const address = server.address() as net.AddressInfo;
  process.stdout.write(`redis broker listening on 127.0.0.1:${address.port} (pid ${process.pid})\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`redis broker failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
