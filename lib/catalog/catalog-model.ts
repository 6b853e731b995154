import type { CompatibilityLevel, JsonObject } from './types';

/** A version marked deprecated in catalog.json. */
export interface Deprecation {
  /** Last day (UTC, YYYY-MM-DD) the version is accepted; absent: no cut-off yet. */
  sunset?: string;
  /** What to move to, for the technician reading the warning. */
  note?: string;
}

export interface CatalogVersion {
  entity: string;
  version: string;
  /** The schema's `$id`, the key every `$ref` and the validator use. */
  id: string;
  schema: JsonObject;
  /** Path of the schema inside the catalog, e.g. `shipment/1.0.0.schema.json`. */
  file: string;
  deprecation?: Deprecation;
}

export interface CatalogMigration {
  entity: string;
  from: string;
  to: string;
  file: string;
  /** A mapping spec (DESIGN.md "The mapping spec"), compiled by the mapper. */
  spec: JsonObject;
}

export interface CatalogEntity {
  name: string;
  compatibility: CompatibilityLevel;
  title?: string;
  domain?: string;
  /** Oldest first, by semantic-version precedence. */
  versions: readonly CatalogVersion[];
  migrations: readonly CatalogMigration[];
}

/** A schema that is not an entity version but a `$ref` target (`common/`). */
export interface SharedSchema {
  folder: string;
  version: string;
  id: string;
  schema: JsonObject;
  file: string;
}

export interface Catalog {
  name?: string;
  /** Keyed by entity name; a Map so names from the network cannot shadow Object.prototype. */
  entities: ReadonlyMap<string, CatalogEntity>;
  shared: readonly SharedSchema[];
  /** Every schema of the catalog by `$id`: entity versions and shared files. */
  schemasById: ReadonlyMap<string, JsonObject>;
  /** The files the catalog was loaded from, to republish it unchanged (e.g. on the bus). */
  sourceFiles: ReadonlyMap<string, string>;
}

export function findVersion(catalog: Catalog, entity: string, version: string): CatalogVersion | undefined {
  return catalog.entities.get(entity)?.versions.find((v) => v.version === version);
}

export interface DeprecationStatus {
  deprecated: boolean;
  sunset?: string;
  note?: string;
  /** True once the sunset day is over: the version must be rejected. */
  pastSunset: boolean;
}

/**
 * Deprecation of one version at a given time. The sunset day itself is still
 * accepted (a site reading "sunset 2027-06-30" expects to publish that day).
 */
export function deprecationStatus(version: CatalogVersion, now: Date): DeprecationStatus {
  const d = version.deprecation;
  if (!d) return { deprecated: false, pastSunset: false };
  const status: DeprecationStatus = { deprecated: true, pastSunset: false };
  if (d.note !== undefined) status.note = d.note;
  if (d.sunset !== undefined) {
    status.sunset = d.sunset;
    status.pastSunset = now.getTime() >= Date.parse(`${d.sunset}T00:00:00Z`) + 86_400_000;
  }
  return status;
}
