// A site whose pipeline starts with bus-subscribe (local records, persistent
// session, QoS 1, flow control) is killed with SIGKILL mid-run: every record
// it had taken from its broker but not yet put in bus-publish's outbox must
// come again, because its PUBACK waits until the record has finished in the
// flow (docs/message-contract.md). Before that, a run of 1,000 records at
// 200/s lost 16 to 166 records per kill.
//
// One broker process (the embedded aedes, disk persistence) plays both the
// site's local broker and the central bus. A publisher sends 1,000 JSON
// records at 200/s on site/kill/wms/r; the site maps each to a canonical
// shipment and publishes it through bus-publish (outbox); a raw central
// subscriber with a persistent session collects the envelope ids. It prints
//   sent N, received N, lost L, duplicates D
// and fails on any loss; duplicates are allowed (at-least-once) and counted.
import { after, before, describe, it } from 'mocha';
import assert from 'node:assert/strict';
import mqtt, { type MqttClient } from 'mqtt';
import { type BrokerProcess, startBrokerProcess } from '../support/broker-process';
import { type FlowNode, type NodeRedProcess, delay, startNodeRed, waitFor } from '../support/node-red-process';

const RECORDS = 1_000;
const RATE_PER_SECOND = 200;
const SITE = 'site-kill';
/** When the site is killed, in ms after the publisher starts: mid-run. */
const KILL_AT_MS = 2_500;
const SITE_DOWN_MS = 1_500;
const DRAIN_BOUND_MS = 60_000;

const TAB = 'kill-tab';
const BUS = 'kill-bus';

// A real site pipeline takes a while per record (mapping, validation, policy,
// a slow disk): 250 ms here keeps about 50 records between bus-subscribe and
// the outbox at 200/s, the window a kill hits. Done after the send, as a node
// that finishes asynchronously does.
const BUILD_RECORD = `
const seq = Number(msg.payload && msg.payload.seq);
const id = '${SITE}-' + String(seq).padStart(6, '0');
const time = new Date().toISOString();
msg.payload = { shipmentId: 'SHP-' + id, occurredAt: time, status: 'in_transit', weightKg: 12.5, siteId: '${SITE}', carrier: { name: 'Rhenus', scac: 'RHEN' } };
msg.cdm = { entity: 'shipment', version: '1.1.0', site: '${SITE}', id: id, time: time, source: 'urn:tectonic:${SITE}:kill' };
setTimeout(() => {
  node.send(msg);
  node.done();
}, 250);
return null;
`;

function siteFlow(brokerUrl: string): FlowNode[] {
  return [
    { id: TAB, type: 'tab', label: 'kill site', disabled: false, info: '' },
    {
      id: BUS, type: 'tectonic-bus', name: 'site bus', mode: 'external', host: '', port: '', url: brokerUrl,
      protocolVersion: '4', clientId: 'kill-site', keepalive: '10', session: 'persistent', persistence: 'disk', tls: '',
    },
    {
      id: 'kill-subscribe', type: 'bus-subscribe', z: TAB, name: 'local records', bus: BUS, kind: 'records', topic: 'site/kill/wms/#',
      qos: '1', maxBytes: '', maxInFlight: '200', entity: '', versions: '', site: '', siteType: 'str', group: '', dedupWindow: '', x: 120, y: 80, wires: [['kill-build']],
    },
    { id: 'kill-build', type: 'function', z: TAB, name: 'canonical shipment', func: BUILD_RECORD, outputs: 1, timeout: 0, noerr: 0, initialize: '', finalize: '', libs: [], x: 320, y: 80, wires: [['kill-publish']] },
    {
      id: 'kill-publish', type: 'bus-publish', z: TAB, name: 'publish', bus: BUS, qos: '1', wireMode: 'structured', mode: 'canonical',
      outboxMaxCount: '100000', outboxMaxBytes: '67108864', whenFull: 'reject', outputs: 2, x: 520, y: 80, wires: [[], []],
    },
  ];
}

