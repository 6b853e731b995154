import assert from 'node:assert/strict';
import { after, before, describe, it } from 'mocha';
import mqtt, { type MqttClient } from 'mqtt';
import { type EmbeddedBroker, startEmbeddedBroker } from '../../../lib/bus/embedded-broker';
import { metricsRegistry } from '../../../lib/metrics/registry';

async function figure(name: string): Promise<number> {
  const metric = metricsRegistry.getSingleMetric(name);
  assert.ok(metric, `${name} is registered`);
  const got = await metric.get();
  return got.values.reduce((sum, v) => sum + v.value, 0);
}

describe('embedded broker metrics (lib/bus/broker-metrics.ts)', function () {
  this.timeout(20_000);
  let broker: EmbeddedBroker;
  let pub: MqttClient;
  let sub: MqttClient;

  before(async () => {
    broker = await startEmbeddedBroker({ host: '127.0.0.1', port: 0 });
    const url = `mqtt://127.0.0.1:${broker.port}`;
    pub = await mqtt.connectAsync(url, { clientId: 'bm-pub', protocolVersion: 4 });
    sub = await mqtt.connectAsync(url, { clientId: 'bm-sub', protocolVersion: 4 });
  });
  after(async () => {
    await pub?.endAsync();
    await sub?.endAsync();
    await broker?.close();
  });

  it('counts connections, messages in and out, unacknowledged QoS 1 and retained bytes, as a subscriber sees them', async () => {
    const in0 = await figure('tectonic_broker_messages_received_total');
    const out0 = await figure('tectonic_broker_messages_sent_total');
    assert.equal(await figure('tectonic_broker_connections'), 2);
    let received = 0;
    sub.on('message', () => { received += 1; });
    await sub.subscribeAsync('bm/#', { qos: 1 });
    for (let i = 0; i < 10; i += 1) await pub.publishAsync(`bm/${i}`, 'x'.repeat(100), { qos: 1 });
    await pub.publishAsync('bm/retained', 'r'.repeat(1000), { qos: 1, retain: true });
    const deadline = Date.now() + 5000;
    while (received < 11 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.equal(received, 11);
    assert.equal((await figure('tectonic_broker_messages_received_total')) - in0, 11);
    assert.equal((await figure('tectonic_broker_messages_sent_total')) - out0, 11);
    assert.equal(await figure('tectonic_broker_retained_bytes'), 1000);
    assert.equal(await figure('tectonic_broker_retained_messages'), 1);
    // Every delivery was acknowledged by the subscriber (MQTT.js acknowledges QoS 1 at once).
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(await figure('tectonic_broker_queued_messages'), 0);
    await pub.publishAsync('bm/retained', '', { qos: 1, retain: true });
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(await figure('tectonic_broker_retained_bytes'), 0);
  });

  it('the Prometheus text names every broker series', async () => {
    const text = await metricsRegistry.metrics();
    for (const name of ['tectonic_broker_connections', 'tectonic_broker_messages_received_total', 'tectonic_broker_messages_sent_total', 'tectonic_broker_queued_messages', 'tectonic_broker_retained_bytes']) {
      assert.match(text, new RegExp(`^${name} \\d+`, 'm'));
    }
  });
});
