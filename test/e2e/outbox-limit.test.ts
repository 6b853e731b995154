// Issue 7, "Must show": the outbox limit holds. With the broker down, a site
// Node-RED whose bus-publish may hold 300 messages gets 500 records over HTTP:
// - whenFull 'reject': the first 300 are accepted (200, durable in the
//   outbox), the other 200 refused (507) with the outbox-full reason and a red
//   status; the stats show depth 300;
// - whenFull 'drop-oldest': all 500 are accepted, the 200 oldest are dropped
//   and reported on the reject output, the newest 300 kept;
// in both, the outbox folder on disk and the process's resident memory stay
// within a stated bound, and once the broker is back every message the outbox
// kept (and no other) reaches a subscriber, once.
//
// The broker is the pack's embedded aedes in a process of its own with disk
// persistence: the observer (a plain MQTT.js client with a persistent session)
// subscribes while it runs, then it is stopped, so the site starts against a
// dead port and the observer's session waits at the broker for what comes.
import { after, before, describe, it } from 'mocha';
import assert from 'node:assert/strict';
import { lstat, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { connect, type MqttClient } from 'mqtt';
import { startBrokerProcess, type BrokerProcess } from '../support/broker-process';
import { startNodeRed, waitFor, type NodeRedProcess } from '../support/node-red-process';
import { SITE_PUBLISH, getJson, nodeStats, postRecord, recordId, siteFlow } from '../fixtures/chaos/site-flow';

const LIMIT = 300;
const POSTS = 500;
/**
 * Small enough to be a real limit, large enough that the count binds first: a
 * shipment in structured mode is about 450 bytes of payload and topic, so 300
 * of them take some 135 kB of the 256 KiB.
 */
const MAX_BYTES = 256 * 1024;
/**
 * The outbox folder is a LevelDB database. Its data is bounded by maxBytes
 * plus a per-entry overhead (a 9-byte key and the entry's header, well under
 * the payload's size), and LevelDB keeps every write in its write-ahead log
 * until the 4 MiB memtable is flushed: appends and, for drop-oldest, deletes,
 * so up to a few times maxBytes here. 10 × maxBytes covers that with room to
 * spare; on top come LevelDB's fixed files (CURRENT, LOCK, MANIFEST, the
 * text LOG and an OPTIONS file: a few kB, at most 1 MiB counting a LOG that
 * rotated). So 10 × 256 KiB + 1 MiB = 3.5 MiB. An outbox that grew with every
 * refused message, or kept all 500, would still fit in that: the sharper
 * check is that refusing 200 more messages writes nothing (REFUSED_GROWTH).
 */
const DISK_BOUND = 10 * MAX_BYTES + 1024 * 1024;
/** What refusing a message may add to the outbox folder: nothing is written, so only LevelDB's text LOG could move. */
const REFUSED_GROWTH = 16 * 1024;
/**
 * Resident memory may grow while Node-RED serves 500 requests (JIT-compiled
 * code, the HTTP parser's and the heap's first expansions, the 300 messages
 * waiting for their PUBACK): 64 MiB is generous for that and far below what
 * an outbox held in memory without limit would reach in a real outage.
 */
const RSS_GROWTH_BOUND = 64 * 1024 * 1024;

interface Case {
  whenFull: 'reject' | 'drop-oldest';
  site: string;
}

const CASES: Case[] = [
  { whenFull: 'reject', site: 'site-outbox-reject' },
  { whenFull: 'drop-oldest', site: 'site-outbox-drop' },
];

interface Rejected { id?: string; reject?: { stage: string; reasons: Array<{ path: string; rule: string; message: string }> } }

/** Resident set size of a process, from /proc/<pid>/status, in bytes. */
async function residentBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status)?.[1];
  if (kb === undefined) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(kb) * 1024;
}

/** Bytes of every file under `dir` (symbolic links not followed); 0 when it does not exist. */
async function folderBytes(dir: string): Promise<number> {
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch {
    return 0;
  }
  let total = 0;
  for (const name of entries) {
    const path = join(dir, name);
    const info = await lstat(path);
    if (info.isDirectory()) total += await folderBytes(path);
    else if (info.isFile()) total += info.size;
  }
  return total;
}

