import { CATALOG_BUNDLE_TOPIC, DEFAULT_MAX_BUNDLE_BYTES, catalogDigest, decodeCatalogBundle, encodeCatalogBundle, schemaMessages } from './catalog-bundle';
import { readCatalogFolder } from './catalog-loader';
import { checkCatalogTrust, signCatalogFiles } from './catalog-signing';
import { TectonicError } from '../errors';
import { maskUrlPasswords } from '../redact-url';
import type { KeyObject } from 'node:crypto';
import type { Catalog } from './catalog-model';
import type { Reason } from '../reasons';
import type { BundleEvent, BundleSource, Decoded } from '../sources/bundle-source';
import { type BundleBus, BusBundleSource } from '../sources/bus-source';
import { DiskBundleSource } from '../sources/disk-source';
import { checkHttpUrl } from '../sources/http-url';
import { UrlBundleSource, type UrlSourceOptions } from '../sources/url-source';

/**
 * Where a catalog comes from: the folder, URL and bus sources of
 * lib/sources, each decoding what it finds into the catalog's files. The
 * CatalogStore decides whether they may replace the catalog in force.
 */
export type CatalogSourceEvent =
  /** `sequence`: a signed bundle's, once its signature checked out against a trusted key. */
  | { kind: 'files'; files: ReadonlyMap<string, string>; digest: string; sequence?: number }
  /** A bundle that arrived but is not trusted (unsigned, unknown key, bad signature): a refusal, not an outage. */
  | { kind: 'refused'; reasons: Reason[] }
  | { kind: 'unavailable'; reasons: Reason[] };

export interface CatalogSource {
  /** In words, for logs and status: `folder /srv/cdm`, `https://hq.example/cdm.json`. */
  readonly origin: string;
  start(listener: (event: CatalogSourceEvent) => void): void;
  /** Stops timers, aborts a fetch in flight, unsubscribes; never rejects. */
  close(): Promise<void>;
}

/** The part of the shared bus a catalog needs; lib/bus's SharedBus has this shape. */
export type CatalogBus = BundleBus;

interface Files {
  files: ReadonlyMap<string, string>;
  sequence?: number;
}

/** Public keys (PEM) a site trusts to sign its catalog; none means bundles are not checked for a signature. */
export interface CatalogTrustOptions {
  trustedKeys?: readonly (string | KeyObject)[];
}

/** A catalog source is a bundle source whose bundle is the catalog's files. */
class CatalogSourceOf implements CatalogSource {
  readonly origin: string;

  constructor(private readonly inner: BundleSource<Files>) {
    this.origin = inner.origin;
  }

