// A persistent-session subscriber of the embedded broker (LevelDB) that comes
// back while messages are being published to it gets every one, once, in
// publish order, and stays connected. Before lib/bus/session-resume.ts aedes
// interleaved the live messages with the replay of the queued ones, then
// closed the subscriber with "no such packet" once both paths carried the same
// message: 42 to 76 of 300 arrived, out of order, the rest stayed queued.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import mqtt, { type MqttClient } from 'mqtt';
import { type EmbeddedBroker, startEmbeddedBroker } from '../../../lib/bus/embedded-broker';
import { delay, tempDir, waitFor } from '../../support/node-red-process';
import { LOOPBACK, connectRaw, endRaw, inbox } from './mqtt-helpers';

const clients: MqttClient[] = [];
let broker: EmbeddedBroker | undefined;
let folder: { path: string; remove(): Promise<void> } | undefined;

after(async () => {
  await Promise.all(clients.map((c) => endRaw(c)));
  await broker?.close();
  await folder?.remove();
});

const N = 300;

// The subscriber comes back after these many milliseconds of publishing: early
// (most messages published live during the replay), mid-way and late (most of
// them queued while it was away).
for (const awayMs of [5, 30, 80]) {
  test(`all ${N} messages arrive in publish order when the subscriber returns after ${awayMs} ms`, { timeout: 30_000 }, async () => {
    folder ??= await tempDir('tectonic-resume-');
    broker ??= await startEmbeddedBroker({ host: LOOPBACK, port: 0, persistence: { dir: folder.path } });
    const url = `mqtt://${LOOPBACK}:${broker.port}`;
    const clientId = `resume-${awayMs}`;
    const topic = `resume/${awayMs}`;

    const first = await connectRaw(url, { clientId, clean: false });
    clients.push(first);
    await first.subscribeAsync(topic, { qos: 1 });
    await endRaw(first);

    const publisher = await connectRaw(url, { clientId: `${clientId}-pub` });
    clients.push(publisher);
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
