// What lib/bus/deferred-acks.ts and BusClient's _sendPacket wrapper assume of
// MQTT.js (written against 5.16.0), one test per assumption, against the real
// client and real brokers (the embedded aedes for MQTT 3.1.1, mosquitto for
// MQTT 5, which aedes does not speak): after an MQTT.js upgrade a
// failure here names the assumption that no longer holds, before withheld
// PUBACKs silently go out early (records lost on a crash) or never.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'mocha';
import mqtt, { type IPublishPacket, type MqttClient } from 'mqtt';
import { type EmbeddedBroker, startEmbeddedBroker } from '../../../lib/bus/embedded-broker';
import { type Mosquitto, startMosquitto } from '../../support/mosquitto';
import { delay, waitFor } from '../../support/node-red-process';
import { LOOPBACK, connectRaw, endRaw } from './mqtt-helpers';

type SendPacket = (packet: { cmd: string; messageId?: number }, cb?: (err?: Error) => void, cbStorePut?: unknown, noStore?: boolean) => void;

describe('lib/bus/mqtt-contract: the MQTT.js internals the withheld PUBACKs rely on', () => {
  let broker: EmbeddedBroker;
  let mosquitto: Mosquitto;
  const clients: MqttClient[] = [];
  let serial = 0;

  before(async () => {
    broker = await startEmbeddedBroker({ host: LOOPBACK, port: 0 });
    mosquitto = await startMosquitto();
  });
  after(async () => {
    for (const client of clients) await endRaw(client);
    await broker.close();
    await mosquitto.stop();
  });

  let version: 4 | 5 = 4;
  function url(): string {
    return version === 5 ? mosquitto.url : `mqtt://${LOOPBACK}:${broker.port}`;
  }

  async function subscriber(protocolVersion: 4 | 5, extra: mqtt.IClientOptions = {}): Promise<MqttClient> {
    serial += 1;
    version = protocolVersion;
    const client = await connectRaw(url(), { clientId: `mqtt-contract-${process.pid}-${serial}`, protocolVersion, ...extra });
    clients.push(client);
    return client;
  }

  async function publisher(): Promise<MqttClient> {
    const client = await connectRaw(url());
    clients.push(client);
    return client;
  }

  /** Every packet `client` hands to _sendPacket, by cmd and messageId. */
  function spySendPacket(client: MqttClient, intercept?: (packet: { cmd: string; messageId?: number }, cb: (() => void) | undefined) => boolean): Array<{ cmd: string; messageId?: number }> {
    const seen: Array<{ cmd: string; messageId?: number }> = [];
    const internals = client as unknown as { _sendPacket: SendPacket };
    const original = internals._sendPacket.bind(client);
    internals._sendPacket = (packet, cb, cbStorePut, noStore) => {
      seen.push({ cmd: packet.cmd, messageId: packet.messageId });
      if (intercept?.(packet, cb)) return;
      original(packet, cb, cbStorePut, noStore);
    };
    return seen;
  }

  for (const protocolVersion of [4, 5] as const) {
    it(`handlePublish sends the QoS 1 PUBACK through client._sendPacket after the handleMessage callback (MQTT ${protocolVersion})`, async () => {
      const client = await subscriber(protocolVersion);
      const seen = spySendPacket(client);
      const callbacks: Array<{ packet: IPublishPacket; callback: () => void }> = [];
      client.handleMessage = (packet, callback) => callbacks.push({ packet, callback: () => callback() });
      await client.subscribeAsync(`contract/${serial}/a`, { qos: 1 });
      await (await publisher()).publishAsync(`contract/${serial}/a`, 'one', { qos: 1 });
      const held = await waitFor(() => callbacks[0], { timeoutMs: 5000, message: 'handleMessage' });
      await delay(50);
      assert.deepEqual(seen.filter((p) => p.cmd === 'puback'), [], 'no PUBACK before the callback');
      held.callback();
      assert.deepEqual(seen.filter((p) => p.cmd === 'puback'), [{ cmd: 'puback', messageId: held.packet.messageId }], 'the PUBACK, synchronously from the callback, with the packet id');
    });

    it(`MQTT.js reads the next PUBLISH once _sendPacket calls back for the PUBACK, whether or not it wrote it (MQTT ${protocolVersion})`, async () => {
      const client = await subscriber(protocolVersion);
      const withheld: number[] = [];
      spySendPacket(client, (packet, cb) => {
        if (packet.cmd !== 'puback') return false;
        withheld.push(packet.messageId ?? -1);
        cb?.();
        return true;
      });
      const handled: string[] = [];
      client.handleMessage = (packet, callback) => {
        handled.push(String(packet.payload));
        callback();
      };
      const topic = `contract/${serial}/b`;
      await client.subscribeAsync(topic, { qos: 1 });
      const pub = await publisher();
      for (let i = 0; i < 20; i++) await pub.publishAsync(topic, String(i), { qos: 1 });
      await waitFor(() => handled.length === 20, { timeoutMs: 5000, message: '20 messages read with every PUBACK withheld' });
      assert.equal(withheld.length, 20);
      assert.equal(new Set(withheld).size, 20, 'every withheld PUBACK had its own packet id');
    });

    it(`MqttClient._sendPacket writes a PUBACK handed to it later, while connected, to the broker (MQTT ${protocolVersion})`, async () => {
      const client = await subscriber(protocolVersion, { clean: false, clientId: `mqtt-contract-late-${process.pid}-${protocolVersion}`, ...(protocolVersion === 5 ? { properties: { sessionExpiryInterval: 60 } } : {}) });
      const internals = client as unknown as { _sendPacket: SendPacket };
      const original = internals._sendPacket.bind(client);
      const kept: Array<{ cmd: string; messageId?: number }> = [];
      spySendPacket(client, (packet, cb) => {
        if (packet.cmd !== 'puback') return false;
        kept.push(packet);
        cb?.();
        return true;
      });
      const written: number[] = [];
      client.on('packetsend', (packet) => {
        if (packet.cmd === 'puback') written.push(packet.messageId ?? -1);
      });
      const topic = `contract/${serial}/c`;
      await client.subscribeAsync(topic, { qos: 1 });
      await (await publisher()).publishAsync(topic, 'late', { qos: 1 });
      const puback = await waitFor(() => kept[0], { timeoutMs: 5000, message: 'the PUBACK' });
      assert.deepEqual(written, []);
      original(puback);
      assert.deepEqual(written, [puback.messageId]);
    });
  }

  it('customHandleAcks is ignored under MQTT 3.1.1 (so it cannot replace the wrapper for protocol version 4)', async () => {
    let asked = 0;
    const client = await subscriber(4, {
      customHandleAcks: (_topic, _message, _packet, done) => {
        asked += 1;
        done(0);
      },
    });
    const received: string[] = [];
    client.on('message', (_topic, payload) => received.push(String(payload)));
    const topic = `contract/${serial}/d`;
    await client.subscribeAsync(topic, { qos: 1 });
    await (await publisher()).publishAsync(topic, 'v4', { qos: 1 });
    await waitFor(() => received.length === 1, { timeoutMs: 5000, message: 'the message' });
    assert.equal(asked, 0);
  });
});
