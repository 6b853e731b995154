import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { type Reason, reason } from '../reasons';
import { ConditionalFetch } from '../sources/conditional-fetch';
import { checkHttpUrl } from '../sources/http-url';
import { PollLoop } from '../sources/poll-loop';
import { DEFAULT_MAX_BUNDLE_BYTES } from './trust';

/**
 * Where a site's signed policy bundle comes from. A source only fetches
 * bytes and says what it found; SitePolicy verifies them. It reports a
 * bundle only when its bytes changed, and a problem only when it is a new
 * one, so polling every few seconds stays quiet.
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
export interface PolicyBus {
  publish(topic: string, payload: Buffer, options: { qos: 0 | 1 | 2; retain?: boolean }): Promise<void>;
  subscribe(filter: string, qos: 0 | 1 | 2, handler: (topic: string, payload: Buffer) => void): Promise<() => Promise<void>>;
}

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

/** Calls the listener once per distinct problem and for every new digest. */
class Reporter {
  private lastDigest: string | undefined;
  private lastProblem: string | undefined;

  constructor(private readonly listener: (event: PolicySourceEvent) => void) {}

  bundle(bytes: Buffer): void {
    const digest = bundleDigest(bytes);
    this.lastProblem = undefined;
    if (digest === this.lastDigest) return;
    this.lastDigest = digest;
    this.listener({ kind: 'bundle', bytes, digest });
  }

  problem(kind: 'refused' | 'unavailable', why: Reason): void {
    const key = `${kind}\u0000${why.rule}\u0000${why.message}`;
    if (key === this.lastProblem) return;
    this.lastProblem = key;
    // A refusal is about bytes; the same bytes offered again after it must be offered again.
    if (kind === 'refused') this.lastDigest = undefined;
    this.listener({ kind, reason: why });
  }
}

function tooLarge(origin: string, size: string, max: number): Reason {
  return reason('', 'policy-too-large', `${origin} holds a bundle of ${size} bytes; this site accepts at most ${max}`);
}

export interface FileSourceOptions {
  path: string;
  /** Poll interval; 0 reads once (the bundled demo bundle never changes). */
  intervalMs: number;
  maxBytes?: number;
  /**
   * A changed file is read again after this pause and taken only when both
   * reads agree, so a bundle caught half written is not refused (failing
   * every gate closed for one interval) for nothing. Default: a quarter of
   * the interval, at most 1 s.
   */
  settleMs?: number;
  origin?: string;
}

/**
 * A file on disk, polled. Polling rather than fs.watch: watch events are
 * missing or duplicated on network and container file systems, where a
 * central team's files tend to live.
 */
export class FilePolicySource implements PolicySource {
  readonly origin: string;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly settleMs: number;
  private readonly maxBytes: number;

  constructor(private readonly options: FileSourceOptions) {
    this.origin = options.origin ?? `file ${options.path}`;
    this.settleMs = options.settleMs ?? Math.min(1000, Math.floor(options.intervalMs / 4));
    this.maxBytes = options.maxBytes ?? DEFAULT_MAX_BUNDLE_BYTES;
  }

  start(listener: (event: PolicySourceEvent) => void): void {
    const reporter = new Reporter(listener);
    let seen: string | undefined;
    const read = async (): Promise<{ ok: true; bytes: Buffer } | { ok: false; kind: 'refused' | 'unavailable'; reason: Reason }> => {
      try {
        const info = await stat(this.options.path);
        if (!info.isFile()) return { ok: false, kind: 'unavailable', reason: reason('', 'policy-unavailable', `${this.origin} is not a file`) };
        // Refused before reading: a huge file is not loaded into memory at all.
        if (info.size > this.maxBytes) return { ok: false, kind: 'refused', reason: tooLarge(this.origin, String(info.size), this.maxBytes) };
        const bytes = await readFile(this.options.path);
        if (bytes.length > this.maxBytes) return { ok: false, kind: 'refused', reason: tooLarge(this.origin, String(bytes.length), this.maxBytes) };
        return { ok: true, bytes };
      } catch (err) {
        return { ok: false, kind: 'unavailable', reason: reason('', 'policy-unavailable', `cannot read ${this.options.path}: ${(err as Error).message}`) };
      }
    };
    const tick = async (): Promise<void> => {
      const first = await read();
      if (this.closed) return;
      if (!first.ok) return reporter.problem(first.kind, first.reason);
      const digest = bundleDigest(first.bytes);
      // The first read is taken as it is: there is nothing from this source in force to protect yet.
      if (seen !== undefined && digest !== seen && this.settleMs > 0) {
        await new Promise<void>((resolve) => {
          this.timer = setTimeout(resolve, this.settleMs);
        });
        if (this.closed) return;
        const second = await read();
        if (this.closed || !second.ok || bundleDigest(second.bytes) !== digest) return;
      }
      seen = digest;
      reporter.bundle(first.bytes);
    };
    const loop = (): void => {
      tick()
        .catch((err: unknown) => reporter.problem('unavailable', reason('', 'policy-unavailable', `${this.origin}: ${(err as Error).message}`)))
        .finally(() => {
          if (!this.closed && this.options.intervalMs > 0) this.timer = setTimeout(loop, this.options.intervalMs);
        });
    };
    loop();
  }

