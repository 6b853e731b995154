// Persistence `redis` (issue 20, item 7): aedes' own Redis persistence and
// Redis emitter, so several broker processes serve one bus. The persistence
// holds sessions, subscriptions, queued QoS 1/2 and retained messages where
// every process sees them; the emitter carries each published message to the
// other processes. Both packages are optional peers: loaded here, on first
// use, so a site that never configures Redis neither installs nor loads them.
import { createRequire } from 'node:module';
import semver from 'semver';
import { TectonicError } from '../errors';

/**
 * The versions this pack is tested with (package.json devDependencies) and the
 * ranges it accepts (its peerDependencies). aedes-persistence-redis stays on
 * 11.x: aedes 1.2.0 declares `peerOptional ^11.2.1`, and npm refuses a tree
 * with 12.0.0 beside it (ERESOLVE).
 */
export const REDIS_PACKAGES = [
  { name: 'aedes-persistence-redis', range: '^11.2.2', tested: '11.2.2' },
  { name: 'mqemitter-redis', range: '^7.2.1', tested: '7.2.1' },
] as const;

/** How long opening waits for Redis to answer before it refuses, rather than leaving a broker that hangs at its first client. */
const CONNECT_BOUND_MS = 10_000;
/** Each step of closing (the persistence's unsubscribe, the emitter's QUIT) gets this long before the connections are cut. */
const CLOSE_STEP_BOUND_MS = 2_000;

export interface RedisBackplane {
  /** For `Aedes.createBroker({ persistence })`. */
  persistence: unknown;
  /** For `Aedes.createBroker({ mq })`. */
  mq: unknown;
  /** Closes both Redis connections; safe after aedes' own close (which closes `mq`) and safe twice. */
  close(): Promise<void>;
}

/** What both packages pass to ioredis. */
export interface RedisConnectionOptions {
  host: string;
  port: number;
  db: number;
  username?: string;
  password?: string;
  tls?: { servername: string };
}

/** The URL with its password replaced, for logs and error messages. */
export function maskRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(an unparsable URL)';
  }
}

function refuse(url: string, why: string): TectonicError {
  return new TectonicError('BAD_CONFIG', `persistence redis: ${why} in ${maskRedisUrl(url)} (expected redis://[user:password@]host[:port][/db] or rediss://...)`);
}

/** `redis://[user:password@]host[:port][/db]`, `rediss://` for TLS: the usual Redis URL, refused with a reason when it is anything else. */
export function parseRedisUrl(url: string): RedisConnectionOptions {
  if (typeof url !== 'string' || url.trim() === '') throw new TectonicError('BAD_CONFIG', 'persistence redis needs a url such as redis://127.0.0.1:6379');
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw refuse(url, 'not a URL');
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') throw refuse(url, `scheme ${parsed.protocol} is not redis: or rediss:`);
  // URL keeps the brackets of an IPv6 literal; ioredis wants the bare address.
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
  if (host === '') throw refuse(url, 'no host');
  const port = parsed.port === '' ? 6379 : Number(parsed.port);
  const path = parsed.pathname.replace(/^\//, '');
  if (!/^\d{0,2}$/.test(path)) throw refuse(url, `database "${path}" is not a number`);
  if (parsed.search !== '' || parsed.hash !== '') throw refuse(url, 'query and fragment are not understood');
  const options: RedisConnectionOptions = { host, port, db: path === '' ? 0 : Number(path) };
  if (parsed.username !== '') options.username = decodeURIComponent(parsed.username);
  if (parsed.password !== '') options.password = decodeURIComponent(parsed.password);
  if (parsed.protocol === 'rediss:') options.tls = { servername: host };
  return options;
}

function installHint(): string {
  const wanted = REDIS_PACKAGES.map((p) => `${p.name}@${p.range}`).join(' and ');
  const command = REDIS_PACKAGES.map((p) => `${p.name}@${p.tested}`).join(' ');
  return `persistence redis needs ${wanted}: npm install ${command} (where this pack is installed, e.g. the Node-RED user folder)`;
}

/** An ioredis client, as far as this module drives it. */
interface RedisConnection {
  status: string;
  on(event: 'ready' | 'error', listener: (err?: unknown) => void): unknown;
  removeListener(event: 'ready' | 'error', listener: (err?: unknown) => void): unknown;
  /** Closes at once and stops reconnecting; harmless twice. */
  disconnect(): void;
}
type RedisClient = new (options: object) => RedisConnection;

interface LoadedPeer {
  factory: (opts: object) => unknown;
  /** The ioredis this package itself depends on, resolved from where it is installed. */
  Redis: RedisClient;
}

/** Loads an optional peer by import(), refusing a missing or out-of-range one with the install command. */
async function loadPeer(pkg: (typeof REDIS_PACKAGES)[number]): Promise<LoadedPeer> {
  const name: string = pkg.name;
  const ours = createRequire(__filename);
  let loaded: { default?: unknown };
  let entry: string;
  try {
    entry = ours.resolve(name);
    // A specifier in a variable: neither the type check nor a bundler reaches for a package a site may not have.
    loaded = (await import(name)) as { default?: unknown };
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
      throw new TectonicError('BROKER_START_FAILED', `${installHint()} (${(err as Error).message.split('\n')[0] ?? ''})`, { cause: err });
    }
    throw err;
  }
  const version = (ours(`${name}/package.json`) as { version?: string }).version ?? '?';
  if (!semver.satisfies(version, pkg.range)) {
    throw new TectonicError('BROKER_START_FAILED', `${installHint()}; found ${name}@${version}`);
  }
  return { factory: loaded.default as LoadedPeer['factory'], Redis: createRequire(entry)('ioredis') as RedisClient };
}

