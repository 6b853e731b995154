// Closing the embedded broker while a subscriber's retained messages are
// still being read from its folder: aedes pipes that read into the client
// with no error handler, and the LevelDB iterator closed under it threw an
// uncaught "Iterator is not open" that would take the whole runtime down (a
// Node-RED redeploy closes the broker; seen once in CI). The close must end
// the read first, and a failed read must not escape.
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'mocha';
import { type MqttClient } from 'mqtt';
import { startEmbeddedBroker } from '../../../lib/bus/embedded-broker';
import { tempDir } from '../../support/node-red-process';
import { LOOPBACK, connectRaw } from './mqtt-helpers';

describe('lib/bus/embedded-broker: close during a retained read', () => {
  const uncaught: unknown[] = [];
  const onUncaught = (err: unknown): void => {
    uncaught.push(err);
  };
  const clients: MqttClient[] = [];
  const folders: { remove(): Promise<void> }[] = [];

  afterEach(async () => {
    process.removeListener('uncaughtException', onUncaught);
    for (const c of clients.splice(0)) c.end(true);
    await Promise.all(folders.splice(0).map((f) => f.remove()));
  });

  it('closes with no uncaught error while 2,000 retained messages are being delivered, five times over', async () => {
    process.prependListener('uncaughtException', onUncaught);
    const payload = Buffer.alloc(512, 'r');
    for (let attempt = 0; attempt < 5; attempt += 1) {
      const folder = await tempDir('tectonic-broker-');
      folders.push(folder);
      const first = await startEmbeddedBroker({ host: LOOPBACK, port: 0, persistence: { dir: folder.path } });
      const publisher = await connectRaw(`mqtt://${LOOPBACK}:${first.port}`);
      clients.push(publisher);
      for (let i = 0; i < 2000; i += 1) publisher.publish(`tectonic/retained/${i}`, payload, { qos: 0, retain: true });
      await publisher.publishAsync('tectonic/retained/last', payload, { qos: 1, retain: true });
      await publisher.endAsync();
      await first.close();

      const broker = await startEmbeddedBroker({ host: LOOPBACK, port: 0, persistence: { dir: folder.path } });
      const subscriber = await connectRaw(`mqtt://${LOOPBACK}:${broker.port}`);
      clients.push(subscriber);
      // The close comes after 1, 11, 21, 31 and 41 messages: a different point of the read each time.
      const closeAfter = 1 + attempt * 10;
      let got = 0;
      const gotSome = new Promise<void>((resolve) =>
        subscriber.on('message', () => {
          got += 1;
          if (got === closeAfter) resolve();
        }),
      );
      subscriber.subscribe('tectonic/retained/#', { qos: 0 });
      await gotSome;
      await broker.close();
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.ok(got < 2001, `the close stopped the read before all were delivered (got ${got})`);
    }
    assert.deepEqual(uncaught.map(String), []);
  });
});
