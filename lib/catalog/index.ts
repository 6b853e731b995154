/** The CDM catalog: loading, compatibility, validation. No Node-RED here. */
export { createCatalogAjv } from './ajv-setup';
export { checkCatalog, checkCatalogUpdate, catalogSchemaIndex } from './catalog-check';
export { loadCatalogFromDirectory, loadCatalogFromFiles } from './catalog-loader';
export type { CatalogLoadResult } from './catalog-loader';
export type { Catalog, Deprecation } from './catalog-model';
export { compileCatalogValidators } from './catalog-validators';
export type { CatalogValidators, RecordValidation } from './catalog-validators';
export { checkCompatibility } from './compat-levels';
export { parseJsonText } from './json-text';
export { addSchemaDocument, createSchemaIndex } from './ref-resolver';
export type { SchemaIndex } from './ref-resolver';
export { COMPATIBILITY_LEVELS, isCompatibilityLevel } from './types';
export type { CompatibilityLevel, CompatibilityPolicy, CompatibilityReason, JsonObject, JsonSchema, JsonValue } from './types';
