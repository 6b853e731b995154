// Issue 7, "Must show": the chaos test. A site Node-RED publishes 5,000
// canonical shipments at a steady rate through bus-publish while the broker
// is stopped and started again twice and the site's Node-RED is killed with
// SIGKILL and started again once (same user folder, so its outbox survives);
// a central Node-RED's bus-subscribe (persistent session, fixed client id,
// de-duplication on) must end up with every id the site accepted, each once,
// in the order the site accepted them. Run against the pack's embedded aedes
// (in a process of its own, with disk persistence) and against Debian's
// mosquitto (with persistence). It prints
//   sent N, received N, duplicates dropped D, lost L, out of order O
// and fails on any loss, disorder or duplicate.
//
// The source posts one record at a time and waits for the answer, so the
// order the site accepts records in is the seq order: any seq lower than one
// already received is disorder introduced downstream of the site's acceptance.
// A POST the site does not answer (it is down, or killed mid-request) is
// retried with the same seq once it is back: at-least-once from the source,
// as a real feed would do; the envelope id is derived from the seq, so a retry
// of a record that had already become durable is a duplicate on the wire,
// which central must drop.
import { after, before, describe, it } from 'mocha';
import assert from 'node:assert/strict';
import { startBrokerProcess } from '../support/broker-process';
import { startMosquitto } from '../support/mosquitto';
import { delay, startNodeRed, waitFor, type NodeRedProcess } from '../support/node-red-process';
import { CENTRAL_SUBSCRIBE, centralFlow } from '../fixtures/chaos/central-flow';
import { SITE_PUBLISH, getJson, nodeStats, postRecord, recordId, siteFlow } from '../fixtures/chaos/site-flow';

const RECORDS = 5_000;
const RATE_PER_SECOND = 250;
const SITE = 'site-chaos';
/** A separate site id for the warm-up record that proves the whole path before the clock starts. */
const WARMUP_SITE = 'site-warmup';
const BROKER_DOWN_MS = 3_000;
/** The site stays dead this long before it is started again (its start-up adds about a second). */
const SITE_DOWN_MS = 2_000;
/** Bounds: the source must get all 5,000 accepted within SEND_BOUND_MS; central must have them DRAIN_BOUND_MS later. */
const SEND_BOUND_MS = 75_000;
const DRAIN_BOUND_MS = 60_000;

