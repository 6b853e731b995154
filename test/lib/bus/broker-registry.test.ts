// The broker registry: tectonic-bus configs on the same fixed port share one
// embedded broker, the last release closes it and frees the port, and a
// redeploy (release, then a new lease) gets a fresh broker on the same port.
import assert from 'node:assert/strict';
import { after, describe, it } from 'mocha';
import type { MqttClient } from 'mqtt';
import { type BrokerLease, leaseEmbeddedBroker } from '../../../lib/bus/broker-registry';
import { freePort, waitFor } from '../../support/node-red-process';
import { LOOPBACK, connectRaw, endRaw, inbox, occupy, portIsFree, release, tectonicError } from './mqtt-helpers';

describe('lib/bus/broker-registry', () => {
  const leases: BrokerLease[] = [];
  const clients: MqttClient[] = [];

  async function lease(port: number): Promise<BrokerLease> {
    const leased = await leaseEmbeddedBroker({ host: LOOPBACK, port });
    leases.push(leased);
    return leased;
  }

  async function client(port: number): Promise<MqttClient> {
    const connected = await connectRaw(`mqtt://${LOOPBACK}:${port}`);
    clients.push(connected);
    return connected;
  }

  after(async () => {
    await Promise.all(clients.map((c) => endRaw(c)));
    // release() is idempotent, so leases a test already gave back are harmless here.
    for (const leased of leases) await leased.release();
  });

  describe('leaseEmbeddedBroker', () => {
    it('two leases on one fixed port share one broker, which stays up until the last release', async () => {
      const port = await freePort();
      const first = await lease(port);
      const second = await lease(port);
      assert.equal(second.broker, first.broker);
      assert.equal(first.broker.port, port);

      const connected = await client(port);
      await first.release();
      assert.equal(await portIsFree(port), false, 'the broker still holds the port');
      assert.equal(connected.connected, true);
      await connected.publishAsync('t', 'still up', { qos: 1 });

      await second.release();
      assert.equal(await portIsFree(port), true, 'the last release frees the port');
      await waitFor(() => !connected.connected, { timeoutMs: 3000, message: 'the client to be dropped' });
    });

    it('release() is idempotent: a second call does not give back another lease', async () => {
      const port = await freePort();
      const first = await lease(port);
      const second = await lease(port);
      await first.release();
      await first.release();
      assert.equal(await portIsFree(port), false, 'the second lease keeps the broker');
      await second.release();
      assert.equal(await portIsFree(port), true);
    });

    it('concurrent leases on one port start one broker', async () => {
      const port = await freePort();
      const [a, b, c] = await Promise.all([lease(port), lease(port), lease(port)]);
      assert.ok(a !== undefined && b !== undefined && c !== undefined);
      assert.equal(b.broker, a.broker);
      assert.equal(c.broker, a.broker);
      await Promise.all([a.release(), b.release(), c.release()]);
      assert.equal(await portIsFree(port), true);
    });

    it('a lease after the last release starts a fresh broker on the same port (redeploy)', async () => {
      const port = await freePort();
      const old = await lease(port);
      await old.release();
      const fresh = await lease(port);
      assert.notEqual(fresh.broker, old.broker);
      assert.equal(fresh.broker.port, port);
      const subscriber = await client(port);
      const received = inbox(subscriber);
      await subscriber.subscribeAsync('redeploy', { qos: 1 });
      await subscriber.publishAsync('redeploy', 'again', { qos: 1 });
      await waitFor(() => received[0]?.payload === 'again', { timeoutMs: 3000, message: 'the fresh broker to deliver' });
      await fresh.release();
    });

    it('a lease asked for while the old broker is still closing waits for the port, then starts fresh', async () => {
      const port = await freePort();
      const old = await lease(port);
      const closing = old.release();
      const fresh = await lease(port);
      await closing;
      assert.notEqual(fresh.broker, old.broker);
      await client(port);
      await fresh.release();
      assert.equal(await portIsFree(port), true);
    });

    it('port 0 is never shared: each lease gets its own broker and port', async () => {
      const a = await lease(0);
      const b = await lease(0);
      assert.notEqual(a.broker, b.broker);
      assert.notEqual(a.broker.port, b.broker.port);
      await a.release();
      assert.equal(await portIsFree(a.broker.port), true);
      assert.equal(await portIsFree(b.broker.port), false);
      await b.release();
    });

    it('a port in use fails every waiting lease, and a later lease succeeds once the port is free', async () => {
      const port = await freePort();
      const server = await occupy(port);
      try {
        const results = await Promise.allSettled([leaseEmbeddedBroker({ host: LOOPBACK, port }), leaseEmbeddedBroker({ host: LOOPBACK, port })]);
        for (const result of results) {
          assert.equal(result.status, 'rejected');
          if (result.status === 'rejected') assert.ok(tectonicError('BROKER_START_FAILED', /port is already in use/)(result.reason));
        }
      } finally {
        await release(server);
      }
      const later = await lease(port);
      await client(port);
      await later.release();
    });
  });
});
