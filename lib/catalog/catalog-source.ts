import { CATALOG_BUNDLE_TOPIC, DEFAULT_MAX_BUNDLE_BYTES, catalogDigest, decodeCatalogBundle, encodeCatalogBundle, schemaMessages } from './catalog-bundle';
import { readCatalogFolder } from './catalog-loader';
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
  | { kind: 'files'; files: ReadonlyMap<string, string>; digest: string }
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

type Files = ReadonlyMap<string, string>;

/** A catalog source is a bundle source whose bundle is the catalog's files; it never refuses, it only finds them unavailable. */
class CatalogSourceOf implements CatalogSource {
  readonly origin: string;

  constructor(private readonly inner: BundleSource<Files>) {
    this.origin = inner.origin;
  }

  start(listener: (event: CatalogSourceEvent) => void): void {
    this.inner.start((event: BundleEvent<Files>) =>
      listener(event.kind === 'bundle' ? { kind: 'files', files: event.value, digest: event.digest } : { kind: 'unavailable', reasons: event.reasons }),
    );
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

function decodeBundle(bytes: Buffer, maxBytes: number | undefined, where: string): Decoded<Files> {
  const bundle = decodeCatalogBundle(bytes, maxBytes !== undefined ? { maxBytes } : {});
  if (bundle.ok) return { ok: true, value: bundle.files, digest: bundle.digest };
  return { ok: false, kind: 'unavailable', reasons: bundle.reasons.map((r) => ({ ...r, message: `${where}: ${r.message}` })) };
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
          return read.ok ? { ok: true, value: read.files, digest: catalogDigest(read.files) } : { ok: false, kind: 'unavailable', reasons: read.reasons };
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
  constructor(options: UrlSourceOptions) {
    const { url } = options;
    super(
      new UrlBundleSource<Files>({
        source: options,
        defaultMaxBytes: DEFAULT_MAX_BUNDLE_BYTES,
        accept: 'application/json',
        decode: (bytes, maxBytes) => decodeBundle(bytes, maxBytes, url),
        // A body too large is named by where it came from after redirects.
        failed: (got) => ({ kind: 'unavailable', reasons: [{ path: got.rule === 'too-large' ? got.url : url, rule: got.rule, message: got.message }] }),
      }),
    );
  }
}

/** The retained bundle on `tectonic/cdm/_catalog` (see BusBundleSource). */
export class BusCatalogSource extends CatalogSourceOf {
  constructor(bus: Pick<CatalogBus, 'subscribe'>, options: { maxBytes?: number } = {}) {
    super(
      new BusBundleSource<Files>(bus, {
        topic: CATALOG_BUNDLE_TOPIC,
        decode: (payload) => decodeBundle(payload, options.maxBytes, CATALOG_BUNDLE_TOPIC),
        subscribeFailed: (err) => ({ kind: 'unavailable', reasons: [{ path: CATALOG_BUNDLE_TOPIC, rule: 'subscribe-failed', message: err.message }] }),
      }),
    );
  }
}

/**
 * What a central instance publishes, all retained at QoS 1: one message per
 * schema on `tectonic/cdm/{folder}/{version}` (its file text, unchanged), then
 * the bundle. The bundle goes last so a site that loads it can also find
 * every schema it names on its own topic.
 */
export async function publishCatalogToBus(bus: Pick<CatalogBus, 'publish'>, catalog: Catalog): Promise<{ topics: string[]; digest: string }> {
  const topics: string[] = [];
  for (const { topic, text } of schemaMessages(catalog)) {
    await bus.publish(topic, Buffer.from(text, 'utf8'), { qos: 1, retain: true });
    topics.push(topic);
  }
  const { bundle, text } = encodeCatalogBundle(catalog.sourceFiles);
  await bus.publish(CATALOG_BUNDLE_TOPIC, Buffer.from(text, 'utf8'), { qos: 1, retain: true });
  topics.push(CATALOG_BUNDLE_TOPIC);
  return { topics, digest: bundle.digest };
}
