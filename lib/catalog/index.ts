/** The CDM catalog: loading, compatibility, validation. No Node-RED here. */
export { createCatalogAjv } from './ajv-setup';
export { checkCatalog, checkCatalogUpdate, catalogSchemaIndex } from './catalog-check';
export type { CatalogCheckResult, EntityHistoryCheck, HistoryReason } from './catalog-check';
export { CATALOG_FILE, CATALOG_FORMAT, isSemver } from './catalog-format';
export { loadCatalogFromDirectory, loadCatalogFromFiles, DRAFT_2020_12 } from './catalog-loader';
export type { CatalogLoadResult } from './catalog-loader';
export { deprecationStatus, findVersion } from './catalog-model';
export type { Catalog, CatalogEntity, CatalogMigration, CatalogVersion, Deprecation, DeprecationStatus, SharedSchema } from './catalog-model';
export { compileCatalogValidators } from './catalog-validators';
export type { CatalogValidators, CompileResult, RecordValidation } from './catalog-validators';
export { checkCompatibility } from './compat-levels';
export type { CompatibilityOptions, CompatibilityResult } from './compat-levels';
export { RULES } from './compat-rules';
export { parseJsonText } from './json-text';
export { addSchemaDocument, createSchemaIndex } from './ref-resolver';
export type { SchemaIndex } from './ref-resolver';
export { COMPATIBILITY_LEVELS, isCompatibilityLevel } from './types';
export type { CompatibilityLevel, CompatibilityPolicy, CompatibilityReason, JsonObject, JsonSchema, JsonValue } from './types';
