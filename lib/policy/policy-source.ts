import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { type Reason, reason } from '../reasons';
import type { BundleEvent, BundleProblem, BundleSource, Decoded } from '../sources/bundle-source';
import { type BundleBus, BusBundleSource } from '../sources/bus-source';
import { DiskBundleSource } from '../sources/disk-source';
import { checkHttpUrl } from '../sources/http-url';
import { UrlBundleSource, type UrlSourceOptions } from '../sources/url-source';
import { DEFAULT_MAX_BUNDLE_BYTES } from './trust';
import { maskUrlPasswords } from '../redact-url';

/**
 * Where a site's signed policy bundle comes from: the file, URL and bus
 * sources of lib/sources, handing over bytes; SitePolicy verifies them.
 *
 * `refused` is a bundle the source itself will not hand over (larger than the
 * site's limit): it is a trust failure, not an outage, so the site fails
 * closed on it. `unavailable` is an outage: the bundle in force (or cached)
 * stays.
 */
export type PolicySourceEvent =
  | { kind: 'bundle'; bytes: Buffer; digest: string }
  | { kind: 'refused'; reason: Reason }
  | { kind: 'unavailable'; reason: Reason };

export interface PolicySource {
  /** In words, for logs and status: `file /srv/policy.json`, `https://hq.example/policy.json`. */
  readonly origin: string;
  start(listener: (event: PolicySourceEvent) => void): void;
  /** Stops timers, aborts a fetch in flight, unsubscribes; never rejects. */
  close(): Promise<void>;
}

/** The part of the shared bus a policy source needs; lib/bus's SharedBus has this shape. */
export type PolicyBus = BundleBus;

/** A bundle id as it may appear in a topic level: the characters of a CDM entity name, no MQTT wildcards or separators. */
const BUNDLE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** `tectonic/policy/{bundle}` (DESIGN: topics on the bus), or why the id cannot be a topic level. */
export function policyTopic(bundleId: string): { ok: true; topic: string } | { ok: false; reason: Reason } {
  if (!BUNDLE_ID.test(bundleId)) {
    return { ok: false, reason: reason('bundle', 'pattern', `a bundle id must be 1-64 of A-Z a-z 0-9 . _ - starting with a letter or digit, got "${bundleId}"`) };
  }
  return { ok: true, topic: `tectonic/policy/${bundleId}` };
}

export function bundleDigest(bytes: Buffer): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** A policy source is a bundle source of bytes; each of its problems carries one reason. */
class PolicySourceOf implements PolicySource {
  readonly origin: string;

  constructor(private readonly inner: BundleSource<Buffer>) {
    this.origin = inner.origin;
  }

