// `tectonic broker --config FILE` with `persistence: { kind: redis, url }`:
// two standalone broker processes, as a central team runs them, on one
// Debian redis-server; a message published on one reaches a subscriber on
// the other, and a persistent session made on one resumes on the other with
// what was published while it was away.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'mocha';
import mqtt, { type MqttClient } from 'mqtt';
import { type BrokerCli, startBrokerCli } from '../support/broker-cli';
import { freePort, tempDir, waitFor } from '../support/node-red-process';
import { type RedisServer, startRedisServer } from '../support/redis-server';

describe('tectonic broker on Redis: two processes, one bus', function () {
  this.timeout(90_000);
  let redis: RedisServer;
  let dir: { path: string; remove(): Promise<void> };
  const brokers: BrokerCli[] = [];
  const clients: MqttClient[] = [];

  before(async () => {
    redis = await startRedisServer();
    dir = await tempDir('tectonic-redis-cli-');
    for (const name of ['a', 'b']) {
      const file = join(dir.path, `${name}.yaml`);
      await writeFile(file, `listeners:\n  - { host: 127.0.0.1, port: ${await freePort()} }\npersistence: { kind: redis, url: "${redis.url}" }\n`);
      brokers.push(await startBrokerCli(file, 1));
    }
  });
  after(async () => {
    for (const client of clients) await client.endAsync(true).catch(() => undefined);
    for (const broker of brokers) await broker.stop();
    await redis?.stop();
    await dir?.remove();
  });

  const urlOf = (broker: BrokerCli | undefined): string => (broker?.urls[0] ?? '').replace(/^tcp:/, 'mqtt:');

  it('a message published on one broker process reaches a subscriber on the other', async () => {
    const [a, b] = brokers;
    const subscriber = await mqtt.connectAsync(urlOf(b), { clientId: 'cli-sub', clean: true, reconnectPeriod: 0 });
    clients.push(subscriber);
    const got: string[] = [];
    subscriber.on('message', (_t, payload) => got.push(payload.toString()));
    await subscriber.subscribeAsync('cdm/shipment/v1/fra', { qos: 1 });
    const publisher = await mqtt.connectAsync(urlOf(a), { clientId: 'cli-pub', clean: true, reconnectPeriod: 0 });
    clients.push(publisher);
    const sentAt = Date.now();
    await publisher.publishAsync('cdm/shipment/v1/fra', 'across', { qos: 1 });
    await waitFor(() => got.includes('across'), { timeoutMs: 5_000, message: 'the message on the other broker' });
    console.log(`      published on ${urlOf(a)}, delivered on ${urlOf(b)} in ${Date.now() - sentAt} ms`);
  });

  it('a persistent session made on one resumes on the other with what was published meanwhile', async () => {
    const [a, b] = brokers;
    const first = await mqtt.connectAsync(urlOf(a), { clientId: 'cli-mover', clean: false, reconnectPeriod: 0 });
    await first.subscribeAsync('tectonic/alerts/fra', { qos: 1 });
    await first.endAsync();
    const publisher = await mqtt.connectAsync(urlOf(a), { clientId: 'cli-pub-2', clean: true, reconnectPeriod: 0 });
    clients.push(publisher);
    for (const n of [1, 2, 3]) await publisher.publishAsync('tectonic/alerts/fra', `queued-${n}`, { qos: 1 });
    const got: string[] = [];
    const moved = mqtt.connect(urlOf(b), { clientId: 'cli-mover', clean: false, reconnectPeriod: 0 });
    clients.push(moved);
    moved.on('message', (_t, payload) => got.push(payload.toString()));
    await waitFor(() => got.length >= 3, { timeoutMs: 5_000, message: `3 queued messages on the other broker, got ${got.length}` });
    assert.deepEqual(got, ['queued-1', 'queued-2', 'queued-3']);
  });
});
