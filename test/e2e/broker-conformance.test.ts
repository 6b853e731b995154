// Issue 20, "Must show": MQTT 3.1.1 conformance under the hardened broker.
// The two cases Paho's interoperability tests found failing against the
// embedded broker, [MQTT-3.1.3-8] and a refused subscription's 0x80, and the
// basic cases that must keep working with users, ACL and limits in force:
// QoS 0 and 1, retained messages, the last will, a persistent session
// resumed. Against the embedded broker with LevelDB persistence (so the
// session-resume gate and ack-after-store are composed with access control)
// and, for the first two, with no users at all.
import { after, before, describe, it } from 'mocha';
import assert from 'node:assert/strict';
import net from 'node:net';
import type { MqttClient } from 'mqtt';
import { hashPassword, parsePasswordHash } from '../../lib/broker/password-hash';
import { type EmbeddedBroker, startEmbeddedBroker } from '../../lib/bus/embedded-broker';
import { attempt, connected, pause, subscribeGranted } from '../support/broker-mqtt';
import { connectPacket } from '../support/broker-packets';
import { tempDir } from '../support/node-red-process';

/** The CONNACK a raw CONNECT gets: [session present, return code], or undefined if the connection closed without one. */
function rawConnack(port: number, packet: Buffer): Promise<[number, number] | undefined> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(packet));
    let data = Buffer.alloc(0);
    const timer = setTimeout(() => socket.destroy(), 5000);
    socket.on('data', (chunk: Buffer) => {
      data = Buffer.concat([data, chunk]);
      if (data.length >= 4) socket.destroy();
    });
    socket.on('error', () => undefined);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(data.length >= 4 && data[0] === 0x20 ? [data[2] as number, data[3] as number] : undefined);
    });
  });
}