  close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    return Promise.resolve();
  }
}

export interface UrlSourceOptions {
  url: string;
  intervalMs: number;
  /** Bound for one request, headers and body; default 30 s. */
  timeoutMs?: number;
  maxBytes?: number;
  /** Extra request headers (e.g. an Authorization the central team requires). */
  headers?: Record<string, string>;
}

/** Checks a policy URL: http or https, nothing else (no file:, no data:). */
export function checkPolicyUrl(text: string): { ok: true; url: URL } | { ok: false; reason: Reason } {
  return checkHttpUrl(text, 'policy');
}

/**
 * A signed bundle served over HTTP(S), polled with a conditional GET: the
 * server answers 304 Not Modified to the ETag of the last bundle, so an
 * unchanged policy costs one small round trip. Plain http is allowed: the
 * signature, not the channel, is what a site trusts.
 */
export class UrlPolicySource implements PolicySource {
  readonly origin: string;
  private readonly fetcher: ConditionalFetch;
  private readonly maxBytes: number;
  private readonly poll: PollLoop;

  constructor(private readonly options: UrlSourceOptions) {
    this.origin = options.url;
    this.poll = new PollLoop(options.intervalMs);
    this.maxBytes = options.maxBytes ?? DEFAULT_MAX_BUNDLE_BYTES;
    this.fetcher = new ConditionalFetch({
      url: options.url,
      timeoutMs: options.timeoutMs,
      maxBytes: this.maxBytes,
      headers: { accept: 'application/json, application/yaml;q=0.9, */*;q=0.5', ...options.headers },
    });
  }

  start(listener: (event: PolicySourceEvent) => void): void {
    const reporter = new Reporter(listener);
    this.poll.start(() => this.fetchOnce(reporter));
  }

  private async fetchOnce(reporter: Reporter): Promise<void> {
    const got = await this.fetcher.get();
    if (got.kind === 'unchanged' || got.kind === 'aborted') return;
    if (got.kind === 'failed') {
      // Too large is a trust failure (the site fails closed); anything else is an outage.
      if (got.rule === 'too-large') return reporter.problem('refused', tooLarge(this.options.url, got.size, this.maxBytes));
      return reporter.problem('unavailable', reason('', 'policy-unavailable', got.message));
    }
    // The ETag goes with bytes that were handed over whole; whether they verify is SitePolicy's call.
    this.fetcher.remember(got.etag);
    reporter.bundle(got.bytes);
  }

  async close(): Promise<void> {
    this.fetcher.abort();
    await this.poll.stop();
  }
}

/**
 * The retained message on `tectonic/policy/{bundle}`, which the broker hands
 * to a site as soon as it subscribes, however long ago the central instance
 * published it; later versions arrive as they are published.
 */
export class BusPolicySource implements PolicySource {
  readonly origin: string;
  private closed = false;
  private unsubscribe: (() => Promise<void>) | undefined;

  constructor(
    private readonly bus: Pick<PolicyBus, 'subscribe'>,
    private readonly topic: string,
    private readonly options: { maxBytes?: number } = {},
  ) {
    this.origin = `bus ${topic}`;
  }

  start(listener: (event: PolicySourceEvent) => void): void {
    const reporter = new Reporter(listener);
    const max = this.options.maxBytes ?? DEFAULT_MAX_BUNDLE_BYTES;
    const onMessage = (_topic: string, payload: Buffer): void => {
      if (this.closed) return;
      // An empty retained message clears the topic: nothing offered, the bundle in force stays.
      if (payload.length === 0) return;
      if (payload.length > max) return reporter.problem('refused', tooLarge(this.origin, String(payload.length), max));
      reporter.bundle(Buffer.from(payload));
    };
    this.bus.subscribe(this.topic, 1, onMessage).then(
      (unsubscribe) => {
        if (this.closed) void unsubscribe().catch(() => undefined);
        else this.unsubscribe = unsubscribe;
      },
      (err: Error) => {
        if (!this.closed) reporter.problem('unavailable', reason('', 'policy-unavailable', `cannot subscribe to ${this.topic}: ${err.message}`));
      },
    );
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.unsubscribe?.().catch(() => undefined);
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