/** A plain MQTT.js subscriber with a persistent session, collecting the envelope ids of what it receives. */
function observer(url: string, clientId: string, ids: string[]): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const client = connect(url, { clientId, clean: false, protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5_000 });
    client.on('message', (_topic, body) => {
      const event = JSON.parse(body.toString('utf8')) as { id?: string };
      ids.push(String(event.id));
    });
    client.once('connect', () => resolve(client));
    client.once('error', (err) => {
      client.end(true);
      reject(err);
    });
  });
}

const kib = (bytes: number): string => `${(bytes / 1024).toFixed(0)} KiB`;

for (const c of CASES) {
  describe(`the outbox limit with the broker down, whenFull ${c.whenFull}`, function (this: Mocha.Suite) {
    this.timeout(180_000);
    let broker: BrokerProcess | undefined;
    let site: NodeRedProcess | undefined;
    let watcher: MqttClient | undefined;
    const observerId = `outbox-observer-${c.whenFull}`;
    const seen: string[] = [];

    before(async () => {
      broker = await startBrokerProcess({ persistence: 'disk' });
      // The observer's persistent session and subscription, stored by the broker before it goes down.
      const first = await observer(broker.url, observerId, seen);
      await first.subscribeAsync(`cdm/shipment/+/${c.site}`, { qos: 1 });
      await first.endAsync();
      await broker.halt('SIGTERM');
      site = await startNodeRed({
        flows: siteFlow({ brokerUrl: broker.url, protocolVersion: '4', clientId: `outbox-site-${c.whenFull}`, outboxMaxCount: LIMIT, outboxMaxBytes: MAX_BYTES, whenFull: c.whenFull }),
      });
    });

    after(async () => {
      await watcher?.endAsync(true).catch(() => undefined);
      await site?.stop();
      await broker?.stop();
    });

    it(`${POSTS} records into an outbox of ${LIMIT}: ${c.whenFull === 'reject' ? 'the rest refused with the reason' : 'the oldest dropped and reported'}; disk and memory bounded; what was kept arrives once the broker is back`, async () => {
      const s = site!;
      const b = broker!;
      const outboxDir = join(s.userDir, 'tectonic');
      const rssBefore = await residentBytes(s.pid);

      const statuses: number[] = [];
      const bodies: unknown[] = [];
      let diskAtLimit = 0;
      for (let seq = 1; seq <= POSTS; seq += 1) {
        const answer = await postRecord(s.url, c.site, seq);
        statuses.push(answer.status);
        bodies.push(answer.body);
        if (seq === LIMIT) diskAtLimit = await folderBytes(outboxDir);
      }
      const diskAfter = await folderBytes(outboxDir);
      const rssAfter = await residentBytes(s.pid);
      const stats = await nodeStats(s.url, SITE_PUBLISH);
      const status = await waitFor(async () => {
        const current = await getJson<{ fill?: string; text?: string } | null>(`${s.url}/publish-status`);
        return current !== null && (current.text ?? '').includes(String(LIMIT)) ? current : false;
      }, { timeoutMs: 10_000, message: `the node status showing ${LIMIT}` });
      const rejected = await getJson<Rejected[] | null>(`${s.url}/rejected`) ?? [];
      console.log(`whenFull ${c.whenFull}: answers ${JSON.stringify(countBy(statuses))}; stats ${JSON.stringify(stats)}; status ${JSON.stringify(status)}; ` +
        `outbox folder ${kib(diskAtLimit)} after ${LIMIT}, ${kib(diskAfter)} after ${POSTS} (bound ${kib(DISK_BOUND)}); RSS ${kib(rssBefore)} before, ${kib(rssAfter)} after (bound +${kib(RSS_GROWTH_BOUND)})`);

      const kept = c.whenFull === 'reject' ? range(1, LIMIT) : range(POSTS - LIMIT + 1, POSTS);
      const refused = c.whenFull === 'reject' ? range(LIMIT + 1, POSTS) : range(1, POSTS - LIMIT);
      if (c.whenFull === 'reject') {
        assert.deepEqual(statuses.slice(0, LIMIT), Array<number>(LIMIT).fill(200), `the first ${LIMIT} records must be accepted`);
        assert.deepEqual(statuses.slice(LIMIT), Array<number>(POSTS - LIMIT).fill(507), `records past the limit must be refused with 507`);
        for (const body of bodies.slice(LIMIT)) {
          const reasons = (body as Rejected).reject?.reasons ?? [];
          assert.equal(reasons[0]?.rule, 'outbox-full', `refusal without the outbox-full reason: ${JSON.stringify(body)}`);
          assert.match(reasons[0]?.message ?? '', new RegExp(`the outbox holds ${LIMIT} messages \\(limit ${LIMIT}\\)`));
        }
        assert.equal(status.fill, 'red', 'a full outbox shows a red status');
        assert.match(status.text ?? '', /outbox full/);
        assert.equal(stats.accepted, LIMIT);
        assert.equal(stats.rejected, POSTS - LIMIT);
      } else {
        assert.deepEqual(statuses, Array<number>(POSTS).fill(200), 'drop-oldest accepts every new record');
        assert.equal(stats.accepted, POSTS);
        assert.equal(stats.dropped, POSTS - LIMIT);
        for (const entry of rejected) assert.equal(entry.reject?.reasons[0]?.rule, 'outbox-dropped', `a dropped message reported without its reason: ${JSON.stringify(entry)}`);
      }
      // Refused or dropped, each is reported once on the reject output, by id.
      assert.deepEqual(rejected.map((r) => r.id).sort(), refused.map((seq) => recordId(c.site, seq)).sort(), 'the reject output must report exactly the refused (or dropped) records');
      assert.equal(stats.outboxDepth, LIMIT, 'the outbox holds exactly its limit');
      assert.ok((stats.outboxBytes ?? Infinity) <= MAX_BYTES, `the outbox holds ${stats.outboxBytes} bytes, more than its limit of ${MAX_BYTES}`);
      assert.ok(diskAfter > 0, `no outbox found under ${outboxDir}`);
      assert.ok(diskAfter <= DISK_BOUND, `the outbox folder takes ${diskAfter} bytes, more than ${DISK_BOUND}`);
      if (c.whenFull === 'reject') {
        assert.ok(diskAfter - diskAtLimit <= REFUSED_GROWTH, `refusing ${POSTS - LIMIT} messages grew the outbox folder from ${diskAtLimit} to ${diskAfter} bytes`);
      }
      assert.ok(rssAfter - rssBefore <= RSS_GROWTH_BOUND, `resident memory grew from ${rssBefore} to ${rssAfter} bytes`);

      // The broker comes back: the outbox drains, and the observer's session gets what was kept.
      const keptIds = kept.map((seq) => recordId(c.site, seq));
      await b.start();
      watcher = await observer(b.url, observerId, seen);
      await waitFor(async () => {
        const now = await nodeStats(s.url, SITE_PUBLISH);
        return now.outboxDepth === 0 && now.published === LIMIT && new Set(seen).size >= LIMIT;
      }, { timeoutMs: 60_000, intervalMs: 250, message: `the outbox draining ${LIMIT} messages to the observer` }).catch(async (err: unknown) => {
        const missing = keptIds.filter((id) => !seen.includes(id));
        throw new Error(`${err instanceof Error ? err.message : String(err)}: stats ${JSON.stringify(await nodeStats(s.url, SITE_PUBLISH))}, ` +
          `observer has ${new Set(seen).size}, missing ${missing.length} (first 20: ${missing.slice(0, 20).join(', ')})`, { cause: err });
      });
      // QoS 1 is at-least-once on the wire: a redelivery to this raw client is
      // allowed (bus-subscribe is what drops duplicates), so the check is on
      // distinct ids, and order on each id's first arrival.
      const firstArrivals = [...new Set(seen)];
      console.log(`whenFull ${c.whenFull}: after the broker came back the observer received ${seen.length} messages (${firstArrivals.length} distinct), ${seen[0] ?? '-'} to ${seen.at(-1) ?? '-'}`);
      assert.deepEqual([...firstArrivals].sort(), keptIds.sort(), 'the subscriber must get exactly the messages the outbox kept');
      assert.deepEqual(firstArrivals, [...firstArrivals].sort(), 'the kept messages must arrive in the order the site accepted them');
    });
  });
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

function countBy(values: number[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) out[String(v)] = (out[String(v)] ?? 0) + 1;
  return out;
}
