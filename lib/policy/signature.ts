import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import type { JsonObject } from '../catalog/types';
import { type Reason, reason } from '../reasons';
import { canonicalJson } from './canonical';

/**
 * Bundle signatures: Ed25519 (RFC 8032) over the RFC 8785 canonical JSON of
 * the bundle without its `signature` member, carried in the document as
 *
 *   signature: { keyId, alg: "Ed25519", value }     value: base64 (standard alphabet)
 *
 * Canonical JSON makes the signature independent of how the bundle was
 * written (YAML or JSON, key order, spacing), so a bundle signed as YAML
 * verifies as JSON and the other way round.
 */
export const SIGNATURE_ALG = 'Ed25519';

export interface BundleSignature {
  keyId: string;
  alg: typeof SIGNATURE_ALG;
  value: string;
}

export interface PolicyKeyPair {
  /** PKCS#8 PEM. */
  privateKeyPem: string;
  /** SPKI PEM. */
  publicKeyPem: string;
  keyId: string;
}

export function generatePolicyKeyPair(): PolicyKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    keyId: policyKeyId(publicKey),
  };
}

/**
 * A key's id: the first 16 characters of base64url(SHA-256(SPKI DER)). Derived
 * from the key itself, so a signer cannot claim another key's id, and short
 * enough to read in a status line. 96 bits is plenty to tell a handful of
 * trusted keys apart; the signature check, not the id, is the security.
 */
export function policyKeyId(publicKey: KeyObject): string {
  const der = publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(der).digest('base64url').slice(0, 16);
}

export type LoadedKey = { ok: true; key: KeyObject; keyId: string } | { ok: false; message: string };

export function loadPublicKey(pem: string | KeyObject): LoadedKey {
  try {
    const key = typeof pem === 'string' ? createPublicKey(pem) : pem.type === 'private' ? createPublicKey(pem) : pem;
    if (key.asymmetricKeyType !== 'ed25519') return { ok: false, message: `is a ${key.asymmetricKeyType ?? 'unknown'} key, not Ed25519` };
    return { ok: true, key, keyId: policyKeyId(key) };
  } catch (err) {
    return { ok: false, message: `is not a public key in PEM form (${(err as Error).message})` };
  }
}

export function loadPrivateKey(pem: string | KeyObject): LoadedKey {
  try {
    const key = typeof pem === 'string' ? createPrivateKey(pem) : pem;
    if (key.type !== 'private') return { ok: false, message: 'is not a private key' };
    if (key.asymmetricKeyType !== 'ed25519') return { ok: false, message: `is a ${key.asymmetricKeyType ?? 'unknown'} key, not Ed25519` };
    return { ok: true, key, keyId: policyKeyId(createPublicKey(key)) };
  } catch (err) {
    return { ok: false, message: `is not a private key in PEM form (${(err as Error).message})` };
  }
}

/** The bytes that are signed: canonical JSON of the document minus `signature`. */
export function signingInput(document: JsonObject): { ok: true; bytes: Buffer } | { ok: false; reason: Reason } {
  const { signature: _ignored, ...unsigned } = document;
  const canonical = canonicalJson(unsigned);
  if (!canonical.ok) {
    const first = canonical.reasons[0];
    return { ok: false, reason: reason(first?.path ?? '', 'policy-malformed', `the bundle is not JSON data: ${first?.path ?? ''} ${first?.message ?? ''}`.trim()) };
  }
  return { ok: true, bytes: Buffer.from(canonical.value, 'utf8') };
}

/** Signs a bundle document; an existing `signature` is replaced. */
export function signBundle(document: JsonObject, privateKey: string | KeyObject): { ok: true; signed: JsonObject } | { ok: false; reason: Reason } {
  const loaded = loadPrivateKey(privateKey);
  if (!loaded.ok) return { ok: false, reason: reason('', 'policy-bad-key', `the signing key ${loaded.message}`) };
  const input = signingInput(document);
  if (!input.ok) return input;
  const { signature: _old, ...unsigned } = document;
  const signature: BundleSignature = { keyId: loaded.keyId, alg: SIGNATURE_ALG, value: sign(null, input.bytes, loaded.key).toString('base64') };
  return { ok: true, signed: { ...unsigned, signature: { ...signature } } };
}

export type SignatureCheck = { ok: true; keyId: string } | { ok: false; reason: Reason };

// An Ed25519 signature is 64 bytes: 86 base64 characters and "==". Checked
// strictly because Buffer.from(..., 'base64') skips characters it does not
// know, which would let a changed signature text decode to the same bytes.
const SIGNATURE_VALUE = /^[A-Za-z0-9+/]{86}==$/;

/**
 * Verifies the signature of a document against a set of trusted public keys
 * (several, so the central team can roll keys: sites trust old and new until
 * every bundle is signed with the new one).
 */
export function verifyBundleSignature(document: JsonObject, trustedKeys: readonly (string | KeyObject)[]): SignatureCheck {
  const signature = document.signature;
  if (signature === undefined) return { ok: false, reason: reason('signature', 'policy-unsigned', 'the bundle has no signature') };
  if (typeof signature !== 'object' || signature === null || Array.isArray(signature)) return fail('signature', 'the signature must be an object { keyId, alg, value }');
  const extra = Object.keys(signature).filter((k) => k !== 'keyId' && k !== 'alg' && k !== 'value');
  if (extra.length > 0) return fail('signature', `the signature has unknown members: ${extra.join(', ')}`);
  if (signature.alg !== SIGNATURE_ALG) return fail('signature.alg', `the signature algorithm must be ${SIGNATURE_ALG}, got ${JSON.stringify(signature.alg)}`);
  if (typeof signature.keyId !== 'string') return fail('signature.keyId', 'the signature names no key');
  if (typeof signature.value !== 'string' || !SIGNATURE_VALUE.test(signature.value)) return fail('signature.value', 'the signature value is not 64 bytes of base64');
  const signatureBytes = Buffer.from(signature.value, 'base64');
  // The last character carries 4 unused bits; only the canonical encoding is
  // accepted, so no other text than the signer's decodes to the same bytes.
  if (signatureBytes.toString('base64') !== signature.value) return fail('signature.value', 'the signature value is not canonical base64');

  const keys = new Map<string, KeyObject>();
  for (const [i, trusted] of trustedKeys.entries()) {
    const loaded = loadPublicKey(trusted);
    if (!loaded.ok) return { ok: false, reason: reason('', 'policy-trust-config', `trusted key #${i + 1} ${loaded.message}`) };
    keys.set(loaded.keyId, loaded.key);
  }
  if (keys.size === 0) return { ok: false, reason: reason('', 'policy-trust-config', 'no trusted public key is configured') };
  const key = keys.get(signature.keyId);
  if (!key) return { ok: false, reason: reason('signature.keyId', 'policy-unknown-key', `the bundle is signed with key ${signature.keyId}, which is not trusted here (trusted: ${[...keys.keys()].join(', ')})`) };

  const input = signingInput(document);
  if (!input.ok) return input;
  const valid = verify(null, input.bytes, key, signatureBytes);
  return valid ? { ok: true, keyId: signature.keyId } : fail('signature.value', `the signature does not match the bundle's content (key ${signature.keyId}): it was changed after signing`);
}

function fail(path: string, message: string): SignatureCheck {
  return { ok: false, reason: reason(path, 'policy-bad-signature', message) };
}
