import { SITE_ID } from '../fleet/health-topics';
import { type Checked, type Reason, reason } from '../reasons';
import { DEFAULT_MAX_DEPTH, exceedsDepth, parseUntrustedJson } from '../untrusted-json';

/**
 * One announced endpoint, as it is retained on
 * `tectonic/registry/{service}/{site}/{instance}` (docs/registry.md).
 * `announcedAt` and `expiresAt` are the announcer's clock; a reader bounds
 * the entry with its own clock too (view.ts), so a skewed announcer can
 * neither keep a dead entry alive nor expire a live one early beyond the
 * tolerance.
 */
export interface RegistryEntry {
  service: string;
  site: string;
  instance: string;
  url: string;
  metadata: Record<string, unknown>;
  /** Higher first: the failover strategy's primary is the heaviest endpoint. */
  weight: number;
  region?: string;
  /** Seconds the entry stays valid after `announcedAt` without a refresh. */
  ttl: number;
  announcedAt: string;
  expiresAt: string;
  /** The announcing connection's session (tectonic/health/{site}/state): tells an entry of a past life from a current one. */
  session?: number;
}

/** A service or instance name as one topic level: no wildcards, no separators. */
export const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/** An entry is a few hundred bytes; metadata is for tags, not documents. */
export const MAX_ENTRY_BYTES = 8192;
export const MIN_TTL_S = 1;
export const MAX_TTL_S = 86_400;
export const MAX_WEIGHT = 1_000_000;
const METADATA_DEPTH = Math.min(DEFAULT_MAX_DEPTH, 8);

export const REGISTRY_ROOT = 'tectonic/registry';
export const registryTopic = (service: string, site: string, instance: string): string => `${REGISTRY_ROOT}/${service}/${site}/${instance}`;
export const serviceFilter = (service: string): string => `${REGISTRY_ROOT}/${service}/#`;

/** `{ service, site, instance }` of a registry topic, or undefined for anything else. */
export function parseRegistryTopic(topic: string): { service: string; site: string; instance: string } | undefined {
  const parts = topic.split('/');
  if (parts.length !== 5 || parts[0] !== 'tectonic' || parts[1] !== 'registry') return undefined;
  const [, , service, site, instance] = parts as [string, string, string, string, string];
  return NAME.test(service) && SITE_ID.test(site) && NAME.test(instance) ? { service, site, instance } : undefined;
}

/** Whether `url` is an http(s) URL a following `http request` node can call. */
export function checkEndpointUrl(url: unknown, path = 'url'): Reason | undefined {
  if (typeof url !== 'string' || url.length === 0 || url.length > 2048) return reason(path, 'type', 'must be a URL of at most 2048 characters');
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return reason(path, 'format', `"${url}" is not a URL`);
  }
  return parsed.protocol === 'http:' || parsed.protocol === 'https:' ? undefined : reason(path, 'format', 'must be an http: or https: URL');
}

/** The fields an announcer chooses; the times are added when it announces. */
export type EntryFields = Omit<RegistryEntry, 'announcedAt' | 'expiresAt'>;

