// Persistence `redis` (issue 20, item 7): several aedes broker processes
// serve one bus through lib/bus/redis-backplane.ts. Debian's redis-server
// runs on a free loopback port; brokers A and B (and later C) are processes
// of their own (test/support/run-redis-broker.ts) on that one Redis. It shows
// and prints:
//   - a QoS 1 message published on A reaches a subscriber on B, and back;
//   - a persistent session (clean: false, QoS 1) made on A, away while
//     messages are published on A and on B, resumes on B with all of them;
//   - A killed with SIGKILL: B keeps serving, the persistent subscriber that
//     was on A resumes on B with what was published meanwhile, and a new
//     broker C joins;
//   - Redis stopped under a running broker: no PUBACK until it is back, no
//     crash, then service as before;
//   - a site without the two packages loads the module and gets the install
//     command when it asks for Redis (the compiled module, copied where
//     neither package can be found).
// `npm run build` first (the last case runs dist/).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cp, mkdir, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'mocha';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { repoRoot, tempDir, waitFor } from '../support/node-red-process';
import { type RedisBrokerProcess, startRedisBrokerProcess } from '../support/redis-broker-process';
import { type RedisServer, startRedisServer } from '../support/redis-server';

const DELIVERY_BOUND_MS = 5_000;

interface Client {
  mqtt: MqttClient;
  /** Payloads received, in order. */
  received: string[];
  sessionPresent: boolean;
}

async function connect(url: string, options: IClientOptions): Promise<Client> {
  const client = await mqtt.connectAsync(url, { reconnectPeriod: 0, connectTimeout: 5_000, protocolVersion: 4, ...options });
  const received: string[] = [];
  client.on('message', (_topic, payload) => received.push(payload.toString('utf8')));
  // MQTT.js keeps the last CONNACK's session present flag [MQTT-3.2.2-2].
  const sessionPresent = (client as unknown as { connackPacket?: { sessionPresent?: boolean } }).connackPacket?.sessionPresent === true;
  return { mqtt: client, received, sessionPresent };
}

async function received(client: Client, count: number, what: string): Promise<string[]> {
  await waitFor(() => client.received.length >= count, { timeoutMs: DELIVERY_BOUND_MS, intervalMs: 20, message: `${what}: ${count} message(s), got ${client.received.length}` });
  return client.received.slice(0, count);
}

