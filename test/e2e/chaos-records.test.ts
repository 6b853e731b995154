// Issue 15, "Must show": nothing lost under real crashes. A local system (an
// MQTT.js client standing in for a WMS) publishes 1,000 records at 200/s on
// the site's topic, QoS 1, and keeps publishing while the site is down; a
// record counts as sent once the broker has acknowledged it. The site reads
// them with bus-subscribe in local-records mode (persistent session) and
// runs cdm-map, cdm-validate (catalog from a folder), policy-gate (signed
// bundle from a file: the start-up race is real) and bus-publish (durable
// outbox). During the run the broker is stopped at 30% and 60% of the
// records (SIGKILL for the embedded aedes, a crash; SIGTERM for mosquitto,
// which saves its persistence only on a clean exit, see docs/outbox.md) and
// the site's Node-RED is SIGKILLed at 50%, each down for 3 s. A central
// Node-RED (bus-subscribe, persistent session, de-duplication by envelope id)
// must end with every sent record, each once, in the order it was sent. Each
// broker runs the schedule three times in a row. It prints
//   sent N, received N, duplicates dropped D, lost L, out of order O
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'mocha';
import mqtt, { type MqttClient } from 'mqtt';
import { generatePolicyKeyPair, signBundle } from '../../lib/policy/signature';
import type { JsonObject } from '../../lib/catalog/types';
import { type RestartableBroker, startBrokerProcess } from '../support/broker-process';
import { startMosquitto } from '../support/mosquitto';
import { delay, repoRoot, startNodeRed, tempDir, waitFor, type NodeRedProcess } from '../support/node-red-process';
import { CENTRAL_SUBSCRIBE, centralFlow } from '../fixtures/chaos/central-flow';
import { getJson, nodeStats } from '../fixtures/chaos/site-flow';
import { RECORDS_SITE_PUBLISH, recordsSiteFlow } from '../fixtures/chaos/records-site-flow';

const RECORDS = 1_000;
const RATE_PER_SECOND = 200;
const SITE = 'site-rec';
const TOPIC = `site/${SITE}/wms/shipments`;
const DOWN_MS = 3_000;
/** A publish the broker has not acknowledged within this is still pending: the broker is down. */
const SEND_BOUND_MS = 90_000;
const DRAIN_BOUND_MS = 60_000;
const RUNS = 3;

interface BrokerKind {
  id: string;
  name: string;
  protocolVersion: '4' | '5';
  /** The broker's fault: a crash (SIGKILL) for the embedded aedes; SIGTERM for mosquitto, which saves its persistence only then. */
  fault: 'SIGKILL' | 'SIGTERM';
  launch(): Promise<RestartableBroker>;
}

const BROKERS: BrokerKind[] = [
  {
    id: 'aedes',
    name: 'the embedded aedes (own process, disk persistence), killed with SIGKILL',
    protocolVersion: '4',
    fault: 'SIGKILL',
    launch: () => startBrokerProcess({ persistence: 'disk' }),
  },
  {
    id: 'mosquitto',
    name: "Debian's mosquitto (persistence true), stopped with SIGTERM",
    protocolVersion: '5',
    fault: 'SIGTERM',
    launch: () => startMosquitto({ persistence: true, maxQueuedMessages: 10 * RECORDS }),
  },
];

interface Received { site: string; id: string; key?: string }

function withBound<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
  });
  return Promise.race([work, bound]).finally(() => clearTimeout(timer));
}

/** The local system: publishes seq first..first+RECORDS-1 at the rate, each once the previous is acknowledged. */
async function publishAll(wms: MqttClient, first: number, sent: number[], stop: { abandoned: boolean }): Promise<void> {
  const interval = 1000 / RATE_PER_SECOND;
  let due = Date.now();
  for (let seq = first; seq < first + RECORDS; seq += 1) {
    if (stop.abandoned) throw new Error('the publisher stopped: the fault schedule failed');
    const now = Date.now();
    if (due > now) await delay(due - now);
    // After an outage: catch up, but never more than a second's worth at once.
    due = Math.max(due + interval, Date.now() - 1000);
    const record = { seq, kg: (seq % 900) + 0.5, at: new Date().toISOString() };
    // MQTT.js keeps an unacknowledged QoS 1 publish and sends it again after a reconnect.
    await withBound(wms.publishAsync(TOPIC, JSON.stringify(record), { qos: 1 }), SEND_BOUND_MS, `the broker acknowledging seq ${seq}`);
    sent.push(seq);
  }
}

