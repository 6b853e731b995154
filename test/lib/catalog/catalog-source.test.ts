// The catalog as the cdm-catalog node handles it: the store that decides
// whether a new catalog may replace the one in force, the bundle that carries
// a catalog over the bus and HTTP, and the folder, URL and bus sources.
import { after, before, describe, it } from 'mocha';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CATALOG_BUNDLE_TOPIC, catalogDigest, decodeCatalogBundle, encodeCatalogBundle, schemaMessages, shortDigest } from '../../../lib/catalog/catalog-bundle';
import { BusCatalogSource, FolderCatalogSource, UrlCatalogSource, checkCatalogUrl, publishCatalogToBus, readCatalogFolder } from '../../../lib/catalog/catalog-source';
import type { CatalogBus, CatalogSource, CatalogSourceEvent } from '../../../lib/catalog/catalog-source';
import { CatalogStore, summarizeIssue } from '../../../lib/catalog/catalog-store';
import type { CatalogState } from '../../../lib/catalog/catalog-store';
import { loadCatalogFromFiles } from '../../../lib/catalog/catalog-loader';
import { BREAKING_SHIPMENT_120, COMPATIBLE_SHIPMENT_120, shipment } from './catalog-fixtures';
import { SAMPLE_CATALOG_DIR, editJson, sampleFiles } from './helpers';

const compatible120 = COMPATIBLE_SHIPMENT_120;
const breaking120 = BREAKING_SHIPMENT_120;

function withFile(path: string, text: string, files = sampleFiles()): Map<string, string> {
  return new Map(files).set(path, text);
}

const record = shipment;

/** A tiny catalog with one open-model entity, to tell STRICT from LENIENT. */
function openModelCatalog(): Map<string, string> {
  const v = (version: string, properties: Record<string, unknown>): string => JSON.stringify({ $id: `https://x.test/thing/${version}`, type: 'object', properties });
  return new Map([
    ['catalog.json', JSON.stringify({ format: 1, entities: { thing: { compatibility: 'BACKWARD' } } })],
    ['thing/1.0.0.schema.json', v('1.0.0', { id: { type: 'string' } })],
    ['thing/1.1.0.schema.json', v('1.1.0', { id: { type: 'string' }, age: { type: 'integer' } })],
  ]);
}