/** What the chaos test needs of a broker: stop it and start it again with its sessions and queues. */
interface BrokerUnderTest {
  readonly url: string;
  readonly pid: number;
  halt(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
  output(): string;
}

interface BrokerKind {
  /** Part of the client ids, so the two runs never share a session. */
  id: string;
  name: string;
  /** aedes speaks MQTT 3.1.1; mosquitto is driven over MQTT 5, whose persistent sessions need a session expiry. */
  protocolVersion: '4' | '5';
  launch(): Promise<BrokerUnderTest>;
}

const BROKERS: BrokerKind[] = [
  {
    id: 'aedes',
    name: 'the embedded aedes (own process, disk persistence)',
    protocolVersion: '4',
    launch: async () => {
      const broker = await startBrokerProcess({ persistence: 'disk' });
      return {
        url: broker.url,
        get pid() { return broker.pid; },
        halt: () => broker.halt('SIGTERM'),
        start: () => broker.start(),
        stop: () => broker.stop(),
        output: () => broker.output(),
      };
    },
  },
  {
    // MQTT 5 by default; CHAOS_MOSQUITTO_MQTT=4 runs the same over 3.1.1, to
    // tell a session-expiry problem (MQTT 5 only) from anything else.
    id: 'mosquitto',
    name: "Debian's mosquitto (persistence true)",
    protocolVersion: process.env.CHAOS_MOSQUITTO_MQTT === '4' ? '4' : '5',
    launch: async () => {
      // mosquitto holds 1,000 queued messages per client by default and drops
      // the rest silently; a site flushing its outbox while central has not
      // reconnected yet can go past that, so the bound is raised above RECORDS.
      const broker = await startMosquitto({ persistence: true, maxQueuedMessages: 2 * RECORDS });
      return {
        url: broker.url,
        get pid() { return broker.pid; },
        halt: () => broker.halt('SIGTERM'),
        start: () => broker.start(),
        stop: () => broker.stop(),
        output: () => broker.output(),
      };
    },
  },
];

interface Received { site: string; id: string }

interface SendReport {
  /** Set when the fault timeline failed: the source stops instead of running into its bound. */
  abandoned: boolean;
  accepted: Set<number>;
  attempts: number;
  /** Answers other than 200, by status (0 = no answer). */
  refusals: Map<number, number>;
  /** ms since the start when the last record was accepted. */
  finishedAt: number;
}

/** The events of one run, in ms since the source started, for the printed timeline. */
class Timeline {
  readonly events: Array<{ at: number; what: string }> = [];
  /** When the last fault ended (the broker or the site back), ms since the start. */
  lastFaultAt = 0;
  constructor(private readonly t0: number, private readonly progress: () => number) {}
  note(what: string, fault = false): number {
    const at = Date.now() - this.t0;
    this.events.push({ at, what: `${what} (${this.progress()} accepted so far)` });
    if (fault) this.lastFaultAt = at;
    return at;
  }
  toString(): string {
    return this.events.map((e) => `  t=${(e.at / 1000).toFixed(2)}s  ${e.what}`).join('\n');
  }
}

/**
 * Posts seq 1..RECORDS one at a time, paced at RATE_PER_SECOND. Behind
 * schedule (after an outage) it sends as fast as the site answers, but never
 * builds up more than a second of catch-up.
 */
async function sendAll(site: NodeRedProcess, t0: number, report: SendReport): Promise<void> {
  const interval = 1000 / RATE_PER_SECOND;
  const deadline = t0 + SEND_BOUND_MS;
  let due = t0;
  for (let seq = 1; seq <= RECORDS; seq += 1) {
    const now = Date.now();
    if (due > now) await delay(due - now);
    due = Math.max(due + interval, Date.now() - 1000);
    for (;;) {
      if (report.abandoned) throw new Error('the source stopped: the fault timeline failed');
      if (Date.now() > deadline) {
        throw new Error(`the site accepted ${report.accepted.size} of ${RECORDS} records within ${SEND_BOUND_MS} ms (stuck at seq ${seq})`);
      }
      report.attempts += 1;
      const answer = await postRecord(site.url, SITE, seq);
      if (answer.status === 200) {
        report.accepted.add(seq);
        break;
      }
      report.refusals.set(answer.status, (report.refusals.get(answer.status) ?? 0) + 1);
      // The site is down or restarting: ask again shortly, with the same seq.
      await delay(answer.status === 0 ? 100 : 50);
    }
  }
  report.finishedAt = Date.now() - t0;
}

/** The faults, at fixed times from the start of sending; each waits for the previous one to finish. */
async function runFaults(broker: BrokerUnderTest, site: NodeRedProcess, timeline: Timeline, t0: number): Promise<void> {
  const at = async (ms: number): Promise<void> => {
    const wait = t0 + ms - Date.now();
    if (wait > 0) await delay(wait);
  };
  const bounce = async (): Promise<void> => {
    timeline.note(`broker stopped (SIGTERM, pid ${broker.pid})`, true);
    await broker.halt();
    await delay(BROKER_DOWN_MS);
    await broker.start();
    timeline.note(`broker started again (pid ${broker.pid})`, true);
  };
  await at(3_000);
  await bounce();
  await at(9_000);
  const killed = site.pid;
  await site.kill();
  timeline.note(`site Node-RED killed (SIGKILL, pid ${killed})`, true);
  await delay(SITE_DOWN_MS);
  await site.restart();
  timeline.note(`site Node-RED started again and deployed its flows (pid ${site.pid})`, true);
  const since = Date.now() - t0;
  await at(Math.max(16_000, since + 2_000));
  await bounce();
}

/** Central's list of what its bus-subscribe passed on, in arrival order. */
async function receivedAtCentral(central: NodeRedProcess): Promise<Received[]> {
  return getJson<Received[]>(`${central.url}/received`);
}

function seqOf(id: string): number {
  return Number(id.slice(SITE.length + 1));
}

for (const kind of BROKERS) {
  describe(`chaos against ${kind.name}`, function (this: Mocha.Suite) {
    this.timeout(240_000);
    let broker: BrokerUnderTest | undefined;
    let central: NodeRedProcess | undefined;
    let site: NodeRedProcess | undefined;

    before(async () => {
      broker = await kind.launch();
      central = await startNodeRed({ flows: centralFlow({ brokerUrl: broker.url, protocolVersion: kind.protocolVersion, clientId: `chaos-central-${kind.id}` }) });
      site = await startNodeRed({ flows: siteFlow({ brokerUrl: broker.url, protocolVersion: kind.protocolVersion, clientId: `chaos-site-${kind.id}` }) });
    });

    after(async () => {
      // Each stops its own process by pid; one failing must not keep the others running.
      await Promise.allSettled([site?.stop(), central?.stop()]);
      await broker?.stop();
    });

    it(`5,000 records through 2 broker restarts and a site SIGKILL: none lost, none twice, in order`, async () => {
      const s = site!;
      const c = central!;
      const b = broker!;

      // One record end to end before the clock starts: central is connected and subscribed.
      const warmup = await waitFor(async () => (await postRecord(s.url, WARMUP_SITE, 0)).status === 200, { timeoutMs: 20_000, message: 'the site accepting the warm-up record' });
      assert.ok(warmup);
      await waitFor(async () => (await receivedAtCentral(c)).some((r) => r.id === recordId(WARMUP_SITE, 0)), { timeoutMs: 20_000, message: 'central receiving the warm-up record' });

      const report: SendReport = { abandoned: false, accepted: new Set(), attempts: 0, refusals: new Map(), finishedAt: 0 };
      const t0 = Date.now();
      const timeline = new Timeline(t0, () => report.accepted.size);
      timeline.note(`source starts: ${RECORDS} records at ${RATE_PER_SECOND}/s to ${s.url}, broker ${b.url} (MQTT ${kind.protocolVersion === '4' ? '3.1.1' : '5'})`);

      const sending = sendAll(s, t0, report);
      const faults = runFaults(b, s, timeline, t0).catch((err: unknown) => {
        report.abandoned = true;
        throw err;
      });
      // Both run to the end (or fail) before anything is judged; a fault that throws must not leave the source running.
      const [sent, faulted] = await Promise.allSettled([sending, faults]);
      if (faulted.status === 'rejected') throw faulted.reason;
      if (sent.status === 'rejected') throw sent.reason;
      timeline.note(`source done: every seq accepted after ${report.attempts} POSTs`);

      // Wait (bounded) until central has every accepted id, then judge whatever is there.
      const wanted = new Set([...report.accepted].map((seq) => recordId(SITE, seq)));
      let received: Received[] = [];
      await waitFor(async () => {
        received = (await receivedAtCentral(c)).filter((r) => r.site === SITE);
        const have = new Set(received.map((r) => r.id));
        return [...wanted].every((id) => have.has(id));
      }, { timeoutMs: DRAIN_BOUND_MS, intervalMs: 500, message: 'central receiving every accepted record' }).catch((err: unknown) => {
        timeline.note(`drain bound reached: ${err instanceof Error ? err.message : String(err)}`);
      });
      received = (await receivedAtCentral(c)).filter((r) => r.site === SITE);
      timeline.note(`central holds ${received.length} entries for ${SITE}`);

      const centralStats = await nodeStats(c.url, CENTRAL_SUBSCRIBE);
      const siteStats = await nodeStats(s.url, SITE_PUBLISH).catch((err: unknown) => ({ error: String(err) }));

      const ids = received.map((r) => r.id);
      const distinct = new Set(ids);
      const duplicatesInList = ids.length - distinct.size;
      const duplicatesDropped = (centralStats.duplicatesDropped ?? 0) + duplicatesInList;
      const lost = [...wanted].filter((id) => !distinct.has(id));
      let outOfOrder = 0;
      let highest = -1;
      const disorder: string[] = [];
      const seen = new Set<string>();
      for (const id of ids) {
        if (seen.has(id)) continue; // counted as a duplicate, not as disorder
        seen.add(id);
        const seq = seqOf(id);
        if (seq < highest) {
          outOfOrder += 1;
          if (disorder.length < 10) disorder.push(`${id} after ${recordId(SITE, highest)}`);
        } else {
          highest = seq;
        }
      }
      const unexpected = [...distinct].filter((id) => !wanted.has(id));

      console.log(`chaos against ${kind.name}: fault timeline\n${timeline.toString()}`);
      console.log(`  POSTs ${report.attempts}, not accepted ${JSON.stringify(Object.fromEntries(report.refusals))} (0 = no answer); central ${JSON.stringify(centralStats)}; site after restart ${JSON.stringify(siteStats)}`);
      console.log(`sent ${report.accepted.size}, received ${distinct.size}, duplicates dropped ${duplicatesDropped}, lost ${lost.length}, out of order ${outOfOrder}`);

      assert.equal(report.accepted.size, RECORDS, 'the site must accept every record of the source');
      assert.ok(timeline.lastFaultAt < report.finishedAt, `the faults must happen while records are being sent (last fault over at ${timeline.lastFaultAt} ms, last record accepted at ${report.finishedAt} ms)`);
      assert.deepEqual(lost.slice(0, 20), [], `${lost.length} accepted records never reached central (first 20 shown); broker output:\n${b.output().slice(-4000)}`);
      assert.equal(outOfOrder, 0, `records reached central out of per-site order, e.g. ${disorder.join('; ')}`);
      assert.equal(distinct.size, report.accepted.size, 'central received a different number of records than the site accepted');
      assert.deepEqual(unexpected, [], 'central received ids the site never accepted');
      assert.equal(duplicatesInList, 0, 'a duplicate went past bus-subscribe\'s de-duplication');
    });
  });
}
