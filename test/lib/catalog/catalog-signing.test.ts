import assert from 'node:assert/strict';
import { decodeCatalogBundle, encodeCatalogBundle, catalogDigest } from '../../../lib/catalog/catalog-bundle';
import { checkCatalogSequence, checkCatalogTrust, signCatalogFiles } from '../../../lib/catalog/catalog-signing';
import { BusCatalogSource, publishCatalogToBus } from '../../../lib/catalog/catalog-source';
import { loadCatalogFromFiles } from '../../../lib/catalog/catalog-loader';
import { SiteCatalog } from '../../../lib/catalog/site-catalog';
import { summarizeIssue } from '../../../lib/catalog/catalog-store';
import { generatePolicyKeyPair } from '../../../lib/policy/signature';
import { COMPATIBLE_SHIPMENT_120 } from './catalog-fixtures';
import { sampleFiles } from './helpers';

const central = generatePolicyKeyPair();
const stranger = generatePolicyKeyPair();

function signed(files: Map<string, string>, sequence: number, key = central.privateKeyPem): string {
  const out = signCatalogFiles(files, sequence, key);
  if (!out.ok) assert.fail(out.reason.message);
  return out.text;
}

/** What a forger without the key can do: take a signed bundle, change the files, fix the digest. */
function forged(text: string, files: Map<string, string>, signature?: unknown): string {
  const bundle = JSON.parse(text) as Record<string, unknown>;
  const record = Object.fromEntries(files);
  return JSON.stringify({ ...bundle, files: record, digest: catalogDigest(files), ...(signature === undefined ? {} : { signature }) });
}

function trust(text: string, keys = [central.publicKeyPem]): ReturnType<typeof checkCatalogTrust> {
  const decoded = decodeCatalogBundle(text);
  if (!decoded.ok) return { ok: false, reasons: decoded.reasons };
  return checkCatalogTrust(decoded, keys);
}

const withShipment120 = (): Map<string, string> => new Map([...sampleFiles(), ['shipment/1.2.0.schema.json', COMPATIBLE_SHIPMENT_120]]);

describe('lib/catalog/catalog-signing: signed catalog bundles (format 2)', () => {
  it('a bundle signed by a trusted key passes, with its sequence', () => {
    const text = signed(sampleFiles(), 7);
    const bundle = JSON.parse(text) as Record<string, unknown>;
    assert.deepEqual(Object.keys(bundle).sort(), ['digest', 'files', 'format', 'sequence', 'signature']);
    assert.equal(bundle.format, 2);
    assert.deepEqual(trust(text), { ok: true, sequence: 7, keyId: central.keyId });
    assert.deepEqual(trust(text, [stranger.publicKeyPem, central.publicKeyPem]), { ok: true, sequence: 7, keyId: central.keyId }, 'any of several trusted keys');
  });

  const refusals: Array<[string, () => string, string]> = [
    ['an unsigned format 1 bundle', () => encodeCatalogBundle(sampleFiles()).text, 'catalog-unsigned'],
    ['format 2 without its signature', () => forged(signed(sampleFiles(), 7), withShipment120()).replace(/,"signature":\{[^}]*\}/, ''), 'catalog-unsigned'],
    ['signed by a key this site does not trust', () => signed(sampleFiles(), 7, stranger.privateKeyPem), 'catalog-unknown-key'],
    ['other files with a correct digest under the old signature', () => forged(signed(sampleFiles(), 7), withShipment120()), 'catalog-bad-signature'],
    ['a raised sequence under the old signature', () => signed(sampleFiles(), 7).replace('"sequence":7', '"sequence":9'), 'catalog-bad-signature'],
    ['a signature that is not one', () => forged(signed(sampleFiles(), 7), withShipment120(), { keyId: central.keyId, alg: 'Ed25519', value: 'x' }), 'catalog-bad-signature'],
  ];
  for (const [what, make, rule] of refusals) {
    it(`refuses ${what}: ${rule}`, () => {
      const result = trust(make());
      assert.equal(result.ok, false);
      if (!result.ok) assert.equal(result.reasons[0]?.rule, rule, JSON.stringify(result.reasons));
    });
  }

  it('a site that trusts no key takes both formats, as before signing existed', () => {
    assert.deepEqual(trust(encodeCatalogBundle(sampleFiles()).text, []), { ok: true });
    assert.deepEqual(trust(signed(sampleFiles(), 3), []), { ok: true });
  });

  it('a bad sequence is refused before any signature check', () => {
    const text = signed(sampleFiles(), 1).replace('"sequence":1', '"sequence":-1');
    const decoded = decodeCatalogBundle(text);
    assert.equal(decoded.ok, false);
    if (!decoded.ok) assert.equal(decoded.reasons[0]?.rule, 'invalid-type');
    assert.equal(signCatalogFiles(sampleFiles(), 1.5, central.privateKeyPem).ok, false);
  });

  it('sequence rules: lower refused, same with other files refused, same files or higher taken', () => {
    const inForce = { sequence: 5, digest: 'sha256:a' };
    assert.equal(checkCatalogSequence(4, 'sha256:b', inForce)?.rule, 'catalog-rollback');
    assert.equal(checkCatalogSequence(5, 'sha256:b', inForce)?.rule, 'catalog-rollback');
    assert.equal(checkCatalogSequence(5, 'sha256:a', inForce), undefined);
    assert.equal(checkCatalogSequence(6, 'sha256:b', inForce), undefined);
    assert.equal(checkCatalogSequence(0, 'sha256:b', undefined), undefined);
  });
});

