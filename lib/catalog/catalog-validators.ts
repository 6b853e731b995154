import type { ValidateFunction } from 'ajv';
import { createCatalogAjv } from './ajv-setup';
import { deprecationStatus, findVersion } from './catalog-model';
import type { Catalog, CatalogVersion, DeprecationStatus } from './catalog-model';
import { subschemas } from './schema-keywords';
import { isJsonObject } from './types';
import type { JsonSchema } from './types';
import type { Reason } from '../reasons';
import { reasonsFromAjv } from './validation-reasons';

export type RecordValidation = { ok: true } | { ok: false; reasons: Reason[] };

export interface CatalogValidators {
  /** Validates one canonical record against entity@version; a plain function, safe to pass around. */
  readonly validateRecord: (entity: string, version: string, record: unknown) => RecordValidation;
  /** Deprecation of entity@version at `now` (default: the current time); undefined when unknown. */
  readonly deprecation: (entity: string, version: string, now?: Date) => DeprecationStatus | undefined;
  /** `entity@version` of every compiled schema, oldest version first per entity. */
  readonly versions: readonly string[];
}

export type CompileResult = { ok: true; validators: CatalogValidators } | { ok: false; reasons: Reason[] };

/**
 * Compiles every entity version once, with all catalog schemas (shared ones
 * included) registered by `$id` so cross-file `$ref`s resolve. A new catalog
 * gets a new instance: nothing is patched in place on reload.
 */
export function compileCatalogValidators(catalog: Catalog): CompileResult {
  const ajv = createCatalogAjv();
  const reasons: Reason[] = [];
  for (const [id, schema] of catalog.schemasById) {
    // ajv with strict off ignores an unknown format with a console warning;
    // a typo there would silently switch a check off, so it is refused.
    for (const format of formatsIn(schema)) {
      if (!Object.hasOwn(ajv.formats, format)) reasons.push({ path: id, rule: 'unknown-format', message: `${id} uses format "${format}", which the validator does not know` });
    }
    try {
      ajv.addSchema(schema, id);
    } catch (err) {
      reasons.push({ path: id, rule: 'invalid-schema', message: `${id}: ${(err as Error).message}` });
    }
  }
  const compiled = new Map<string, ValidateFunction>();
  // Per entity, then version: a record's lookup builds no `entity@version` key string.
  const byEntity = new Map<string, Map<string, { fn: ValidateFunction; version: CatalogVersion }>>();
  if (reasons.length === 0) {
    for (const entity of catalog.entities.values()) {
      for (const v of entity.versions) {
        try {
          const fn = ajv.getSchema(v.id);
          if (!fn) throw new Error('schema not registered');
          compiled.set(key(v.entity, v.version), fn);
          let versions = byEntity.get(v.entity);
          if (!versions) byEntity.set(v.entity, (versions = new Map<string, { fn: ValidateFunction; version: CatalogVersion }>()));
          versions.set(v.version, { fn, version: v });
        } catch (err) {
          reasons.push({ path: v.file, rule: 'invalid-schema', message: `${v.entity}@${v.version} (${v.file}) does not compile: ${(err as Error).message}` });
        }
      }
    }
  }
  if (reasons.length > 0) return { ok: false, reasons };

  const validateRecord = (entity: string, version: string, record: unknown): RecordValidation => {
    const fn = byEntity.get(entity)?.get(version)?.fn;
    if (!fn) return { ok: false, reasons: [unknownTarget(catalog, entity, version)] };
    if (fn(record)) return VALID;
    return { ok: false, reasons: reasonsFromAjv(fn.errors, record) };
  };
  const deprecation = (entity: string, version: string, now?: Date): DeprecationStatus | undefined => {
    const v = byEntity.get(entity)?.get(version)?.version ?? findVersion(catalog, entity, version);
    if (!v) return undefined;
    // Most versions are not deprecated: no clock read, no new object per record.
    return v.deprecation ? deprecationStatus(v, now ?? new Date()) : NOT_DEPRECATED;
  };
  return { ok: true, validators: { validateRecord, deprecation, versions: [...compiled.keys()] } };
}

// Shared and frozen: every record that passes, or is of a version in good standing, gets the same answer.
const VALID: RecordValidation = Object.freeze({ ok: true });
const NOT_DEPRECATED: DeprecationStatus = Object.freeze({ deprecated: false, pastSunset: false });

function formatsIn(schema: JsonSchema): string[] {
  if (!isJsonObject(schema)) return [];
  const own = typeof schema.format === 'string' ? [schema.format] : [];
  return [...own, ...subschemas(schema).flatMap(([, sub]) => formatsIn(sub))];
}

function key(entity: string, version: string): string {
  return `${entity}@${version}`;
}

function unknownTarget(catalog: Catalog, entity: string, version: string): Reason {
  const e = catalog.entities.get(entity);
  if (!e) {
    const known = [...catalog.entities.keys()].join(', ');
    return { path: '', rule: 'unknown-entity', message: `the catalog has no entity "${entity}" (known: ${known || 'none'})` };
  }
  return { path: '', rule: 'unknown-version', message: `entity "${entity}" has no version "${version}" (known: ${e.versions.map((v) => v.version).join(', ')})` };
}