describe('MQTT conformance under the hardened broker (issue 20)', function () {
  this.timeout(30_000);
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let broker: EmbeddedBroker;
  let open: EmbeddedBroker;
  let url: string;
  const clients: MqttClient[] = [];
  const keep = (c: MqttClient): MqttClient => (clients.push(c), c);
  const fra = (id = 'site-fra_c', extra = {}) => ({ username: 'site-fra', password: 'fra', clientId: id, ...extra });
  const central = (id = 'central_c', extra = {}) => ({ username: 'central', password: 'cen', clientId: id, ...extra });

  before(async () => {
    dir = await tempDir('tectonic-conf-');
    const hash = async (pw: string) => {
      const parsed = parsePasswordHash(await hashPassword(pw, { N: 1024, r: 8, p: 1 }));
      assert.ok(parsed.ok);
      return parsed.value;
    };
    broker = await startEmbeddedBroker({
      host: '127.0.0.1',
      port: 0,
      persistence: { dir: dir.path },
      access: {
        users: [
          { name: 'central', role: 'central', sites: [], passwordHash: await hash('cen') },
          { name: 'site-fra', role: 'site', sites: ['fra'], passwordHash: await hash('fra') },
        ],
        acl: [],
      },
      limits: { maxPacketBytes: 64 * 1024, connectTimeoutMs: 2000, maxTopicLevels: 8 },
    });
    url = `mqtt://127.0.0.1:${broker.port}`;
    open = await startEmbeddedBroker({ host: '127.0.0.1', port: 0 });
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.endAsync(true)));
    await broker?.close();
    await open?.close();
    await dir?.remove();
  });

  it('[MQTT-3.1.3-8] a zero-length client id asking for a persistent session gets CONNACK return code 2, with users and without', async () => {
    assert.deepEqual(await rawConnack(broker.port, connectPacket('', { username: 'site-fra', password: 'fra', clean: false })), [0, 2]);
    assert.deepEqual(await rawConnack(open.port, connectPacket('', { clean: false })), [0, 2]);
    assert.deepEqual(await rawConnack(open.port, connectPacket('', { clean: true })), [0, 0], 'a clean session may have one made up');
  });

  it('a subscription the ACL refuses is answered with 0x80 in the SUBACK, the others granted', async () => {
    const c = keep(await connected(url, fra()));
    assert.deepEqual(await subscribeGranted(c, ['cdm/+/+/fra', 'cdm/+/+/muc', 'tectonic/policy/#'], 1), [1, 128, 1]);
  });

  it('QoS 0 and QoS 1 publish and subscribe', async () => {
    const sub = keep(await connected(url, central('central_q')));
    assert.deepEqual(await subscribeGranted(sub, ['cdm/+/+/fra'], 1), [1]);
    const got: [string, number][] = [];
    sub.on('message', (_t, payload, packet) => got.push([payload.toString(), packet.qos]));
    const pub = keep(await connected(url, fra('site-fra_q')));
    await pub.publishAsync('cdm/shipment/v1/fra', 'q0', { qos: 0 });
    await pub.publishAsync('cdm/shipment/v1/fra', 'q1', { qos: 1 });
    await pause(400);
    assert.deepEqual(got, [
      ['q0', 0],
      ['q1', 1],
    ]);
  });

  it('a retained message reaches a later subscriber, and an empty one clears it', async () => {
    const pub = keep(await connected(url, fra('site-fra_r')));
    await pub.publishAsync('tectonic/health/fra/state', 'online', { qos: 1, retain: true });
    const sub = keep(await connected(url, central('central_r')));
    const got: string[] = [];
    sub.on('message', (_t, payload, packet) => packet.retain && got.push(payload.toString()));
    await subscribeGranted(sub, ['tectonic/health/+/state']);
    await pause(300);
    await pub.publishAsync('tectonic/health/fra/state', '', { qos: 1, retain: true });
    const later = keep(await connected(url, central('central_r2')));
    const none: string[] = [];
    later.on('message', (_t, payload) => none.push(payload.toString()));
    await subscribeGranted(later, ['tectonic/health/+/state']);
    await pause(300);
    assert.deepEqual([got, none], [['online'], []]);
  });

  it('the last will is published when a client vanishes, and a will on a topic the user may not publish is refused at CONNECT', async () => {
    const sub = keep(await connected(url, central('central_w')));
    await subscribeGranted(sub, ['tectonic/health/+/state']);
    const got: string[] = [];
    sub.on('message', (_t, payload) => got.push(payload.toString()));
    const site = await connected(url, fra('site-fra_w', { will: { topic: 'tectonic/health/fra/state', payload: Buffer.from('offline'), qos: 1, retain: false } }));
    (site.stream as net.Socket).destroy();
    await pause(500);
    site.end(true);
    assert.deepEqual(got, ['offline']);
    const forged = await attempt(url, fra('site-fra_w2', { will: { topic: 'tectonic/health/muc/state', payload: Buffer.from('offline'), qos: 1, retain: false } }));
    assert.equal(forged.kind === 'refused' && forged.returnCode, 5);
  });

  it('a persistent session resumes with the messages queued while it was away', async () => {
    const first = await connected(url, central('central_p-in', { clean: false }));
    await subscribeGranted(first, ['cdm/+/+/+']);
    await first.endAsync();
    const pub = keep(await connected(url, fra('site-fra_p')));
    for (let i = 0; i < 5; i++) await pub.publishAsync('cdm/shipment/v1/fra', `m${i}`, { qos: 1 });
    const got: string[] = [];
    const back = keep(await connected(url, central('central_p-in', { clean: false }), (c) => c.on('message', (_t, p) => got.push(p.toString()))));
    await pause(600);
    assert.equal(back.connected, true);
    assert.deepEqual(got, ['m0', 'm1', 'm2', 'm3', 'm4']);
  });

  it('a topic deeper than maxTopicLevels is refused (connection closed)', async () => {
    const c = keep(await connected(url, central('central_l')));
    const closed = new Promise<boolean>((resolve) => {
      c.once('close', () => resolve(true));
      setTimeout(() => resolve(false), 3000);
    });
    c.subscribe('a/b/c/d/e/f/g/h/i');
    assert.equal(await closed, true);
  });
});