/** Checks the fields of an entry (from a node's settings or from the bus). */
export function checkEntryFields(value: Record<string, unknown>): Reason[] {
  const reasons: Reason[] = [];
  for (const field of ['service', 'instance'] as const) {
    if (typeof value[field] !== 'string' || !NAME.test(value[field])) reasons.push(reason(field, 'pattern', 'must be 1 to 64 letters, digits, ".", "_" or "-", starting with a letter or digit'));
  }
  if (typeof value.site !== 'string' || !SITE_ID.test(value.site)) reasons.push(reason('site', 'pattern', 'must be a site id'));
  const url = checkEndpointUrl(value.url);
  if (url !== undefined) reasons.push(url);
  const metadata = value.metadata;
  if (metadata === null || typeof metadata !== 'object' || Array.isArray(metadata)) reasons.push(reason('metadata', 'type', 'must be a JSON object'));
  else if (exceedsDepth(metadata, METADATA_DEPTH)) reasons.push(reason('metadata', 'depth', `nests deeper than ${METADATA_DEPTH} levels`));
  if (typeof value.weight !== 'number' || !Number.isFinite(value.weight) || value.weight < 0 || value.weight > MAX_WEIGHT) reasons.push(reason('weight', 'range', `must be a number from 0 to ${MAX_WEIGHT}`));
  if (value.region !== undefined && (typeof value.region !== 'string' || !NAME.test(value.region))) reasons.push(reason('region', 'pattern', 'must be 1 to 64 letters, digits, ".", "_" or "-"'));
  if (typeof value.ttl !== 'number' || !Number.isFinite(value.ttl) || value.ttl < MIN_TTL_S || value.ttl > MAX_TTL_S) reasons.push(reason('ttl', 'range', `must be ${MIN_TTL_S} to ${MAX_TTL_S} seconds`));
  if (value.session !== undefined && (!Number.isSafeInteger(value.session) || (value.session as number) < 0)) reasons.push(reason('session', 'type', 'must be a non-negative integer'));
  return reasons;
}

/** The retained payload for `fields`, announced at `now`. */
export function encodeEntry(fields: EntryFields, now: number): string {
  const entry: RegistryEntry = { ...fields, announcedAt: new Date(now).toISOString(), expiresAt: new Date(now + fields.ttl * 1000).toISOString() };
  return JSON.stringify(entry);
}

/**
 * A registry message from the bus: untrusted (any client the ACL lets
 * publish there). Size-bounded before parsing, prototype keys refused, every
 * field checked, and the topic must name the same service, site and
 * instance as the entry, so an entry cannot claim another site's place.
 * An empty payload is a deletion, not an error: `{ ok: true, value: null }`.
 */
export function parseEntry(topic: string, payload: Buffer | string): Checked<RegistryEntry | null> {
  const where = parseRegistryTopic(topic);
  if (where === undefined) return { ok: false, reasons: [reason('', 'topic', `${topic} is not tectonic/registry/{service}/{site}/{instance}`)] };
  if (payload.length === 0) return { ok: true, value: null };
  if (payload.length > MAX_ENTRY_BYTES) return { ok: false, reasons: [reason('', 'size', `a registry entry is at most ${MAX_ENTRY_BYTES} bytes`)] };
  const parsed = parseUntrustedJson(payload.toString(), '');
  if (!parsed.ok) return parsed;
  const value = parsed.value as Record<string, unknown> | null;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return { ok: false, reasons: [reason('', 'type', 'a registry entry must be a JSON object')] };
  const reasons = checkEntryFields(value);
  for (const field of ['service', 'site', 'instance'] as const) {
    if (value[field] !== where[field]) reasons.push(reason(field, 'topic-mismatch', `must be "${where[field]}", as in the topic`));
  }
  const announcedAt = typeof value.announcedAt === 'string' ? Date.parse(value.announcedAt) : Number.NaN;
  const expiresAt = typeof value.expiresAt === 'string' ? Date.parse(value.expiresAt) : Number.NaN;
  if (Number.isNaN(announcedAt)) reasons.push(reason('announcedAt', 'format', 'must be an ISO 8601 time'));
  if (Number.isNaN(expiresAt)) reasons.push(reason('expiresAt', 'format', 'must be an ISO 8601 time'));
  if (reasons.length > 0) return { ok: false, reasons };
  const entry: RegistryEntry = {
    service: where.service,
    site: where.site,
    instance: where.instance,
    url: value.url as string,
    metadata: value.metadata as Record<string, unknown>,
    weight: value.weight as number,
    ttl: value.ttl as number,
    announcedAt: value.announcedAt as string,
    expiresAt: value.expiresAt as string,
  };
  if (value.region !== undefined) entry.region = value.region as string;
  if (value.session !== undefined) entry.session = value.session as number;
  return { ok: true, value: entry };
}
