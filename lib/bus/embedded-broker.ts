import { randomUUID } from 'node:crypto';
import type net from 'node:net';
import { createRequire } from 'node:module';
import type { Aedes } from 'aedes' with { 'resolution-mode': 'import' };
import { ClassicLevel } from 'classic-level';
import { TectonicError } from '../errors';
import { createAckAfterStore } from './ack-after-store';
import { watchBrokerMetrics } from './broker-metrics';
import { settleInCallOrder } from './ordered-persistence';
import { guardRetainedReads } from './retained-reads';
import { withSyncedWrites } from './synced-level';
import { createSessionResumeGate } from './session-resume';
import { AccessControl } from '../broker/access-control';
import { readAccessFile, watchAccessFile } from '../broker/access-file';
import { type AccessConfig, type ListenerConfig, isLoopback } from '../broker/broker-config';
import { type BrokerLimits, ConnectionRate, DEFAULT_LIMITS } from '../broker/limits';
import { type OpenListener, openListener } from '../broker/listeners';
import { type RedisBackplane, openRedisBackplane } from '../broker/redis-loader';
import { describeReasons } from '../reasons';

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
  persistence?: { dir: string; sync?: boolean } | 'memory' | { redis: string };
  /**
   * When a QoS 1 PUBLISH is acknowledged, with a folder. 'after-store' (the
   * default): once the message is written, and queued for every persistent
   * subscriber (lib/bus/ack-after-store.ts), so a broker killed after the
   * PUBACK still has it. 'on-receipt': aedes' own order, PUBACK first; kept
   * for the crash test and the benchmark that compare the two. Without a
   * folder aedes' order always applies: nothing survives a restart anyway.
   */
  qos1Ack?: 'after-store' | 'on-receipt';
  /**
   * Where the broker listens (plain, TLS, WebSocket); default one plain
   * listener on host:port. `host` and `port` of the result are the first one's.
   */
  listeners?: ListenerConfig[];
  /** Users and ACL (docs/security.md). None: no users, so every listener must be on loopback. */
  access?: AccessConfig;
  /** A broker config file whose users and ACL are read at start and again whenever it changes (instead of `access`). */
  accessFile?: string;
  limits?: Partial<BrokerLimits>;
  /** One line per refused connection or operation, and per reload; never a password. */
  log?: (line: string) => void;
  /** How errors name the broker; default 'embedded broker'. */
  label?: string;
}