describe('chaos: local records through a site killed and a broker crashing', function (this: Mocha.Suite) {
  this.timeout(600_000);
  let files: Awaited<ReturnType<typeof tempDir>> | undefined;
  let policyFile = '';
  let publicKeyFile = '';

  before(async () => {
    files = await tempDir('tectonic-chaos-records-');
    const keys = generatePolicyKeyPair();
    const day = 24 * 3600 * 1000;
    const doc = {
      id: 'chaos-policy', version: 1, issuedAt: new Date(Date.now() - day).toISOString(), expiresAt: new Date(Date.now() + 30 * day).toISOString(),
      rules: [{ allow: { entities: { shipment: '>=1.0.0 <2.0.0' } } }, { validation: 'required' }, { require: { entity: 'shipment', when: 'payload.weightKg >= 0.0', reason: 'weight must not be negative' } }],
    } as JsonObject;
    const signed = signBundle(doc, keys.privateKeyPem);
    if (!signed.ok) throw new Error(signed.reason.message);
    policyFile = join(files.path, 'policy.signed.json');
    publicKeyFile = join(files.path, 'policy.pub');
    await writeFile(policyFile, JSON.stringify(signed.signed));
    await writeFile(publicKeyFile, keys.publicKeyPem);
  });

  after(async () => {
    await files?.remove();
  });

  for (const kind of BROKERS) {
    describe(`against ${kind.name}`, () => {
      let broker: RestartableBroker | undefined;
      let central: NodeRedProcess | undefined;
      let site: NodeRedProcess | undefined;
      let wms: MqttClient | undefined;

      before(async () => {
        broker = await kind.launch();
        central = await startNodeRed({ flows: centralFlow({ brokerUrl: broker.url, protocolVersion: kind.protocolVersion, clientId: `chaos-rec-central-${kind.id}` }) });
        site = await startNodeRed({
          flows: recordsSiteFlow({
            brokerUrl: broker.url, protocolVersion: kind.protocolVersion, clientId: `chaos-rec-site-${kind.id}`, site: SITE, topicFilter: `site/${SITE}/wms/#`,
            catalogFolder: join(repoRoot, 'cdm'), policyFile, publicKeyFile,
          }),
        });
        wms = mqtt.connect(broker.url, { clientId: `chaos-rec-wms-${kind.id}`, protocolVersion: kind.protocolVersion === '5' ? 5 : 4, clean: true, reconnectPeriod: 200, connectTimeout: 2_000 });
        await withBound(new Promise<void>((resolve) => wms?.once('connect', () => resolve())), 20_000, 'the local system connecting');
      });

      after(async () => {
        await new Promise<void>((resolve) => (wms ? wms.end(true, {}, () => resolve()) : resolve()));
        await Promise.allSettled([site?.stop(), central?.stop()]);
        await broker?.stop();
      });

      for (let run = 1; run <= RUNS; run += 1) {
        it(`run ${run} of ${RUNS}: ${RECORDS} records, the broker down at 30% and 60%, the site SIGKILLed at 50%: none lost, none twice, in order`, async () => {
          const [b, c, s, w] = [broker!, central!, site!, wms!];
          const first = run * 100_000;
          // One record end to end before the clock starts: the site and central are connected and subscribed.
          // Sent again every poll, since one sent before the site's subscription exists is dropped by the broker.
          await waitFor(async () => {
            await w.publishAsync(TOPIC, JSON.stringify({ seq: first - 1, kg: 1, at: new Date().toISOString() }), { qos: 1 });
            await delay(1_000);
            return (await getJson<Received[]>(`${c.url}/received`)).some((r) => r.key === String(first - 1));
          }, { timeoutMs: 60_000, message: 'central receiving the warm-up record' });

          const sent: number[] = [];
          const stop = { abandoned: false };
          const t0 = Date.now();
          const timeline: string[] = [];
          const note = (what: string): void => void timeline.push(`  t=${((Date.now() - t0) / 1000).toFixed(2)}s  ${what} (${sent.length} sent so far)`);
          const when = (share: number): Promise<unknown> => waitFor(() => sent.length >= RECORDS * share, { timeoutMs: SEND_BOUND_MS, intervalMs: 20, message: `${share * 100}% of the records sent` });
          const brokerDown = async (): Promise<void> => {
            const pid = b.pid;
            await b.halt(kind.fault);
            note(`broker ${kind.fault === 'SIGKILL' ? 'killed' : 'stopped'} (${kind.fault}, pid ${pid})`);
            await delay(DOWN_MS);
            await b.start();
            note(`broker started again (pid ${b.pid})`);
          };
          const faults = (async () => {
            await when(0.3);
            await brokerDown();
            await when(0.5);
            const pid = s.pid;
            await s.kill();
            note(`site Node-RED killed (SIGKILL, pid ${pid})`);
            await delay(DOWN_MS);
            await s.restart();
            note(`site Node-RED started again (pid ${s.pid})`);
            await when(0.6);
            await brokerDown();
          })().catch((err: unknown) => {
            stop.abandoned = true;
            throw err;
          });
          note(`the local system starts: ${RECORDS} records at ${RATE_PER_SECOND}/s on ${TOPIC}, broker ${b.url}`);
          const [published, faulted] = await Promise.allSettled([publishAll(w, first, sent, stop), faults]);
          if (faulted.status === 'rejected') throw faulted.reason;
          if (published.status === 'rejected') throw published.reason;
          note('the local system is done: every record acknowledged by the broker');

          const wanted = new Set(sent.map(String));
          const mine = (all: Received[]): Received[] => all.filter((r) => r.site === SITE && r.key !== undefined && Number(r.key) >= first && Number(r.key) < first + RECORDS);
          let received: Received[] = [];
          await waitFor(async () => {
            received = mine(await getJson<Received[]>(`${c.url}/received`));
            const have = new Set(received.map((r) => r.key));
            return [...wanted].every((key) => have.has(key));
          }, { timeoutMs: DRAIN_BOUND_MS, intervalMs: 500, message: 'central receiving every sent record' }).catch((err: unknown) => note(`drain bound reached: ${(err as Error).message}`));
          received = mine(await getJson<Received[]>(`${c.url}/received`));
          note(`central holds ${received.length} of them`);

          const keys = received.map((r) => String(r.key));
          const distinct = new Set(keys);
          const twice = keys.length - distinct.size;
          const lost = [...wanted].filter((key) => !distinct.has(key));
          let outOfOrder = 0;
          let highest = -1;
          const disorder: string[] = [];
          const seen = new Set<string>();
          for (const key of keys) {
            if (seen.has(key)) continue;
            seen.add(key);
            const seq = Number(key);
            if (seq < highest) {
              outOfOrder += 1;
              if (disorder.length < 10) disorder.push(`${seq} after ${highest}`);
            } else highest = seq;
          }
          const centralStats = await nodeStats(c.url, CENTRAL_SUBSCRIBE);
          const siteStats = await nodeStats(s.url, RECORDS_SITE_PUBLISH).catch((err: unknown) => ({ error: String(err) }));
          const refusals = (await getJson<Array<{ reject?: { stage?: string; transient?: boolean; reasons?: Array<{ rule?: string }> } }>>(`${s.url}/rejected`)).filter((r) => r.reject !== undefined);
          const final = refusals.filter((r) => r.reject?.transient !== true);
          const byRule = new Map<string, number>();
          for (const r of refusals) for (const why of r.reject?.reasons ?? []) byRule.set(`${r.reject?.stage}/${why.rule}${r.reject?.transient ? ' (transient)' : ''}`, (byRule.get(`${r.reject?.stage}/${why.rule}${r.reject?.transient ? ' (transient)' : ''}`) ?? 0) + 1);

          console.log(`chaos (records) against ${kind.name}, run ${run}:\n${timeline.join('\n')}`);
          console.log(`  central ${JSON.stringify(centralStats)}; site publish ${JSON.stringify(siteStats)}; site refusals since its last start ${JSON.stringify(Object.fromEntries(byRule))}`);
          console.log(`sent ${sent.length}, received ${distinct.size}, duplicates dropped ${centralStats.duplicatesDropped ?? 0}, lost ${lost.length}, out of order ${outOfOrder}`);

          assert.equal(sent.length, RECORDS, 'the local system must have every record acknowledged');
          assert.deepEqual(lost.slice(0, 20), [], `${lost.length} records the broker acknowledged never reached central (first 20 shown)`);
          assert.equal(twice, 0, 'a record reached central twice after de-duplication');
          assert.equal(outOfOrder, 0, `records reached central out of order, e.g. ${disorder.join('; ')}`);
          assert.deepEqual(final.slice(0, 5), [], 'the site refused records for good (only transient refusals may happen during the faults)');
        });
      }
    });
  }
});