describe('CatalogStore: a new catalog replaces the one in force only when it passes', () => {
  it('waits, then takes the sample catalog with freshly compiled validators', () => {
    const store = new CatalogStore();
    const seen: CatalogState[] = [];
    store.onState((s) => seen.push(s));
    assert.equal(store.state.kind, 'waiting');
    assert.equal(store.snapshot, undefined);
    const outcome = store.proposeFiles(sampleFiles(), 'test');
    assert.ok(outcome.ok && outcome.changed, JSON.stringify(!outcome.ok && outcome.reasons));
    assert.equal(store.state.kind, 'ready');
    assert.deepEqual(seen.map((s) => s.kind), ['waiting', 'ready']);
    const snapshot = store.snapshot!;
    assert.equal(snapshot.digest, catalogDigest(sampleFiles()));
    assert.equal(snapshot.label, shortDigest(snapshot.digest));
    assert.match(snapshot.label, /^[0-9a-f]{8}$/);
    assert.equal(snapshot.origin, 'test');
    assert.deepEqual(snapshot.validators.validateRecord('shipment', '1.1.0', record()), { ok: true });
  });

  it('the same files again change nothing and compile nothing', () => {
    const store = new CatalogStore();
    store.proposeFiles(sampleFiles(), 'test');
    const first = store.snapshot;
    let calls = 0;
    store.onState(() => (calls += 1));
    const again = store.proposeFiles(sampleFiles(), 'test');
    assert.ok(again.ok && !again.changed);
    assert.equal(store.snapshot, first);
    assert.equal(calls, 1, 'only the initial call of onState');
  });

  it('a compatible new version swaps in a fresh validator set; the old one is left as it was', () => {
    const store = new CatalogStore();
    store.proposeFiles(sampleFiles(), 'test');
    const before = store.snapshot!;
    const outcome = store.proposeFiles(withFile('shipment/1.2.0.schema.json', compatible120), 'test');
    assert.ok(outcome.ok && outcome.changed, JSON.stringify(!outcome.ok && outcome.reasons));
    const after = store.snapshot!;
    assert.notEqual(after.validators, before.validators);
    assert.notEqual(after.digest, before.digest);
    assert.deepEqual(after.validators.validateRecord('shipment', '1.2.0', record({ reference: 'R-1' })), { ok: true });
    assert.equal(before.validators.validateRecord('shipment', '1.2.0', record()).ok, false, 'the previous validators never learn 1.2.0');
  });

  it('an incompatible version is refused with its reasons; the previous catalog stays in force', () => {
    const store = new CatalogStore();
    store.proposeFiles(sampleFiles(), 'test');
    const inForce = store.snapshot!;
    const states: CatalogState[] = [];
    store.onState((s) => states.push(s));
    const outcome = store.proposeFiles(withFile('shipment/1.2.0.schema.json', breaking120), 'folder x');
    assert.equal(outcome.ok, false);
    assert.equal(outcome.changed, true);
    const reasons = outcome.ok ? [] : outcome.reasons;
    assert.ok(reasons.some((r) => r.rule === 'required-added' && r.path === 'shipment@1.2.0 $.priority'), JSON.stringify(reasons));
    assert.equal(store.snapshot, inForce);
    const state = store.state;
    assert.ok(state.kind === 'ready' && state.issue?.kind === 'refused');
    assert.equal(state.issue.origin, 'folder x');
    assert.match(summarizeIssue(state.issue), /^catalog [0-9a-f]{8} refused: shipment@1\.2\.0 \$\.priority: required-added$/);
    assert.deepEqual(states.map((s) => s.kind), ['ready', 'ready']);

    // The same refused catalog again is not checked or reported again.
    const repeat = store.proposeFiles(withFile('shipment/1.2.0.schema.json', breaking120), 'folder x');
    assert.ok(!repeat.ok && !repeat.changed);
    assert.equal(states.length, 2);
    // The source going back to the catalog in force clears the refusal.
    const back = store.proposeFiles(sampleFiles(), 'folder x');
    assert.ok(back.ok && !back.changed);
    assert.equal(store.state.issue, undefined);
    assert.equal(store.snapshot, inForce);
  });

  it('an incompatible history is refused even as the first catalog; nothing is in force then', () => {
    const store = new CatalogStore();
    const outcome = store.proposeFiles(withFile('shipment/1.2.0.schema.json', breaking120), 'test');
    assert.equal(outcome.ok, false);
    const state = store.state;
    assert.ok(state.kind === 'waiting' && state.issue?.kind === 'refused');
  });

  const updates: Array<[string, (files: Map<string, string>) => Map<string, string>, string]> = [
    ['a version removed', (f) => {
      const next = editJson(f, 'catalog.json', (c) => {
        const shipment = (c.entities as Record<string, { versions: Record<string, unknown> }>).shipment!;
        delete shipment.versions['1.0.0'];
      });
      next.delete('shipment/1.0.0.schema.json');
      next.delete('shipment/migrations/1.0.0-to-1.1.0.json');
      return next;
    }, 'version-removed'],
    ['a published version changed in place', (f) => editJson(f, 'shipment/1.1.0.schema.json', (s) => { (s.properties as Record<string, unknown>).note = { type: 'string' }; }), 'version-modified'],
    ['a catalog that does not load', (f) => withFile('catalog.json', '{"format": 1,', f), 'malformed-json'],
    ['a schema that does not compile', (f) => withFile('shipment/1.2.0.schema.json', JSON.stringify({ $id: 'https://tectonic.example/cdm/shipment/1.2.0', type: 'object', minimum: 'zero' }), f), 'invalid-schema'],
    ['a path that climbs out of the catalog', (f) => withFile('../etc/passwd.json', '{}', f), 'invalid-path'],
  ];
  for (const [what, edit, rule] of updates) {
    it(`refused: ${what} (${rule})`, () => {
      const store = new CatalogStore();
      store.proposeFiles(sampleFiles(), 'test');
      const inForce = store.snapshot;
      const outcome = store.proposeFiles(edit(sampleFiles()), 'test');
      assert.equal(outcome.ok, false);
      assert.ok(!outcome.ok && outcome.reasons.some((r) => r.rule === rule), JSON.stringify(!outcome.ok && outcome.reasons));
      assert.equal(store.snapshot, inForce);
    });
  }

  it('STRICT (default) refuses an optional property added to an open model; LENIENT takes it', () => {
    const strict = new CatalogStore().proposeFiles(openModelCatalog(), 'test');
    assert.ok(!strict.ok && strict.reasons.some((r) => r.rule === 'property-added-to-open-content-model'), JSON.stringify(strict));
    const lenient = new CatalogStore({ policy: 'LENIENT' }).proposeFiles(openModelCatalog(), 'test');
    assert.ok(lenient.ok, JSON.stringify(lenient));
  });

  it('an unavailable source is reported once per problem and leaves the catalog in force', () => {
    const store = new CatalogStore();
    store.proposeFiles(sampleFiles(), 'test');
    let calls = 0;
    store.onState(() => (calls += 1));
    const reasons = [{ path: 'u', rule: 'timeout', message: 'no answer' }];
    store.reportUnavailable('https://x', reasons);
    store.reportUnavailable('https://x', [...reasons]);
    assert.equal(calls, 2, 'initial call and one change');
    const state = store.state;
    assert.ok(state.kind === 'ready' && state.issue?.kind === 'unavailable');
    assert.equal(summarizeIssue(state.issue), 'catalog source unavailable: no answer');
  });

  it('close forgets the listeners', () => {
    const store = new CatalogStore();
    let calls = 0;
    store.onState(() => (calls += 1));
    store.close();
    store.proposeFiles(sampleFiles(), 'test');
    assert.equal(calls, 1);
    assert.equal(store.state.kind, 'ready');
  });
});

