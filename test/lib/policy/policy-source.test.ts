// Where a site's policy bundle comes from (a polled file, a URL with ETag,
// the retained bus message), the disk cache of the last good bundle, and
// SitePolicy, which ties them to the trust checks: rollback across a
// restart, an outage with a cached bundle, the refusal policy.
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'mocha';
import type { JsonObject } from '../../../lib/catalog/types';
import { BusPolicySource, FilePolicySource, PolicyCache, UrlPolicySource, bundleDigest, checkPolicyUrl, policyTopic } from '../../../lib/policy/policy-source';
import type { PolicySource, PolicySourceEvent } from '../../../lib/policy/policy-source';
import { SitePolicy, splitPublicKeys } from '../../../lib/policy/site-policy';
import type { SitePolicyStatus } from '../../../lib/policy/site-policy';
import { generatePolicyKeyPair } from '../../../lib/policy/signature';
import { tempDir, waitFor } from '../../support/node-red-process';
import { HASH_KEY, document, keys, shipmentCdm, shipment, signed } from './policy-fixtures';

/** Bundles valid around the real clock: the sources and timers here run in real time. */
function liveBundle(version: number, rules: unknown[] = [{ maxBytes: 65536 }], overrides: Record<string, unknown> = {}): JsonObject {
  const day = 24 * 3600 * 1000;
  return signed(document(rules, { version, issuedAt: new Date(Date.now() - day).toISOString(), expiresAt: new Date(Date.now() + 30 * day).toISOString(), ...overrides }));
}
const text = (doc: JsonObject): string => JSON.stringify(doc);
const versionOf = (bytes: Buffer): unknown => (JSON.parse(bytes.toString('utf8')) as { version?: unknown }).version;

/** Collects a source's events for awaiting. */
function collect(source: PolicySource): { events: PolicySourceEvent[]; next(kind: PolicySourceEvent['kind'], count?: number, timeoutMs?: number): Promise<PolicySourceEvent> } {
  const events: PolicySourceEvent[] = [];
  source.start((event) => events.push(event));
  return {
    events,
    next: (kind, count = 1, timeoutMs = 5000) =>
      waitFor(() => events.filter((e) => e.kind === kind)[count - 1], { timeoutMs, intervalMs: 10, message: `event ${kind} #${count}` }),
  };
}

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('policyTopic and checkPolicyUrl', () => {
  const topics: Array<[string, string | undefined]> = [
    ['central-default', 'tectonic/policy/central-default'],
    ['lab.sites_2', 'tectonic/policy/lab.sites_2'],
    ['', undefined],
    ['a/b', undefined],
    ['+', undefined],
    ['#', undefined],
    ['-leading', undefined],
    ['x'.repeat(65), undefined],
  ];
  for (const [id, expected] of topics) {
    it(`bundle id ${JSON.stringify(id.slice(0, 20))} -> ${expected ?? 'refused'}`, () => {
      const result = policyTopic(id);
      if (expected === undefined) assert.equal(result.ok, false);
      else assert.deepEqual(result, { ok: true, topic: expected });
    });
  }
  for (const [url, ok] of [['https://hq.example/p.json', true], ['http://127.0.0.1:8080/p', true], ['file:///etc/passwd', false], ['data:,x', false], ['not a url', false]] as const) {
    it(`url ${url} -> ${ok ? 'accepted' : 'refused'}`, () => assert.equal(checkPolicyUrl(url).ok, ok));
  }
});

describe('splitPublicKeys', () => {
  it('one PEM, two PEMs with text around them, none, and text that is no key', () => {
    const a = generatePolicyKeyPair().publicKeyPem.trim();
    const b = generatePolicyKeyPair().publicKeyPem.trim();
    assert.deepEqual(splitPublicKeys(a), [a]);
    assert.deepEqual(splitPublicKeys(`old key:\n${a}\n\nnew key:\n${b}\n`), [a, b]);
    assert.deepEqual(splitPublicKeys('  \n'), []);
    assert.deepEqual(splitPublicKeys('not a key'), ['not a key']);
  });
});