export interface EmbeddedBroker {
  readonly host: string;
  readonly port: number;
  /** Every listener, with the port it got. */
  readonly listeners: readonly Pick<OpenListener, 'kind' | 'host' | 'port'>[];
  /** False while no user is configured: anyone on loopback may connect and do anything. */
  secured(): boolean;
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

function loadAccess(options: EmbeddedBrokerOptions): AccessConfig {
  if (options.accessFile === undefined) return options.access ?? { users: [], acl: [] };
  const read = readAccessFile(options.accessFile);
  if (!read.ok) throw new TectonicError('BROKER_START_FAILED', `broker security file ${options.accessFile}: ${describeReasons(read.reasons)}`);
  return read.value;
}

/** A broker with no users admits anyone, so it may listen on loopback only (issue 20). */
function openListenersOutsideLoopback(listeners: readonly ListenerConfig[], access: AccessConfig): string | undefined {
  if (access.users.length > 0) return undefined;
  const outside = listeners.find((l) => !isLoopback(l.host));
  return outside === undefined ? undefined : `${outside.host}:${outside.port} is not a loopback address and no user is configured; add users (docs/security.md) or listen on 127.0.0.1`;
}

/**
 * aedes (MQTT 3.1.1) behind the pack's listeners, limits and access control;
 * the same for tectonic-bus' embedded broker and `tectonic broker --config`.
 * The hooks compose: access control decides first, then the session-resume
 * gate (preConnect, authorizeForward) and ack-after-store (authorizePublish).
 */
export async function startEmbeddedBroker(options: EmbeddedBrokerOptions): Promise<EmbeddedBroker> {
  const log = options.log ?? (() => undefined);
  const limits: BrokerLimits = { ...DEFAULT_LIMITS, ...options.limits };
  const listenerConfigs = options.listeners ?? [{ host: options.host, port: options.port }];
  const access = loadAccess(options);
  const outside = openListenersOutsideLoopback(listenerConfigs, access);
  if (outside !== undefined) throw new TectonicError('BROKER_START_FAILED', `${options.label ?? 'embedded broker'} refuses to start: ${outside}`);
  const peers = new WeakMap<object, { certificateNames: readonly string[] }>();
  const control = new AccessControl(access, {
    maxRetainedBytesPerUser: limits.maxRetainedBytesPerUser,
    peer: (conn) => (typeof conn === 'object' && conn !== null ? peers.get(conn) : undefined),
    log: (what, f) => log(`refused ${what}: user=${f.user} client=${f.clientId} why=${f.why}`),
  });

  const persistence = options.persistence;
  const folder = persistence === undefined || persistence === 'memory' || 'redis' in persistence ? undefined : persistence;
  const db = folder === undefined ? undefined : new ClassicLevel(folder.dir);
  const levelPersistence = db === undefined ? undefined : (aedesPersistenceLevel(folder?.sync === true ? withSyncedWrites(db) : db) as object);
  const tracked =
    levelPersistence === undefined
      ? undefined
      : settleInCallOrder(levelPersistence, {
          // aedes' `counter` (the last number it gave a message) is public but missing from its type declarations.
          renumber: (packet) => {
            const numbered = aedes as unknown as { counter?: unknown };
            // A NaN number would make aedes take every message for a duplicate: leave it as aedes gave it.
            if (typeof numbered.counter !== 'number') return;
            numbered.counter += 1;
            packet.brokerCounter = numbered.counter;
          },
        });
  const retainedReadFailed = (err: Error): void => log(`retained messages for a new subscription could not be read: ${err.message}`);
  let retainedReads = levelPersistence === undefined ? undefined : guardRetainedReads(levelPersistence, retainedReadFailed);
  const onRedis = persistence !== undefined && persistence !== 'memory' && 'redis' in persistence;
  // Redis too: a PUBACK before the store lets a session moved to another broker process see messages out of order (docs/redis.md).
  const ackAfterStore = (tracked !== undefined || onRedis) && (options.qos1Ack ?? 'after-store') === 'after-store' ? createAckAfterStore() : undefined;
  let redis: RedisBackplane | undefined;
  let aedes: Aedes;
  try {
    // aedes 1.x is an ES module; a dynamic import loads it from this CommonJS build.
    const { Aedes } = await import('aedes');
    // Opened here rather than on first use, so a folder another broker holds fails now, with its reason.
    await db?.open();
    const id = db === undefined ? undefined : await nextBrokerId(db);
    if (persistence !== undefined && persistence !== 'memory' && 'redis' in persistence) {
      redis = await openRedisBackplane(persistence.redis);
      retainedReads = guardRetainedReads(redis.persistence as object, retainedReadFailed);
    }
    // With LevelDB a subscriber resuming a persistent session gets its queued
    // messages and those published meanwhile in order, and is not disconnected
    // (lib/bus/session-resume.ts). The in-memory persistence is not gated yet:
    // it loses nothing there, but the order can still interleave.
    const gate = tracked === undefined ? undefined : createSessionResumeGate();
    const ackPublish = ackAfterStore?.authorizePublish;
    aedes = await Aedes.createBroker({
      ...(id === undefined ? {} : { id }),
      ...(gate === undefined || tracked === undefined ? {} : { persistence: gate.wrapPersistence(tracked.persistence) }),
      ...(redis === undefined ? {} : { persistence: redis.persistence, mq: redis.mq }),
      connectTimeout: limits.connectTimeoutMs,
      drainTimeout: limits.drainTimeoutMs,
      maxTopicLevels: limits.maxTopicLevels,
      preConnect: (client, packet, callback) =>
        control.preConnect(client, packet, (err, ok) => (err || !ok || gate === undefined ? callback(err, ok) : gate.preConnect(client, packet, callback))),
      authenticate: control.authenticate,
      authorizePublish: (client, packet, callback) =>
        control.authorizePublish(client, packet, (err) => (err || ackPublish === undefined ? callback(err ?? null) : ackPublish(client, packet, callback))),
      authorizeSubscribe: control.authorizeSubscribe,
      authorizeForward: (client, packet) => {
        const allowed = control.authorizeForward(client, packet);
        return allowed === null || gate === undefined ? allowed : gate.authorizeForward(client, allowed);
      },
    } as Parameters<typeof Aedes.createBroker>[0]);
    // Before the server listens, so no client's publish can come first.
    ackAfterStore?.install(aedes);
    watchBrokerMetrics(aedes);
  } catch (err) {
    await db?.close();
    await redis?.close();
    if (err instanceof TectonicError) throw err;
    const why = (err as { cause?: { code?: string } }).cause?.code === 'LEVEL_LOCKED' ? 'another broker has it open' : (err as Error).message;
    const where = folder !== undefined ? folder.dir : redis !== undefined ? 'redis' : 'memory';
    throw new TectonicError('BROKER_START_FAILED', `embedded broker cannot open its persistence (${where}): ${why}`, { cause: err });
  }

  const sockets = new Set<net.Socket>();
  const rate = new ConnectionRate(limits.connectionsPerSecond);
  const context = {
    handle: (stream: Parameters<typeof aedes.handle>[0]) => aedes.handle(stream),
    admit(socket: net.Socket): string | undefined {
      if (sockets.size >= limits.maxConnections) return `${limits.maxConnections} connections open (limits.maxConnections)`;
      if (!rate.admit()) return `more than ${limits.connectionsPerSecond} new connections a second (limits.connectionsPerSecond)`;
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
      return undefined;
    },
    maxPacketBytes: limits.maxPacketBytes,
    maxConnectBytes: limits.maxConnectBytes,
    peers,
    log,
    label: options.label ?? 'embedded broker',
  };
  const open: OpenListener[] = [];
  try {
    for (const config of listenerConfigs) open.push(await openListener(config, context));
  } catch (err) {
    await Promise.all(open.map((l) => l.close()));
    await new Promise<void>((resolve) => aedes.close(() => resolve()));
    await retainedReads?.endAll();
    await db?.close();
    await redis?.close();
    throw err;
  }

  const endSessionsOf = (names: readonly string[]): void => {
    if (names.length === 0) return;
    // aedes' `clients` (connected clients by id) is public but missing from its type declarations.
    for (const client of Object.values((aedes as unknown as { clients: Record<string, { id: string; close(): void }> }).clients)) {
      const user = control.userOf(client);
      if (user !== undefined && names.includes(user)) {
        log(`ended session: user=${user || 'anonymous'} client=${client.id} why=the user was removed from the security file`);
        client.close();
      }
    }
  };
  const stopWatching =
    options.accessFile === undefined
      ? undefined
      : watchAccessFile(options.accessFile, (read) => {
          if (!read.ok) return log(`security file ${options.accessFile} not reloaded, the previous users and ACL stay: ${describeReasons(read.reasons)}`);
          const refused = openListenersOutsideLoopback(listenerConfigs, read.value);
          if (refused !== undefined) return log(`security file ${options.accessFile} not reloaded, the previous users and ACL stay: ${refused}`);
          const wasOpen = control.open;
          const removed = control.reload(read.value);
          log(`security file ${options.accessFile} reloaded: ${read.value.users.length} users, ${read.value.acl.length} ACL rules`);
          endSessionsOf(wasOpen && !control.open ? [...removed, ''] : removed);
        });

  const first = open[0] as OpenListener;
  let closing: Promise<void> | undefined;
  return {
    host: first.host,
    port: first.port,
    listeners: open.map(({ kind, host, port }) => ({ kind, host, port })),
    secured: () => !control.open,
    connectedClients: () => aedes.connectedClients,
    close() {
      closing ??= Promise.all(open.map((l) => l.close()))
        .then(() => stopWatching?.())
        .then(() => new Promise<void>((resolve) => aedes.close(() => resolve())))
        // aedes does not close its persistence; the database holds a lock on its folder until closed.
        .then(() => retainedReads?.endAll())
        .then(() => tracked?.idle())
        .then(() => db?.close())
        .then(() => redis?.close());
      return closing;
    },
  };
}
