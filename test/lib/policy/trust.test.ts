// Trust: signatures, tampering, key rotation, validity, rollback and size;
// and the PolicyState a gate uses, which fails closed on every refusal.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { stringify as toYaml } from 'yaml';
import type { JsonObject } from '../../../lib/catalog/types';
import { PolicyState } from '../../../lib/policy/policy-state';
import { generatePolicyKeyPair, loadPublicKey, policyKeyId, signBundle, verifyBundleSignature } from '../../../lib/policy/signature';
import { checkBundleTrust } from '../../../lib/policy/trust';
import type { TrustOptions } from '../../../lib/policy/trust';
import { clock, document, HASH_KEY, keys, labCdm, labResult, sampleDocument, shipment, shipmentCdm, signed } from './policy-fixtures';

function trust(signedBundle: TrustOptions['signed'], extra: Partial<TrustOptions> = {}): ReturnType<typeof checkBundleTrust> {
  return checkBundleTrust({ signed: signedBundle, trustedKeys: [keys().publicKeyPem], now: clock, ...extra });
}

function refusal(result: ReturnType<typeof checkBundleTrust>): string {
  return result.ok ? 'accepted' : result.reason.rule;
}

describe('signatures', () => {
  it('sign then verify, as an object, as JSON text and as YAML text', () => {
    const s = signed(sampleDocument());
    assert.equal(refusal(trust(s)), 'accepted');
    assert.equal(refusal(trust(JSON.stringify(s, null, 2))), 'accepted');
    assert.equal(refusal(trust(toYaml(s))), 'accepted');
    assert.equal(refusal(trust(Buffer.from(JSON.stringify(s)))), 'accepted');
  });

  it('the signature has the documented shape, keyed by the public key', () => {
    const pair = keys();
    const s = signed(document([]));
    const signature = s.signature as Record<string, string>;
    assert.deepEqual(Object.keys(signature).sort(), ['alg', 'keyId', 'value']);
    assert.equal(signature.alg, 'Ed25519');
    const pub = loadPublicKey(pair.publicKeyPem);
    assert.ok(pub.ok);
    assert.equal(signature.keyId, policyKeyId(pub.key));
    assert.equal(signature.keyId, pair.keyId);
    assert.match(signature.keyId ?? '', /^[A-Za-z0-9_-]{16}$/);
    assert.equal(Buffer.from(signature.value ?? '', 'base64').length, 64);
  });

  it('member order and re-signing do not matter; an old signature is replaced', () => {
    const doc = document([{ maxBytes: 10 }]);
    const reordered: JsonObject = Object.fromEntries(Object.entries(doc).reverse());
    assert.deepEqual(signed(doc).signature, signed(reordered).signature, 'Ed25519 is deterministic over the canonical form');
    const twice = signBundle(signed(doc), keys().privateKeyPem);
    assert.ok(twice.ok);
    assert.deepEqual(twice.signed.signature, signed(doc).signature);
  });

  it('one flipped byte anywhere in the signed JSON is refused', () => {
    const text = JSON.stringify(signed(sampleDocument()));
    const bytes = Buffer.from(text, 'utf8');
    const seen = new Map<string, number>();
    for (let i = 0; i < bytes.length; i++) {
      const tampered = Buffer.from(bytes);
      tampered[i] = (tampered[i] ?? 0) ^ 0x01;
      const result = trust(tampered);
      assert.equal(result.ok, false, `flipping byte ${i} (${JSON.stringify(text.slice(Math.max(0, i - 10), i + 10))}) was accepted`);
      const rule = refusal(result);
      seen.set(rule, (seen.get(rule) ?? 0) + 1);
    }
    // Flips land in syntax, content, the signature's name, key id and value alike.
    assert.deepEqual([...seen.keys()].sort(), ['policy-bad-signature', 'policy-malformed', 'policy-unknown-key', 'policy-unsigned']);
  });

  it('a changed value or a changed signature is a bad signature', () => {
    const s = signed(sampleDocument());
    assert.equal(refusal(trust({ ...s, version: 8 })), 'policy-bad-signature');
    assert.equal(refusal(trust({ ...s, rules: [] })), 'policy-bad-signature');
    const sig = s.signature as Record<string, string>;
    const value = sig.value ?? '';
    const other = value[0] === 'A' ? `B${value.slice(1)}` : `A${value.slice(1)}`;
    assert.equal(refusal(trust({ ...s, signature: { ...sig, value: other } })), 'policy-bad-signature');
    // The last base64 character has 4 unused bits: a change there must not decode to the same signature.
    const last = value.at(-3) ?? 'A';
    const sibling = String.fromCharCode(last.charCodeAt(0) ^ 0x01);
    assert.equal(refusal(trust({ ...s, signature: { ...sig, value: `${value.slice(0, -3)}${sibling}==` } })), 'policy-bad-signature');
    assert.equal(refusal(trust({ ...s, signature: { ...sig, alg: 'none' } })), 'policy-bad-signature');
    assert.equal(refusal(trust({ ...s, signature: { ...sig, extra: 1 } })), 'policy-bad-signature');
  });

  it('no signature, a wrong key, an unknown key', () => {
    assert.equal(refusal(trust(document([]))), 'policy-unsigned');
    const stranger = generatePolicyKeyPair();
    assert.equal(refusal(trust(signed(document([]), stranger))), 'policy-unknown-key');
    // A signature made with another key but claiming the trusted key's id.
    const forged = signed(document([]), stranger);
    (forged.signature as Record<string, string>).keyId = keys().keyId;
    assert.equal(refusal(trust(forged)), 'policy-bad-signature');
  });

  it('key rotation: old and new keys both trusted', () => {
    const next = generatePolicyKeyPair();
    const both = [keys().publicKeyPem, next.publicKeyPem];
    const oldSigned = trust(signed(document([])), { trustedKeys: both });
    const newSigned = trust(signed(document([]), next), { trustedKeys: both });
    assert.ok(oldSigned.ok && newSigned.ok);
    assert.equal(oldSigned.keyId, keys().keyId);
    assert.equal(newSigned.keyId, next.keyId);
    assert.equal(refusal(trust(signed(document([])), { trustedKeys: [next.publicKeyPem] })), 'policy-unknown-key');
  });

  it('a trusted key that is not an Ed25519 public key is a configuration error', () => {
    assert.equal(refusal(trust(signed(document([])), { trustedKeys: ['not a pem'] })), 'policy-trust-config');
    assert.equal(refusal(trust(signed(document([])), { trustedKeys: [] })), 'policy-trust-config');
    assert.equal(verifyBundleSignature(signed(document([])), [keys().privateKeyPem]).ok, true, 'a private key is accepted for its public half');
  });
});

