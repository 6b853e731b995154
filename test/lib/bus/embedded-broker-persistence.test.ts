// The embedded broker with its state in a folder: a persistent-session
// subscriber that is away while messages are published and the broker
// restarts gets all of them afterwards, and a retained message survives; with
// 'memory' both are gone (so these tests can fail).
import assert from 'node:assert/strict';
import { after, describe, it } from 'mocha';
import { type MqttClient } from 'mqtt';
import { type EmbeddedBroker, startEmbeddedBroker } from '../../../lib/bus/embedded-broker';
import { delay, tempDir, waitFor } from '../../support/node-red-process';
import { LOOPBACK, type Received, connectRaw, connectWithInbox, endRaw, inbox, tectonicError } from './mqtt-helpers';

describe('lib/bus/embedded-broker-persistence', () => {
  const brokers: EmbeddedBroker[] = [];
  const clients: MqttClient[] = [];
  const folders: { remove(): Promise<void> }[] = [];

  after(async () => {
    await Promise.all(clients.map((c) => endRaw(c)));
    await Promise.all(brokers.map((b) => b.close()));
    await Promise.all(folders.map((f) => f.remove()));
  });

  async function broker(port: number, persistence: { dir: string } | 'memory'): Promise<EmbeddedBroker> {
    const started = await startEmbeddedBroker({ host: LOOPBACK, port, persistence });
    brokers.push(started);
    return started;
  }

  async function client(port: number, options: { clientId?: string; clean?: boolean } = {}): Promise<MqttClient> {
    const connected = await connectRaw(`mqtt://${LOOPBACK}:${port}`, options);
    clients.push(connected);
    return connected;
  }

  /** A persistent-session client whose inbox is attached before the CONNACK (connectWithInbox). */
  async function returning(port: number, clientId: string): Promise<{ received: Received[]; sessionPresent: boolean }> {
    const { client: back, received, sessionPresent } = await connectWithInbox(`mqtt://${LOOPBACK}:${port}`, { clientId, clean: false });
    clients.push(back);
    return { received, sessionPresent };
  }

  /** What a persistent-session subscriber gets back after: away, 5 published, broker restarted, back. */
  async function awayAndBack(persistence: (dir: string) => { dir: string } | 'memory'): Promise<{ queued: string[]; retained: string[]; sessionPresent: boolean }> {
    const folder = await tempDir('tectonic-broker-');
    folders.push(folder);
    const first = await broker(0, persistence(folder.path));
    const port = first.port;
    const subscriber = await client(port, { clientId: 'central-consumer', clean: false });
    await subscriber.subscribeAsync('cdm/shipment/v1/+', { qos: 1 });
    await subscriber.endAsync();

    const publisher = await client(port);
    for (let n = 0; n < 5; n += 1) await publisher.publishAsync('cdm/shipment/v1/site-a', `record ${n}`, { qos: 1 });
    await publisher.publishAsync('tectonic/status/site-a', 'online', { qos: 1, retain: true });
    await endRaw(publisher);
    await first.close();

    const second = await broker(port, persistence(folder.path));
    const { received, sessionPresent } = await returning(second.port, 'central-consumer');
    await delay(500); // queued messages arrive right after CONNACK, or never
    const queued = received.map((r) => r.payload);

    const reader = await client(second.port);
    const retainedInbox = inbox(reader);
    await reader.subscribeAsync('tectonic/status/#', { qos: 1 });
    await delay(200);
    return { queued, retained: retainedInbox.map((r) => r.payload), sessionPresent };
  }

  describe('embedded broker persistence', () => {
    it('with a folder: the session, its queued QoS 1 messages and a retained message survive a restart', async function (this: Mocha.Context) {
      this.timeout(20_000);
      const outcome = await awayAndBack((dir) => ({ dir }));
      assert.deepEqual(outcome, {
        queued: ['record 0', 'record 1', 'record 2', 'record 3', 'record 4'],
        retained: ['online'],
        sessionPresent: true,
      });
    });

    it("with 'memory': all of it is gone after a restart", async function (this: Mocha.Context) {
      this.timeout(20_000);
      const outcome = await awayAndBack(() => 'memory');
      assert.deepEqual(outcome, { queued: [], retained: [], sessionPresent: false });
    });

    it('the subscription persists too: a message published after the restart reaches the returning subscriber', async function (this: Mocha.Context) {
      this.timeout(20_000);
      const folder = await tempDir('tectonic-broker-');
      folders.push(folder);
      const first = await broker(0, { dir: folder.path });
      const port = first.port;
      const subscriber = await client(port, { clientId: 'central-2', clean: false });
      await subscriber.subscribeAsync('cdm/#', { qos: 1 });
      await subscriber.endAsync();
      await first.close();
      const second = await broker(port, { dir: folder.path });
      const { received } = await returning(second.port, 'central-2');
      const publisher = await client(second.port);
      await publisher.publishAsync('cdm/lab-result/v1/clinic-3', 'after', { qos: 1 });
      const message = await waitFor(() => received[0], { timeoutMs: 3000, message: 'the message on the resumed subscription' });
      assert.equal(message.payload, 'after');
    });

    it('messages queued across several broker restarts come back in publish order', async function (this: Mocha.Context) {
      // aedes-persistence-level orders a client's queue by broker id first: with
      // random ids, five instances replay in the right order 1 time in 120.
      this.timeout(30_000);
      const folder = await tempDir('tectonic-broker-');
      folders.push(folder);
      let current = await broker(0, { dir: folder.path });
      const port = current.port;
      const subscriber = await client(port, { clientId: 'central-gen', clean: false });
      await subscriber.subscribeAsync('cdm/#', { qos: 1 });
      await subscriber.endAsync();
      const sent: string[] = [];
      for (let instance = 0; instance < 5; instance += 1) {
        if (instance > 0) current = await broker(port, { dir: folder.path });
        const publisher = await client(port);
        for (let n = 0; n < 3; n += 1) {
          const payload = `instance ${instance} record ${n}`;
          await publisher.publishAsync('cdm/shipment/v1/site-a', payload, { qos: 1 });
          sent.push(payload);
        }
        await endRaw(publisher);
        await current.close();
      }
      current = await broker(port, { dir: folder.path });
      const { received } = await returning(current.port, 'central-gen');
      await waitFor(() => received.length >= sent.length, { timeoutMs: 5000, message: 'every queued message' });
      assert.deepEqual(received.map((r) => r.payload), sent);
    });

    it('a folder another broker holds open is refused with BROKER_START_FAILED', async () => {
      const folder = await tempDir('tectonic-broker-');
      folders.push(folder);
      await broker(0, { dir: folder.path });
      await assert.rejects(startEmbeddedBroker({ host: LOOPBACK, port: 0, persistence: { dir: folder.path } }), tectonicError('BROKER_START_FAILED', /cannot open its persistence .*: another broker has it open/));
    });
  });
});
