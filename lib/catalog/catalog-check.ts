import type { Catalog } from './catalog-model';
import { checkCompatibility } from './compat-levels';
import { addSchemaDocument, createSchemaIndex } from './ref-resolver';
import type { SchemaIndex } from './ref-resolver';
import { deepEqual } from './schema-view';
import type { CompatibilityLevel, CompatibilityPolicy, CompatibilityReason } from './types';
import type { Reason } from '../reasons';

/** A breaking change found in an entity's history: `version` is the candidate that breaks. */
export interface HistoryReason extends CompatibilityReason {
  entity: string;
  version: string;
}

export interface EntityHistoryCheck {
  entity: string;
  level: CompatibilityLevel;
  versions: string[];
  compatible: boolean;
  reasons: HistoryReason[];
}

export interface CatalogCheckResult {
  compatible: boolean;
  entities: EntityHistoryCheck[];
  reasons: HistoryReason[];
}

/** An index of every catalog schema by `$id`, for cross-file `$ref`s. */
export function catalogSchemaIndex(catalog: Catalog): SchemaIndex {
  const index = createSchemaIndex();
  for (const [id, schema] of catalog.schemasById) addSchemaDocument(index, schema, id);
  return index;
}

/**
 * Replays each entity's history: every version, in order, must have been an
 * acceptable candidate under the entity's level when it was added. Checking
 * each step (not only the newest) catches a version inserted in the middle.
 */
export function checkCatalog(catalog: Catalog, options: { policy?: CompatibilityPolicy } = {}): CatalogCheckResult {
  const index = catalogSchemaIndex(catalog);
  const entities: EntityHistoryCheck[] = [];
  for (const entity of catalog.entities.values()) {
    const labels = entity.versions.map((v) => v.version);
    const reasons: HistoryReason[] = [];
    for (let i = 1; i < entity.versions.length; i++) {
      const history = entity.versions.slice(0, i + 1).map((v) => v.schema);
      const result = checkCompatibility(entity.compatibility, history, { index, labels, policy: options.policy ?? 'STRICT' });
      for (const r of result.reasons) reasons.push({ ...r, entity: entity.name, version: labels[i] ?? '' });
    }
    entities.push({ entity: entity.name, level: entity.compatibility, versions: labels, compatible: reasons.length === 0, reasons });
  }
  const reasons = entities.flatMap((e) => e.reasons);
  return { compatible: reasons.length === 0, entities, reasons };
}

/**
 * What a catalog reload may not do, beyond its own history check: drop a
 * version sites may still send, or change a published version in place
 * (its history check would compare only the new text and miss the break).
 */
export function checkCatalogUpdate(previous: Catalog, next: Catalog): { ok: boolean; reasons: Reason[] } {
  const reasons: Reason[] = [];
  for (const entity of previous.entities.values()) {
    const now = next.entities.get(entity.name);
    for (const v of entity.versions) {
      const same = now?.versions.find((x) => x.version === v.version);
      if (!same) reasons.push({ path: v.file, rule: 'version-removed', message: `${v.entity}@${v.version} is in force and missing from the new catalog` });
      else if (!deepEqual(same.schema, v.schema)) reasons.push({ path: v.file, rule: 'version-modified', message: `${v.entity}@${v.version} changed in place; publish a new version instead` });
    }
  }
  for (const s of previous.shared) {
    const now = next.schemasById.get(s.id);
    if (now === undefined) reasons.push({ path: s.file, rule: 'version-removed', message: `shared schema ${s.id} is in force and missing from the new catalog` });
    else if (!deepEqual(now, s.schema)) reasons.push({ path: s.file, rule: 'version-modified', message: `shared schema ${s.id} changed in place; publish a new version instead` });
  }
  return { ok: reasons.length === 0, reasons };
}