describe('checkBundleTrust: fail-closed reasons', () => {
  const cases: [string, () => ReturnType<typeof checkBundleTrust>, string][] = [
    ['no bundle', () => trust(undefined), 'policy-missing'],
    ['an empty file', () => trust('  \n'), 'policy-missing'],
    ['larger than the limit (text)', () => trust(JSON.stringify(signed(sampleDocument())), { maxBundleBytes: 512 }), 'policy-too-large'],
    ['larger than the limit (object)', () => trust(signed(sampleDocument()), { maxBundleBytes: 512 }), 'policy-too-large'],
    ['malformed text', () => trust('{"id": "x"'), 'policy-malformed'],
    ['not an object', () => trust('[1, 2]'), 'policy-malformed'],
    ['signed but not a valid bundle', () => trust(signed(document([{ maxBytes: 'big' }]))), 'policy-malformed'],
    ['expired', () => trust(signed(document([], { expiresAt: '2026-11-25T11:59:59Z' }))), 'policy-expired'],
    ['expiring exactly now', () => trust(signed(document([], { expiresAt: '2026-11-25T12:00:00Z' }))), 'policy-expired'],
    ['not yet valid', () => trust(signed(document([], { issuedAt: '2026-11-25T12:10:00Z' }))), 'policy-not-yet-valid'],
    ['issued a little ahead of this clock (within the skew)', () => trust(signed(document([], { issuedAt: '2026-11-25T12:04:00Z' }))), 'accepted'],
    ['a rollback', () => trust(signed(document([], { version: 2 })), { lastSeenVersion: 3 }), 'policy-rollback'],
    ['the same version again', () => trust(signed(document([], { version: 3 })), { lastSeenVersion: 3 }), 'accepted'],
  ];
  for (const [name, run, rule] of cases) {
    it(name, () => assert.equal(refusal(run()), rule));
  }

  it('a malformed signed bundle lists every problem in details', () => {
    const result = trust(signed(document([{ maxBytes: 'big' }, { deny: { when: 'process.exit()', reason: 'x' } }])));
    assert.ok(!result.ok);
    assert.deepEqual(result.details.map((d) => d.path), ['rules[0].maxBytes', 'rules[1].deny.when']);
  });
});