describe('the catalog bundle', () => {
  it('round trip: encode, decode, load gives the same catalog; the digest ignores file order', () => {
    const files = sampleFiles();
    const { bundle, text } = encodeCatalogBundle(files);
    assert.equal(bundle.format, 1);
    assert.match(bundle.digest, /^sha256:[0-9a-f]{64}$/);
    const reversed = new Map([...files].reverse());
    assert.equal(catalogDigest(reversed), bundle.digest);
    const decoded = decodeCatalogBundle(Buffer.from(text));
    assert.ok(decoded.ok, JSON.stringify(decoded));
    assert.equal(decoded.digest, bundle.digest);
    assert.deepEqual(new Map([...decoded.files].sort()), new Map([...files].sort()));
    const loaded = loadCatalogFromFiles(decoded.files);
    assert.ok(loaded.ok);
    assert.equal(loaded.catalog.entities.size, 4);
  });

  it('the digest is SHA-256 of the RFC 8785 canonical JSON of files (documented in docs/catalog.md)', async () => {
    const { createHash } = await import('node:crypto');
    const files = new Map([['b.json', 'x"y'], ['a.json', 'é\n']]);
    const canonical = '{"a.json":"é\\n","b.json":"x\\"y"}';
    assert.equal(catalogDigest(files), `sha256:${createHash('sha256').update(canonical, 'utf8').digest('hex')}`);
  });

  const good = encodeCatalogBundle(sampleFiles()).bundle;
  const text = (value: unknown): string => JSON.stringify(value);
  const malformed: Array<[string, Buffer | string, string, number?]> = [
    ['empty', '', 'empty'],
    ['not JSON', 'hello', 'malformed-json'],
    ['a JSON array', '[1,2]', 'invalid-type'],
    ['a JSON string', '"catalog"', 'invalid-type'],
    ['too large', Buffer.alloc(2048, 0x20), 'too-large', 1024],
    ['a __proto__ key at the top', `{"format":1,"__proto__":{"polluted":true},"files":{},"digest":"${good.digest}"}`, 'forbidden-key'],
    ['a file named __proto__', `{"format":1,"files":{"__proto__":"{}"},"digest":"${good.digest}"}`, 'forbidden-key'],
    ['an unknown field', text({ ...good, signature: 'x' }), 'unknown-key'],
    ['another format', text({ ...good, format: 3 }), 'unsupported-format'],
    ['format 2 (signed) without sequence and signature', text({ ...good, format: 2 }), 'invalid-type'],
    ['no format', text({ files: good.files, digest: good.digest }), 'unsupported-format'],
    ['no digest', text({ format: 1, files: good.files }), 'invalid-type'],
    ['a digest that is not sha256 hex', text({ ...good, digest: 'md5:abc' }), 'invalid-type'],
    ['files not an object', text({ ...good, files: ['catalog.json'] }), 'invalid-type'],
    ['a file that is not text', text({ ...good, files: { ...good.files, 'shipment/9.0.0.schema.json': { $id: 'x' } } }), 'invalid-type'],
    ['no catalog.json', text({ ...good, files: { 'shipment/1.0.0.schema.json': '{}' } }), 'missing-catalog-file'],
    ['files altered after the digest', text({ ...good, files: { ...good.files, 'catalog.json': '{}' } }), 'digest-mismatch'],
  ];
  for (const [what, input, rule, maxBytes] of malformed) {
    it(`refused: ${what} (${rule})`, () => {
      const decoded = decodeCatalogBundle(input, maxBytes === undefined ? {} : { maxBytes });
      assert.equal(decoded.ok, false);
      assert.ok(!decoded.ok && decoded.reasons.some((r) => r.rule === rule), JSON.stringify(decoded));
      assert.equal(({} as Record<string, unknown>).polluted, undefined);
    });
  }

  it('one retained schema message per version and shared file, the file text unchanged', () => {
    const loaded = loadCatalogFromFiles(sampleFiles());
    assert.ok(loaded.ok);
    const messages = schemaMessages(loaded.catalog);
    const topics = messages.map((m) => m.topic).sort();
    assert.ok(topics.includes('tectonic/cdm/shipment/1.0.0'));
    assert.ok(topics.includes('tectonic/cdm/common/1.0.0'));
    assert.equal(topics.length, 1 + 2 + 3 + 2 + 2);
    assert.equal(messages.find((m) => m.topic === 'tectonic/cdm/shipment/1.1.0')?.text, sampleFiles().get('shipment/1.1.0.schema.json'));
  });
});

