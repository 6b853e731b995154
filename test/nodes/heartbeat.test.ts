// The heartbeat node inside Node-RED, against the embedded aedes: a retained
// heartbeat with counters that parses as the contract says, synthetic
// transactions through the real pipeline (success with per-stage latency;
// a validator pointed at an unknown version: failure naming the stage), and
// what the centre says about the site shown on its second output.
import should from 'should';
import { after, afterEach, before, describe, it } from 'mocha';
import mqtt, { type MqttClient } from 'mqtt';
import { fraRecords, fraSpec } from '../fixtures/logistics';
import { freePort, waitFor } from '../support/node-red-process';
import { Inbox, type Msg, helper, load, node, startServer, stopServer } from '../support/red-helper';
import type { Heartbeat } from '../../lib/fleet/heartbeat-format';
import { flowsFingerprint } from '../../lib/fleet/fingerprint';

const tab: Msg = { id: 'f1', type: 'tab', label: 'site' };

function siteFlow(port: number, validateVersion = ''): Msg[] {
  return [
    tab,
    { id: 'bus', type: 'tectonic-bus', z: '', mode: 'embedded', host: '127.0.0.1', port: String(port), siteId: 'fra' },
    { id: 'catalog', type: 'cdm-catalog', source: 'bundled', folder: '', folderType: 'str', url: '', urlType: 'str', bus: '', refresh: '', publishToBus: '', policy: 'STRICT' },
    {
      id: 'beat', type: 'heartbeat', z: 'f1', bus: 'bus', interval: '0.3', templateName: 'site-agent', templateVersion: '2.1.0',
      probeEvery: '1', probeDeadline: '3', probeRecord: JSON.stringify(fraRecords[0]), wires: [['map'], ['news']],
    },
    { id: 'news', type: 'helper', z: 'f1', wires: [] },
    { id: 'map', type: 'cdm-map', z: 'f1', catalog: 'catalog', entity: fraSpec.entity, version: fraSpec.version, site: 'fra', siteType: 'str', source: 'urn:tectonic:fra:wms', rules: fraSpec.rules, wires: [['validate'], ['rejected']] },
    { id: 'validate', type: 'cdm-validate', z: 'f1', catalog: 'catalog', entity: '', entityType: 'str', version: validateVersion, versionType: 'str', castTo: '', castToType: 'str', wires: [['publish'], ['rejected']] },
    { id: 'publish', type: 'bus-publish', z: 'f1', bus: 'bus', qos: '1', wireMode: 'structured', wires: [['published']] },
    { id: 'published', type: 'helper', z: 'f1', wires: [] },
    { id: 'rejected', type: 'helper', z: 'f1', wires: [] },
    // The centre's consumer, in the same runtime for the test: it must never see a probe.
    { id: 'centre', type: 'bus-subscribe', z: 'f1', bus: 'bus', entity: 'shipment', versions: '1', site: '', siteType: 'str', group: '', qos: '1', maxBytes: '', wires: [['consumed']] },
    { id: 'consumed', type: 'helper', z: 'f1', wires: [] },
  ];
}

/** Heartbeats as a client of the bus sees them, parsed. */
async function watchBeats(port: number): Promise<{ client: MqttClient; beats: Heartbeat[] }> {
  const client = mqtt.connect(`mqtt://127.0.0.1:${port}`, { clientId: `hb-watch-${port}`, reconnectPeriod: 100 });
  const beats: Heartbeat[] = [];
  client.on('message', (_topic, payload) => beats.push(JSON.parse(payload.toString('utf8')) as Heartbeat));
  await waitFor(() => client.connected, { timeoutMs: 10_000, message: 'the watcher to connect' });
  await client.subscribeAsync('tectonic/health/fra/heartbeat', { qos: 1 });
  return { client, beats };
}