describe('Redis backplane: several aedes broker processes on one Redis', function () {
  this.timeout(90_000);
  let redis: RedisServer;
  let a: RedisBrokerProcess;
  let b: RedisBrokerProcess;
  let c: RedisBrokerProcess | undefined;
  const clients: MqttClient[] = [];
  const open = async (url: string, options: IClientOptions): Promise<Client> => {
    const client = await connect(url, options);
    clients.push(client.mqtt);
    return client;
  };

  before(async () => {
    redis = await startRedisServer();
    [a, b] = await Promise.all([startRedisBrokerProcess(redis.url, { id: 'broker-a' }), startRedisBrokerProcess(redis.url, { id: 'broker-b' })]);
    console.log(`      redis-server pid ${redis.pid} on ${redis.url}; broker A pid ${a.pid} on ${a.url}, broker B pid ${b.pid} on ${b.url}`);
  });

  after(async () => {
    await Promise.all(clients.map((client) => client.endAsync(true).catch(() => undefined)));
    await Promise.all([a?.stop(), b?.stop(), c?.stop()]);
    await redis?.stop();
  });

  it('delivers a QoS 1 message published on A to a subscriber on B, and one published on B to a subscriber on A', async () => {
    const onB = await open(b.url, { clientId: 'sub-on-b', clean: true });
    const onA = await open(a.url, { clientId: 'sub-on-a', clean: true });
    await onB.mqtt.subscribeAsync('bus/cross/a-to-b', { qos: 1 });
    await onA.mqtt.subscribeAsync('bus/cross/b-to-a', { qos: 1 });
    const pubA = await open(a.url, { clientId: 'pub-on-a', clean: true });
    const pubB = await open(b.url, { clientId: 'pub-on-b', clean: true });

    let started = Date.now();
    await pubA.mqtt.publishAsync('bus/cross/a-to-b', 'from A', { qos: 1 });
    assert.deepEqual(await received(onB, 1, 'subscriber on B'), ['from A']);
    const aToB = Date.now() - started;
    started = Date.now();
    await pubB.mqtt.publishAsync('bus/cross/b-to-a', 'from B', { qos: 1 });
    assert.deepEqual(await received(onA, 1, 'subscriber on A'), ['from B']);
    const bToA = Date.now() - started;
    console.log(`      published on A, delivered on B in ${aToB} ms; published on B, delivered on A in ${bToA} ms`);
  });

  it('moves a persistent session (clean: false, QoS 1) from A to B with the messages queued while it was away', async () => {
    const first = await open(a.url, { clientId: 'mover', clean: false });
    await first.mqtt.subscribeAsync('bus/moved/#', { qos: 1 });
    await first.mqtt.endAsync();

    const pubA = await open(a.url, { clientId: 'away-pub-a', clean: true });
    const pubB = await open(b.url, { clientId: 'away-pub-b', clean: true });
    await pubA.mqtt.publishAsync('bus/moved/1', 'queued 1 (published on A)', { qos: 1 });
    await pubB.mqtt.publishAsync('bus/moved/2', 'queued 2 (published on B)', { qos: 1 });
    await pubA.mqtt.publishAsync('bus/moved/3', 'queued 3 (published on A)', { qos: 1 });

    const second = await open(b.url, { clientId: 'mover', clean: false });
    assert.equal(second.sessionPresent, true, 'B knows the session made on A');
    // In publish order across the two brokers: each PUBACK waited until the
    // message was queued in Redis (lib/bus/ack-after-store.ts in run-redis-broker.ts).
    const queued = await received(second, 3, 'the session resumed on B');
    assert.deepEqual(queued, ['queued 1 (published on A)', 'queued 2 (published on B)', 'queued 3 (published on A)']);
    // Still subscribed on B, without subscribing again.
    await pubA.mqtt.publishAsync('bus/moved/4', 'live 4 (published on A)', { qos: 1 });
    assert.deepEqual((await received(second, 4, 'the session on B, live')).slice(3), ['live 4 (published on A)']);
    console.log(`      session "mover" made on A, resumed on B: session present ${String(second.sessionPresent)}, ${queued.length} queued message(s) delivered in order, then live ones`);
    await second.mqtt.endAsync();
  });

  it('keeps serving on B after A is killed with SIGKILL, and a new broker C on the same Redis joins the bus', async () => {
    const onB = await open(b.url, { clientId: 'survivor-sub', clean: false });
    await onB.mqtt.subscribeAsync('bus/after-kill/#', { qos: 1 });
    // A persistent subscriber whose broker dies under it.
    const onA = await open(a.url, { clientId: 'wanderer', clean: false });
    await onA.mqtt.subscribeAsync('bus/after-kill/#', { qos: 1 });
    const closed = new Promise<void>((resolve) => onA.mqtt.once('close', () => resolve()));
    const killedPid = a.pid;
    await a.stop('SIGKILL');
    await closed;
    assert.match(a.output(), /signal SIGKILL/);

    const pubB = await open(b.url, { clientId: 'survivor-pub', clean: true });
    for (let i = 1; i <= 5; i += 1) await pubB.mqtt.publishAsync(`bus/after-kill/${i}`, `after kill ${i}`, { qos: 1 });
    assert.deepEqual(await received(onB, 5, 'subscriber on B after A died'), [1, 2, 3, 4, 5].map((i) => `after kill ${i}`));

    const wanderer = await open(b.url, { clientId: 'wanderer', clean: false });
    assert.equal(wanderer.sessionPresent, true, 'B has the session of the client whose broker died');
    assert.deepEqual(await received(wanderer, 5, 'the subscriber of the dead broker, on B'), [1, 2, 3, 4, 5].map((i) => `after kill ${i}`));

    c = await startRedisBrokerProcess(redis.url, { id: 'broker-c' });
    const pubC = await open(c.url, { clientId: 'newcomer-pub', clean: true });
    await pubC.mqtt.publishAsync('bus/after-kill/from-c', 'from C', { qos: 1 });
    assert.deepEqual((await received(onB, 6, 'subscriber on B, from C')).slice(5), ['from C']);
    console.log(`      broker A (pid ${killedPid}) killed with SIGKILL: B delivered 5 of 5 published after it, A's persistent subscriber got 5 of 5 on B; new broker C (pid ${c.pid}) delivered to B`);
  });
});