/** The retained message the bus would hand the site: the transport injected, as lib tests do. */
class RetainedTopic {
  handler: ((topic: string, payload: Buffer) => void) | undefined;
  subscribe(_filter: string, _qos: 0 | 1 | 2, handler: (topic: string, payload: Buffer) => void): Promise<() => Promise<void>> {
    this.handler = handler;
    return Promise.resolve(() => Promise.resolve());
  }
  offer(text: string): void {
    this.handler?.('tectonic/cdm/_catalog', Buffer.from(text, 'utf8'));
  }
}

describe('SiteCatalog with trusted keys', () => {
  it('keeps the catalog in force through forged, unsigned and rolled-back bundles, and says why', async () => {
    const bus = new RetainedTopic();
    const warnings: string[] = [];
    const site = new SiteCatalog({ source: new BusCatalogSource(bus, { trustedKeys: [central.publicKeyPem] }), policy: 'STRICT', log: { info: () => undefined, warn: (m) => warnings.push(m) } });
    site.start();
    await new Promise((resolve) => setImmediate(resolve));

    const genuine = signed(sampleFiles(), 5);
    bus.offer(genuine);
    const first = site.snapshot;
    assert.ok(first, 'the signed catalog is in force');

    const offers: Array<[string, string]> = [
      [forged(genuine, withShipment120()), 'catalog-bad-signature'],
      [encodeCatalogBundle(withShipment120()).text, 'catalog-unsigned'],
      [signed(withShipment120(), 6, stranger.privateKeyPem), 'catalog-unknown-key'],
      [signed(withShipment120(), 4), 'catalog-rollback'],
    ];
    for (const [text, rule] of offers) {
      bus.offer(text);
      assert.equal(site.snapshot, first, `${rule}: the catalog in force stays`);
      const state = site.state;
      assert.equal(state.issue?.kind, 'refused');
      assert.equal(state.issue?.reasons[0]?.rule, rule);
      // What every node using the catalog shows in its status.
      if (state.issue) assert.match(summarizeIssue(state.issue), new RegExp(`^catalog (?:[0-9a-f]{8} )?refused: (?:\\S+: )?${rule}$`));
      assert.match(warnings.at(-1) ?? '', new RegExp(`refused, catalog ${first.label} stays in force:\\n  ${rule}`));
    }

    bus.offer(signed(withShipment120(), 6));
    assert.notEqual(site.snapshot, first, 'a higher sequence signed by the trusted key goes in force');
    assert.ok(site.snapshot?.catalog.entities.get('shipment')?.versions.some((v) => v.version === '1.2.0'));
    assert.equal(site.state.issue, undefined);
    await site.close();
  });

  it('a central instance publishes the signed form when it has a key', async () => {
    const published = new Map<string, string>();
    const bus = { publish: (topic: string, payload: Buffer): Promise<void> => Promise.resolve(void published.set(topic, payload.toString('utf8'))) };
    const loaded = loadCatalogFromFiles(sampleFiles());
    assert.ok(loaded.ok);
    if (!loaded.ok) return;
    await publishCatalogToBus(bus, loaded.catalog, { privateKey: central.privateKeyPem, sequence: 12 });
    assert.deepEqual(trust(published.get('tectonic/cdm/_catalog') ?? ''), { ok: true, sequence: 12, keyId: central.keyId });
    await assert.rejects(publishCatalogToBus(bus, loaded.catalog, { privateKey: central.publicKeyPem, sequence: 13 }), /cannot sign the catalog/);
  });
});
