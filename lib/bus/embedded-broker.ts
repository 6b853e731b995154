import { randomUUID } from 'node:crypto';
import net from 'node:net';
import { createRequire } from 'node:module';
import type { Aedes } from 'aedes' with { 'resolution-mode': 'import' };
import { ClassicLevel } from 'classic-level';
import { TectonicError } from '../errors';
import { createAckAfterStore } from './ack-after-store';
import { watchBrokerMetrics } from './broker-metrics';
import { settleInCallOrder } from './ordered-persistence';
import { withSyncedWrites } from './synced-level';
import { createSessionResumeGate } from './session-resume';

// aedes-persistence-level is CommonJS without type declarations: the factory
// takes an open-able level database and returns an aedes persistence.
const aedesPersistenceLevel = createRequire(__filename)('aedes-persistence-level') as (db: ClassicLevel) => unknown;

export interface EmbeddedBrokerOptions {
  host: string;
  /** 0 picks a free port (tests); read the chosen one from `port`. */
  port: number;
  /**
   * Where aedes keeps sessions, subscriptions, queued QoS 1/2 messages and
   * retained messages. A folder (LevelDB) keeps them across a broker restart,
   * which persistent-session subscribers need so nothing published while they
   * or the broker were away is lost (issue 7). Default 'memory': forgets on close.
   * A completed LevelDB write survives a killed process; `sync: true` also
   * syncs each write to the disk (fsync), for a power cut or an OS crash, at
   * the cost measured in docs/outbox.md.
   */
  persistence?: { dir: string; sync?: boolean } | 'memory';
  /**
   * When a QoS 1 PUBLISH is acknowledged, with a folder. 'after-store' (the
   * default): once the message is written, and queued for every persistent
   * subscriber (lib/bus/ack-after-store.ts), so a broker killed after the
   * PUBACK still has it. 'on-receipt': aedes' own order, PUBACK first; kept
   * for the crash test and the benchmark that compare the two. Without a
   * folder aedes' order always applies: nothing survives a restart anyway.
   */
  qos1Ack?: 'after-store' | 'on-receipt';
}

export interface EmbeddedBroker {
  readonly host: string;
  readonly port: number;
  connectedClients(): number;
  /** Stops listening, drops every client and closes aedes; resolves when the port is free. */
  close(): Promise<void>;
}

const GENERATION_KEY = 'tectonic-broker-generation';

/**
 * The broker's id for this start, after every id this folder has had.
 * aedes-persistence-level keeps a client's queued messages under
 * `outgoing:{client}:{brokerId}:{counter}` and replays them in key order, so
 * with aedes' default random id a subscriber away across a restart got the
 * messages queued by the later broker before those queued by the earlier one
 * whenever the later id sorted first (1 run in 5 of the chaos test put the
 * record in flight at a broker stop hundreds of records late). A generation
 * counter kept in the same database, zero-padded, sorts in start order; the
 * `tectonic-` prefix sorts after the hex UUIDs of earlier versions, whose
 * entries therefore still come first.
 */
async function nextBrokerId(db: ClassicLevel): Promise<string> {
  const previous = Number((await db.get(GENERATION_KEY)) ?? '0');
  const generation = (Number.isSafeInteger(previous) && previous >= 0 ? previous : 0) + 1;
  await db.put(GENERATION_KEY, String(generation), { sync: true });
  return `tectonic-${String(generation).padStart(12, '0')}-${randomUUID().slice(0, 8)}`;
}

/**
 * aedes (MQTT 3.1.1) on a TCP port. The server sets TCP_NODELAY on every
 * accepted socket: aedes does not, and Nagle's algorithm against the client's
 * delayed ACKs adds 5 to 30 ms a hop at moderate rates.
 */
export async function startEmbeddedBroker(options: EmbeddedBrokerOptions): Promise<EmbeddedBroker> {
  const folder = options.persistence === undefined || options.persistence === 'memory' ? undefined : options.persistence;
  const db = folder === undefined ? undefined : new ClassicLevel(folder.dir);
  const tracked = db === undefined ? undefined : settleInCallOrder(aedesPersistenceLevel(folder?.sync === true ? withSyncedWrites(db) : db) as object);
  const ackAfterStore = tracked !== undefined && (options.qos1Ack ?? 'after-store') === 'after-store' ? createAckAfterStore() : undefined;
  let aedes: Aedes;
  try {
    // aedes 1.x is an ES module; a dynamic import loads it from this CommonJS build.
    const { Aedes } = await import('aedes');
    // Opened here rather than on first use, so a folder another broker holds fails now, with its reason.
    await db?.open();
    const id = db === undefined ? undefined : await nextBrokerId(db);
    // With LevelDB a subscriber resuming a persistent session gets its queued
    // messages and those published meanwhile in order, and is not disconnected
    // (lib/bus/session-resume.ts). The in-memory persistence is not gated yet:
    // it loses nothing there, but the order can still interleave.
    const gate = createSessionResumeGate();
    aedes = await Aedes.createBroker(
      tracked === undefined
        ? {}
        : {
            id,
            persistence: gate.wrapPersistence(tracked.persistence),
            preConnect: gate.preConnect,
            authorizeForward: gate.authorizeForward,
            ...(ackAfterStore === undefined ? {} : { authorizePublish: ackAfterStore.authorizePublish }),
          },
    );
    // Before the server listens, so no client's publish can come first.
    ackAfterStore?.install(aedes);
    watchBrokerMetrics(aedes);
  } catch (err) {
    await db?.close();
    const why = (err as { cause?: { code?: string } }).cause?.code === 'LEVEL_LOCKED' ? 'another broker has it open' : (err as Error).message;
    const where = options.persistence !== undefined && options.persistence !== 'memory' ? options.persistence.dir : 'memory';
    throw new TectonicError('BROKER_START_FAILED', `embedded broker cannot open its persistence (${where}): ${why}`, { cause: err });
  }
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ noDelay: true }, (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    aedes.handle(socket);
  });

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, options.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    await new Promise<void>((resolve) => aedes.close(() => resolve()));
    await db?.close();
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'EADDRINUSE' ? 'the port is already in use (another broker, or another tectonic-bus in embedded mode?)' : (err as Error).message;
    throw new TectonicError('BROKER_START_FAILED', `embedded broker cannot listen on ${options.host}:${options.port}: ${why}`, { cause: err });
  }

  const address = server.address() as net.AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    host: options.host,
    port: address.port,
    connectedClients: () => aedes.connectedClients,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      })
        .then(() => new Promise<void>((resolve) => aedes.close(() => resolve())))
        // aedes does not close its persistence; the database holds a lock on its folder until closed.
        .then(() => tracked?.idle())
        .then(() => db?.close());
      return closing;
    },
  };
}