describe('PolicyState: what a gate holds', () => {
  function state(now: () => Date = clock, extra: Partial<ConstructorParameters<typeof PolicyState>[0]> = {}): PolicyState {
    return new PolicyState({ trustedKeys: [keys().publicKeyPem], now, site: 'clinic-3', hashKey: HASH_KEY, ...extra });
  }
  const lab = { payload: labResult, cdm: labCdm, transport: { tls: true } };

  it('before any bundle, every record is rejected as policy-unavailable', () => {
    const s = state();
    assert.deepEqual(s.evaluate(lab), { pass: false, reasons: [{ path: '', rule: 'policy-unavailable', message: 'no policy bundle has been loaded yet' }], transient: true });
    assert.equal(s.status().state, 'fail-closed');
    assert.equal(s.policy, undefined);
  });

  it('a trusted bundle is enforced; the sample masks patient data', () => {
    const s = state();
    const offer = s.offer(JSON.stringify(signed(sampleDocument())));
    assert.deepEqual(offer, { ok: true, name: 'central-default@7', keyId: keys().keyId });
    const verdict = s.evaluate(lab);
    assert.ok(verdict.pass, JSON.stringify(verdict));
    assert.doesNotMatch(JSON.stringify(verdict.payload), /Ada Lovelace|MRN-12345|INS-998877|1815-12-10/);
    assert.deepEqual(s.status(), { state: 'in-force', name: 'central-default@7', id: 'central-default', version: 7, expiresAt: '2027-11-24T00:00:00Z', keyId: keys().keyId });
    assert.equal(s.lastSeenVersion, 7);
    assert.deepEqual(s.policy?.retryFor('lab-result'), { maxAttempts: 5, backoffMs: 1000 });
  });

  const refusals: [string, () => unknown, string][] = [
    ['a flipped byte', () => { const t = Buffer.from(JSON.stringify(signed(sampleDocument()))); t[200] = (t[200] ?? 0) ^ 0x01; return t; }, 'policy-'],
    ['a wrong key', () => signed(sampleDocument(), generatePolicyKeyPair()), 'policy-unknown-key'],
    ['an expired bundle', () => signed({ ...sampleDocument(), expiresAt: '2026-11-25T00:00:00Z' }), 'policy-expired'],
    ['a rollback', () => signed({ ...sampleDocument(), version: 6 }), 'policy-rollback'],
    ['a bundle larger than the limit', () => signed({ ...sampleDocument(), description: 'x'.repeat(2 * 1024 * 1024) }), 'policy-too-large'],
    ['an expression that would reach process state', () => signed({ ...sampleDocument(), rules: [{ deny: { when: 'process.exit()', reason: 'x' } }] }), 'policy-malformed'],
    ['an expression that would loop (nested comprehensions)', () => signed({ ...sampleDocument(), rules: [{ deny: { when: 'payload.a.all(x, payload.a.all(y, payload.a.all(z, true)))', reason: 'x' } }] }), 'policy-malformed'],
    ['no bundle at all', () => undefined, 'policy-missing'],
  ];
  for (const [name, make, rule] of refusals) {
    it(`${name}: refused, and the gate fails closed with the reason`, () => {
      const s = state();
      assert.ok(s.offer(signed(sampleDocument())).ok);
      const offer = s.offer(make() as string);
      assert.equal(offer.ok, false);
      assert.ok(!offer.ok && offer.reason.rule.startsWith(rule), JSON.stringify(offer));
      const verdict = s.evaluate(lab);
      assert.equal(verdict.pass, false);
      assert.ok(!verdict.pass && !offer.ok);
      assert.deepEqual(verdict.reasons, [offer.reason]);
      assert.equal(verdict.payload, undefined, 'no payload: a record the policy could not mask must not leave the site');
      const status = s.status();
      assert.equal(status.state, 'fail-closed');
      assert.equal(status.state === 'fail-closed' ? status.reason.rule : '', offer.reason.rule);
      assert.equal(s.lastSeenVersion, 7, 'a refused bundle does not move the version');
    });
  }

  it('keep-current: a refused bundle leaves the valid one in force', () => {
    const s = state(clock, { onRefusal: 'keep-current' });
    assert.ok(s.offer(signed(sampleDocument())).ok);
    assert.equal(s.offer(signed({ ...sampleDocument(), version: 6 })).ok, false);
    assert.equal(s.evaluate(lab).pass, true);
  });

  it('a bundle that expires while in force starts failing closed', () => {
    let now = new Date('2027-11-23T23:00:00Z');
    const s = state(() => now);
    assert.ok(s.offer(signed(sampleDocument())).ok);
    assert.equal(s.evaluate(lab).pass, true);
    now = new Date('2027-11-24T00:00:00Z');
    const verdict = s.evaluate(lab);
    assert.deepEqual(verdict.pass ? [] : verdict.reasons.map((r) => r.rule), ['policy-expired']);
    assert.equal(s.status().state, 'fail-closed');
    assert.equal(s.policy, undefined);
  });

  it('a site without the hash key cannot enforce a hashing bundle: policy-invalid', () => {
    const s = new PolicyState({ trustedKeys: [keys().publicKeyPem], now: clock, site: 'clinic-3' });
    const offer = s.offer(signed(sampleDocument()));
    assert.deepEqual(offer.ok ? '' : offer.reason.rule, 'policy-invalid');
    assert.deepEqual(s.evaluate({ payload: shipment, cdm: shipmentCdm }).pass, false);
  });

  it('a restart remembers the last version: a rollback is refused from the start', () => {
    const s = state(clock, { lastSeenVersion: 9 });
    assert.equal(s.offer(signed(sampleDocument())).ok, false);
    assert.equal(s.evaluate(lab).pass, false);
  });

  it('a newer version replaces the one in force without a restart', () => {
    const s = state();
    assert.ok(s.offer(signed(sampleDocument())).ok);
    assert.ok(s.offer(signed({ ...sampleDocument(), version: 8, rules: [{ deny: { when: 'true', reason: 'frozen by central' } }] })).ok);
    const verdict = s.evaluate(lab);
    assert.deepEqual(verdict.pass ? [] : verdict.reasons.map((r) => [r.rule, r.message]), [['rules[0].deny', 'frozen by central']]);
    assert.equal(s.lastSeenVersion, 8);
  });

  it('failClosed: the source is unreachable and nothing is cached', () => {
    const s = state();
    assert.ok(s.offer(signed(sampleDocument())).ok);
    s.failClosed({ path: '', rule: 'policy-unavailable', message: 'https://central/policy: ECONNREFUSED' });
    assert.deepEqual(s.evaluate(lab), { pass: false, reasons: [{ path: '', rule: 'policy-unavailable', message: 'https://central/policy: ECONNREFUSED' }], transient: true });
  });
});
