// The durable outbox on a real LevelDB in a scratch folder: order, recovery
// (after close and after SIGKILL), bounds with both policies, redelivery
// order, disk use under churn, corrupt entries and concurrent appends.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'mocha';
import { ClassicLevel } from 'classic-level';
import { DurableOutbox, type OutboxMessage, type OutboxOptions } from '../../../lib/outbox/durable-outbox';
import { encodeEntry, entryKey } from '../../../lib/outbox/entry-codec';
import type { Reason } from '../../../lib/reasons';
import { repoRoot, tempDir } from '../../support/node-red-process';
import { tectonicError } from '../bus/mqtt-helpers';

describe('lib/outbox/durable-outbox', () => {
  const scratch: { remove(): Promise<void> }[] = [];
  const open: DurableOutbox[] = [];

  after(async () => {
    await Promise.all(open.map((o) => o.close()));
    await Promise.all(scratch.map((s) => s.remove()));
  });

  async function folder(): Promise<string> {
    const dir = await tempDir('tectonic-outbox-');
    scratch.push(dir);
    return dir.path;
  }

  async function outboxIn(dir: string, options: Partial<OutboxOptions> = {}): Promise<DurableOutbox> {
    const outbox = await DurableOutbox.open({ dir, maxCount: 1000, maxBytes: 1 << 20, whenFull: 'reject', ...options });
    open.push(outbox);
    return outbox;
  }

  function message(n: number, bytes = 0): OutboxMessage {
    return { topic: `cdm/shipment/v1/site-a`, payload: bytes > 0 ? Buffer.alloc(bytes, n % 256) : Buffer.from(`record ${n}`), qos: 1, key: 'site-a' };
  }

  async function appendOk(outbox: DurableOutbox, m: OutboxMessage): Promise<number> {
    const result = await outbox.append(m);
    if (!result.ok) throw new Error(`append refused: ${result.reason.message}`);
    return result.seq;
  }

  /** Everything next() hands out now, in the order it does. */
  function drain(outbox: DurableOutbox): { seq: number; payload: string }[] {
    const out: { seq: number; payload: string }[] = [];
    for (let entry = outbox.next(); entry !== undefined && out.length < 100_000; entry = outbox.next()) out.push({ seq: entry.seq, payload: entry.payload.toString() });
    return out;
  }

  /** Bytes in `dir` now; a file LevelDB deletes between the listing and the stat counts as 0. */
  function folderBytes(dir: string): number {
    return readdirSync(dir).reduce((sum, name) => sum + (statSync(join(dir, name), { throwIfNoEntry: false })?.size ?? 0), 0);
  }

  describe('DurableOutbox', () => {
    it('hands entries out in append order with what was appended', async () => {
      const outbox = await outboxIn(await folder());
      const seqs = await Promise.all(Array.from({ length: 50 }, (_, n) => appendOk(outbox, message(n))));
      assert.deepEqual(seqs, Array.from({ length: 50 }, (_, n) => n));
      const first = outbox.next();
      assert.deepEqual(
        first && { seq: first.seq, topic: first.topic, payload: first.payload.toString(), qos: first.qos, key: first.key, attempts: first.attempts },
        { seq: 0, topic: 'cdm/shipment/v1/site-a', payload: 'record 0', qos: 1, key: 'site-a', attempts: 0 },
      );
      assert.deepEqual(
        drain(outbox).map((e) => e.payload),
        Array.from({ length: 49 }, (_, n) => `record ${n + 1}`),
      );
      assert.equal(outbox.next(), undefined);
      assert.equal(outbox.depth, 50, 'handed out is still held until acked');
    });

    it('keeps properties and enqueuedAt through a reopen', async () => {
      const dir = await folder();
      const first = await outboxIn(dir, { now: () => 1_700_000_000_000 });
      await appendOk(first, { ...message(1), properties: { contentType: 'application/json', userProperties: { id: '01J', tags: ['a', 'b'] } } });
      await first.close();
      const second = await outboxIn(dir);
      const entry = second.next();
      assert.deepEqual(entry?.properties, { contentType: 'application/json', userProperties: { id: '01J', tags: ['a', 'b'] } });
      assert.equal(entry?.enqueuedAt, 1_700_000_000_000);
    });

    it('a text payload counts and keeps its UTF-8 bytes: weighed so, written so, and read back as those bytes', async () => {
      const dir = await folder();
      const text = '{"name":"Müller","city":"Köln €"}';
      const bytes = Buffer.byteLength(text, 'utf8');
      const topic = 'cdm/shipment/v1/site-a';
      const first = await outboxIn(dir, { maxBytes: bytes + topic.length });
      await appendOk(first, { topic, payload: text, qos: 1 });
      const refused = await first.append({ topic, payload: 'x', qos: 1 });
      assert.equal(refused.ok, false, 'the outbox is full by the UTF-8 size, not the number of characters');
      assert.equal(first.bytes, bytes + topic.length);
      await first.close();
      const second = await outboxIn(dir);
      assert.deepEqual(second.next()?.payload, Buffer.from(text, 'utf8'));
    });

    it('after a reopen, what was not acked is there in order, and new seqs continue past every earlier one', async () => {
      const dir = await folder();
      const first = await outboxIn(dir);
      for (let n = 0; n < 10; n += 1) await appendOk(first, message(n));
      for (const seq of [0, 1, 2, 5]) {
        first.next();
        await first.ack(seq);
      }
      await first.close();
      const second = await outboxIn(dir);
      assert.equal(second.depth, 6);
      assert.deepEqual(
        drain(second).map((e) => e.seq),
        [3, 4, 6, 7, 8, 9],
      );
      for (const seq of [3, 4, 6, 7, 8, 9]) await second.ack(seq);
      await second.close();
      // Everything was acked and deleted: the stored next-seq keeps seqs unique.
      const third = await outboxIn(dir);
      assert.equal(third.depth, 0);
      assert.equal(await appendOk(third, message(10)), 10);
    });

    it('every append acknowledged before a SIGKILL is there after a reopen, in order', async function (this: Mocha.Context) {
      this.timeout(60_000);
      const dir = await folder();
      const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'append-until-killed.ts'), dir], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      let errors = '';
      child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (errors += chunk.toString()));
      const exited = new Promise<NodeJS.Signals | number | null>((resolve) => child.once('exit', (code, signal) => resolve(signal ?? code)));
      const acknowledged = (): number => output.split('\n').length - 2;
      const deadline = Date.now() + 30_000;
      while (acknowledged() < 2000 && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 20));
      assert.ok(acknowledged() >= 2000, `the child acknowledged ${acknowledged()} appends before the deadline (stderr: ${errors})`);
      assert.equal(child.kill('SIGKILL'), true);
      assert.equal(await exited, 'SIGKILL');

      const printed = output
        .split('\n')
        .filter((line) => /^\d+ \d+$/.test(line))
        .map((line) => line.split(' ').map(Number) as [number, number]);
      const outbox = await outboxIn(dir, { maxCount: 1_000_000, maxBytes: 1 << 30 });
      const recovered = new Map(drain(outbox).map((e) => [e.seq, e.payload]));
      const missing = printed.filter(([seq, n]) => recovered.get(seq) !== `message ${n}`);
      assert.deepEqual(missing, [], `${printed.length} acknowledged, ${recovered.size} recovered`);
      const order = [...recovered.keys()];
      assert.deepEqual(order, [...order].sort((a, b) => a - b));
    });

    describe('bounds', () => {
      it("'reject' refuses past maxCount with the reason, and accepts again once one is acked", async () => {
        const outbox = await outboxIn(await folder(), { maxCount: 3 });
        for (let n = 0; n < 3; n += 1) await appendOk(outbox, message(n));
        assert.deepEqual(await outbox.append(message(3)), {
          ok: false,
          reason: {
            path: '',
            rule: 'outbox-full',
            message: 'the outbox holds 3 messages (limit 3) and 90 bytes (limit 1048576); the bus has not taken them yet, so this message was refused',
          },
          transient: true,
        });
        outbox.next();
        await outbox.ack(0);
        assert.equal(await appendOk(outbox, message(4)), 3);
        assert.equal(outbox.depth, 3);
      });

      it("'reject' refuses past maxBytes, counting appends not yet on disk", async () => {
        // topic 22 bytes + payload 78 = 100 bytes each.
        const outbox = await outboxIn(await folder(), { maxBytes: 250 });
        const results = await Promise.all([0, 1, 2].map((n) => outbox.append(message(n, 78))));
        assert.deepEqual(
          results.map((r) => (r.ok ? 'ok' : r.reason.rule)),
          ['ok', 'ok', 'outbox-full'],
        );
        assert.equal(outbox.bytes, 200);
      });

      it('a message bigger than the whole outbox is refused whatever the policy', async () => {
        for (const whenFull of ['reject', 'drop-oldest'] as const) {
          const outbox = await outboxIn(await folder(), { maxBytes: 100, whenFull });
          const result = await outbox.append(message(0, 79));
          assert.deepEqual(result, {
            ok: false,
            reason: { path: '', rule: 'outbox-message-too-large', message: 'the message is 101 bytes (payload and topic), more than the whole outbox may hold (100 bytes)' },
            transient: false,
          });
        }
      });

      it("'drop-oldest' evicts the oldest waiting entries, returns them, and skips those in flight", async () => {
        const dir = await folder();
        const outbox = await outboxIn(dir, { maxCount: 3, whenFull: 'drop-oldest' });
        for (let n = 0; n < 3; n += 1) await appendOk(outbox, message(n));
        assert.equal(outbox.next()?.seq, 0, 'seq 0 is in flight');
        const result = await outbox.append(message(3));
        assert.deepEqual(result.ok && { seq: result.seq, dropped: result.dropped.map((e) => [e.seq, e.payload.toString()]) }, { seq: 3, dropped: [[1, 'record 1']] });
        assert.equal(outbox.depth, 3);
        assert.deepEqual(
          drain(outbox).map((e) => e.seq),
          [2, 3],
        );
        await outbox.close();
        // The eviction was written with the append: it stays evicted after a reopen.
        const reopened = await outboxIn(dir, { maxCount: 3, whenFull: 'drop-oldest' });
        assert.deepEqual(
          drain(reopened).map((e) => e.seq),
          [0, 2, 3],
        );
      });

      it("'drop-oldest' evicts as many as the bytes need, and refuses when only entries in flight could go", async () => {
        const outbox = await outboxIn(await folder(), { maxBytes: 300, whenFull: 'drop-oldest' });
        for (let n = 0; n < 3; n += 1) await appendOk(outbox, message(n, 78)); // 100 bytes each
        const big = await outbox.append(message(3, 178)); // 200 bytes: two must go
        assert.deepEqual(big.ok && big.dropped.map((e) => e.seq), [0, 1]);
        drain(outbox); // 2 and 3 in flight
        const refused = await outbox.append(message(4, 178));
        assert.equal(refused.ok ? 'ok' : refused.reason.rule, 'outbox-full');
        assert.equal(outbox.depth, 2, 'nothing was evicted for a message that was refused');
      });

      it('the folder stays within a small factor of maxBytes after many append/ack cycles', async function (this: Mocha.Context) {
        this.timeout(60_000);
        const dir = await folder();
        const maxBytes = 1 << 20;
        const outbox = await outboxIn(dir, { maxBytes, maxCount: 100_000, commitIntervalMs: 0 });
        // 40 MiB through a 1 MiB outbox, kept about half full.
        const payloadBytes = 4096 - 22;
        let largest = 0;
        for (let round = 0; round < 80; round += 1) {
          const seqs = await Promise.all(Array.from({ length: 128 }, (_, n) => appendOk(outbox, message(n, payloadBytes))));
          for (let e = outbox.next(); e !== undefined; e = outbox.next()) if (e.seq < (seqs[0] ?? 0)) await outbox.ack(e.seq);
          for (const seq of seqs) outbox.release(seq);
          largest = Math.max(largest, folderBytes(dir));
        }
        assert.ok(outbox.bytes <= maxBytes);
        assert.ok(largest <= 4 * maxBytes, `the folder peaked at ${largest} bytes, more than 4 × ${maxBytes}`);
      });
    });

    it('a released entry comes back before everything newer, and after older ones still waiting', async () => {
      const outbox = await outboxIn(await folder());
      for (let n = 0; n < 6; n += 1) await appendOk(outbox, message(n));
      const handed = [outbox.next(), outbox.next(), outbox.next()].map((e) => e?.seq);
      assert.deepEqual(handed, [0, 1, 2]);
      outbox.release(2);
      outbox.release(1);
      outbox.release(1); // twice is once
      assert.deepEqual(
        drain(outbox).map((e) => e.seq),
        [1, 2, 3, 4, 5],
      );
      outbox.release(3);
      await outbox.ack(3); // acked while waiting: never handed out again
      assert.deepEqual(
        drain(outbox).map((e) => e.seq),
        [],
      );
    });

    it('a corrupt entry is skipped, removed and reported; the others load in order', async () => {
      const dir = await folder();
      const db = new ClassicLevel<Buffer, Buffer>(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
      const good = (n: number): Buffer => encodeEntry(message(n), 0);
      const flipped = good(2);
      flipped.writeUInt8(flipped.readUInt8(flipped.length - 1) ^ 0xff, flipped.length - 1);
      await db.batch([
        { type: 'put', key: entryKey(1), value: good(1) },
        { type: 'put', key: entryKey(2), value: flipped },
        { type: 'put', key: entryKey(3), value: Buffer.from('not an entry') },
        { type: 'put', key: Buffer.from([1, 2, 3]), value: good(4) },
        { type: 'put', key: entryKey(5), value: good(5) },
      ]);
      await db.close();
      const problems: Reason[] = [];
      const outbox = await outboxIn(dir, { onProblem: (p) => problems.push(p) });
      assert.deepEqual(
        drain(outbox).map((e) => [e.seq, e.payload]),
        [
          [1, 'record 1'],
          [5, 'record 5'],
        ],
      );
      assert.deepEqual(problems, [
        { path: 'outbox.2', rule: 'outbox-corrupt-entry', message: 'entry 2 fails its checksum; it was removed' },
        { path: 'outbox.3', rule: 'outbox-corrupt-entry', message: 'entry 3 has format 110, this version reads format 1; it was removed' },
        // Keys sort bytewise: [1, 2, 3] comes after every 9-byte entry key below seq 2^48.
        { path: 'outbox', rule: 'outbox-corrupt-entry', message: `the outbox in ${dir} holds a key of 3 bytes that is not an entry; it was removed` },
      ]);
      assert.equal(await appendOk(outbox, message(6)), 6);
      await outbox.close();
      const again: Reason[] = [];
      await outboxIn(dir, { onProblem: (p) => again.push(p) });
      assert.deepEqual(again, [], 'the corrupt entries are gone for good');
    });

    it('concurrent appends get seqs in call order and share sync batches', async () => {
      const dir = await folder();
      const outbox = await outboxIn(dir, { maxCount: 5000, maxBytes: 1 << 24, commitIntervalMs: 5 });
      const started = performance.now();
      const seqs = await Promise.all(Array.from({ length: 2000 }, (_, n) => appendOk(outbox, message(n))));
      const elapsed = performance.now() - started;
      assert.deepEqual(seqs, Array.from({ length: 2000 }, (_, n) => n));
      assert.deepEqual(
        drain(outbox).map((e) => e.payload),
        Array.from({ length: 2000 }, (_, n) => `record ${n}`),
      );
      // 2000 separate fsyncs take seconds; a handful of group commits take milliseconds.
      assert.ok(elapsed < 1500, `2000 concurrent appends took ${Math.round(elapsed)} ms`);
    });

    it('onChange reports depth and bytes when entries are appended, acked and dropped', async () => {
      const outbox = await outboxIn(await folder(), { maxCount: 2, whenFull: 'drop-oldest' });
      const seen: [number, number][] = [];
      const stop = outbox.onChange((depth, bytes) => seen.push([depth, bytes]));
      await Promise.all([appendOk(outbox, message(0)), appendOk(outbox, message(1))]);
      await appendOk(outbox, message(2)); // drops 0
      outbox.next();
      await outbox.ack(1);
      stop();
      await appendOk(outbox, message(3));
      // Appends show at once; dropping 0 to make room for 2 leaves the depth at 2.
      assert.deepEqual(seen, [
        [1, 30],
        [2, 60],
        [2, 60],
        [1, 30],
      ]);
    });

    it('an entry is handed out before its write, and one the bus takes before the write never reaches the disk', async () => {
      const dir = await folder();
      const outbox = await outboxIn(dir, { commitIntervalMs: 50 });
      const first = outbox.append(message(0));
      const second = outbox.append(message(1));
      const handed = drain(outbox);
      assert.deepEqual(handed.map((e) => e.payload), ['record 0', 'record 1'], 'both are handed out while their batch still waits for its window');
      // The bus takes record 0 inside the commit window: its append is answered without a write.
      await outbox.ack(handed[0]?.seq ?? -1);
      assert.deepEqual(await first, { ok: true, seq: handed[0]?.seq, dropped: [] });
      // Record 1 is not taken: its append waits for the synced write.
      assert.equal((await second).ok, true);
      assert.equal(outbox.depth, 1);
      await outbox.close();
      const db = new ClassicLevel<Buffer, Buffer>(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
      try {
        assert.equal(await db.get(entryKey(handed[0]?.seq ?? -1)), undefined, 'record 0 was never written');
        assert.notEqual(await db.get(entryKey(handed[1]?.seq ?? -1)), undefined, 'record 1 is on disk');
      } finally {
        await db.close();
      }
    });

    it('with a send grace, an entry on its way to the bus waits for its ack and is written only when the grace is over', async () => {
      const dir = await folder();
      let clock = 1_000;
      let sending = true;
      const outbox = await outboxIn(dir, { commitIntervalMs: 1, sendGraceMs: 200, sending: () => sending, now: () => clock });
      const taken = outbox.append(message(0));
      const slow = outbox.append(message(1));
      const handed = drain(outbox);
      assert.equal(handed.length, 2, 'both are handed out before any write');
      const first = handed[0];
      // Several commit windows pass: neither is written while the bus may still take it.
      await new Promise((resolve) => setTimeout(resolve, 20));
      await outbox.ack(first?.seq ?? -1);
      assert.deepEqual(await taken, { ok: true, seq: first?.seq, dropped: [] });
      let answered = false;
      void slow.then(() => (answered = true));
      await new Promise((resolve) => setTimeout(resolve, 20));
      assert.equal(answered, false, 'the entry still in flight is neither acked nor written yet');
      // The grace is over: the next batch writes it and its append is answered.
      clock += 201;
      assert.equal((await slow).ok, true);
      // While the bus is away, an entry not handed out is written at once.
      sending = false;
      assert.equal((await outbox.append(message(2))).ok, true);
      await outbox.close();
      const reopened = await outboxIn(dir);
      assert.deepEqual(drain(reopened).map((e) => e.payload), ['record 1', 'record 2'], 'only the entries the bus did not take are on disk');
    });

    it('an entry the bus takes while its batch is being written is deleted after the write', async () => {
      const dir = await folder();
      const outbox = await outboxIn(dir, { commitIntervalMs: 0 });
      const appended = outbox.append(message(0));
      const [entry] = drain(outbox);
      // The batch is written on the next turn; ack once the write has started and before it is answered.
      await new Promise((resolve) => setImmediate(resolve));
      await outbox.ack(entry?.seq ?? -1);
      assert.equal((await appended).ok, true);
      assert.equal(outbox.depth, 0);
      await outbox.close();
      const reopened = await outboxIn(dir);
      assert.equal(reopened.depth, 0, 'the entry written and then taken was deleted');
    });

    it('close() flushes appends in progress, is idempotent, and later appends are refused as closed', async () => {
      const dir = await folder();
      const outbox = await outboxIn(dir, { commitIntervalMs: 50 });
      const pending = outbox.append(message(0));
      const closed = outbox.close();
      assert.equal(outbox.close(), closed);
      await closed;
      assert.deepEqual((await pending).ok, true);
      assert.deepEqual(await outbox.append(message(1)), { ok: false, reason: { path: '', rule: 'outbox-closed', message: 'the outbox is closed (the node is being redeployed or stopped)' }, transient: true });
      const reopened = await outboxIn(dir);
      assert.equal(reopened.depth, 1);
    });

    it('a folder another outbox holds open is refused with BAD_CONFIG, naming the folder', async () => {
      const dir = await folder();
      await outboxIn(dir);
      await assert.rejects(outboxIn(dir), tectonicError('BAD_CONFIG', new RegExp(`^the outbox cannot open ${dir}: another outbox`)));
    });

    it('limits that are not whole positive numbers are refused with BAD_CONFIG', async () => {
      const dir = await folder();
      await assert.rejects(outboxIn(dir, { maxCount: 0 }), tectonicError('BAD_CONFIG', /maxCount must be a whole number of at least 1, not 0/));
      await assert.rejects(outboxIn(dir, { maxBytes: Number.NaN }), tectonicError('BAD_CONFIG', /maxBytes must be at least 1, not NaN/));
    });
  });
});