describe('FilePolicySource', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  before(async () => {
    dir = await tempDir('tectonic-policy-file-');
  });
  after(() => dir.remove());

  it('reports the bundle once, stays quiet while it is unchanged, reports a change after it settles', async () => {
    const path = join(dir.path, 'poll.json');
    await writeFile(path, text(liveBundle(1)));
    const source = new FilePolicySource({ path, intervalMs: 50, settleMs: 20 });
    const seen = collect(source);
    try {
      const first = await seen.next('bundle');
      assert.equal(first.kind === 'bundle' && versionOf(first.bytes), 1);
      await delay(250);
      assert.equal(seen.events.length, 1, 'unchanged polls report nothing');
      await writeFile(path, text(liveBundle(2)));
      const second = await seen.next('bundle', 2);
      assert.ok(second.kind === 'bundle');
      assert.equal(versionOf(second.bytes), 2);
      assert.equal(second.digest, bundleDigest(second.bytes));
    } finally {
      await source.close();
    }
  });

  it('a missing file is unavailable (reported once), then its bundle is taken when it appears', async () => {
    const path = join(dir.path, 'later.json');
    const source = new FilePolicySource({ path, intervalMs: 30, settleMs: 0 });
    const seen = collect(source);
    try {
      const missing = await seen.next('unavailable');
      assert.ok(missing.kind === 'unavailable');
      assert.equal(missing.reason.rule, 'policy-unavailable');
      assert.match(missing.reason.message, /cannot read .*later\.json/);
      await delay(150);
      assert.equal(seen.events.length, 1, 'the same problem is reported once');
      await writeFile(path, text(liveBundle(1)));
      await seen.next('bundle');
    } finally {
      await source.close();
    }
  });

  it('a file over the size cap is refused as policy-too-large without being read', async () => {
    const path = join(dir.path, 'large.json');
    await writeFile(path, 'x'.repeat(4096));
    const source = new FilePolicySource({ path, intervalMs: 0, maxBytes: 1024 });
    const seen = collect(source);
    try {
      const refused = await seen.next('refused');
      assert.ok(refused.kind === 'refused');
      assert.equal(refused.reason.rule, 'policy-too-large');
      assert.match(refused.reason.message, /4096 bytes; this site accepts at most 1024/);
    } finally {
      await source.close();
    }
  });

  it('close stops polling', async () => {
    const path = join(dir.path, 'closed.json');
    await writeFile(path, text(liveBundle(1)));
    const source = new FilePolicySource({ path, intervalMs: 20, settleMs: 0 });
    const seen = collect(source);
    await seen.next('bundle');
    await source.close();
    await writeFile(path, text(liveBundle(2)));
    await delay(150);
    assert.equal(seen.events.length, 1);
  });
});

