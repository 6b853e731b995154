// The embedded aedes broker against real sockets on 127.0.0.1: it serves
// MQTT, counts clients, and frees its port on close (a redeploy must be able
// to bind it again).
import assert from 'node:assert/strict';
import { after, describe, it } from 'mocha';
import type { MqttClient } from 'mqtt';
import { type EmbeddedBroker, startEmbeddedBroker } from '../../../lib/bus/embedded-broker';
import { waitFor } from '../../support/node-red-process';
import { LOOPBACK, connectRaw, endRaw, inbox, occupy, portIsFree, release, tectonicError } from './mqtt-helpers';

describe('lib/bus/embedded-broker', () => {
  const brokers: EmbeddedBroker[] = [];
  const clients: MqttClient[] = [];

  async function broker(): Promise<EmbeddedBroker> {
    const started = await startEmbeddedBroker({ host: LOOPBACK, port: 0 });
    brokers.push(started);
    return started;
  }

  async function client(port: number, clientId?: string): Promise<MqttClient> {
    const connected = await connectRaw(`mqtt://${LOOPBACK}:${port}`, clientId === undefined ? {} : { clientId });
    clients.push(connected);
    return connected;
  }

  after(async () => {
    await Promise.all(clients.map((c) => endRaw(c)));
    await Promise.all(brokers.map((b) => b.close()));
  });

  describe('startEmbeddedBroker', () => {
    it('listens on the port it reports, and round-trips a message between two clients', async () => {
      const started = await broker();
      assert.equal(started.host, LOOPBACK);
      assert.ok(started.port > 0);
      const subscriber = await client(started.port);
      const publisher = await client(started.port);
      const received = inbox(subscriber);
      await subscriber.subscribeAsync('cdm/shipment/v1/+', { qos: 1 });
      await publisher.publishAsync('cdm/shipment/v1/site-a', 'Größe ü €', { qos: 1 });
      const message = await waitFor(() => received[0], { timeoutMs: 3000, message: 'the message to arrive' });
      assert.equal(message.topic, 'cdm/shipment/v1/site-a');
      assert.equal(message.payload, 'Größe ü €');
      assert.equal(message.packet.qos, 1);
    });

    it('counts the clients that are connected', async () => {
      const started = await broker();
      assert.equal(started.connectedClients(), 0);
      const first = await client(started.port);
      await client(started.port);
      await waitFor(() => started.connectedClients() === 2, { timeoutMs: 3000, message: 'two clients counted' });
      await first.endAsync();
      await waitFor(() => started.connectedClients() === 1, { timeoutMs: 3000, message: 'one client counted' });
    });

    it('close() frees the port and drops connected clients', async () => {
      const started = await broker();
      const connected = await client(started.port);
      let closed = false;
      connected.on('close', () => {
        closed = true;
      });
      await waitFor(() => started.connectedClients() === 1, { timeoutMs: 3000, message: 'the client counted' });
      await started.close();
      assert.equal(await portIsFree(started.port), true, 'a TCP server can bind the port after close()');
      await waitFor(() => closed, { timeoutMs: 3000, message: 'the client to be dropped' });
      assert.equal(connected.connected, false);
    });

    it('close() is idempotent', async () => {
      const started = await broker();
      const first = started.close();
      assert.equal(started.close(), first);
      await first;
      await started.close();
      assert.equal(await portIsFree(started.port), true);
    });

    it('a port held by another broker is refused with BROKER_START_FAILED, saying the port is in use', async () => {
      const holder = await broker();
      await assert.rejects(
        startEmbeddedBroker({ host: LOOPBACK, port: holder.port }),
        tectonicError('BROKER_START_FAILED', new RegExp(`^embedded broker cannot listen on 127\\.0\\.0\\.1:${holder.port}: the port is already in use`)),
      );
      // The broker that holds the port is unharmed.
      await client(holder.port);
    });

    it('a port held by a plain TCP server is refused too, and the broker starts once it is free', async () => {
      const server = await occupy(0);
      const port = (server.address() as { port: number }).port;
      try {
        await assert.rejects(startEmbeddedBroker({ host: LOOPBACK, port }), tectonicError('BROKER_START_FAILED', /port is already in use/));
      } finally {
        await release(server);
      }
      const started = await startEmbeddedBroker({ host: LOOPBACK, port });
      brokers.push(started);
      assert.equal(started.port, port);
      await client(port);
    });
  });
});