describe('Redis backplane: Redis stops under a running broker', function () {
  this.timeout(60_000);
  let redis: RedisServer | undefined;
  let broker: RedisBrokerProcess | undefined;
  const clients: MqttClient[] = [];

  after(async () => {
    await Promise.all(clients.map((client) => client.endAsync(true).catch(() => undefined)));
    await broker?.stop();
    await redis?.stop();
  });

  it('withholds the PUBACK while Redis is gone, stays up, and acknowledges and delivers once Redis is back', async () => {
    redis = await startRedisServer();
    broker = await startRedisBrokerProcess(redis.url, { id: 'broker-outage' });
    const publisher = await mqtt.connectAsync(broker.url, { clientId: 'outage-pub', clean: true, protocolVersion: 4, reconnectPeriod: 500 });
    clients.push(publisher);
    const port = redis.port;
    await redis.stop();
    const stoppedAt = Date.now();
    let ackedAt = 0;
    const acked = publisher.publishAsync('bus/outage/1', 'during the outage', { qos: 1 }).then(() => {
      ackedAt = Date.now();
    });
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    assert.equal(ackedAt, 0, 'nothing acknowledged while Redis could not store it');
    assert.notEqual(broker.pid, -1, 'the broker process is still running');

    redis = await startRedisServer({ port });
    const backAt = Date.now();
    await Promise.race([acked, new Promise((_resolve, reject) => setTimeout(() => reject(new Error('no PUBACK 10 s after Redis came back')), 10_000))]);
    const subscriber = await connect(broker.url, { clientId: 'outage-sub', clean: true });
    clients.push(subscriber.mqtt);
    await subscriber.mqtt.subscribeAsync('bus/outage/#', { qos: 1 });
    await publisher.publishAsync('bus/outage/2', 'after the outage', { qos: 1 });
    assert.deepEqual(await received(subscriber, 1, 'a subscriber after the outage'), ['after the outage']);
    console.log(`      Redis stopped for ${backAt - stoppedAt} ms: no PUBACK meanwhile, broker pid ${broker.pid} up; PUBACK ${ackedAt - backAt} ms after Redis was back, then delivery as before`);
  });
});

describe('Redis backplane on a site that never installed the Redis packages', function () {
  this.timeout(30_000);

  it('loads the module without them, and refuses persistence redis with the command that installs them', async () => {
    const site = await tempDir('tectonic-no-redis-');
    try {
      // The compiled module and what it imports, where neither Redis package can be resolved.
      await mkdir(join(site.path, 'lib', 'bus'), { recursive: true });
      await mkdir(join(site.path, 'node_modules'));
      await cp(join(repoRoot, 'dist', 'lib', 'bus', 'redis-backplane.js'), join(site.path, 'lib', 'bus', 'redis-backplane.js'));
      await cp(join(repoRoot, 'dist', 'lib', 'errors.js'), join(site.path, 'lib', 'errors.js'));
      await symlink(join(repoRoot, 'node_modules', 'semver'), join(site.path, 'node_modules', 'semver'));
      const script = `
        const backplane = require('./lib/bus/redis-backplane.js');
        const loaded = Object.keys(require.cache).filter((f) => /ioredis|redis-persistence|aedes-persistence-redis|mqemitter-redis/.test(f));
        backplane.openRedisBackplane('redis://:secret@127.0.0.1:6379').then(
          () => console.log(JSON.stringify({ loaded, opened: true })),
          (err) => console.log(JSON.stringify({ loaded, code: err.code, message: err.message })),
        );`;
      const { stdout } = await promisify(execFile)(process.execPath, ['-e', script], { cwd: site.path, timeout: 15_000 });
      const outcome = JSON.parse(stdout.trim()) as { loaded: string[]; code?: string; message?: string; opened?: boolean };
      assert.deepEqual(outcome.loaded, [], 'nothing of Redis loaded with the module');
      assert.equal(outcome.opened, undefined);
      assert.equal(outcome.code, 'BROKER_START_FAILED');
      assert.match(outcome.message ?? '', /^persistence redis needs aedes-persistence-redis@\^11\.2\.2 and mqemitter-redis@\^7\.2\.1: npm install aedes-persistence-redis@11\.2\.2 mqemitter-redis@7\.2\.1/);
      console.log(`      without the packages: ${outcome.message ?? ''}`);
    } finally {
      await site.remove();
    }
  });
});