describe('UrlPolicySource', () => {
  let server: Server;
  let base = '';
  let body = '';
  let etag = '"v1"';
  const requests: Array<{ url: string; ifNoneMatch: string | undefined; status: number }> = [];
  before(async () => {
    server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const ifNoneMatch = req.headers['if-none-match'];
      const answer = (status: number, headers: Record<string, string | number> = {}, content?: string): void => {
        requests.push({ url: req.url ?? '', ifNoneMatch, status });
        res.writeHead(status, headers).end(content);
      };
      switch (req.url) {
        case '/hang':
          requests.push({ url: '/hang', ifNoneMatch, status: 0 });
          return;
        case '/error':
          return answer(503, {}, 'down');
        case '/large-declared':
          return answer(200, { 'content-length': 8192 }, 'x'.repeat(8192));
        case '/large-chunked':
          // No Content-Length: the cap must be enforced while the body streams.
          requests.push({ url: req.url, ifNoneMatch, status: 200 });
          res.writeHead(200, { 'content-type': 'application/json' });
          res.write('x'.repeat(1000));
          res.write('x'.repeat(1000));
          res.end('x'.repeat(1000));
          return;
        default:
          if (ifNoneMatch === etag) return answer(304, { etag });
          return answer(200, { etag, 'content-type': 'application/json' }, body);
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('a conditional GET: 200 with an ETag, then 304 (no event), then the changed bundle', async () => {
    body = text(liveBundle(1));
    etag = '"v1"';
    requests.length = 0;
    const source = new UrlPolicySource({ url: `${base}/policy.json`, intervalMs: 40 });
    const seen = collect(source);
    try {
      await seen.next('bundle');
      await waitFor(() => requests.filter((r) => r.status === 304).length >= 2, { timeoutMs: 3000, message: 'two 304 answers' });
      assert.equal(seen.events.length, 1, '304 reports nothing');
      assert.equal(requests[0]?.ifNoneMatch, undefined, 'the first request is unconditional');
      assert.ok(requests.slice(1).every((r) => r.ifNoneMatch === '"v1"'), 'later requests send the ETag');
      body = text(liveBundle(2));
      etag = '"v2"';
      const changed = await seen.next('bundle', 2);
      assert.ok(changed.kind === 'bundle');
      assert.equal(versionOf(changed.bytes), 2);
    } finally {
      await source.close();
    }
  });

  it('a declared body over the cap is refused as policy-too-large', async () => {
    const source = new UrlPolicySource({ url: `${base}/large-declared`, intervalMs: 0, maxBytes: 1024 });
    const seen = collect(source);
    const refused = await seen.next('refused');
    assert.ok(refused.kind === 'refused');
    assert.equal(refused.reason.rule, 'policy-too-large');
    assert.match(refused.reason.message, /8192 bytes/);
    await source.close();
  });

  it('a streamed body over the cap is refused while it streams', async () => {
    const source = new UrlPolicySource({ url: `${base}/large-chunked`, intervalMs: 0, maxBytes: 1500 });
    const seen = collect(source);
    const refused = await seen.next('refused');
    assert.ok(refused.kind === 'refused');
    assert.match(refused.reason.message, /more than 1500 bytes/);
    await source.close();
  });

  it('a server that does not answer times out as unavailable', async () => {
    const source = new UrlPolicySource({ url: `${base}/hang`, intervalMs: 0, timeoutMs: 200 });
    const seen = collect(source);
    const started = Date.now();
    const outage = await seen.next('unavailable');
    assert.ok(outage.kind === 'unavailable');
    assert.match(outage.reason.message, /did not answer within 200 ms/);
    assert.ok(Date.now() - started < 2000);
    await source.close();
  });

  it('an HTTP error and a refused connection are unavailable, not refusals', async () => {
    const error = new UrlPolicySource({ url: `${base}/error`, intervalMs: 0 });
    const seenError = collect(error);
    const outage = await seenError.next('unavailable');
    assert.ok(outage.kind === 'unavailable');
    assert.match(outage.reason.message, /answered 503/);
    await error.close();
    const dead = new UrlPolicySource({ url: 'http://127.0.0.1:1/policy.json', intervalMs: 0, timeoutMs: 2000 });
    const seenDead = collect(dead);
    const refusedConnection = await seenDead.next('unavailable');
    assert.ok(refusedConnection.kind === 'unavailable');
    assert.match(refusedConnection.reason.message, /cannot fetch/);
    await dead.close();
  });

  it('close aborts a request in flight at once', async () => {
    const source = new UrlPolicySource({ url: `${base}/hang`, intervalMs: 60_000, timeoutMs: 30_000 });
    const seen = collect(source);
    await waitFor(() => requests.some((r) => r.url === '/hang'), { message: 'the request to hang' });
    const started = Date.now();
    await source.close();
    assert.ok(Date.now() - started < 1000, `close took ${Date.now() - started} ms`);
    assert.equal(seen.events.length, 0, 'an aborted request reports nothing');
  });
});

describe('BusPolicySource', () => {
  type Handler = (topic: string, payload: Buffer) => void;
  interface FakeBus {
    filters: string[];
    unsubscribed: number;
    handler: Handler | undefined;
    subscribe(filter: string, qos: 0 | 1 | 2, handler: Handler): Promise<() => Promise<void>>;
  }
  function fakeBus(): FakeBus {
    const bus: FakeBus = {
      filters: [],
      unsubscribed: 0,
      handler: undefined,
      subscribe(filter, _qos, handler) {
        bus.filters.push(filter);
        bus.handler = handler;
        return Promise.resolve(() => {
          bus.unsubscribed += 1;
          return Promise.resolve();
        });
      },
    };
    return bus;
  }

  it('subscribes to the topic, reports each new bundle, ignores an empty retained message, refuses one over the cap', async () => {
    const bus = fakeBus();
    const source = new BusPolicySource(bus, 'tectonic/policy/central-default', { maxBytes: 4096 });
    const seen = collect(source);
    await waitFor(() => bus.handler, { message: 'the subscription' });
    assert.deepEqual(bus.filters, ['tectonic/policy/central-default']);
    const v1 = Buffer.from(text(liveBundle(1)));
    bus.handler?.('tectonic/policy/central-default', v1);
    bus.handler?.('tectonic/policy/central-default', v1);
    bus.handler?.('tectonic/policy/central-default', Buffer.alloc(0));
    bus.handler?.('tectonic/policy/central-default', Buffer.alloc(5000, 0x20));
    assert.deepEqual(seen.events.map((e) => e.kind), ['bundle', 'refused']);
    assert.equal(seen.events[1]?.kind === 'refused' && seen.events[1].reason.rule, 'policy-too-large');
    await source.close();
    assert.equal(bus.unsubscribed, 1);
    bus.handler?.('tectonic/policy/central-default', Buffer.from(text(liveBundle(2))));
    assert.equal(seen.events.length, 2, 'nothing after close');
  });
});

describe('PolicyCache', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  before(async () => {
    dir = await tempDir('tectonic-policy-cache-');
  });
  after(() => dir.remove());

  it('a missing cache is empty; a written one reads back; the folder is created', async () => {
    const cache = new PolicyCache(join(dir.path, 'deep', 'er', 'a.json'));
    assert.deepEqual(await cache.read(), { cached: {} });
    await cache.write({ signed: 'SIGNED', bundleId: 'central-default', highestVersion: 7 });
    assert.deepEqual(await cache.read(), { cached: { signed: 'SIGNED', bundleId: 'central-default', highestVersion: 7 } });
    const onDisk = JSON.parse(await readFile(cache.file, 'utf8')) as Record<string, unknown>;
    assert.equal(onDisk.format, 1);
  });

  const broken: Array<[string, string, RegExp]> = [
    ['not JSON', '{"format": 1, "signed": ', /is not JSON/],
    ['not an object', '[1, 2]', /is not a policy cache/],
    ['another format', '{"format": 99, "signed": "x"}', /cache format 99/],
  ];
  for (const [name, content, problem] of broken) {
    it(`a cache that is ${name} is ignored with the problem named`, async () => {
      const file = join(dir.path, `broken-${name.replace(/\W/g, '-')}.json`);
      await writeFile(file, content);
      const { cached, problem: said } = await new PolicyCache(file).read();
      assert.deepEqual(cached, {});
      assert.match(said ?? '', problem);
    });
  }

  it('a version that is not a whole number from 1 up is dropped', async () => {
    const file = join(dir.path, 'versions.json');
    await writeFile(file, JSON.stringify({ format: 1, signed: 'S', highestVersion: -3 }));
    assert.deepEqual((await new PolicyCache(file).read()).cached, { signed: 'S' });
  });

  it('writes are atomic: many at once leave one whole file and no temporary files', async () => {
    const sub = join(dir.path, 'atomic');
    const cache = new PolicyCache(join(sub, 'policy.json'));
    const big = 'y'.repeat(200_000);
    await Promise.all(Array.from({ length: 20 }, (_, i) => cache.write({ signed: `${big}${i}`, highestVersion: i + 1 })));
    const { cached, problem } = await cache.read();
    assert.equal(problem, undefined);
    assert.ok(cached.signed?.startsWith(big));
    assert.equal(cached.signed?.slice(big.length), String((cached.highestVersion ?? 0) - 1), 'bundle and version come from the same write');
    assert.deepEqual(await readdir(sub), ['policy.json']);
  });

  it('a failed write leaves the previous cache intact and no temporary file', async () => {
    const sub = join(dir.path, 'failing');
    const cache = new PolicyCache(join(sub, 'policy.json'));
    await cache.write({ signed: 'GOOD', highestVersion: 3 });
    // The rename cannot replace a directory: the write fails after the temporary file was written.
    const blocked = new PolicyCache(join(sub, 'blocked'));
    await mkdir(join(sub, 'blocked', 'inside'), { recursive: true });
    await assert.rejects(blocked.write({ signed: 'NEW', highestVersion: 4 }));
    assert.deepEqual((await cache.read()).cached, { signed: 'GOOD', highestVersion: 3 });
    assert.deepEqual((await readdir(sub)).sort(), ['blocked', 'policy.json']);
  });
});

/** A source the test feeds by hand. */
class HandSource implements PolicySource {
  readonly origin = 'hand';
  listener: ((event: PolicySourceEvent) => void) | undefined;
  closed = false;
  start(listener: (event: PolicySourceEvent) => void): void {
    this.listener = listener;
  }
  offer(doc: JsonObject | string): void {
    const bytes = Buffer.from(typeof doc === 'string' ? doc : text(doc));
    this.listener?.({ kind: 'bundle', bytes, digest: bundleDigest(bytes) });
  }
  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }
}

describe('SitePolicy: cache, restart, refusals', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  before(async () => {
    dir = await tempDir('tectonic-site-policy-');
  });
  after(() => dir.remove());

  function site(cacheName: string, over: Partial<ConstructorParameters<typeof SitePolicy>[0]> = {}): { policy: SitePolicy; source: HandSource; statuses: SitePolicyStatus[]; warnings: string[] } {
    const source = new HandSource();
    const warnings: string[] = [];
    const policy = new SitePolicy({
      source,
      trustedKeys: [keys().publicKeyPem],
      site: 'site-a',
      hashKey: HASH_KEY,
      cache: new PolicyCache(join(dir.path, `${cacheName}.json`)),
      log: { info: () => undefined, warn: (m) => warnings.push(m) },
      ...over,
    });
    const statuses: SitePolicyStatus[] = [];
    policy.onChange((s) => statuses.push(s));
    return { policy, source, statuses, warnings };
  }
  const name = (p: SitePolicy): string => (p.status.state === 'in-force' ? p.status.name : `fail-closed ${p.status.reason.rule}`);
  const verdictOf = (p: SitePolicy): boolean => p.evaluate({ payload: shipment, cdm: shipmentCdm }).pass;

  it('nothing loaded: fails closed with policy-unavailable; an outage says why', async () => {
    const { policy, source } = site('empty');
    await policy.start();
    assert.equal(name(policy), 'fail-closed policy-unavailable');
    assert.equal(verdictOf(policy), false);
    source.listener?.({ kind: 'unavailable', reason: { path: '', rule: 'policy-unavailable', message: 'cannot fetch http://x: ECONNREFUSED' } });
    assert.equal(policy.status.state === 'fail-closed' && policy.status.reason.message, 'no policy bundle is in force: cannot fetch http://x: ECONNREFUSED');
    await policy.close();
  });

  it('a good bundle goes in force and is cached; a restart without the network enforces the cached one', async () => {
    const first = site('restart');
    await first.policy.start();
    first.source.offer(liveBundle(3));
    assert.equal(name(first.policy), 'test-policy@3');
    assert.equal(verdictOf(first.policy), true);
    await first.policy.close();
    const onDisk = JSON.parse(await readFile(join(dir.path, 'restart.json'), 'utf8')) as { highestVersion: number; bundleId: string };
    assert.equal(onDisk.highestVersion, 3);
    assert.equal(onDisk.bundleId, 'test-policy');

    const second = site('restart');
    await second.policy.start();
    second.source.listener?.({ kind: 'unavailable', reason: { path: '', rule: 'policy-unavailable', message: 'network down' } });
    assert.equal(name(second.policy), 'test-policy@3');
    assert.equal(verdictOf(second.policy), true);
    assert.ok(second.warnings.some((w) => /network down; test-policy@3 stays in force/.test(w)), second.warnings.join('\n'));
    await second.policy.close();
  });

  it('a rollback stays refused across a restart, and fails the gates closed (the refusal policy)', async () => {
    const first = site('rollback');
    await first.policy.start();
    first.source.offer(liveBundle(3));
    await first.policy.close();

    const second = site('rollback');
    await second.policy.start();
    assert.equal(name(second.policy), 'test-policy@3', 'the cached v3 is in force after the restart');
    second.source.offer(liveBundle(2));
    assert.equal(name(second.policy), 'fail-closed policy-rollback');
    assert.equal(verdictOf(second.policy), false);
    assert.ok(second.warnings.some((w) => /refused \(policy-rollback\).*test-policy@3 was in force; every gate now rejects/.test(w)), second.warnings.join('\n'));
    assert.equal(second.statuses.at(-1)?.state, 'fail-closed', 'listeners hear of it');
    second.source.offer(liveBundle(4));
    assert.equal(name(second.policy), 'test-policy@4', 'a good bundle recovers');
    await second.policy.close();
  });

  it('a cached bundle that no longer verifies is refused, but its version still guards against a rollback', async () => {
    const file = join(dir.path, 'tampered-cache.json');
    const doc = liveBundle(5);
    await writeFile(file, JSON.stringify({ format: 1, signed: text(doc).replace('"maxBytes":65536', '"maxBytes":65537'), bundleId: 'test-policy', highestVersion: 5 }));
    const { policy, source } = site('tampered-cache');
    await policy.start();
    assert.equal(name(policy), 'fail-closed policy-bad-signature');
    source.offer(liveBundle(4));
    assert.equal(name(policy), 'fail-closed policy-rollback');
    await policy.close();
  });

  it('a bundle of another id is refused when the id is pinned, and a cache of another id is ignored', async () => {
    const pinned = site('pinned', { bundleId: 'central-default' });
    await pinned.policy.start();
    pinned.source.offer(liveBundle(9));
    assert.equal(name(pinned.policy), 'fail-closed policy-wrong-id');
    pinned.source.offer(liveBundle(1, undefined, { id: 'central-default' }));
    assert.equal(name(pinned.policy), 'central-default@1', 'the wrong id did not raise the highest version');
    await pinned.policy.close();

    await new PolicyCache(join(dir.path, 'other-id.json')).write({ signed: text(liveBundle(8)), bundleId: 'test-policy', highestVersion: 8 });
    const other = site('other-id', { bundleId: 'central-default' });
    await other.policy.start();
    assert.equal(name(other.policy), 'fail-closed policy-unavailable');
    other.source.offer(liveBundle(2, undefined, { id: 'central-default' }));
    assert.equal(name(other.policy), 'central-default@2');
    await other.policy.close();
  });

  it('a refusal at the source (too large) fails closed; an outage after it keeps the refusal as the reason', async () => {
    const { policy, source } = site('too-large');
    await policy.start();
    source.offer(liveBundle(1));
    source.listener?.({ kind: 'refused', reason: { path: '', rule: 'policy-too-large', message: 'too big' } });
    assert.equal(name(policy), 'fail-closed policy-too-large');
    source.listener?.({ kind: 'unavailable', reason: { path: '', rule: 'policy-unavailable', message: 'gone' } });
    assert.equal(name(policy), 'fail-closed policy-too-large');
    await policy.close();
  });

  it('a bundle that expires while in force wakes the listeners with policy-expired', async () => {
    const { policy, source, statuses } = site('expiring');
    await policy.start();
    source.offer(liveBundle(1, undefined, { expiresAt: new Date(Date.now() + 300).toISOString() }));
    assert.equal(name(policy), 'test-policy@1');
    const expired = await waitFor(() => statuses.find((s) => s.state === 'fail-closed' && s.reason.rule === 'policy-expired'), { timeoutMs: 3000, message: 'the expiry' });
    assert.ok(expired);
    assert.equal(verdictOf(policy), false);
    await policy.close();
  });

  it('a central instance publishes each bundle it puts in force once, never a refused one', async () => {
    const published: Array<{ id: string; version: number; bytes: string }> = [];
    const { policy, source } = site('central', {
      publish: (bytes, bundle) => {
        published.push({ ...bundle, bytes: bytes.toString('utf8') });
        return Promise.resolve();
      },
    });
    await policy.start();
    const v1 = liveBundle(1);
    source.offer(v1);
    source.offer(v1);
    source.offer(text(liveBundle(2)).replace('"version":2', '"version":20'));
    await policy.close();
    assert.deepEqual(published.map((p) => `${p.id}@${p.version}`), ['test-policy@1']);
    assert.equal(published[0]?.bytes, text(v1), 'published exactly as signed');
  });
});
