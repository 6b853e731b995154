// An outbox that cannot be opened is a pause, not a death (issue 15): records
// are refused as transient while it cannot, it is tried again on its own, and
// publishing resumes once it opens. The fault is real each time: a folder
// path blocked by a file, and a disk that is full (a 1 MiB tmpfs filled up,
// which needs root, as the CI runs).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'mocha';
import type { PublishOptions } from '../../../lib/bus/bus-client';
import { type PublishSettings, DEFAULT_OUTBOX_MAX_BYTES } from '../../../lib/bus/publish-settings';
import type { CdmEnvelope } from '../../../lib/envelope/envelope';
import { DurablePublisher, type PublishLink } from '../../../lib/outbox/durable-publisher';
import type { PublishRecord } from '../../../lib/outbox/outbox-message';
import { delay, tempDir } from '../../support/node-red-process';

type Msg = PublishRecord & { n?: number };

const cdm: CdmEnvelope = { entity: 'shipment', version: '1.2.0', site: 'site-a', id: '01JDTEST000001', time: '2026-11-24T07:00:01.250Z', source: 'urn:tectonic:site-a:erp' };
const SETTINGS: PublishSettings = { qos: 1, wireMode: 'structured', mode: 'canonical', site: '', outboxMaxCount: 100, outboxMaxBytes: DEFAULT_OUTBOX_MAX_BYTES, whenFull: 'reject' };

const bus: PublishLink = {
  state: { kind: 'connected' },
  send: (_topic: string, _payload: Buffer | string, _options: PublishOptions, settled: (err?: Error) => void) => setImmediate(() => settled()),
  onState: () => () => undefined,
};

async function until(condition: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await delay(10);
  }
}

function publisherAt(dir: string) {
  const delivered: Msg[] = [];
  const refused: Msg[] = [];
  const failures: Array<{ message: string; retryMs: number }> = [];
  const opened: number[] = [];
  const publisher = new DurablePublisher<Msg>({
    settings: SETTINGS,
    dir,
    bus,
    keepForOutput: true,
    stage: 'bus-publish',
    openRetry: { firstMs: 50, maxMs: 200 },
    outcomes: {
      delivered: (msg) => delivered.push(msg),
      refused: (msg) => refused.push(msg),
      standIn: (entry) => ({ topic: entry.topic, payload: String(entry.payload) }),
      changed: () => undefined,
      opened: (recovered) => opened.push(recovered),
      openFailed: (err, retryMs) => failures.push({ message: err.message, retryMs }),
    },
  });
  const publish = (msg: Msg): Promise<Error | undefined> => new Promise((resolve) => publisher.publish(msg, resolve));
  return { publisher, delivered, refused, failures, opened, publish };
}