  start(listener: (event: PolicySourceEvent) => void): void {
    this.inner.start((event: BundleEvent<Buffer>) => {
      if (event.kind === 'bundle') return listener({ kind: 'bundle', bytes: event.value, digest: event.digest });
      const why = event.reasons[0];
      if (why !== undefined) listener({ kind: event.kind, reason: why });
    });
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

function bytesOf(bytes: Buffer): Decoded<Buffer> {
  return { ok: true, value: bytes, digest: bundleDigest(bytes) };
}

function problem(kind: BundleProblem['kind'], why: Reason): BundleProblem {
  return { kind, reasons: [why] };
}

function tooLarge(origin: string, size: string, max: number): BundleProblem {
  return problem('refused', reason('', 'policy-too-large', `${origin} holds a bundle of ${size} bytes; this site accepts at most ${max}`));
}

export interface FileSourceOptions {
  path: string;
  /** Poll interval; 0 reads once (the bundled demo bundle never changes). */
  intervalMs: number;
  maxBytes?: number;
  /** See DiskSourceOptions.settleMs. */
  settleMs?: number;
  origin?: string;
}

/** A signed bundle in a file, polled (see DiskBundleSource). */
export class FilePolicySource extends PolicySourceOf {
  constructor(options: FileSourceOptions) {
    const { path } = options;
    const origin = options.origin ?? `file ${path}`;
    const maxBytes = options.maxBytes ?? DEFAULT_MAX_BUNDLE_BYTES;
    const read = async (): Promise<Decoded<Buffer>> => {
      try {
        const info = await stat(path);
        if (!info.isFile()) return { ok: false, ...problem('unavailable', reason('', 'policy-unavailable', `${origin} is not a file`)) };
        // Refused before reading: a huge file is not loaded into memory at all.
        if (info.size > maxBytes) return { ok: false, ...tooLarge(origin, String(info.size), maxBytes) };
        const bytes = await readFile(path);
        if (bytes.length > maxBytes) return { ok: false, ...tooLarge(origin, String(bytes.length), maxBytes) };
        return bytesOf(bytes);
      } catch (err) {
        return { ok: false, ...problem('unavailable', reason('', 'policy-unavailable', `cannot read ${path}: ${(err as Error).message}`)) };
      }
    };
    super(
      new DiskBundleSource<Buffer>({
        origin,
        intervalMs: options.intervalMs,
        ...(options.settleMs !== undefined ? { settleMs: options.settleMs } : {}),
        read,
        unexpected: (err) => problem('unavailable', reason('', 'policy-unavailable', `${origin}: ${err.message}`)),
      }),
    );
  }
}

export type { UrlSourceOptions };

/** Checks a policy URL: http or https, nothing else (no file:, no data:). */
export function checkPolicyUrl(text: string): { ok: true; url: URL } | { ok: false; reason: Reason } {
  return checkHttpUrl(text, 'policy');
}

/**
 * A signed bundle served over HTTP(S), polled with a conditional GET (see
 * UrlBundleSource). Plain http is allowed: the signature, not the channel,
 * is what a site trusts.
 */
export class UrlPolicySource extends PolicySourceOf {
  constructor(options: UrlSourceOptions) {
    const { url } = options;
    super(
      new UrlBundleSource<Buffer>({
        source: options,
        defaultMaxBytes: DEFAULT_MAX_BUNDLE_BYTES,
        accept: 'application/json, application/yaml;q=0.9, */*;q=0.5',
        // The ETag goes with bytes that were handed over whole; whether they verify is SitePolicy's call.
        decode: bytesOf,
        // Too large is a trust failure (the site fails closed); anything else is an outage.
        failed: (got, maxBytes) => (got.rule === 'too-large' ? tooLarge(maskUrlPasswords(url), got.size, maxBytes) : problem('unavailable', reason('', 'policy-unavailable', got.message))),
      }),
    );
  }
}

/** The retained bundle on `tectonic/policy/{bundle}` (see BusBundleSource). */
export class BusPolicySource extends PolicySourceOf {
  constructor(bus: Pick<PolicyBus, 'subscribe'>, topic: string, options: { maxBytes?: number } = {}) {
    const max = options.maxBytes ?? DEFAULT_MAX_BUNDLE_BYTES;
    const origin = `bus ${topic}`;
    super(
      new BusBundleSource<Buffer>(bus, {
        topic,
        decode: (payload) => (payload.length > max ? { ok: false, ...tooLarge(origin, String(payload.length), max) } : bytesOf(Buffer.from(payload))),
        subscribeFailed: (err) => problem('unavailable', reason('', 'policy-unavailable', `cannot subscribe to ${topic}: ${err.message}`)),
      }),
    );
  }
}

/** What a central instance publishes: the signed bundle exactly as it loaded it, retained at QoS 1. */
export async function publishPolicyToBus(bus: Pick<PolicyBus, 'publish'>, topic: string, bytes: Buffer): Promise<void> {
  await bus.publish(topic, bytes, { qos: 1, retain: true });
}

/** What the disk cache holds for one tectonic-policy config. */
export interface CachedPolicy {
  /** The last bundle put in force, as its signed text: verified again on every load. */
  signed?: string;
  /** Its `id`, so a config switched to another bundle does not inherit this one's versions. */
  bundleId?: string;
  /** The highest version enforced; a lower one stays a rollback across restarts. */
  highestVersion?: number;
}

const CACHE_FORMAT = 1;

/**
 * The last good signed bundle and the highest version seen, in one JSON file
 * per config node. Written whole to a temporary file beside it and renamed
 * over it, so a crash mid-write leaves the previous cache, never half a one.
 * The cache is not trusted: the bundle in it is verified like any other.
 */
export class PolicyCache {
  constructor(readonly file: string) {}

  /** The cached state; `problem` says why a file that exists could not be read (the cache is then ignored). */
  async read(): Promise<{ cached: CachedPolicy; problem?: string }> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { cached: {} };
      return { cached: {}, problem: `cannot read ${this.file}: ${(err as Error).message}` };
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      return { cached: {}, problem: `${this.file} is not JSON: ${(err as Error).message}` };
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return { cached: {}, problem: `${this.file} is not a policy cache` };
    const record = parsed as Record<string, unknown>;
    if (record.format !== CACHE_FORMAT) return { cached: {}, problem: `${this.file} has cache format ${JSON.stringify(record.format)}, not ${CACHE_FORMAT}` };
    const cached: CachedPolicy = {};
    if (typeof record.signed === 'string') cached.signed = record.signed;
    if (typeof record.bundleId === 'string') cached.bundleId = record.bundleId;
    if (typeof record.highestVersion === 'number' && Number.isSafeInteger(record.highestVersion) && record.highestVersion >= 1) cached.highestVersion = record.highestVersion;
    return { cached };
  }

  async write(cached: CachedPolicy): Promise<void> {
    await mkdir(dirname(this.file), { recursive: true, mode: 0o700 });
    const temp = `${this.file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
    const text = `${JSON.stringify({ format: CACHE_FORMAT, savedAt: new Date().toISOString(), ...cached }, null, 2)}\n`;
    try {
      await writeFile(temp, text, { mode: 0o600 });
      await rename(temp, this.file);
    } catch (err) {
      await rm(temp, { force: true }).catch(() => undefined);
      throw err;
    }
  }
}
