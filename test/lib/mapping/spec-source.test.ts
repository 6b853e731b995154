// cdm-map's spec source (issue 21): its settings as a table, and the spec in
// force through real sources: a file rewritten on disk, a bad spec that leaves
// the previous one in force, a URL served by a real HTTP server on 127.0.0.1.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'mocha';
import { type MappingInForce, MappingSpecHolder, type SpecChange, compileSpecText, openSpecSource, parseSpecSource } from '../../../lib/mapping/spec-source';

const env: Record<string, string> = { TECTONIC_MAPPING_SPEC: '/srv/spec.yaml', SPEC_URL: 'http://127.0.0.1:9/spec.json' };
const lookup = (name: string): string | undefined => env[name];

const specV1 = { entity: 'shipment', version: '1.0.0', rules: [{ to: 'shipmentId', from: 'shp_no' }] };
const specV2Yaml = 'entity: shipment\nversion: 1.1.0\nrules:\n  - to: shipmentId\n    from: shipment_number\n';

/** Read through a call, so an assertion that nothing is in force does not narrow later reads. */
const inForce = (holder: MappingSpecHolder): MappingInForce | undefined => holder.current;

/** Waits, bounded, until `check` holds. */
async function until(check: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('parseSpecSource', () => {
  const accepted: Array<[string, Record<string, string | undefined>, unknown]> = [
    ['absent: the node\'s rules', {}, { kind: 'rules' }],
    ['rules', { specSource: 'rules', specFrom: 'ignored' }, { kind: 'rules' }],
    ['a file path, default refresh 5 s', { specSource: 'file', specFrom: ' /srv/a.json ' }, { kind: 'file', path: '/srv/a.json', intervalMs: 5000 }],
    ['a file from an env variable', { specSource: 'file', specFrom: 'TECTONIC_MAPPING_SPEC', specFromType: 'env', specRefresh: '0.5' }, { kind: 'file', path: '/srv/spec.yaml', intervalMs: 500 }],
    ['a URL, default refresh 60 s', { specSource: 'url', specFrom: 'SPEC_URL', specFromType: 'env' }, { kind: 'url', url: 'http://127.0.0.1:9/spec.json', intervalMs: 60000, timeoutMs: 30000 }],
  ];
  for (const [name, fields, expected] of accepted) {
    it(name, () => assert.deepEqual(parseSpecSource(fields, lookup), { ok: true, value: expected }));
  }
  const refused: Array<[string, Record<string, string | undefined>, RegExp]> = [
    ['an unknown kind', { specSource: 'bus' }, /rules, file or url, got "bus"/],
    ['a file without a path', { specSource: 'file', specFrom: ' ' }, /path of the mapping spec is required/],
    ['an unset variable', { specSource: 'file', specFrom: 'NOPE', specFromType: 'env' }, /environment variable NOPE is not set/],
    ['a file: URL', { specSource: 'url', specFrom: 'file:///etc/passwd' }, /must be http or https/],
    ['a bad refresh', { specSource: 'file', specFrom: '/a', specRefresh: 'soon' }, /refresh must be a number of seconds/],
  ];
  for (const [name, fields, problem] of refused) {
    it(`refuses ${name}`, () => {
      const got = parseSpecSource(fields, lookup);
      assert.ok(!got.ok);
      assert.match(got.problem, problem);
    });
  }
});

describe('compileSpecText', () => {
  it('reads JSON and YAML alike', () => {
    const json = compileSpecText(Buffer.from(JSON.stringify(specV1)), 'a');
    const yaml = compileSpecText(Buffer.from(specV2Yaml), 'b');
    assert.ok(json.ok && yaml.ok);
    assert.equal(json.mapping.version, '1.0.0');
    assert.deepEqual(yaml.mapping.map({ shipment_number: 'S-9' }), { ok: true, value: { shipmentId: 'S-9' } });
  });
  const bad: Array<[string, string, string]> = [
    ['broken JSON', '{"entity": ', 'malformed'],
    ['broken YAML', 'entity: [a\n', 'malformed'],
    ['a misspelt key', JSON.stringify({ ...specV1, rule: [] }), 'unknown-key'],
    ['not an object', '42', 'type'],
  ];
  for (const [name, text, rule] of bad) {
    it(`refuses ${name} with its reasons`, () => {
      const got = compileSpecText(Buffer.from(text), 'spec');
      assert.ok(!got.ok);
      assert.ok(got.reasons.length > 0);
      assert.ok(got.reasons.some((r) => r.rule === rule), JSON.stringify(got.reasons));
    });
  }
});

describe('MappingSpecHolder', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tectonic-spec-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('the node\'s rules are in force at once', () => {
    const compiled = compileSpecText(Buffer.from(JSON.stringify(specV1)), 'rules');
    assert.ok(compiled.ok);
    const holder = new MappingSpecHolder({ site: 'site-a', source: 'urn:x' }, () => undefined, undefined, compiled.mapping);
    assert.deepEqual(holder.current?.origin, { entity: 'shipment', version: '1.0.0', site: 'site-a', source: 'urn:x' });
  });

  it('a file: waits, takes the first spec, a changed file puts the new one in force, a bad one leaves it', async () => {
    const file = join(dir, 'spec.json');
    const changes: SpecChange[] = [];
    const source = openSpecSource({ kind: 'file', path: file, intervalMs: 100 }, { settleMs: 20 });
    const holder = new MappingSpecHolder({ site: 'site-a', source: 'urn:x' }, (c) => changes.push(c), source);
    holder.start();
    try {
      await until(() => changes.length >= 1, 'the missing file reported');
      assert.equal(changes[0]?.kind, 'unavailable');
      assert.equal(inForce(holder), undefined, 'nothing in force while the file is missing');

      await writeFile(file, JSON.stringify(specV1));
      await until(() => holder.current !== undefined, 'the first spec in force');
      assert.deepEqual(changes.at(-1), { kind: 'in-force', entity: 'shipment', version: '1.0.0', digest: holder.current?.digest, first: true });

      await writeFile(file, specV2Yaml);
      await until(() => holder.current?.mapping.version === '1.1.0', 'the changed spec in force');
      assert.equal(holder.current?.origin.version, '1.1.0', 'the envelope follows the spec in force');

      const before = changes.length;
      await writeFile(file, JSON.stringify({ entity: 'shipment', version: '1.2.0', rules: [{ to: 'x', from: 'y', transforms: [{ nosuch: {} }] }] }));
      await until(() => changes.length > before, 'the bad spec reported');
      const kept = changes.at(-1);
      assert.equal(kept?.kind, 'kept');
      assert.equal(holder.current?.mapping.version, '1.1.0', 'the previous spec stays in force');

      // Compiled once per change: polls of the same bad bytes say nothing more.
      const after = changes.length;
      await new Promise((r) => setTimeout(r, 350));
      assert.equal(changes.length, after);
    } finally {
      await holder.close();
    }
  });

  it('a first spec that does not compile is refused and the holder keeps waiting', async () => {
    const file = join(dir, 'bad.json');
    await writeFile(file, '{"entity": "shipment"');
    const changes: SpecChange[] = [];
    const holder = new MappingSpecHolder({ site: 'site-a', source: 'urn:x' }, (c) => changes.push(c), openSpecSource({ kind: 'file', path: file, intervalMs: 100 }));
    holder.start();
    try {
      await until(() => changes.length >= 1, 'the refusal');
      assert.equal(changes[0]?.kind, 'refused');
      assert.equal(inForce(holder), undefined);
    } finally {
      await holder.close();
    }
  });

  describe('a URL on a real HTTP server on 127.0.0.1', () => {
    let server: Server;
    let body = JSON.stringify(specV1);
    let requests = 0;
    let base = '';
    before(async () => {
      server = createServer((req, res) => {
        requests += 1;
        const etag = `"${Buffer.from(body).toString('base64url').slice(0, 24)}${body.length}"`;
        if (req.headers['if-none-match'] === etag) {
          res.writeHead(304).end();
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json', etag }).end(body);
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    after(() => new Promise<void>((resolve) => server.close(() => resolve())));

    it('takes the spec, follows a change, keeps it through a bad one', async () => {
      const changes: SpecChange[] = [];
      const holder = new MappingSpecHolder({ site: 'site-a', source: 'urn:x' }, (c) => changes.push(c), openSpecSource({ kind: 'url', url: `${base}/spec.json`, intervalMs: 100, timeoutMs: 1000 }));
      holder.start();
      try {
        await until(() => holder.current !== undefined, 'the spec from the URL');
        assert.equal(holder.current?.mapping.version, '1.0.0');
        body = specV2Yaml;
        await until(() => holder.current?.mapping.version === '1.1.0', 'the changed spec');
        body = '{ not json';
        await until(() => changes.at(-1)?.kind === 'kept', 'the bad spec reported');
        assert.equal(holder.current?.mapping.version, '1.1.0');
        assert.ok(requests >= 3);
      } finally {
        await holder.close();
      }
    });
  });
});