interface RedisPersistence {
  /** Without a callback it returns the promise. Fails before it disconnects when aedes never set the persistence up. */
  destroy(): Promise<void>;
}
interface RedisEmitter {
  close(cb: () => void): unknown;
}

/**
 * Resolves once every connection is ready (connected, authenticated, database
 * selected); rejects at the first error or after `boundMs`. A broker started
 * against a Redis it cannot use would accept clients and then stall every
 * session on ioredis' offline queue.
 */
function ready(connections: RedisConnection[], url: string, boundMs: number): Promise<void> {
  const cleanups: Array<() => void> = [];
  const one = (conn: RedisConnection): Promise<void> =>
    new Promise((resolve, reject) => {
      if (conn.status === 'ready') {
        resolve();
        return;
      }
      const onReady = (): void => resolve();
      const onError = (err?: unknown): void => {
        const why = err instanceof Error ? err.message : String(err);
        reject(new TectonicError('BROKER_START_FAILED', `persistence redis: cannot use ${maskRedisUrl(url)}: ${why}`, { cause: err }));
      };
      const timer = setTimeout(() => {
        reject(new TectonicError('BROKER_START_FAILED', `persistence redis: ${maskRedisUrl(url)} did not answer within ${boundMs} ms`));
      }, boundMs);
      conn.on('ready', onReady);
      conn.on('error', onError);
      cleanups.push(() => {
        clearTimeout(timer);
        conn.removeListener('ready', onReady);
        conn.removeListener('error', onError);
      });
    });
  return Promise.all(connections.map(one))
    .then(() => undefined)
    .finally(() => {
      for (const cleanup of cleanups) cleanup();
    });
}

/** `work`, or nothing after `ms`: closing must end even when Redis is gone. */
function within(ms: number, work: () => Promise<unknown>): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    work()
      .catch(() => undefined)
      .finally(() => {
        clearTimeout(timer);
        resolve();
      });
  });
}

/**
 * Opens the Redis persistence and emitter for `Aedes.createBroker({ persistence, mq })`
 * against `url`. Refuses a bad URL (BAD_CONFIG), missing packages and a Redis
 * that refuses the connection or does not answer within 10 s
 * (BROKER_START_FAILED), each with its reason and the password masked.
 */
export async function openRedisBackplane(url: string): Promise<RedisBackplane> {
  const options = parseRedisUrl(url);
  const [persistencePeer, emitterPeer] = (await Promise.all(REDIS_PACKAGES.map(loadPeer))) as [LoadedPeer, LoadedPeer];
  // The three connections are made here, not by the packages, so that closing
  // can always end them: the persistence's own would outlive a broker that
  // never set it up, and quit() waits for ever on a Redis that is gone.
  const conn = new persistencePeer.Redis({ ...options });
  // mqemitter-redis pipelines its own connections the same way.
  const pubConn = new emitterPeer.Redis({ ...options, enableAutoPipelining: true });
  const subConn = new emitterPeer.Redis({ ...options, enableAutoPipelining: true });
  const connections = [conn, pubConn, subConn];
  // An ioredis client with no 'error' listener prints every failed reconnect
  // to stderr; ioredis keeps reconnecting on its own, and aedes sees a Redis
  // outage as failing persistence calls.
  for (const connection of connections) connection.on('error', () => undefined);
  const disconnectAll = (): void => {
    for (const connection of connections) connection.disconnect();
  };
  try {
    await ready(connections, url, CONNECT_BOUND_MS);
  } catch (err) {
    disconnectAll();
    throw err;
  }
  const persistence = persistencePeer.factory({ conn }) as RedisPersistence;
  const mq = emitterPeer.factory({ pubConn, subConn }) as RedisEmitter & { state: { on(event: 'error', listener: () => void): unknown } };
  // mqemitter-redis re-emits connection errors on `state`, and an EventEmitter
  // 'error' with no listener throws: the broker would die at the first Redis restart.
  mq.state.on('error', () => undefined);
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    // aedes-persistence-redis throws when destroyed twice; aedes closes the emitter itself but never the persistence.
    closing ??= within(CLOSE_STEP_BOUND_MS, () => persistence.destroy())
      .then(() => within(CLOSE_STEP_BOUND_MS, () => new Promise<void>((resolve) => void mq.close(() => resolve()))))
      .finally(disconnectAll);
    return closing;
  };
  return { persistence, mq, close };
}
