import semver from 'semver';
import type { Deprecation } from './catalog-model';
import { isCompatibilityLevel, isJsonObject, COMPATIBILITY_LEVELS } from './types';
import type { CompatibilityLevel, JsonValue } from './types';
import type { Reason } from '../reasons';

/** The catalog.json format this code reads; bumped only for breaking changes. */
export const CATALOG_FORMAT = 1;
export const CATALOG_FILE = 'catalog.json';

export interface EntityDescriptor {
  compatibility: CompatibilityLevel;
  title?: string;
  domain?: string;
  versions: ReadonlyMap<string, { deprecation?: Deprecation }>;
}

export interface CatalogDescriptor {
  name?: string;
  shared: readonly string[];
  entities: ReadonlyMap<string, EntityDescriptor>;
}

/** Entity and shared folder names: also MQTT topic levels, so no `/`, `+`, `#`. */
export const NAME_PATTERN = /^[a-z][a-z0-9-]{0,63}$/;
const DATE_PATTERN = /^\d{4}-\d{2}-\d{2}$/;

/** A semantic version in its canonical form (no `v`, no spaces). */
export function isSemver(text: string): boolean {
  return semver.valid(text) === text;
}

function isCalendarDate(text: string): boolean {
  if (!DATE_PATTERN.test(text)) return false;
  const time = Date.parse(`${text}T00:00:00Z`);
  return !Number.isNaN(time) && new Date(time).toISOString().startsWith(text);
}

/** Reads catalog.json; every problem is reported, not just the first. */
export function readCatalogDescriptor(value: JsonValue): { ok: true; descriptor: CatalogDescriptor } | { ok: false; reasons: Reason[] } {
  const reasons: Reason[] = [];
  const at = (path: string, rule: string, message: string): void => {
    reasons.push({ path: `${CATALOG_FILE}#${path}`, rule, message });
  };
  if (!isJsonObject(value)) {
    at('', 'invalid-catalog', 'catalog.json must be a JSON object');
    return { ok: false, reasons };
  }
  refuseUnknownKeys(value, ['format', 'name', 'description', 'shared', 'entities'], '', at);
  if (value.format !== CATALOG_FORMAT) {
    at('/format', 'unsupported-format', `"format" must be ${CATALOG_FORMAT}, got ${JSON.stringify(value.format ?? null)}`);
  }
  if (value.name !== undefined && typeof value.name !== 'string') at('/name', 'invalid-type', '"name" must be a string');

  const shared: string[] = [];
  if (value.shared !== undefined) {
    if (!Array.isArray(value.shared)) at('/shared', 'invalid-type', '"shared" must be an array of folder names');
    else
      value.shared.forEach((folder, i) => {
        if (typeof folder !== 'string' || !NAME_PATTERN.test(folder)) at(`/shared/${i}`, 'invalid-name', `shared folder ${JSON.stringify(folder)} must match ${NAME_PATTERN.source}`);
        else shared.push(folder);
      });
  }

  const entities = new Map<string, EntityDescriptor>();
  if (!isJsonObject(value.entities)) {
    at('/entities', 'invalid-type', '"entities" must be an object with one key per entity');
  } else {
    for (const [name, raw] of Object.entries(value.entities)) {
      const entity = readEntity(name, raw, at);
      if (entity) entities.set(name, entity);
    }
    for (const folder of shared) if (entities.has(folder)) at(`/shared`, 'name-clash', `"${folder}" is both a shared folder and an entity`);
  }
  if (reasons.length > 0) return { ok: false, reasons };
  const descriptor: CatalogDescriptor = { shared, entities };
  if (typeof value.name === 'string') descriptor.name = value.name;
  return { ok: true, descriptor };
}

type At = (path: string, rule: string, message: string) => void;

function readEntity(name: string, raw: JsonValue, at: At): EntityDescriptor | undefined {
  const base = `/entities/${name}`;
  if (!NAME_PATTERN.test(name)) {
    at(base, 'invalid-name', `entity name "${name}" must match ${NAME_PATTERN.source} (it becomes a folder and an MQTT topic level)`);
    return undefined;
  }
  if (!isJsonObject(raw)) {
    at(base, 'invalid-type', `entity "${name}" must be an object`);
    return undefined;
  }
  refuseUnknownKeys(raw, ['compatibility', 'title', 'domain', 'description', 'versions'], base, at);
  let ok = true;
  if (!isCompatibilityLevel(raw.compatibility)) {
    at(`${base}/compatibility`, 'unknown-level', `entity "${name}" has compatibility ${JSON.stringify(raw.compatibility ?? null)}; expected one of ${COMPATIBILITY_LEVELS.join(', ')}`);
    ok = false;
  }
  for (const key of ['title', 'domain'] as const) {
    if (raw[key] !== undefined && typeof raw[key] !== 'string') {
      at(`${base}/${key}`, 'invalid-type', `"${key}" must be a string`);
      ok = false;
    }
  }
  const versions = new Map<string, { deprecation?: Deprecation }>();
  if (raw.versions !== undefined) {
    if (!isJsonObject(raw.versions)) {
      at(`${base}/versions`, 'invalid-type', '"versions" must be an object keyed by semantic version');
      ok = false;
    } else {
      for (const [version, meta] of Object.entries(raw.versions)) {
        const path = `${base}/versions/${version}`;
        if (!isSemver(version)) {
          at(path, 'invalid-version', `"${version}" is not a semantic version (MAJOR.MINOR.PATCH)`);
          ok = false;
          continue;
        }
        const read = readVersionMeta(meta, path, at);
        if (read) versions.set(version, read);
        else ok = false;
      }
    }
  }
  if (!ok || !isCompatibilityLevel(raw.compatibility)) return undefined;
  const entity: EntityDescriptor = { compatibility: raw.compatibility, versions };
  if (typeof raw.title === 'string') entity.title = raw.title;
  if (typeof raw.domain === 'string') entity.domain = raw.domain;
  return entity;
}

function readVersionMeta(meta: JsonValue, path: string, at: At): { deprecation?: Deprecation } | undefined {
  if (!isJsonObject(meta)) {
    at(path, 'invalid-type', 'version metadata must be an object');
    return undefined;
  }
  refuseUnknownKeys(meta, ['deprecated', 'description'], path, at);
  const d = meta.deprecated;
  if (d === undefined || d === false) return {};
  if (d === true) return { deprecation: {} };
  if (!isJsonObject(d)) {
    at(`${path}/deprecated`, 'invalid-type', '"deprecated" must be true or an object { sunset?, note? }');
    return undefined;
  }
  refuseUnknownKeys(d, ['sunset', 'note'], `${path}/deprecated`, at);
  const deprecation: Deprecation = {};
  if (d.sunset !== undefined) {
    if (typeof d.sunset !== 'string' || !isCalendarDate(d.sunset)) {
      at(`${path}/deprecated/sunset`, 'invalid-date', `sunset ${JSON.stringify(d.sunset)} must be a calendar date YYYY-MM-DD`);
      return undefined;
    }
    deprecation.sunset = d.sunset;
  }
  if (d.note !== undefined) {
    if (typeof d.note !== 'string') {
      at(`${path}/deprecated/note`, 'invalid-type', '"note" must be a string');
      return undefined;
    }
    deprecation.note = d.note;
  }
  return { deprecation };
}

function refuseUnknownKeys(value: Record<string, JsonValue>, known: readonly string[], path: string, at: At): void {
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) at(`${path}/${key}`, 'unknown-key', `unknown key "${key}" (expected one of ${known.join(', ')})`);
  }
}
