// A persistent-session subscriber of the embedded broker (LevelDB) that comes
// back while messages are being published to it gets every one, once, in
// publish order, and stays connected. Before lib/bus/session-resume.ts aedes
// interleaved the live messages with the replay of the queued ones, then
// closed the subscriber with "no such packet" once both paths carried the same
// message: 42 to 76 of 300 arrived, out of order, the rest stayed queued.
import assert from 'node:assert/strict';
import { after, describe, it } from 'mocha';
import mqtt, { type MqttClient } from 'mqtt';
import { type EmbeddedBroker, startEmbeddedBroker } from '../../../lib/bus/embedded-broker';
import { delay, tempDir, waitFor } from '../../support/node-red-process';
import { LOOPBACK, connectRaw, endRaw, inbox } from './mqtt-helpers';

describe('lib/bus/embedded-broker-resume-order', () => {
  const clients: MqttClient[] = [];
  let broker: EmbeddedBroker | undefined;
  let folder: { path: string; remove(): Promise<void> } | undefined;

  after(async () => {
    await Promise.all(clients.map((c) => endRaw(c)));
    await broker?.close();
    await folder?.remove();
  });

  const N = 300;

  /**
   * The shared embedded broker (LevelDB), a persistent session for `clientId`
   * subscribed to `topic` and then gone away, and a publisher: what each test
   * starts from.
   */
  async function sessionAway(clientId: string, topic: string): Promise<{ url: string; publisher: MqttClient }> {
    folder ??= await tempDir('tectonic-resume-');
    broker ??= await startEmbeddedBroker({ host: LOOPBACK, port: 0, persistence: { dir: folder.path } });
    const url = `mqtt://${LOOPBACK}:${broker.port}`;
    const first = await connectRaw(url, { clientId, clean: false });
    clients.push(first);
    await first.subscribeAsync(topic, { qos: 1 });
    await endRaw(first);
    const publisher = await connectRaw(url, { clientId: `${clientId}-pub` });
    clients.push(publisher);
    return { url, publisher };
  }

  // The subscriber comes back after these many milliseconds of publishing: early
  // (most messages published live during the replay), mid-way and late (most of
  // them queued while it was away).
  for (const awayMs of [5, 30, 80]) {
    it(`all ${N} messages arrive in publish order when the subscriber returns after ${awayMs} ms`, async function (this: Mocha.Context) {
      this.timeout(30_000);
      const clientId = `resume-${awayMs}`;
      const topic = `resume/${awayMs}`;
      const { url, publisher } = await sessionAway(clientId, topic);
      const publishing = (async () => {
        for (let i = 0; i < N; i += 1) await publisher.publishAsync(topic, String(i), { qos: 1 });
      })();
      await delay(awayMs);

      const back = mqtt.connect(url, { clientId, clean: false, protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 3000 });
      clients.push(back);
      const received = inbox(back);
      let closed = false;
      back.on('close', () => {
        closed = true;
      });
      await publishing;
      await waitFor(() => received.length >= N || closed, { timeoutMs: 10_000, message: `${received.length} of ${N} messages arrived` });
      // Anything more would be a duplicate.
      await delay(200);

      assert.equal(closed, false, `the broker closed the subscriber after ${received.length} messages`);
      assert.deepEqual(
        received.map((r) => r.payload),
        Array.from({ length: N }, (_, i) => String(i)),
      );
      await endRaw(back);
      await endRaw(publisher);
    });
  }

  // A retained message is sent on SUBSCRIBE and never queued, so the replay
  // cannot carry it: the gate must let it through. A site resuming its session
  // subscribes to the retained catalog and policy topics at once, during the
  // replay; before, the gate dropped their bundles and the site waited for the
  // next publish.
  it('a persistent-session subscriber that subscribes during its replay gets the retained message too', async function (this: Mocha.Context) {
    this.timeout(30_000);
    const clientId = 'resume-retained';
    const backlog = 'resume/backlog';
    const retained = 'resume/retained';
    const { url, publisher } = await sessionAway(clientId, backlog);
    // A backlog long enough that the replay is still running when the SUBSCRIBE arrives.
    for (let i = 0; i < N; i += 1) await publisher.publishAsync(backlog, String(i), { qos: 1 });
    await publisher.publishAsync(retained, 'bundle v1', { qos: 1, retain: true });

    const back = await connectRaw(url, { clientId, clean: false });
    clients.push(back);
    const received = inbox(back);
    let closed = false;
    back.on('close', () => {
      closed = true;
    });
    await back.subscribeAsync(retained, { qos: 1 });
    await waitFor(() => received.filter((r) => r.topic === backlog).length >= N && received.some((r) => r.topic === retained), {
      timeoutMs: 10_000,
      message: 'the backlog and the retained message to arrive',
    }).catch((err: Error) => assert.fail(`${err.message}; retained arrived: ${received.some((r) => r.topic === retained)}, backlog: ${received.filter((r) => r.topic === backlog).length} of ${N}`));
    await delay(200);
    assert.equal(closed, false, 'the subscriber stays connected');
    const kept = received.filter((r) => r.topic === retained);
    assert.equal(kept.length, 1, 'the retained message, once');
    assert.equal(kept[0]?.payload, 'bundle v1');
    assert.equal(kept[0]?.packet.retain, true, 'sent as retained, on SUBSCRIBE');
    assert.deepEqual(
      received.filter((r) => r.topic === backlog).map((r) => r.payload),
      Array.from({ length: N }, (_, i) => String(i)),
      'the backlog still arrives in order',
    );
    await endRaw(back);
    await endRaw(publisher);
  });
});
