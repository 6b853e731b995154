import { createHash } from 'node:crypto';
import { CATALOG_FILE } from './catalog-format';
import type { Catalog } from './catalog-model';
import { parseJsonText } from './json-text';
import { type JsonObject, isJsonObject } from './types';
import type { Reason } from '../reasons';

/**
 * The bundle: a whole catalog in one JSON document, so a site loads it
 * atomically (one retained bus message, one HTTP response) instead of
 * assembling it from per-schema messages that may arrive half updated.
 *
 *     { "format": 1, "files": { "catalog.json": "...", "shipment/1.0.0.schema.json": "..." },
 *       "digest": "sha256:<hex>" }
 *
 * docs/catalog.md ("The catalog on the bus and over HTTP") is the public
 * contract; change both together.
 */
export const BUNDLE_FORMAT = 1;
/** The signed form (issue 20): format 1's fields plus `sequence` and `signature`; see catalog-signing.ts. */
export const SIGNED_BUNDLE_FORMAT = 2;

/** Retained; holds the bundle. Entity names cannot start with `_`, so it never clashes with a schema topic. */
export const CATALOG_BUNDLE_TOPIC = 'tectonic/cdm/_catalog';

/** A bundle is a few hundred kilobytes for a real CDM; this bounds what a hostile peer can make a site parse. */
export const DEFAULT_MAX_BUNDLE_BYTES = 16 * 1024 * 1024;

export interface CatalogBundle {
  format: typeof BUNDLE_FORMAT;
  files: Record<string, string>;
  digest: string;
}

/** `signed`: a format 2 bundle, its sequence and the whole document, whose signature catalog-signing.ts checks. */
export type DecodedBundle =
  | { ok: true; files: Map<string, string>; digest: string; signed?: { sequence: number; document: JsonObject } }
  | { ok: false; reasons: Reason[] };

/** Retained topic of one published schema (entity versions and shared files alike). */
export function schemaTopic(folder: string, version: string): string {
  return `tectonic/cdm/${folder}/${version}`;
}

/**
 * SHA-256 over the RFC 8785 canonical JSON of the files map. For an object
 * whose values are all strings, RFC 8785 is exactly: keys sorted by UTF-16
 * code units (JavaScript's default sort) and each key and value written as
 * JSON.stringify writes strings, so no library is needed here.
 */
export function catalogDigest(files: ReadonlyMap<string, string>): string {
  const keys = [...files.keys()].sort();
  const canonical = `{${keys.map((k) => `${JSON.stringify(k)}:${JSON.stringify(files.get(k) ?? '')}`).join(',')}}`;
  return `sha256:${createHash('sha256').update(canonical, 'utf8').digest('hex')}`;
}

/** The short form people read in a status: the first 8 hex digits of the digest. */
export function shortDigest(digest: string): string {
  return digest.replace(/^sha256:/, '').slice(0, 8);
}

export function encodeCatalogBundle(files: ReadonlyMap<string, string>): { bundle: CatalogBundle; text: string } {
  const sorted = [...files.keys()].sort();
  const record: Record<string, string> = {};
  // defineProperty, not assignment: a path named "__proto__" would otherwise set the prototype.
  for (const path of sorted) Object.defineProperty(record, path, { value: files.get(path) ?? '', enumerable: true, writable: true, configurable: true });
  const bundle: CatalogBundle = { format: BUNDLE_FORMAT, files: record, digest: catalogDigest(files) };
  return { bundle, text: JSON.stringify(bundle) };
}

/** One retained message per schema, so consumers can fetch a single schema by its topic. */
export function schemaMessages(catalog: Catalog): Array<{ topic: string; text: string }> {
  const out: Array<{ topic: string; text: string }> = [];
  const add = (folder: string, version: string, file: string): void => {
    const text = catalog.sourceFiles.get(file);
    if (text !== undefined) out.push({ topic: schemaTopic(folder, version), text });
  };
  for (const s of catalog.shared) add(s.folder, s.version, s.file);
  for (const e of catalog.entities.values()) for (const v of e.versions) add(v.entity, v.version, v.file);
  return out;
}

