import { readFile, readdir, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import semver from 'semver';
import { CATALOG_FILE, NAME_PATTERN, isSemver, readCatalogDescriptor } from './catalog-format';
import type { Catalog, CatalogEntity, CatalogMigration, CatalogVersion, SharedSchema } from './catalog-model';
import { parseJsonText } from './json-text';
import { addSchemaDocument, createSchemaIndex, findUnresolvedRefs } from './ref-resolver';
import { isJsonObject } from './types';
import type { JsonObject } from './types';
import type { Reason } from '../reasons';

export type CatalogLoadResult = { ok: true; catalog: Catalog } | { ok: false; reasons: Reason[] };

export const DRAFT_2020_12 = 'https://json-schema.org/draft/2020-12/schema';
const SCHEMA_FILE = /^([^/]+)\/([^/]+)\.schema\.json$/;
const MIGRATION_FILE = /^([^/]+)\/migrations\/(.+)-to-(.+)\.json$/;
/** Bounds for catalogs received over the network: a catalog is tens of files, not thousands. */
const MAX_FILES = 2000;
const MAX_FILE_BYTES = 2 * 1024 * 1024;

/**
 * Builds a catalog from its files, keyed by path relative to the catalog
 * root (`catalog.json`, `shipment/1.0.0.schema.json`, ...). The same code
 * serves a folder on disk and a catalog received over the bus.
 */
export function loadCatalogFromFiles(input: ReadonlyMap<string, string> | Readonly<Record<string, string>>): CatalogLoadResult {
  const files: Map<string, string> = input instanceof Map ? new Map<string, string>(input) : new Map<string, string>(Object.entries(input));
  const reasons: Reason[] = [];
  for (const path of files.keys()) {
    if (path.startsWith('/') || path.split('/').includes('..') || path.includes('\\')) reasons.push({ path, rule: 'invalid-path', message: `"${path}" must be a relative path with forward slashes and no ".."` });
  }
  if (files.size > MAX_FILES) reasons.push({ path: '', rule: 'too-many-files', message: `a catalog has at most ${MAX_FILES} files, got ${files.size}` });
  const descriptorText = files.get(CATALOG_FILE);
  if (descriptorText === undefined) reasons.push({ path: CATALOG_FILE, rule: 'missing-catalog-file', message: 'the catalog has no catalog.json at its root' });
  if (reasons.length > 0 || descriptorText === undefined) return { ok: false, reasons };

  const parsed = parseJsonText(descriptorText, CATALOG_FILE);
  if (!parsed.ok) return parsed;
  const read = readCatalogDescriptor(parsed.value);
  if (!read.ok) return read;
  const { descriptor } = read;

  const versions = new Map<string, CatalogVersion[]>([...descriptor.entities.keys()].map((e) => [e, []]));
  const shared: SharedSchema[] = [];
  const migrations: { entity: string; from: string; to: string; file: string; spec: JsonObject }[] = [];
  const byId = new Map<string, { schema: JsonObject; file: string }>();

  for (const [file, text] of [...files].sort(([a], [b]) => a.localeCompare(b))) {
    if (file === CATALOG_FILE || !file.endsWith('.json')) continue;
    if (text.length > MAX_FILE_BYTES) {
      reasons.push({ path: file, rule: 'file-too-large', message: `${file} is larger than ${MAX_FILE_BYTES} bytes` });
      continue;
    }
    const migration = MIGRATION_FILE.exec(file);
    const schemaFile = SCHEMA_FILE.exec(file);
    const folder = (migration ?? schemaFile)?.[1];
    if (folder === undefined || !NAME_PATTERN.test(folder)) {
      reasons.push({ path: file, rule: 'unexpected-file', message: `${file} is neither <entity>/<version>.schema.json nor <entity>/migrations/<from>-to-<to>.json` });
      continue;
    }
    const isEntity = descriptor.entities.has(folder);
    if (!isEntity && !descriptor.shared.includes(folder)) {
      reasons.push({ path: file, rule: 'undeclared-folder', message: `folder "${folder}" is neither an entity nor a shared folder in catalog.json` });
      continue;
    }
    const json = parseJsonText(text, file);
    if (!json.ok) {
      reasons.push(...json.reasons);
      continue;
    }
    if (!isJsonObject(json.value)) {
      reasons.push({ path: file, rule: 'invalid-type', message: `${file} must contain a JSON object` });
      continue;
    }
    if (migration) {
      const [, entity = '', from = '', to = ''] = migration;
      if (!isEntity) reasons.push({ path: file, rule: 'unexpected-file', message: `migrations belong to entities, not to the shared folder "${folder}"` });
      else migrations.push({ entity, from, to, file, spec: json.value });
      continue;
    }
    const version = schemaFile?.[2] ?? '';
    if (!isSemver(version)) {
      reasons.push({ path: file, rule: 'invalid-version', message: `"${version}" in ${file} is not a semantic version (MAJOR.MINOR.PATCH)` });
      continue;
    }
    const schema = json.value;
    const id = checkSchemaHeader(schema, file, byId, reasons);
    if (id === undefined) continue;
    byId.set(id, { schema, file });
    if (isEntity) {
      const entry: CatalogVersion = { entity: folder, version, id, schema, file };
      const meta = descriptor.entities.get(folder)?.versions.get(version);
      if (meta?.deprecation) entry.deprecation = meta.deprecation;
      versions.get(folder)?.push(entry);
    } else shared.push({ folder, version, id, schema, file });
  }

  const index = createSchemaIndex();
  for (const [id, { schema }] of byId) addSchemaDocument(index, schema, id);
  for (const [id, { schema, file }] of byId) {
    for (const u of findUnresolvedRefs({ schema, base: id, index })) {
      reasons.push({ path: `${file}#${u.pointer}`, rule: 'ref-unresolved', message: `$ref "${u.ref}" in ${file} cannot be resolved: ${u.message}` });
    }
  }

  const entities = new Map<string, CatalogEntity>();
  for (const [name, d] of descriptor.entities) {
    const list = (versions.get(name) ?? []).sort((a, b) => semver.compare(a.version, b.version));
    if (list.length === 0) reasons.push({ path: `${name}/`, rule: 'no-versions', message: `entity "${name}" has no <version>.schema.json file` });
    for (const v of d.versions.keys()) {
      if (!list.some((x) => x.version === v)) reasons.push({ path: `${CATALOG_FILE}#/entities/${name}/versions/${v}`, rule: 'missing-schema-file', message: `catalog.json lists ${name}@${v} but ${name}/${v}.schema.json does not exist` });
    }
    const entity: CatalogEntity = { name, compatibility: d.compatibility, versions: list, migrations: checkMigrations(name, list, migrations, reasons) };
    if (d.title !== undefined) entity.title = d.title;
    if (d.domain !== undefined) entity.domain = d.domain;
    entities.set(name, entity);
  }
  if (reasons.length > 0) return { ok: false, reasons };
  const catalog: Catalog = {
    entities,
    shared,
    schemasById: new Map([...byId].map(([id, { schema }]) => [id, schema])),
    sourceFiles: files,
  };
  if (descriptor.name !== undefined) catalog.name = descriptor.name;
  return { ok: true, catalog };
}

function checkSchemaHeader(schema: JsonObject, file: string, byId: Map<string, { file: string }>, reasons: Reason[]): string | undefined {
  if (schema.$schema !== undefined && schema.$schema !== DRAFT_2020_12) {
    reasons.push({ path: `${file}#/$schema`, rule: 'unsupported-draft', message: `${file} declares $schema ${JSON.stringify(schema.$schema)}; catalog schemas are draft 2020-12 (${DRAFT_2020_12})` });
    return undefined;
  }
  const id = schema.$id;
  if (typeof id !== 'string' || !/^[a-z][a-z0-9+.-]*:/i.test(id) || id.includes('#')) {
    reasons.push({ path: `${file}#/$id`, rule: 'missing-id', message: `${file} needs an absolute $id without fragment (e.g. https://tectonic.example/cdm/<entity>/<version>) so other files can $ref it` });
    return undefined;
  }
  const clash = byId.get(id);
  if (clash) {
    reasons.push({ path: `${file}#/$id`, rule: 'duplicate-id', message: `${file} and ${clash.file} both have $id ${id}` });
    return undefined;
  }
  return id;
}

function checkMigrations(entity: string, versions: CatalogVersion[], all: CatalogMigration[], reasons: Reason[]): CatalogMigration[] {
  const mine = all.filter((m) => m.entity === entity);
  for (const m of mine) {
    for (const v of [m.from, m.to]) {
      if (!versions.some((x) => x.version === v)) reasons.push({ path: m.file, rule: 'unknown-version', message: `${m.file} migrates ${m.from} to ${m.to}, but ${entity}@${v} is not in the catalog` });
    }
    if (!Array.isArray(m.spec.rules)) reasons.push({ path: `${m.file}#/rules`, rule: 'invalid-mapping-spec', message: `${m.file} is not a mapping spec: "rules" must be an array` });
    if (m.spec.entity !== undefined && m.spec.entity !== entity) reasons.push({ path: `${m.file}#/entity`, rule: 'invalid-mapping-spec', message: `${m.file} maps to entity ${JSON.stringify(m.spec.entity)}, expected "${entity}"` });
    if (m.spec.version !== undefined && m.spec.version !== m.to) reasons.push({ path: `${m.file}#/version`, rule: 'invalid-mapping-spec', message: `${m.file} produces version ${JSON.stringify(m.spec.version)}, expected "${m.to}" (the target of the migration)` });
  }
  return mine;
}

type FilesResult = { ok: true; files: Map<string, string> } | { ok: false; reasons: Reason[] };

/**
 * Reads the JSON files of a catalog folder (dot files and other files
 * skipped, as loadCatalogFromDirectory does). Kept apart from loading so a
 * poll can tell "changed" from "unchanged" by digest even when the folder
 * holds a broken catalog, and report that breakage once, not every poll.
 */
export async function readCatalogFolder(dir: string): Promise<FilesResult> {
  const files = new Map<string, string>();
  try {
    if (!(await stat(dir)).isDirectory()) return { ok: false, reasons: [{ path: dir, rule: 'unreadable', message: `${dir} is not a directory` }] };
    const walk = async (here: string, depth: number): Promise<void> => {
      for (const entry of await readdir(here, { withFileTypes: true })) {
        if (entry.name.startsWith('.')) continue;
        const full = join(here, entry.name);
        if (entry.isDirectory() && depth < 4) await walk(full, depth + 1);
        else if (entry.isFile() && entry.name.endsWith('.json')) files.set(relative(dir, full).split(sep).join('/'), await readFile(full, 'utf8'));
      }
    };
    await walk(dir, 0);
  } catch (err) {
    return { ok: false, reasons: [{ path: dir, rule: 'unreadable', message: `cannot read ${dir}: ${(err as Error).message}` }] };
  }
  return { ok: true, files };
}

/** Reads every file under `dir` (dot files skipped) and loads it as a catalog. */
export async function loadCatalogFromDirectory(dir: string): Promise<CatalogLoadResult> {
  const read = await readCatalogFolder(dir);
  return read.ok ? loadCatalogFromFiles(read.files) : read;
}