describe('lib/outbox/durable-publisher: an outbox that cannot be opened', () => {
  const scratch: { remove(): Promise<void> }[] = [];
  const publishers: DurablePublisher<Msg>[] = [];
  after(async () => {
    await Promise.all(publishers.map((p) => p.close()));
    await Promise.all(scratch.map((s) => s.remove()));
  });

  it('refuses records as transient, tries again with a growing wait, and publishes once the folder can be made', async () => {
    const root = await tempDir('tectonic-open-');
    scratch.push(root);
    const blocker = join(root.path, 'blocked');
    writeFileSync(blocker, 'a file where the outbox folder should go');
    const { publisher, delivered, refused, failures, opened, publish } = publisherAt(join(blocker, 'outbox'));
    publishers.push(publisher);

    // The first record comes while the first try is under way: it waits for its answer, then is refused.
    assert.equal(await publish({ n: 1, cdm, payload: { a: 1 } }), undefined, 'done() without an error: the refusal is on the reject output');
    assert.equal(refused.length, 1);
    assert.deepEqual(refused[0]?.reject, {
      stage: 'bus-publish',
      transient: true,
      reasons: [{ path: '', rule: 'outbox-unavailable', message: (refused[0]?.reject as { reasons: Array<{ message: string }> }).reasons[0]?.message }],
    });
    assert.match((refused[0]?.reject as { reasons: Array<{ message: string }> }).reasons[0]?.message ?? '', /cannot be opened .*tried again/);
    assert.ok(publisher.unavailableBecause !== undefined, 'the node can show why');
    await until(() => failures.length >= 3, 'three tries');
    assert.deepEqual(failures.slice(0, 3).map((f) => f.retryMs), [50, 100, 200], 'the wait doubles up to its bound');
    assert.equal(await publish({ n: 2, cdm, payload: { a: 2 } }), undefined);
    assert.equal(refused.length, 2);

    rmSync(blocker);
    await until(() => opened.length === 1, 'the outbox to open on a later try');
    assert.equal(publisher.unavailableBecause, undefined);
    assert.equal(await publish({ n: 3, cdm, payload: { a: 3 } }), undefined);
    await until(() => delivered.length === 1, 'the record after the outbox opened');
    assert.equal(delivered[0]?.n, 3);
  });

  it('records that came during a first try that succeeds are appended in order once it opens', async () => {
    const dir = await tempDir('tectonic-open-');
    scratch.push(dir);
    const { publisher, delivered, publish } = publisherAt(join(dir.path, 'outbox'));
    publishers.push(publisher);
    const answers = await Promise.all([1, 2, 3].map((n) => publish({ n, cdm, payload: { n } })));
    assert.deepEqual(answers, [undefined, undefined, undefined]);
    await until(() => delivered.length === 3, 'three deliveries');
    assert.deepEqual(delivered.map((m) => m.n), [1, 2, 3]);
  });

  it('close() while it waits for the next try ends at once, and no try follows', async () => {
    const root = await tempDir('tectonic-open-');
    scratch.push(root);
    const blocker = join(root.path, 'blocked');
    writeFileSync(blocker, 'x');
    const { publisher, failures } = publisherAt(join(blocker, 'outbox'));
    await until(() => failures.length === 1, 'the first failure');
    const started = Date.now();
    await publisher.close();
    assert.ok(Date.now() - started < 1000, 'close did not wait for the outbox');
    const tries = failures.length;
    await delay(300);
    assert.equal(failures.length, tries, 'no try after close');
  });

  it('a full disk: refused while full, resumes by itself once space is freed', async function (this: Mocha.Context) {
    this.timeout(20_000);
    const root = await tempDir('tectonic-full-disk-');
    scratch.push(root);
    const mount = join(root.path, 'disk');
    mkdirSync(mount);
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mount], { stdio: 'pipe' });
    } catch (err) {
      throw new Error(`this test mounts a 1 MiB tmpfs to fill it, which needs root (as CI runs): ${(err as Error).message}`, { cause: err });
    }
    try {
      const filler = join(mount, 'filler');
      // Fill every byte: the first write that does not fit throws ENOSPC.
      try {
        writeFileSync(filler, Buffer.alloc(2 * 1024 * 1024));
      } catch (err) {
        assert.equal((err as NodeJS.ErrnoException).code, 'ENOSPC');
      }
      const { publisher, delivered, refused, failures, opened, publish } = publisherAt(join(mount, 'outbox'));
      publishers.push(publisher);
      await until(() => failures.length >= 1, 'the open to fail on the full disk');
      assert.match(failures[0]?.message ?? '', /space|ENOSPC/i, 'the open failed because the disk is full');
      assert.equal(await publish({ n: 1, cdm, payload: { a: 1 } }), undefined);
      assert.equal((refused[0]?.reject as { transient?: boolean }).transient, true);
      assert.equal(opened.length, 0);

      rmSync(filler);
      await until(() => opened.length === 1, 'the outbox to open once space is freed', 10_000);
      assert.equal(await publish({ n: 2, cdm, payload: { a: 2 } }), undefined);
      await until(() => delivered.length === 1, 'the record after space was freed');
      await publisher.close();
    } finally {
      execFileSync('umount', ['-l', mount]);
    }
  });
});
