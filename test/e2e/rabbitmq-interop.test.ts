// Interoperability with a clustered broker users already run (issue 20, item
// 7): Debian's rabbitmq-server with its MQTT plugin (MQTT 3.1.1), started by
// test/support/rabbitmq.ts on free loopback ports, one instance for the file.
// A user per site, as the pack's roles would have it:
//   - site-fra: declares only its own subscription queues (its client ids
//     begin with its name), publishes only cdm/+/+/fra, reads only its own
//     records (RabbitMQ topic permissions, routing keys with '.' on amq.topic);
//   - site-muc: the same for muc;
//   - central: reads and publishes everything.
// The pack's real nodes run in Node-RED (node-red-node-test-helper): a
// bus-publish on an external tectonic-bus with site-fra's credentials, a
// bus-subscribe on one with central's. It prints how long RabbitMQ took to
// start, and one row per case:
//   - site-fra's records reach central's bus-subscribe;
//   - site-fra publishing on muc's topic, through the pack and raw, is
//     refused (RabbitMQ closes the connection) and nothing is delivered,
//     while site-muc's own user publishes there;
//   - site-fra subscribing to muc's records, and taking central's client id, are refused;
//   - central's persistent session (clean: false, QoS 1) keeps what site-fra
//     published while central's flow was gone, and delivers it when it is back.
// `npm run build` first (the nodes load from dist/).
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'mocha';
import mqtt, { type MqttClient } from 'mqtt';
import { waitFor } from '../support/node-red-process';
import { type RabbitMq, startRabbitMq } from '../support/rabbitmq';
import { Inbox, type Msg, helper, load, node, startServer, stopServer } from '../support/red-helper';

const PASSWORDS = { 'site-fra': 'fra pass 1', 'site-muc': 'muc pass 2', central: 'central pass 3' } as const;
type User = keyof typeof PASSWORDS;
/** How long a refused publish is watched for, in case it arrives after all. */
const QUIET_MS = 2_000;

/** Queue rights: only the MQTT plugin's own subscription queues of client ids that begin with the user's name. */
function queueRights(user: User): { configure: string; write: string; read: string } {
  const own = `mqtt-subscription-${user.replace(/[.-]/g, '\\$&')}`;
  return { configure: `^${own}`, write: `^(amq\\.topic|${own}.*)$`, read: `^(amq\\.topic|${own}.*)$` };
}

/** A site's topic rights: publish its own records, read only its own ('*' in a binding key is MQTT's '+'). */
function siteTopics(site: string): { write: string; read: string } {
  return { write: `^cdm\\.[^.]+\\.[^.]+\\.${site}$`, read: `^cdm\\.([^.*#]+|\\*)\\.([^.*#]+|\\*)\\.${site}$` };
}

let serial = 0;
function record(site: string): Msg {
  serial += 1;
  const id = `01JRABBIT${String(serial).padStart(6, '0')}`;
  return {
    payload: { shipmentId: `SHP-${serial}`, occurredAt: '2026-12-07T07:00:00.000Z', status: 'delivered', weightKg: 12.5, siteId: site },
    cdm: { entity: 'shipment', version: '1.2.0', site, id, time: '2026-12-07T07:00:01.250Z', source: `urn:tectonic:${site}:erp` },
  };
}

function busNode(id: string, url: string, clientId: string): Msg {
  return { id, type: 'tectonic-bus', z: '', mode: 'external', url, protocolVersion: '4', clientId, session: 'persistent', keepalive: '30' };
}

/**
 * `pub` is the node id, which names the bus-publish outbox folder: the
 * forging case uses its own, since RabbitMQ refuses a record by closing the
 * connection (MQTT 3.1.1 has no negative PUBACK), and a refused record stays
 * at the head of its outbox, in front of every later one.
 */
function publisherFlow(url: string, pub = 'pub'): Msg[] {
  return [
    { id: 'tab', type: 'tab', label: 'site fra' },
    busNode('bus-fra', url, 'site-fra-pub'),
    { id: pub, type: 'bus-publish', z: 'tab', bus: 'bus-fra', qos: '1', wireMode: 'structured', mode: 'canonical', site: '', siteType: 'str', wires: [['published'], ['refused']] },
    { id: 'published', type: 'helper', z: 'tab', wires: [] },
    { id: 'refused', type: 'helper', z: 'tab', wires: [] },
  ];
}