/** Collects a source's events. */
function listen(source: CatalogSource): { events: CatalogSourceEvent[]; next(predicate?: (e: CatalogSourceEvent) => boolean, timeoutMs?: number): Promise<CatalogSourceEvent> } {
  const events: CatalogSourceEvent[] = [];
  source.start((e) => events.push(e));
  return {
    events,
    async next(predicate = () => true, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = events.find(predicate);
        if (found) return found;
        if (Date.now() > deadline) throw new Error(`no matching event within ${timeoutMs} ms: ${JSON.stringify(events)}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
  };
}

describe('FolderCatalogSource: polling by hash', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tectonic-catalog-folder-'));
    await cp(SAMPLE_CATALOG_DIR, dir, { recursive: true });
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('reads the folder, then sees a new version file within the interval, once', async () => {
    const source = new FolderCatalogSource({ dir, intervalMs: 100, settleMs: 20 });
    try {
      const seen = listen(source);
      const first = await seen.next();
      assert.ok(first.kind === 'files');
      assert.equal(first.digest, catalogDigest(sampleFiles()));
      await writeFile(join(dir, 'shipment', '1.2.0.schema.json'), compatible120);
      const second = await seen.next((e) => e.kind === 'files' && e.digest !== first.digest, 3000);
      assert.ok(second.kind === 'files' && second.files.has('shipment/1.2.0.schema.json'));
      await new Promise((resolve) => setTimeout(resolve, 350));
      assert.equal(seen.events.length, 2, 'an unchanged folder reports nothing more');
    } finally {
      await source.close();
    }
  });

  it('the README and dot files are not part of the catalog', async () => {
    await writeFile(join(dir, '.DS_Store.json'), 'junk');
    const read = await readCatalogFolder(dir);
    assert.ok(read.ok);
    assert.ok(!read.files.has('README.md') && !read.files.has('.DS_Store.json'));
  });

  it('a missing folder is reported as unavailable, once', async () => {
    const source = new FolderCatalogSource({ dir: join(dir, 'nope'), intervalMs: 50 });
    try {
      const seen = listen(source);
      const event = await seen.next();
      assert.ok(event.kind === 'unavailable' && event.reasons[0]?.rule === 'unreadable');
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.equal(seen.events.length, 1);
    } finally {
      await source.close();
    }
  });

  it('interval 0 reads once and sets no timer', async () => {
    const source = new FolderCatalogSource({ dir: SAMPLE_CATALOG_DIR, intervalMs: 0 });
    const seen = listen(source);
    assert.equal((await seen.next()).kind, 'files');
    await source.close();
  });
});

describe('UrlCatalogSource: a bundle over HTTP', () => {
  let server: Server;
  let base = '';
  let handler: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => res.end();
  const requests: Array<{ url: string; ifNoneMatch: string | undefined }> = [];

  before(async () => {
    server = createServer((req, res) => {
      requests.push({ url: req.url ?? '', ifNoneMatch: req.headers['if-none-match'] });
      handler(req, res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  /** Serves `bundle()` with its digest as the ETag, answering 304 to a matching If-None-Match. */
  function serveBundle(bundle: () => string): void {
    handler = (req, res) => {
      const body = bundle();
      const etag = `"${(JSON.parse(body) as { digest: string }).digest.slice(7, 23)}"`;
      if (req.headers['if-none-match'] === etag) {
        res.writeHead(304, { etag }).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json', etag }).end(body);
    };
  }

  it('only http and https URLs are accepted', () => {
    assert.ok(checkCatalogUrl('https://hq.example/cdm.json').ok);
    for (const bad of ['file:///etc/passwd', 'ftp://x/y', 'not a url', 'data:application/json,{}']) assert.equal(checkCatalogUrl(bad).ok, false, bad);
  });

  it('fetches the bundle, then asks with If-None-Match and takes a 304 as unchanged, then sees a change', async () => {
    let files = sampleFiles();
    serveBundle(() => encodeCatalogBundle(files).text);
    requests.length = 0;
    const source = new UrlCatalogSource({ url: `${base}/cdm.json`, intervalMs: 100 });
    try {
      const seen = listen(source);
      const first = await seen.next();
      assert.ok(first.kind === 'files' && first.digest === catalogDigest(sampleFiles()));
      await seen.next(() => requests.length >= 3);
      assert.equal(requests[0]?.ifNoneMatch, undefined);
      assert.match(requests[1]?.ifNoneMatch ?? '', /^"[0-9a-f]{16}"$/, 'the second request is conditional');
      assert.equal(seen.events.length, 1, '304 reports nothing');
      files = withFile('shipment/1.2.0.schema.json', compatible120);
      const second = await seen.next((e) => e.kind === 'files' && e.digest !== first.digest);
      assert.ok(second.kind === 'files' && second.files.has('shipment/1.2.0.schema.json'));
    } finally {
      await source.close();
    }
  });

  const failures: Array<[string, (req: IncomingMessage, res: ServerResponse) => void, string, Partial<{ maxBytes: number; timeoutMs: number }>]> = [
    ['a 404', (_req, res) => res.writeHead(404).end('no'), 'http-status', {}],
    ['a body that is not a bundle', (_req, res) => res.writeHead(200).end('<html>login</html>'), 'malformed-json', {}],
    ['a bundle whose digest does not match', (_req, res) => res.writeHead(200).end(JSON.stringify({ ...encodeCatalogBundle(sampleFiles()).bundle, digest: `sha256:${'0'.repeat(64)}` })), 'digest-mismatch', {}],
    ['a Content-Length over the cap', (_req, res) => res.writeHead(200, { 'content-length': '5000' }).end(' '.repeat(5000)), 'too-large', { maxBytes: 1000 }],
    ['a chunked body over the cap', (_req, res) => {
      res.writeHead(200);
      for (let i = 0; i < 10; i++) res.write(' '.repeat(500));
      res.end();
    }, 'too-large', { maxBytes: 1000 }],
    ['a server that never answers', () => undefined, 'timeout', { timeoutMs: 200 }],
  ];
  for (const [what, respond, rule, options] of failures) {
    it(`unavailable: ${what} (${rule})`, async () => {
      handler = respond;
      const source = new UrlCatalogSource({ url: `${base}/cdm.json`, intervalMs: 0, ...options });
      try {
        const event = await listen(source).next();
        assert.ok(event.kind === 'unavailable' && event.reasons.some((r) => r.rule === rule), JSON.stringify(event));
      } finally {
        await source.close();
      }
    });
  }

  it('a refused connection is unavailable, with the cause', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const source = new UrlCatalogSource({ url: `http://127.0.0.1:${port}/cdm.json`, intervalMs: 0 });
    try {
      const event = await listen(source).next();
      assert.ok(event.kind === 'unavailable' && event.reasons[0]?.rule === 'fetch-failed' && /ECONNREFUSED/.test(event.reasons[0].message), JSON.stringify(event));
    } finally {
      await source.close();
    }
  });

  it('close aborts a fetch in flight at once', async () => {
    handler = () => undefined;
    const source = new UrlCatalogSource({ url: `${base}/cdm.json`, intervalMs: 50, timeoutMs: 60_000 });
    const seen = listen(source);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const started = Date.now();
    await source.close();
    assert.ok(Date.now() - started < 1000, 'closed within a second');
    assert.deepEqual(seen.events, [], 'an aborted fetch reports nothing');
  });
});