describe('bus-subscribe acknowledges a record only once it is in the outbox: a site SIGKILLed mid-run loses nothing', function (this: Mocha.Suite) {
  this.timeout(180_000);
  let broker: BrokerProcess | undefined;
  let site: NodeRedProcess | undefined;
  let central: MqttClient | undefined;
  let source: MqttClient | undefined;

  before(async () => {
    broker = await startBrokerProcess({ persistence: 'disk' });
    site = await startNodeRed({ flows: siteFlow(broker.url) });
  });

  after(async () => {
    await Promise.allSettled([central?.endAsync(true), source?.endAsync(true)]);
    await Promise.allSettled([site?.stop()]);
    await broker?.stop();
  });

  it(`${RECORDS} records at ${RATE_PER_SECOND}/s, the site killed and restarted mid-run: central gets every one`, async () => {
    const b = broker!;
    const s = site!;
    const received: string[] = [];
    central = await mqtt.connectAsync(b.url, { clientId: `kill-central-${process.pid}`, clean: false, protocolVersion: 4, reconnectPeriod: 500 });
    central.on('message', (_topic, payload) => {
      try {
        const event = JSON.parse(payload.toString('utf8')) as { id?: unknown };
        if (typeof event.id === 'string') received.push(event.id);
      } catch {
        /* not a CloudEvent: not ours */
      }
    });
    await central.subscribeAsync('cdm/shipment/v1/#', { qos: 1 });
    source = await mqtt.connectAsync(b.url, { clientId: `kill-source-${process.pid}`, protocolVersion: 4, reconnectPeriod: 500 });

    // A warm-up record end to end: the site's subscription exists at the broker before the clock starts.
    await waitFor(async () => {
      await source!.publishAsync('site/kill/wms/r', JSON.stringify({ seq: 0 }), { qos: 1 });
      await delay(300);
      return received.includes(`${SITE}-000000`);
    }, { timeoutMs: 30_000, message: 'the warm-up record at central' });

    const t0 = Date.now();
    let killed = false;
    const killing = (async () => {
      await delay(KILL_AT_MS);
      await s.kill();
      killed = true;
      const atKill = received.length;
      await delay(SITE_DOWN_MS);
      await s.restart();
      return atKill;
    })();
    for (let seq = 1; seq <= RECORDS; seq++) {
      const due = t0 + ((seq - 1) * 1000) / RATE_PER_SECOND;
      const wait = due - Date.now();
      if (wait > 0) await delay(wait);
      await source.publishAsync('site/kill/wms/r', JSON.stringify({ seq }), { qos: 1 });
    }
    const sentAt = Date.now() - t0;
    const receivedAtKill = await killing;
    assert.ok(killed, 'the site was killed');

    const wanted = Array.from({ length: RECORDS }, (_, i) => `${SITE}-${String(i + 1).padStart(6, '0')}`);
    await waitFor(() => {
      const have = new Set(received);
      return wanted.every((id) => have.has(id));
    }, { timeoutMs: DRAIN_BOUND_MS, intervalMs: 500, message: 'central receiving every record' }).catch(() => undefined);
    await delay(1_000);

    const mine = received.filter((id) => id !== `${SITE}-000000`);
    const distinct = new Set(mine);
    const lost = wanted.filter((id) => !distinct.has(id));
    const duplicates = mine.length - distinct.size;
    console.log(`  site killed at t=${KILL_AT_MS} ms with ${receivedAtKill} records at central, restarted ${SITE_DOWN_MS} ms later; source done at t=${sentAt} ms`);
    console.log(`sent ${RECORDS}, received ${distinct.size}, lost ${lost.length}, duplicates ${duplicates}`);
    assert.deepEqual(lost.slice(0, 20), [], `${lost.length} records never reached central (first 20 shown)`);
  });
});
