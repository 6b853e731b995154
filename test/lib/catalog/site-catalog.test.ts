// The cdm-catalog node's lib side: its settings, parsed without Node-RED, and
// SiteCatalog, which follows a source through the store's gate, tells its
// users and, on a central instance, publishes what it puts in force.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { type CatalogConfigFields, type CatalogSettings, parseCatalogSettings } from '../../../lib/catalog/catalog-settings';
import type { CatalogSource, CatalogSourceEvent } from '../../../lib/catalog/catalog-source';
import { SiteCatalog } from '../../../lib/catalog/site-catalog';
import { catalogDigest } from '../../../lib/catalog/catalog-bundle';
import { BREAKING_SHIPMENT_120, COMPATIBLE_SHIPMENT_120 } from './catalog-fixtures';
import { sampleFiles } from './helpers';

describe('parseCatalogSettings', () => {
  const env = (name: string): string | undefined => ({ CDM_DIR: ' /srv/cdm ', CDM_URL: 'https://hq.example/cdm.json', EMPTY: '  ', KEYS: '/etc/keys.pem' })[name];
  const PEM_A = '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----';
  const PEM_B = '-----BEGIN PUBLIC KEY-----\nBBBB\n-----END PUBLIC KEY-----';
  const files: Record<string, string> = { '/etc/keys.pem': `${PEM_A}\n${PEM_B}\n` };
  const trust = {
    readKeyFile: (path: string): string => {
      const text = files[path];
      if (text === undefined) throw new Error(`ENOENT ${path}`);
      return text;
    },
  };
  const cases: Array<[string, CatalogConfigFields, CatalogSettings | string]> = [
    ['nothing set: the bundled sample, STRICT', {}, { trustedKeys: [], policy: 'STRICT', source: { kind: 'bundled' } }],
    ['LENIENT, publishing to a bus', { source: 'bundled', policy: 'LENIENT', publishToBus: 'b1' }, { trustedKeys: [], policy: 'LENIENT', source: { kind: 'bundled' }, publishToBus: 'b1' }],
    ['an unknown policy is STRICT', { policy: 'lenient' }, { trustedKeys: [], policy: 'STRICT', source: { kind: 'bundled' } }],
    ['a folder, default 10 s', { source: 'folder', folder: ' /data/cdm ', folderType: 'str' }, { trustedKeys: [], policy: 'STRICT', source: { kind: 'folder', dir: '/data/cdm', intervalMs: 10_000 } }],
    ['a folder from the environment, every 0.5 s', { source: 'folder', folder: 'CDM_DIR', folderType: 'env', refresh: '0.5' }, { trustedKeys: [], policy: 'STRICT', source: { kind: 'folder', dir: '/srv/cdm', intervalMs: 500 } }],
    ['a folder is required', { source: 'folder', folder: ' ', folderType: 'str' }, 'folder: a catalog folder is required'],
    ['an unset variable is named', { source: 'folder', folder: 'NOPE', folderType: 'env' }, 'folder: environment variable NOPE is not set'],
    ['an empty variable is unset', { source: 'url', url: 'EMPTY', urlType: 'env' }, 'url: environment variable EMPTY is not set'],
    ['a URL, default 60 s, requests bounded at 30 s', { source: 'url', url: 'CDM_URL', urlType: 'env' }, { trustedKeys: [], policy: 'STRICT', source: { kind: 'url', url: 'https://hq.example/cdm.json', intervalMs: 60_000, timeoutMs: 30_000 } }],
    ['a URL every 2 s: requests bounded at 2 s', { source: 'url', url: 'http://c/x', urlType: 'str', refresh: '2' }, { trustedKeys: [], policy: 'STRICT', source: { kind: 'url', url: 'http://c/x', intervalMs: 2000, timeoutMs: 2000 } }],
    ['a URL every 0.2 s: requests still get 1 s', { source: 'url', url: 'http://c/x', urlType: 'str', refresh: '0.2' }, { trustedKeys: [], policy: 'STRICT', source: { kind: 'url', url: 'http://c/x', intervalMs: 200, timeoutMs: 1000 } }],
    ['not http', { source: 'url', url: 'file:///etc/passwd', urlType: 'str' }, 'url: a catalog URL must be http or https, got file:'],
    ['not a URL', { source: 'url', url: 'hq', urlType: 'str' }, 'url: "hq" is not a URL'],
    ['the bus names its config', { source: 'bus', bus: 'b2' }, { trustedKeys: [], policy: 'STRICT', source: { kind: 'bus', bus: 'b2' } }],
    ['a bad refresh is refused whatever the source', { source: 'bus', bus: 'b2', refresh: 'soon' }, 'refresh must be a number of seconds, got "soon"'],
    ['an unknown source', { source: 'ftp' }, 'source must be bundled, folder, url or bus, got "ftp"'],
    ['trusted keys from a file named by a variable', { source: 'bus', bus: 'b2', publicKeyFile: 'KEYS', publicKeyFileType: 'env' }, { trustedKeys: [PEM_A, PEM_B], policy: 'STRICT', source: { kind: 'bus', bus: 'b2' } }],
    ['an unreadable key file is refused', { source: 'bus', bus: 'b2', publicKeyFile: '/nope', publicKeyFileType: 'str' }, 'cannot read a trusted public key: ENOENT /nope'],
  ];
  for (const [what, config, expected] of cases) {
    it(what, () => {
      const parsed = parseCatalogSettings(config, env, trust);
      if (typeof expected === 'string') assert.deepEqual(parsed, { ok: false, problem: expected });
      else assert.deepEqual(parsed, { ok: true, value: expected });
    });
  }
});