/**
 * Reads a bundle received from the network. Every problem is a reason; the
 * files are not loaded here (loadCatalogFromFiles does that, and checks each
 * file's own JSON and paths).
 */
export function decodeCatalogBundle(input: Buffer | string, options: { maxBytes?: number } = {}): DecodedBundle {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BUNDLE_BYTES;
  const size = typeof input === 'string' ? Buffer.byteLength(input, 'utf8') : input.length;
  if (size === 0) return fail('', 'empty', 'the catalog bundle is empty');
  if (size > maxBytes) return fail('', 'too-large', `the catalog bundle has ${size} bytes, more than the limit of ${maxBytes}`);
  const text = typeof input === 'string' ? input : input.toString('utf8');
  // parseJsonText refuses a __proto__ key anywhere, including a file path named so.
  const parsed = parseJsonText(text, 'bundle');
  if (!parsed.ok) return parsed;
  const value = parsed.value;
  if (!isJsonObject(value)) return fail('', 'invalid-type', 'the catalog bundle must be a JSON object { format, files, digest }');
  const reasons: Reason[] = [];
  const signed = value.format === SIGNED_BUNDLE_FORMAT;
  const fields = signed ? ['format', 'sequence', 'files', 'digest', 'signature'] : ['format', 'files', 'digest'];
  for (const key of Object.keys(value)) {
    if (!fields.includes(key)) reasons.push({ path: key, rule: 'unknown-key', message: `"${key}" is not a field of a format ${signed ? 2 : 1} catalog bundle (${fields.join(', ')})` });
  }
  if (value.format !== BUNDLE_FORMAT && !signed) {
    reasons.push({ path: 'format', rule: 'unsupported-format', message: `format must be ${BUNDLE_FORMAT} or ${SIGNED_BUNDLE_FORMAT}, got ${JSON.stringify(value.format) ?? 'nothing'}` });
  }
  if (signed && !isSequence(value.sequence)) reasons.push({ path: 'sequence', rule: 'invalid-type', message: `sequence must be an integer from 0 to ${Number.MAX_SAFE_INTEGER}` });
  // Its shape is the signature check's business (lib/policy/signature.ts); here it only has to be there.
  if (signed && value.signature === undefined) reasons.push({ path: 'signature', rule: 'catalog-unsigned', message: 'a format 2 catalog bundle must carry its signature' });
  if (typeof value.digest !== 'string' || !/^sha256:[0-9a-f]{64}$/.test(value.digest)) {
    reasons.push({ path: 'digest', rule: 'invalid-type', message: 'digest must be "sha256:" followed by 64 lowercase hex digits' });
  }
  const files = new Map<string, string>();
  if (!isJsonObject(value.files)) reasons.push({ path: 'files', rule: 'invalid-type', message: 'files must be an object of path to file text' });
  else {
    for (const [path, content] of Object.entries(value.files)) {
      if (typeof content !== 'string') reasons.push({ path: `files.${path}`, rule: 'invalid-type', message: `files["${path}"] must be the file's text (a string)` });
      else files.set(path, content);
    }
    if (!files.has(CATALOG_FILE) && reasons.length === 0) reasons.push({ path: `files.${CATALOG_FILE}`, rule: 'missing-catalog-file', message: 'the bundle has no catalog.json' });
  }
  if (reasons.length > 0) return { ok: false, reasons };
  const digest = catalogDigest(files);
  if (digest !== value.digest) {
    return fail('digest', 'digest-mismatch', `the files do not match the digest (bundle says ${value.digest as string}, files give ${digest}): corrupted or altered in transit`);
  }
  return signed ? { ok: true, files, digest, signed: { sequence: value.sequence as number, document: value } } : { ok: true, files, digest };
}

function isSequence(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function fail(path: string, rule: string, message: string): { ok: false; reasons: Reason[] } {
  return { ok: false, reasons: [{ path, rule, message }] };
}
