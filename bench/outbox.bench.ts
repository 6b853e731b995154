import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ClassicLevel } from 'classic-level';
import { DurableOutbox } from '../lib/outbox/durable-outbox';
import { encodeEntry, entryKey } from '../lib/outbox/entry-codec';

/**
 * Durable appends per second (issue 7): the outbox with group commit (many
 * producers' appends share one fsync) against one synced LevelDB write per
 * message, the naive way. Both write the same 300-byte records and count a
 * message only once it is on disk. Bounded: at most MESSAGES or TIME_CAP_MS
 * per case, whichever comes first.
 */
const MESSAGES = 50_000;
const TIME_CAP_MS = 3_000;
const CONCURRENCY = 256;
const payload = Buffer.alloc(300 - 22, 'x');
const message = { topic: 'cdm/shipment/v1/site-a', payload, qos: 1 as const, key: 'site-a' };

async function groupCommit(dir: string): Promise<number> {
  const outbox = await DurableOutbox.open({ dir, maxCount: MESSAGES * 2, maxBytes: 1 << 30, whenFull: 'reject' });
  const deadline = performance.now() + TIME_CAP_MS;
  let issued = 0;
  let done = 0;
  const started = performance.now();
  const producer = async (): Promise<void> => {
    while (issued < MESSAGES && performance.now() < deadline) {
      issued += 1;
      const result = await outbox.append(message);
      if (!result.ok) throw new Error(result.reason.message);
      done += 1;
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, () => producer()));
  const seconds = (performance.now() - started) / 1000;
  await outbox.close();
  return done / seconds;
}

async function syncEach(dir: string): Promise<number> {
  const db = new ClassicLevel<Buffer, Buffer>(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
  await db.open();
  const deadline = performance.now() + TIME_CAP_MS;
  let seq = 0;
  const started = performance.now();
  while (seq < MESSAGES && performance.now() < deadline) {
    await db.put(entryKey(seq), encodeEntry(message, Date.now()), { sync: true });
    seq += 1;
  }
  const seconds = (performance.now() - started) / 1000;
  await db.close();
  return seq / seconds;
}

async function main(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'tectonic-outbox-bench-'));
  try {
    const naive = await syncEach(join(root, 'sync-each'));
    const grouped = await groupCommit(join(root, 'group'));
    console.log(`one sync write per message   ${Math.round(naive).toLocaleString('en')} durable appends/s`);
    console.log(`outbox, group commit (2 ms)  ${Math.round(grouped).toLocaleString('en')} durable appends/s (${CONCURRENCY} concurrent producers)`);
    console.log(`ratio                        ${(grouped / naive).toFixed(1)}×`);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