  start(listener: (event: CatalogSourceEvent) => void): void {
    this.inner.start((event: BundleEvent<Files>) => {
      if (event.kind !== 'bundle') return listener({ kind: event.kind, reasons: event.reasons });
      const { files, sequence } = event.value;
      listener({ kind: 'files', files, digest: event.digest, ...(sequence !== undefined ? { sequence } : {}) });
    });
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

function decodeBundle(bytes: Buffer, maxBytes: number | undefined, where: string, trustedKeys: CatalogTrustOptions['trustedKeys']): Decoded<Files> {
  const bundle = decodeCatalogBundle(bytes, maxBytes !== undefined ? { maxBytes } : {});
  const located = (reasons: Reason[]): Reason[] => reasons.map((r) => ({ ...r, message: `${where}: ${r.message}` }));
  if (!bundle.ok) {
    // With keys trusted, a bundle that is not even well formed is as untrusted as a forged one.
    return { ok: false, kind: trustedKeys?.length ? 'refused' : 'unavailable', reasons: located(bundle.reasons) };
  }
  const trust = checkCatalogTrust(bundle, trustedKeys ?? []);
  if (!trust.ok) return { ok: false, kind: 'refused', reasons: located(trust.reasons) };
  if (trust.sequence === undefined) return { ok: true, value: { files: bundle.files }, digest: bundle.digest };
  // The same files under another sequence are another offer: a rollback refused must not hide the genuine one after it.
  return { ok: true, value: { files: bundle.files, sequence: trust.sequence }, digest: bundle.digest, key: `${bundle.digest}#${trust.sequence}` };
}

export interface FolderSourceOptions {
  dir: string;
  /** Poll interval; 0 reads once (the bundled sample never changes). */
  intervalMs: number;
  /** See DiskSourceOptions.settleMs. */
  settleMs?: number;
  origin?: string;
}

export { readCatalogFolder };

/** A catalog folder on disk, polled (see DiskBundleSource). */
export class FolderCatalogSource extends CatalogSourceOf {
  constructor(options: FolderSourceOptions) {
    const { dir } = options;
    super(
      new DiskBundleSource<Files>({
        origin: options.origin ?? `folder ${dir}`,
        intervalMs: options.intervalMs,
        ...(options.settleMs !== undefined ? { settleMs: options.settleMs } : {}),
        read: async () => {
          const read = await readCatalogFolder(dir);
          return read.ok ? { ok: true, value: { files: read.files }, digest: catalogDigest(read.files) } : { ok: false, kind: 'unavailable', reasons: read.reasons };
        },
        unexpected: (err) => ({ kind: 'unavailable', reasons: [{ path: dir, rule: 'unreadable', message: err.message }] }),
      }),
    );
  }
}

export type { UrlSourceOptions };

/** Checks a catalog URL: http or https, nothing else (no file:, no data:). */
export function checkCatalogUrl(text: string): { ok: true; url: URL } | { ok: false; reasons: Reason[] } {
  const checked = checkHttpUrl(text, 'catalog');
  return checked.ok ? checked : { ok: false, reasons: [checked.reason] };
}

/** A catalog bundle served over HTTP(S), polled with a conditional GET (see UrlBundleSource). */
export class UrlCatalogSource extends CatalogSourceOf {
  constructor(options: UrlSourceOptions & CatalogTrustOptions) {
    const { url } = options;
    super(
      new UrlBundleSource<Files>({
        source: options,
        defaultMaxBytes: DEFAULT_MAX_BUNDLE_BYTES,
        accept: 'application/json',
        decode: (bytes, maxBytes) => decodeBundle(bytes, maxBytes, maskUrlPasswords(url), options.trustedKeys),
        // A body too large is named by where it came from after redirects.
        failed: (got) => ({ kind: 'unavailable', reasons: [{ path: maskUrlPasswords(got.rule === 'too-large' ? got.url : url), rule: got.rule, message: maskUrlPasswords(got.message) }] }),
      }),
    );
  }
}

/** The retained bundle on `tectonic/cdm/_catalog` (see BusBundleSource). */
export class BusCatalogSource extends CatalogSourceOf {
  constructor(bus: Pick<CatalogBus, 'subscribe'>, options: { maxBytes?: number } & CatalogTrustOptions = {}) {
    super(
      new BusBundleSource<Files>(bus, {
        topic: CATALOG_BUNDLE_TOPIC,
        decode: (payload) => decodeBundle(payload, options.maxBytes, CATALOG_BUNDLE_TOPIC, options.trustedKeys),
        subscribeFailed: (err) => ({ kind: 'unavailable', reasons: [{ path: CATALOG_BUNDLE_TOPIC, rule: 'subscribe-failed', message: err.message }] }),
      }),
    );
  }
}

/**
 * What a central instance publishes, all retained at QoS 1: one message per
 * schema on `tectonic/cdm/{folder}/{version}` (its file text, unchanged), then
 * the bundle, signed (format 2) when a signing key is given. The bundle goes last so a site that loads it can also find
 * every schema it names on its own topic.
 */
export async function publishCatalogToBus(
  bus: Pick<CatalogBus, 'publish'>,
  catalog: Catalog,
  signing?: { privateKey: string | KeyObject; sequence: number },
): Promise<{ topics: string[]; digest: string }> {
  // Signed first, so a bad key publishes nothing rather than the schemas without their bundle.
  const signed = signing ? signCatalogFiles(catalog.sourceFiles, signing.sequence, signing.privateKey) : undefined;
  if (signed && !signed.ok) throw new TectonicError('BAD_CONFIG', `cannot sign the catalog: ${signed.reason.message}`);
  const topics: string[] = [];
  for (const { topic, text } of schemaMessages(catalog)) {
    await bus.publish(topic, Buffer.from(text, 'utf8'), { qos: 1, retain: true });
    topics.push(topic);
  }
  const { bundle, text } = signed?.ok ? signed : encodeCatalogBundle(catalog.sourceFiles);
  await bus.publish(CATALOG_BUNDLE_TOPIC, Buffer.from(text, 'utf8'), { qos: 1, retain: true });
  topics.push(CATALOG_BUNDLE_TOPIC);
  return { topics, digest: bundle.digest };
}