/** An in-memory bus with retained messages, the way an MQTT broker keeps them. */
class FakeBus implements CatalogBus {
  readonly retained = new Map<string, Buffer>();
  readonly published: string[] = [];
  private readonly handlers = new Map<string, (topic: string, payload: Buffer) => void>();

  publish(topic: string, payload: Buffer, options: { qos: 0 | 1 | 2; retain?: boolean }): Promise<void> {
    this.published.push(topic);
    if (options.retain) this.retained.set(topic, payload);
    this.handlers.get(topic)?.(topic, payload);
    return Promise.resolve();
  }

  subscribe(filter: string, _qos: 0 | 1 | 2, handler: (topic: string, payload: Buffer) => void): Promise<() => Promise<void>> {
    this.handlers.set(filter, handler);
    const retained = this.retained.get(filter);
    if (retained) handler(filter, retained);
    return Promise.resolve(() => {
      this.handlers.delete(filter);
      return Promise.resolve();
    });
  }

  get subscribers(): number {
    return this.handlers.size;
  }
}

describe('the catalog on the bus', () => {
  it('publishCatalogToBus: every schema retained on its own topic, the bundle last', async () => {
    const bus = new FakeBus();
    const loaded = loadCatalogFromFiles(sampleFiles());
    assert.ok(loaded.ok);
    const { topics, digest } = await publishCatalogToBus(bus, loaded.catalog);
    assert.equal(digest, catalogDigest(sampleFiles()));
    assert.equal(bus.published.at(-1), CATALOG_BUNDLE_TOPIC);
    assert.deepEqual(bus.published, topics);
    assert.equal(bus.retained.get('tectonic/cdm/lab-result/1.1.0')?.toString(), sampleFiles().get('lab-result/1.1.0.schema.json'));
    const decoded = decodeCatalogBundle(bus.retained.get(CATALOG_BUNDLE_TOPIC)!);
    assert.ok(decoded.ok && decoded.digest === digest);
  });

  it('BusCatalogSource: the retained bundle arrives on subscribe; a later one replaces it; junk is unavailable; empty is ignored', async () => {
    const bus = new FakeBus();
    await bus.publish(CATALOG_BUNDLE_TOPIC, Buffer.from(encodeCatalogBundle(sampleFiles()).text), { qos: 1, retain: true });
    const source = new BusCatalogSource(bus);
    const seen = listen(source);
    const first = await seen.next();
    assert.ok(first.kind === 'files' && first.digest === catalogDigest(sampleFiles()));
    await bus.publish(CATALOG_BUNDLE_TOPIC, Buffer.alloc(0), { qos: 1, retain: true });
    await bus.publish(CATALOG_BUNDLE_TOPIC, Buffer.from('{"format":1,"__proto__":{}}'), { qos: 1, retain: true });
    const junk = await seen.next((e) => e.kind === 'unavailable');
    assert.ok(junk.kind === 'unavailable' && junk.reasons.some((r) => r.rule === 'forbidden-key' && r.message.startsWith(CATALOG_BUNDLE_TOPIC)));
    const next = withFile('shipment/1.2.0.schema.json', compatible120);
    await bus.publish(CATALOG_BUNDLE_TOPIC, Buffer.from(encodeCatalogBundle(next).text), { qos: 1, retain: true });
    const second = await seen.next((e) => e.kind === 'files' && e.digest === catalogDigest(next));
    assert.ok(second.kind === 'files');
    assert.equal(seen.events.length, 3, 'the empty message changed nothing');
    await source.close();
    assert.equal(bus.subscribers, 0, 'close unsubscribes');
  });

  it('a site store fed by the bus source takes the central catalog', async () => {
    const bus = new FakeBus();
    const central = loadCatalogFromFiles(sampleFiles());
    assert.ok(central.ok);
    await publishCatalogToBus(bus, central.catalog);
    const store = new CatalogStore();
    const source = new BusCatalogSource(bus);
    source.start((e) => (e.kind === 'files' ? store.proposeFiles(e.files, source.origin, e.digest) : store.reportUnavailable(source.origin, e.reasons)));
    assert.equal(store.snapshot?.origin, 'bus tectonic/cdm/_catalog');
    assert.deepEqual(store.snapshot?.validators.validateRecord('shipment', '1.1.0', record()), { ok: true });
    await source.close();
  });
});
