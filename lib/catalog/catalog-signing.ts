import type { KeyObject } from 'node:crypto';
import { SIGNED_BUNDLE_FORMAT, catalogDigest, type DecodedBundle } from './catalog-bundle';
import type { JsonObject } from './types';
import { type BundleSignature, signBundle, verifyBundleSignature } from '../policy/signature';
import { type Reason, reason } from '../reasons';

/**
 * Signed catalogs (issue 20): a digest detects corruption, not forgery, so
 * anyone able to publish on `tectonic/cdm/_catalog` could hand every site a
 * catalog of their own. The signed bundle, format 2, is format 1 plus
 *
 *     "sequence": 42,                                   only ever increases
 *     "signature": { "keyId", "alg": "Ed25519", "value" }
 *
 * signed exactly like a policy bundle (lib/policy/signature.ts: Ed25519 over
 * the RFC 8785 canonical JSON of everything but `signature`), so one key pair
 * from `tectonic policy keygen` serves both. The signature covers `digest`
 * and `files` alike; decodeCatalogBundle has already checked that the files
 * hash to the digest. docs/catalog.md section 7 is the contract.
 */
export interface SignedCatalogBundle {
  format: typeof SIGNED_BUNDLE_FORMAT;
  sequence: number;
  files: Record<string, string>;
  digest: string;
  signature: BundleSignature;
}

/** What a site knows of the catalog in force, to refuse a rollback. */
export interface SequenceInForce {
  sequence: number;
  digest: string;
}

export type CatalogTrust = { ok: true; sequence?: number; keyId?: string } | { ok: false; reasons: Reason[] };

export function signCatalogFiles(files: ReadonlyMap<string, string>, sequence: number, privateKey: string | KeyObject): { ok: true; bundle: SignedCatalogBundle; text: string } | { ok: false; reason: Reason } {
  if (!Number.isSafeInteger(sequence) || sequence < 0) return { ok: false, reason: reason('sequence', 'invalid-type', `sequence must be an integer from 0 to ${Number.MAX_SAFE_INTEGER}, got ${sequence}`) };
  const record: JsonObject = {};
  // defineProperty, not assignment: a path named "__proto__" would otherwise set the prototype.
  for (const path of [...files.keys()].sort()) Object.defineProperty(record, path, { value: files.get(path) ?? '', enumerable: true, writable: true, configurable: true });
  const signed = signBundle({ format: SIGNED_BUNDLE_FORMAT, sequence, files: record, digest: catalogDigest(files) }, privateKey);
  if (!signed.ok) return { ok: false, reason: catalogReason(signed.reason) };
  return { ok: true, bundle: signed.signed as unknown as SignedCatalogBundle, text: JSON.stringify(signed.signed) };
}

/**
 * A decoded bundle against the keys this site trusts. With no key trusted
 * the site checks nothing here (as before signing existed, and as a site
 * reading a folder does); with one, only a format 2 bundle signed by a
 * trusted key passes, and its sequence becomes meaningful.
 */
export function checkCatalogTrust(decoded: Extract<DecodedBundle, { ok: true }>, trustedKeys: readonly (string | KeyObject)[]): CatalogTrust {
  if (trustedKeys.length === 0) return { ok: true };
  if (!decoded.signed) return refuse('', 'catalog-unsigned', 'the catalog bundle is not signed (format 1), and this site trusts only signed catalogs');
  const check = verifyBundleSignature(decoded.signed.document, trustedKeys);
  if (!check.ok) return { ok: false, reasons: [catalogReason(check.reason)] };
  return { ok: true, sequence: decoded.signed.sequence, keyId: check.keyId };
}

/** A lower sequence than the one in force is a rollback; the same sequence on other files is a second catalog claiming one number. */
export function checkCatalogSequence(sequence: number, digest: string, inForce: SequenceInForce | undefined): Reason | undefined {
  if (inForce === undefined) return undefined;
  if (sequence < inForce.sequence) return reason('sequence', 'catalog-rollback', `the catalog has sequence ${sequence}, lower than ${inForce.sequence} in force (a rollback or a replay)`);
  if (sequence === inForce.sequence && digest !== inForce.digest) return reason('sequence', 'catalog-rollback', `the catalog has sequence ${sequence}, the same as the catalog in force, but other files`);
  return undefined;
}

// The policy signature's rules, named for the catalog, so a status tells which bundle was refused.
const RULES: Record<string, string> = {
  'policy-unsigned': 'catalog-unsigned',
  'policy-unknown-key': 'catalog-unknown-key',
  'policy-bad-signature': 'catalog-bad-signature',
  'policy-trust-config': 'catalog-trust-config',
  'policy-bad-key': 'catalog-bad-key',
  'policy-malformed': 'catalog-malformed',
};

function catalogReason(r: Reason): Reason {
  return { ...r, rule: RULES[r.rule] ?? r.rule, message: r.message.replace(/\bthe bundle\b/g, 'the catalog bundle') };
}

function refuse(path: string, rule: string, message: string): CatalogTrust {
  return { ok: false, reasons: [reason(path, rule, message)] };
}
