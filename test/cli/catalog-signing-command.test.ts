import { after, before, describe, it } from 'mocha';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { catalogDigest, encodeCatalogBundle } from '../../lib/catalog/catalog-bundle';
import { sampleFiles } from '../lib/catalog/helpers';
import { tectonic } from '../support/tectonic-cli';

describe('cli: tectonic catalog sign | verify', function () {
  // Each test runs the real command several times; on a loaded machine one start of tsx takes seconds.
  this.timeout(60_000);
  let tmp: string;
  const at = (name: string): string => join(tmp, name);

  before(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'tectonic-catalog-sign-'));
    for (const dir of ['keys', 'other']) {
      const keygen = await tectonic(['policy', 'keygen', '--out', at(dir)]);
      assert.equal(keygen.code, 0, keygen.stderr);
    }
    writeFileSync(at('bundle.json'), encodeCatalogBundle(sampleFiles()).text);
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  it('signs a folder, and the signature verifies with the public key', async () => {
    const sign = await tectonic(['catalog', 'sign', 'cdm', '--key', at('keys/policy.key'), '--sequence', '7', '--out', at('signed.json')]);
    assert.equal(sign.code, 0, sign.stderr);
    assert.match(sign.stderr, /^signed catalog [0-9a-f]{8} sequence 7 with key \S{16} -> /);
    const bundle = JSON.parse(readFileSync(at('signed.json'), 'utf8')) as Record<string, unknown>;
    assert.equal(bundle.format, 2);
    assert.equal(bundle.sequence, 7);
    const verify = await tectonic(['catalog', 'verify', at('signed.json'), '--pub', at('keys/policy.pub'), '--json']);
    assert.equal(verify.code, 0, verify.stdout);
    const out = JSON.parse(verify.stdout) as Record<string, unknown>;
    assert.equal(out.valid, true);
    assert.equal(out.sequence, 7);
  });

  it('signs a format 1 bundle file, the same catalog, the same digest', async () => {
    const sign = await tectonic(['catalog', 'sign', at('bundle.json'), '--key', at('keys/policy.key'), '--sequence', '8']);
    assert.equal(sign.code, 0, sign.stderr);
    assert.equal((JSON.parse(sign.stdout) as { digest: string }).digest, catalogDigest(sampleFiles()));
  });

  const refusals: Array<[string, () => string[], RegExp]> = [
    ['an unsigned bundle', () => [at('bundle.json'), '--pub', at('keys/policy.pub')], /catalog-unsigned/],
    ['a key not trusted', () => [at('signed.json'), '--pub', at('other/policy.pub')], /catalog-unknown-key/],
    ['a bundle older than the one in force', () => [at('signed.json'), '--pub', at('keys/policy.pub'), '--sequence-in-force', '9'], /catalog-rollback/],
    ['files changed after signing', () => [at('tampered.json'), '--pub', at('keys/policy.pub')], /catalog-bad-signature/],
  ];
  for (const [what, args, rule] of refusals) {
    it(`verify refuses ${what} (exit 1)`, async () => {
      const signed = JSON.parse(readFileSync(at('signed.json'), 'utf8')) as { files: Record<string, string> };
      const files = new Map(Object.entries(signed.files));
      files.set('shipment/1.2.0.schema.json', '{"$id":"https://tectonic.example/cdm/shipment/1.2.0","type":"object"}');
      writeFileSync(at('tampered.json'), JSON.stringify({ ...signed, files: Object.fromEntries(files), digest: catalogDigest(files) }));
      const run = await tectonic(['catalog', 'verify', ...args()]);
      assert.equal(run.code, 1, run.stdout + run.stderr);
      assert.match(run.stdout, rule);
    });
  }

  it('refuses to sign a catalog that does not load (exit 1), and usage errors exit 2', async () => {
    const broken = new Map(sampleFiles());
    broken.set('catalog.json', '{"format": 1}');
    writeFileSync(at('broken.json'), encodeCatalogBundle(broken).text);
    const bad = await tectonic(['catalog', 'sign', at('broken.json'), '--key', at('keys/policy.key'), '--sequence', '1']);
    assert.equal(bad.code, 1, bad.stderr);
    assert.match(bad.stdout, /NOT signed/);
    assert.equal((await tectonic(['catalog', 'sign', 'cdm', '--key', at('keys/policy.key')])).code, 2, 'no --sequence');
    assert.equal((await tectonic(['catalog', 'sign', 'cdm', '--key', at('keys/policy.pub'), '--sequence', '1'])).code, 2, 'a public key to sign with');
    assert.equal((await tectonic(['catalog', 'verify', at('signed.json')])).code, 2, 'no --pub');
  });
});