function subscriberFlow(url: string): Msg[] {
  return [
    { id: 'tab-c', type: 'tab', label: 'central' },
    busNode('bus-central', url, 'central-sub'),
    { id: 'sub', type: 'bus-subscribe', z: 'tab-c', bus: 'bus-central', entity: 'shipment', versions: '1', site: '', siteType: 'str', group: '', qos: '1', maxBytes: '', kind: 'canonical', wires: [['received']] },
    { id: 'received', type: 'helper', z: 'tab-c', wires: [] },
  ];
}

const credentials = {
  'bus-fra': { user: 'site-fra', password: PASSWORDS['site-fra'] },
  'bus-central': { user: 'central', password: PASSWORDS.central },
};

function raw(rabbit: RabbitMq, user: User, clientId: string): Promise<MqttClient> {
  return mqtt.connectAsync(rabbit.mqttUrl, { username: user, password: PASSWORDS[user], clientId, protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5_000, clean: true });
}

function closed(client: MqttClient): Promise<void> {
  return new Promise((resolve) => (client.connected ? client.once('close', () => resolve()) : resolve()));
}

const rows: string[] = [];
function row(text: string): void {
  rows.push(text);
  console.log(`      ${text}`);
}

describe('RabbitMQ MQTT plugin: the pack against a broker with a user per site', function () {
  this.timeout(180_000);
  let rabbit: RabbitMq;
  let watcher: MqttClient;
  /** Everything on cdm/#, seen by a raw central client: what was delivered at all. */
  const seen: Array<{ topic: string; payload: string }> = [];

  before(async () => {
    rabbit = await startRabbitMq();
    console.log(`      rabbitmq-server (pid ${rabbit.pid}) started with its MQTT listener in ${rabbit.startupMs} ms on ${rabbit.mqttUrl}`);
    await rabbit.addUser('site-fra', PASSWORDS['site-fra'], queueRights('site-fra'), siteTopics('fra'));
    await rabbit.addUser('site-muc', PASSWORDS['site-muc'], queueRights('site-muc'), siteTopics('muc'));
    await rabbit.addUser('central', PASSWORDS.central, queueRights('central'), { write: '.*', read: '.*' });
    watcher = await raw(rabbit, 'central', 'central-watcher');
    watcher.on('message', (topic, payload) => seen.push({ topic, payload: payload.toString('utf8') }));
    await watcher.subscribeAsync('cdm/#', { qos: 1 });
    await startServer();
  });

  afterEach(() => helper.unload());

  after(async () => {
    await watcher?.endAsync(true);
    await stopServer();
    await rabbit?.stop();
    if (rows.length > 0) console.log(`      ${rows.length} case(s):\n        ${rows.join('\n        ')}`);
  });

  it("delivers site-fra's records, published by bus-publish with site-fra's user, to central's bus-subscribe", async () => {
    await load([...publisherFlow(rabbit.mqttUrl), ...subscriberFlow(rabbit.mqttUrl)], credentials);
    const received = new Inbox(node('received'));
    const published = new Inbox(node('published'));
    // Probes until one arrives: the subscription is then bound at the broker.
    await waitFor(async () => {
      node('pub').receive(record('fra'));
      await new Promise((resolve) => setTimeout(resolve, 200));
      return received.messages.length > 0;
    }, { timeoutMs: 30_000, message: 'central to receive a probe from site-fra' });
    received.messages.length = 0;
    published.messages.length = 0;
    const sent = [1, 2, 3, 4, 5].map(() => record('fra'));
    for (const msg of sent) node('pub').receive(structuredClone(msg));
    const got = await received.count(5, 10_000);
    assert.deepEqual(got.map((m) => (m.cdm as Msg).id), sent.map((m) => (m.cdm as Msg).id));
    assert.deepEqual(got[0]?.payload, sent[0]?.payload);
    assert.equal(got[0]?.topic, 'cdm/shipment/v1/fra');
    await published.count(5, 10_000);
    row('pass  site-fra -> cdm/shipment/v1/fra through bus-publish: 5 of 5 delivered to central bus-subscribe');
  });

  it("refuses site-fra publishing on muc's topic, through bus-publish and raw, and delivers nothing", async () => {
    await load(publisherFlow(rabbit.mqttUrl, 'pub-forger'), credentials);
    const published = new Inbox(node('published'));
    const before = seen.length;
    node('pub-forger').receive(record('muc'));
    const client = await raw(rabbit, 'site-fra', 'site-fra-raw');
    const gone = closed(client);
    client.publish('cdm/shipment/v1/muc', JSON.stringify({ forged: true }), { qos: 1 });
    await gone;
    await new Promise((resolve) => setTimeout(resolve, QUIET_MS));
    assert.deepEqual(seen.slice(before).filter((m) => m.topic.endsWith('/muc')), [], 'nothing on muc topics reached central');
    assert.equal(published.messages.length, 0, 'bus-publish never confirmed the forged record');
    client.end(true);
    row(`pass  site-fra -> cdm/shipment/v1/muc: connection closed by RabbitMQ, nothing delivered in ${QUIET_MS} ms, bus-publish confirmed nothing`);

    // The same topic is open to its own site: the refusal is about who publishes.
    const muc = await raw(rabbit, 'site-muc', 'site-muc-raw');
    await muc.publishAsync('cdm/shipment/v1/muc', JSON.stringify({ own: true }), { qos: 1 });
    await waitFor(() => seen.slice(before).some((m) => m.topic === 'cdm/shipment/v1/muc'), { timeoutMs: 5_000, message: "site-muc's own record to reach central" });
    await muc.endAsync();
    row('pass  site-muc -> cdm/shipment/v1/muc with its own user: delivered to central');
  });

  it("refuses site-fra subscribing to muc's records and taking central's client id", async () => {
    const fra = await raw(rabbit, 'site-fra', 'site-fra-reader');
    const gone = closed(fra);
    const granted = await fra.subscribeAsync('cdm/+/+/fra', { qos: 1 });
    assert.deepEqual(granted.map((g) => g.qos), [1]);
    const refused = await fra.subscribeAsync('cdm/+/+/muc', { qos: 1 }).then(
      () => 'granted',
      (err: unknown) => String(err),
    );
    await gone;
    assert.match(refused, /closed/i);
    row('pass  site-fra subscribes cdm/+/+/fra: granted; cdm/+/+/muc: connection closed by RabbitMQ');

    // Central's session exists (as bus-subscribe makes it), then site-fra
    // asks for it with clean: false, as the session hijack in issue 20 did.
    const owner = await mqtt.connectAsync(rabbit.mqttUrl, { username: 'central', password: PASSWORDS.central, clientId: 'central-sub', protocolVersion: 4, reconnectPeriod: 0, clean: false });
    await owner.subscribeAsync('cdm/shipment/v1/+', { qos: 1 });
    await owner.endAsync();
    const hijack = await mqtt.connectAsync(rabbit.mqttUrl, { username: 'site-fra', password: PASSWORDS['site-fra'], clientId: 'central-sub', protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5_000, clean: false }).then(
      async (client) => {
        await client.endAsync(true);
        return 'connected';
      },
      (err: unknown) => String(err),
    );
    assert.match(hijack, /refused/i);
    row(`pass  site-fra connects with central's client id central-sub (clean: false): ${hijack}`);
  });

  it("keeps central's persistent session while its flow is gone and delivers what site-fra published meanwhile", async () => {
    // Both flows first, until a probe goes through: central's session and its subscription then exist at the broker.
    await load([...publisherFlow(rabbit.mqttUrl), ...subscriberFlow(rabbit.mqttUrl)], credentials);
    const first = new Inbox(node('received'));
    await waitFor(async () => {
      node('pub').receive(record('fra'));
      await new Promise((resolve) => setTimeout(resolve, 200));
      return first.messages.length > 0;
    }, { timeoutMs: 30_000, message: 'central bus-subscribe to receive a probe' });
    await helper.unload();

    await load(publisherFlow(rabbit.mqttUrl), credentials);
    const published = new Inbox(node('published'));
    const away = [1, 2, 3].map(() => record('fra'));
    for (const msg of away) node('pub').receive(structuredClone(msg));
    await published.count(3, 10_000);
    const queues = await rabbit.ctl(['list_queues', '-q', 'name', 'messages', 'durable']);
    await helper.unload();

    await load(subscriberFlow(rabbit.mqttUrl), credentials);
    const second = new Inbox(node('received'));
    const wanted = new Set(away.map((m) => (m.cdm as Msg).id));
    await second.next(() => second.messages.filter((m) => wanted.has((m.cdm as Msg).id)).length === 3, 15_000);
    const got = second.messages.filter((m) => wanted.has((m.cdm as Msg).id)).map((m) => (m.cdm as Msg).id);
    assert.deepEqual(got, [...wanted]);
    const queue = queues.split('\n').find((line) => line.startsWith('mqtt-subscription-central-sub')) ?? '';
    assert.match(queue, /\s3\s+true$/, `central's durable queue held the 3 records while it was away:\n${queues}`);
    row(`pass  central persistent session (clean: false, QoS 1): 3 published while away, queue "${queue.replace(/\s+/g, ' ')}", 3 of 3 delivered on return`);
  });
});
