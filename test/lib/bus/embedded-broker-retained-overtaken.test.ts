// A retained QoS 1 message (a site's birth) takes one more persistence step
// than a record (the retained store) before aedes queues and forwards it, so
// a record from another site published a moment later can reach a subscriber
// first. aedes numbered both when they arrived and drops, as a duplicate, a
// message numbered lower than the last one it forwarded to that client: the
// birth never reached the connected subscriber (a regional hub, in a CI run
// of test/e2e/regional-hub.test.ts: one site's online state never reached the
// centre). Every birth must arrive.
import assert from 'node:assert/strict';
import { after, describe, it } from 'mocha';
import { type MqttClient } from 'mqtt';
import { type EmbeddedBroker, startEmbeddedBroker } from '../../../lib/bus/embedded-broker';
import { tempDir, waitFor } from '../../support/node-red-process';
import { LOOPBACK, connectRaw, connectWithInbox } from './mqtt-helpers';

describe('lib/bus/embedded-broker: a retained message overtaken by a record', () => {
  const clients: MqttClient[] = [];
  let broker: EmbeddedBroker | undefined;
  let folder: { path: string; remove(): Promise<void> } | undefined;

  after(async () => {
    for (const c of clients.splice(0)) c.end(true);
    await broker?.close();
    await folder?.remove();
  });

  for (const kind of ['folder', 'memory'] as const) {
    it(`forwards every retained birth to a connected persistent-session subscriber while another site publishes records (${kind})`, async function () {
      this.timeout(60_000);
      await broker?.close();
      folder ??= await tempDir('tectonic-broker-');
      broker = await startEmbeddedBroker({ host: LOOPBACK, port: 0, persistence: kind === 'folder' ? { dir: folder.path } : 'memory' });
      const url = `mqtt://${LOOPBACK}:${broker.port}`;
      const { client: hub, received } = await connectWithInbox(url, { clientId: 'hub', clean: false });
      clients.push(hub);
      await hub.subscribeAsync(['tectonic/health/+/state', 'cdm/+/+/+'], { qos: 1 });
      const rb = await connectRaw(url, { clientId: 'site-rb' });
      clients.push(rb);
      const births = 200;
      for (let i = 0; i < births; i += 1) {
        const ra = await connectRaw(url, { clientId: `site-ra-${i}` });
        clients.push(ra);
        // The birth, then records of the other site right behind it, as sites starting together send them.
        ra.publish(`tectonic/health/site-ra-${i}/state`, JSON.stringify({ state: 'online', session: i }), { qos: 1, retain: true });
        for (let r = 0; r < 3; r += 1) rb.publish('cdm/shipment/v1/site-rb', JSON.stringify({ i, r }), { qos: 1 });
        if (i % 20 === 19) await waitFor(() => received.filter((m) => m.topic.startsWith('cdm/')).length >= (i + 1) * 3, { timeoutMs: 10_000, message: 'the records so far' });
      }
      await waitFor(() => received.filter((m) => m.topic.startsWith('cdm/')).length >= births * 3, { timeoutMs: 10_000, message: 'every record' });
      await new Promise((resolve) => setTimeout(resolve, 500));
      const got = new Set(received.filter((m) => m.topic.endsWith('/state')).map((m) => m.topic));
      const missing = Array.from({ length: births }, (_, i) => `tectonic/health/site-ra-${i}/state`).filter((t) => !got.has(t));
      assert.deepEqual(missing, [], `${missing.length} of ${births} births never reached the subscriber`);
    });
  }
});