describe('heartbeat', function () {
  this.timeout(30_000);
  let client: MqttClient | undefined;
  before(startServer);
  afterEach(async () => {
    await client?.endAsync();
    client = undefined;
    await helper.unload();
  });
  after(stopServer);

  it('publishes a retained heartbeat with counters (probes left out), versions, fingerprint and a passing canary with per-stage latency', async () => {
    const port = await freePort();
    await load(siteFlow(port));
    const news = new Inbox(node('news'));
    const consumed = new Inbox(node('consumed'));
    const watch = await waitFor(async () => {
      try {
        return await watchBeats(port);
      } catch {
        return undefined;
      }
    }, { timeoutMs: 10_000, message: 'the broker to take a client' });
    client = watch.client;
    // The catalog loads asynchronously: records are sent once the canary (a real record) has passed validation.
    const canary = await news.next((m) => m.topic === 'canary', 10_000);
    const result = canary.payload as { ok: boolean; latencyMs: number; stagesMs: Record<string, number> };
    should(result.ok).be.true(JSON.stringify(result));
    should(Object.keys(result.stagesMs)).eql(['map', 'validate', 'publish'], JSON.stringify(result));
    should(result.latencyMs).be.aboveOrEqual(result.stagesMs.map ?? 0);

    for (const record of fraRecords.slice(0, 3)) node('map').receive({ payload: structuredClone(record) });
    await consumed.count(3, 10_000);
    const beat = await waitFor(() => watch.beats.find((b) => b.stages.publish?.in === 3 && b.canary?.ok === true), { timeoutMs: 10_000, message: 'a beat with the three records counted' });

    should(beat.format).equal(1);
    should(beat.site).equal('fra');
    should(beat.session).be.aboveOrEqual(1);
    should(new Date(beat.sentAt).getTime()).be.approximately(Date.now(), 10_000);
    should(beat.intervalMs).equal(300);
    should(beat.stages.map).eql({ in: 3, out: 3, rejected: {} });
    should(beat.stages.validate).eql({ in: 3, out: 3, rejected: {} });
    should(beat.stages.publish?.out).equal(3);
    should(beat.outboxDepth).be.a.Number();
    should(beat.versions.catalog).match(/^sha256:[0-9a-f]{64}$/);
    should(beat.versions.pack).equal('0.1.0');
    should(beat.versions.node).equal(process.versions.node);
    // What the runtime deployed fingerprints as the flows file does: the centre computes it from the file (tectonic template fingerprint).
    should(beat.flows.fingerprint).equal(flowsFingerprint(siteFlow(port)));
    should(beat.flows.template).eql({ name: 'site-agent', version: '2.1.0' });
    // Within one session the sequence has no gap, from 0.
    const session = watch.beats.filter((b) => b.session === beat.session).map((b) => b.seq);
    should(session).eql(session.map((_, i) => (session[0] ?? 0) + i));
    should(watch.beats.some((b) => b.cdmPublished.includes('shipment@1.1.0'))).be.true();
    // A node's error (bus-publish given no envelope) is the next beats' last error.
    node('publish').receive({ payload: { no: 'envelope' } });
    const erred = await waitFor(() => watch.beats.find((b) => b.lastError?.node === 'publish'), { timeoutMs: 5_000, message: 'a beat with the last error' });
    should(erred.lastError?.message).match(/msg\.cdm/);
    // The centre's consumer got the three records and never a probe.
    should(consumed.messages.every((m) => m.probe === undefined && (m.cdm as Msg).probe === undefined)).be.true();
    const stats = await helper.request().get('/tectonic/stats/centre');
    should((stats.body as Record<string, number>).probesDropped).be.above(0);
  });

  it('with its validator pointed at an unknown version, the canary fails naming the stage and the reason, and the next heartbeat says so', async () => {
    const port = await freePort();
    await load(siteFlow(port, '9.9.9'));
    const news = new Inbox(node('news'));
    const watch = await waitFor(async () => {
      try {
        return await watchBeats(port);
      } catch {
        return undefined;
      }
    }, { timeoutMs: 10_000, message: 'the broker to take a client' });
    client = watch.client;
    // Until the catalog has loaded a probe is refused as no-catalog (transient): wait for the verdict on the version.
    const failed = await news.next((m) => m.topic === 'canary' && (m.payload as { ok: boolean; reason?: string }).ok === false && /9\.9\.9/.test((m.payload as { reason: string }).reason), 10_000);
    const result = failed.payload as { stage: string; reason: string };
    should(result.stage).equal('validate');
    should(result.reason).match(/9\.9\.9/);
    const beat = await waitFor(() => watch.beats.find((b) => b.canary?.ok === false && b.canary.reason.includes('9.9.9')), { timeoutMs: 10_000, message: 'a beat with the failed canary' });
    should(beat.canary).containEql({ ok: false, stage: 'validate' });
    // The probe's reject is not a record's: the counters leave it out.
    should(beat.stages.validate?.rejected ?? {}).eql({});
  });

  it('a bus without a site id: the node refuses to start with an error that says so', async () => {
    const port = await freePort();
    const flow = siteFlow(port).map((n) => (n.id === 'bus' ? { ...n, siteId: '' } : n));
    await load(flow);
    const problems = () => helper.log().args.map(([e]) => e).filter((e) => e.type === 'heartbeat' && e.level === 20).map((e) => String(e.msg));
    await waitFor(() => problems().some((m) => /no site id/.test(m)), { timeoutMs: 5_000, message: 'the error naming the missing site id' });
  });

  it('shows what the centre says about the site on its second output and in its status', async () => {
    const port = await freePort();
    await load(siteFlow(port));
    const news = new Inbox(node('news'));
    const watch = await waitFor(async () => {
      try {
        return await watchBeats(port);
      } catch {
        return undefined;
      }
    }, { timeoutMs: 10_000, message: 'the broker to take a client' });
    client = watch.client;
    await waitFor(() => watch.beats.length > 0, { timeoutMs: 10_000, message: 'a first beat (the node listens by then)' });
    const alert = { site: 'fra', kind: 'version-lag', severity: 'warning', since: new Date().toISOString(), reason: 'catalog sha256:abc is older than the current one' };
    const statuses: Msg[] = [];
    node('beat').on('call:status', (call: { args: Msg[] }) => statuses.push(call.args[0] ?? {}));
    await client.publishAsync('tectonic/alerts/fra', JSON.stringify(alert), { qos: 1 });
    const got = await news.next((m) => m.topic === 'tectonic/alerts/fra', 5_000);
    should(got.payload).eql(alert);
    await waitFor(() => statuses.find((s) => String(s.text).includes('version-lag')), { timeoutMs: 5_000, message: 'the status to show the alert' });
    // A malformed alert is ignored, not a crash.
    await client.publishAsync('tectonic/alerts/fra', '{"kind":', { qos: 1 });
    await client.publishAsync('tectonic/alerts/fra', JSON.stringify({ ...alert, kind: 'recovered', of: 'version-lag' }), { qos: 1 });
    await news.next((m) => m.topic === 'tectonic/alerts/fra' && (m.payload as Msg).kind === 'recovered', 5_000);
  });
});
