import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import type { EnvelopeOrigin } from '../envelope/new-envelope';
import { parseBundleText } from '../policy/bundle-format';
import { type Reason, reason } from '../reasons';
import type { BundleEvent, BundleProblem, BundleSource, Decoded } from '../sources/bundle-source';
import { DiskBundleSource } from '../sources/disk-source';
import { checkHttpUrl } from '../sources/http-url';
import { parseRefresh, refreshMs, requestTimeoutMs } from '../sources/refresh-interval';
import { type EnvLookup, typedField } from '../sources/typed-field';
import { UrlBundleSource } from '../sources/url-source';
import { type CompiledMapping, compileMappingSpec } from './compile';

/**
 * Where cdm-map's mapping spec comes from (issue 21): the rules in the node as
 * ever, or a spec file or URL the site owns, so a vetted template stays the
 * same while every site maps its own format. File and URL are the polled
 * sources of lib/sources; they hand over bytes, and the spec is compiled here
 * once per change of those bytes.
 */
export type SpecSourceSettings =
  | { kind: 'rules' }
  | { kind: 'file'; path: string; intervalMs: number }
  | { kind: 'url'; url: string; intervalMs: number; timeoutMs: number };

/** cdm-map's spec source fields as the editor saves them. */
export interface SpecSourceFields {
  /** `rules` (absent: the node's table), `file` or `url`. */
  specSource?: string;
  /** The path or URL; with `specFromType: 'env'`, the variable holding it. */
  specFrom?: string;
  specFromType?: string;
  /** Seconds between polls; empty for the default. */
  specRefresh?: string;
}

/** Default poll intervals in seconds: a file is cheap to read, a URL costs the central server. */
export const DEFAULT_SPEC_REFRESH_S = { file: 5, url: 60 } as const;

/** A spec is a page of rules (at most 500); 1 MiB is far past any real one and bounds what a poll reads. */
export const MAX_SPEC_BYTES = 1024 * 1024;

export function parseSpecSource(fields: SpecSourceFields, env: EnvLookup): { ok: true; value: SpecSourceSettings } | { ok: false; problem: string } {
  const kind = (fields.specSource ?? '').trim() || 'rules';
  if (kind === 'rules') return { ok: true, value: { kind: 'rules' } };
  if (kind !== 'file' && kind !== 'url') return { ok: false, problem: `spec source must be rules, file or url, got "${kind}"` };
  const refresh = parseRefresh(fields.specRefresh);
  if (!refresh.ok) return { ok: false, problem: `spec ${refresh.problem}` };
  const where = typedField(fields.specFrom, fields.specFromType, `spec ${kind}`, env);
  if (!where.ok) return { ok: false, problem: where.problem };
  if (where.text === '') return { ok: false, problem: `spec ${kind}: the ${kind === 'file' ? 'path of the mapping spec' : 'URL of the mapping spec'} is required` };
  const intervalMs = refreshMs(refresh.seconds, DEFAULT_SPEC_REFRESH_S[kind]);
  if (kind === 'file') return { ok: true, value: { kind, path: where.text, intervalMs } };
  const url = checkHttpUrl(where.text, 'mapping spec');
  if (!url.ok) return { ok: false, problem: url.reason.message };
  return { ok: true, value: { kind, url: url.url.href, intervalMs, timeoutMs: requestTimeoutMs(intervalMs) } };
}