/** A source the test drives by hand. */
class ManualSource implements CatalogSource {
  readonly origin = 'manual';
  listener: ((event: CatalogSourceEvent) => void) | undefined;
  closed = false;
  start(listener: (event: CatalogSourceEvent) => void): void {
    this.listener = listener;
  }
  emit(event: CatalogSourceEvent): void {
    this.listener?.(event);
  }
  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }
}

function files(extra: Record<string, string> = {}): CatalogSourceEvent {
  const all = new Map(sampleFiles());
  for (const [path, text] of Object.entries(extra)) all.set(path, text);
  return { kind: 'files', files: all, digest: catalogDigest(all) };
}

describe('SiteCatalog', () => {
  it('waits, takes a catalog, keeps it through a breaking one and an outage, and logs each once', async () => {
    const source = new ManualSource();
    const logs: string[] = [];
    const published: string[] = [];
    const catalog = new SiteCatalog({
      source,
      policy: 'STRICT',
      publish: (c) => {
        published.push([...c.entities.keys()].join());
        return Promise.resolve({ topics: ['a', 'b'] });
      },
      log: { info: (m) => logs.push(`info ${m}`), warn: (m) => logs.push(`warn ${m}`) },
    });
    const kinds: string[] = [];
    catalog.onState((s) => kinds.push(`${s.kind}${s.issue ? `/${s.issue.kind}` : ''}`));
    catalog.start();
    assert.equal(catalog.snapshot, undefined);

    source.emit(files());
    const first = catalog.snapshot;
    assert.ok(first);
    source.emit(files({ 'shipment/1.2.0.schema.json': BREAKING_SHIPMENT_120 }));
    assert.equal(catalog.snapshot, first, 'a breaking catalog leaves the one in force');
    source.emit({ kind: 'unavailable', reasons: [{ path: 'x', rule: 'fetch-failed', message: 'down' }] });
    source.emit(files({ 'shipment/1.2.0.schema.json': COMPATIBLE_SHIPMENT_120 }));
    assert.notEqual(catalog.snapshot, first);
    await new Promise((resolve) => setImmediate(resolve));
    await catalog.close();
    assert.equal(source.closed, true);

    assert.deepEqual(kinds, ['waiting', 'ready', 'ready/refused', 'ready/unavailable', 'ready']);
    assert.equal(published.length, 2, 'each catalog put in force is published, in order');
    const lines = logs.map((l) => l.split('\n')[0] ?? '');
    const publishedLines = lines.filter((l) => l.includes('published to the bus'));
    assert.equal(publishedLines.length, 2);
    for (const line of publishedLines) assert.match(line, /^info catalog [0-9a-f]{8} published to the bus: 2 retained messages$/);
    const rest = lines.filter((l) => !l.includes('published to the bus'));
    assert.match(rest[0] ?? '', /^info catalog [0-9a-f]{8} in force \(STRICT\) from manual: /);
    assert.match(rest[1] ?? '', /^warn catalog from manual refused, catalog [0-9a-f]{8} stays in force:$/);
    assert.equal(rest[2], 'warn manual: x: down');
    assert.match(rest[3] ?? '', /^info catalog [0-9a-f]{8} in force \(STRICT\) from manual, replacing [0-9a-f]{8}: /);
  });

  it('a failed publication is a warning; after close nothing more is reported', async () => {
    const source = new ManualSource();
    const logs: string[] = [];
    const catalog = new SiteCatalog({
      source,
      policy: 'LENIENT',
      publish: () => Promise.reject(new Error('not connected')),
      log: { info: (m) => logs.push(`info ${m}`), warn: (m) => logs.push(`warn ${m}`) },
    });
    catalog.start();
    source.emit(files());
    await new Promise((resolve) => setImmediate(resolve));
    assert.match(logs.at(-1) ?? '', /^warn publishing catalog [0-9a-f]{8} to the bus failed: not connected$/);
    await catalog.close();
    const count = logs.length;
    source.emit({ kind: 'unavailable', reasons: [{ path: '', rule: 'r', message: 'm' }] });
    assert.equal(logs.length, count);
  });
});