function bytesOf(bytes: Buffer): Decoded<Buffer> {
  return { ok: true, value: bytes, digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}` };
}

function unavailable(message: string): BundleProblem {
  return { kind: 'unavailable', reasons: [reason('', 'spec-unavailable', message)] };
}

/** The polled source of a file or URL spec; undefined for the node's own rules. */
export function openSpecSource(settings: SpecSourceSettings, options: { settleMs?: number } = {}): BundleSource<Buffer> | undefined {
  if (settings.kind === 'rules') return undefined;
  if (settings.kind === 'url') {
    return new UrlBundleSource<Buffer>({
      source: { url: settings.url, intervalMs: settings.intervalMs, timeoutMs: settings.timeoutMs },
      defaultMaxBytes: MAX_SPEC_BYTES,
      accept: 'application/json, application/yaml;q=0.9, */*;q=0.5',
      decode: bytesOf,
      failed: (got) => unavailable(got.message),
    });
  }
  const { path } = settings;
  const origin = `file ${path}`;
  return new DiskBundleSource<Buffer>({
    origin,
    intervalMs: settings.intervalMs,
    ...(options.settleMs !== undefined ? { settleMs: options.settleMs } : {}),
    read: async () => {
      try {
        const info = await stat(path);
        if (!info.isFile()) return { ok: false, ...unavailable(`${origin} is not a file`) };
        // Refused before reading: a huge file is not loaded into memory at all.
        if (info.size > MAX_SPEC_BYTES) return { ok: false, ...unavailable(`${origin} holds ${info.size} bytes; a mapping spec may have at most ${MAX_SPEC_BYTES}`) };
        return bytesOf(await readFile(path));
      } catch (err) {
        return { ok: false, ...unavailable(`cannot read ${path}: ${(err as Error).message}`) };
      }
    },
    unexpected: (err) => unavailable(`${origin}: ${err.message}`),
  });
}

/** A spec's text, JSON or YAML (the policy bundle's reader: YAML 1.2 core schema), compiled; or every reason it is not usable. */
export function compileSpecText(bytes: Buffer, name: string): { ok: true; mapping: CompiledMapping } | { ok: false; reasons: Reason[] } {
  const parsed = parseBundleText(bytes.toString('utf8'), name);
  if (!parsed.ok) return { ok: false, reasons: parsed.reasons };
  const compiled = compileMappingSpec(parsed.value);
  if (!compiled.ok) return { ok: false, reasons: compiled.reasons };
  return { ok: true, mapping: compiled.value };
}

/** The mapping a cdm-map applies, with the envelope origin its records get. */
export interface MappingInForce {
  mapping: CompiledMapping;
  origin: EnvelopeOrigin;
  digest: string;
}

/**
 * What changed, for the node's warnings and status. `kept`: a new spec did
 * not compile and the one in force stays; `refused`: nothing is in force yet
 * and the spec offered does not compile; `unavailable`: the source could not
 * be read (what is in force stays).
 */
export type SpecChange =
  | { kind: 'in-force'; entity: string; version: string; digest: string; first: boolean }
  | { kind: 'kept' | 'refused' | 'unavailable'; reasons: Reason[] };

/**
 * The spec in force for one cdm-map: set at once from the node's rules, or
 * from the first spec its source offers that compiles; a later one that does
 * not compile leaves the previous in force, because a site that stopped
 * mapping on a typo in the central team's file would be worse off than one
 * mapping by yesterday's rules for a while.
 */
export class MappingSpecHolder {
  #current: MappingInForce | undefined;
  #closed = false;

  constructor(
    private readonly base: { site: string; source: string },
    private readonly listener: (change: SpecChange) => void,
    private readonly source: BundleSource<Buffer> | undefined,
    initial?: CompiledMapping,
  ) {
    if (initial !== undefined) this.#current = this.#inForce(initial, 'rules');
  }

  get current(): MappingInForce | undefined {
    return this.#current;
  }

  get origin(): string {
    return this.source?.origin ?? 'the node\'s rules';
  }

  start(): void {
    this.source?.start((event) => this.#offer(event));
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.source?.close();
  }

  #inForce(mapping: CompiledMapping, digest: string): MappingInForce {
    return { mapping, digest, origin: { entity: mapping.entity, version: mapping.version, site: this.base.site, source: this.base.source } };
  }

  #offer(event: BundleEvent<Buffer>): void {
    if (this.#closed) return;
    if (event.kind !== 'bundle') return this.listener({ kind: 'unavailable', reasons: event.reasons });
    const compiled = compileSpecText(event.value, this.origin);
    if (!compiled.ok) return this.listener({ kind: this.#current === undefined ? 'refused' : 'kept', reasons: compiled.reasons });
    const first = this.#current === undefined;
    this.#current = this.#inForce(compiled.mapping, event.digest);
    this.listener({ kind: 'in-force', entity: compiled.mapping.entity, version: compiled.mapping.version, digest: event.digest, first });
  }
}
