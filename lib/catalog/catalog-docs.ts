import { type Catalog, type CatalogEntity, type CatalogVersion, deprecationStatus } from './catalog-model';
import type { JsonObject, JsonValue } from './types';

/**
 * The CDM documentation a site technician reads (`tectonic catalog docs`,
 * and the onboarding kit of `tectonic site new`): per entity its versions with
 * their standing and sunsets, and per version its fields with type, format,
 * constraints and an example, `$ref`s to shared definitions resolved.
 */
export function catalogDocs(catalog: Catalog, options: { entities?: readonly string[]; now?: Date } = {}): string {
  const now = options.now ?? new Date();
  const names = options.entities ?? [...catalog.entities.keys()].sort();
  const out: string[] = [`# ${catalog.name ?? 'Canonical Data Model'}`, '', 'Generated from the catalog by `tectonic catalog docs`; the schemas are the reference.', ''];
  for (const name of names) {
    const entity = catalog.entities.get(name);
    if (entity !== undefined) out.push(...entityDocs(catalog, entity, now));
  }
  return `${out.join('\n').replace(/\n{3,}/g, '\n\n').trimEnd()}\n`;
}

function entityDocs(catalog: Catalog, entity: CatalogEntity, now: Date): string[] {
  const lines = [`## ${entity.name}${entity.title ? `: ${entity.title}` : ''}`, ''];
  lines.push(`${entity.domain ? `Domain: ${entity.domain}. ` : ''}Compatibility: ${entity.compatibility}. Topic: \`cdm/${entity.name}/v{major}/{site}\`.`, '', '| version | standing | note |', '|---|---|---|');
  for (const version of [...entity.versions].reverse()) {
    const status = deprecationStatus(version, now);
    const standing = status.pastSunset ? `past its sunset (${status.sunset}): refused` : status.deprecated ? (status.sunset ? `deprecated, sunset ${status.sunset}` : 'deprecated') : 'current';
    lines.push(`| ${version.version} | ${standing} | ${cell(status.note ?? '')} |`);
  }
  lines.push('');
  for (const version of [...entity.versions].reverse()) lines.push(...versionDocs(catalog, version));
  return lines;
}

function versionDocs(catalog: Catalog, version: CatalogVersion): string[] {
  const schema = version.schema;
  const lines = [`### ${version.entity} ${version.version}`, ''];
  if (typeof schema.description === 'string') lines.push(schema.description, '');
  lines.push('| field | type | required | constraints | description |', '|---|---|---|---|---|');
  const fields: Row[] = [];
  collect(catalog, schema, '', true, fields, 0);
  for (const f of fields) lines.push(`| \`${f.path}\` | ${f.type} | ${f.required ? 'yes' : ''} | ${cell(f.constraints)} | ${cell(f.description)} |`);
  lines.push('', 'Example:', '', '```json', JSON.stringify(example(catalog, schema, 0), null, 2), '```', '');
  return lines;
}

/** A plausible record of entity@version, valid for the catalog's schema (the starter fixture of a site kit). */
export function exampleRecord(catalog: Catalog, version: CatalogVersion): JsonValue {
  return example(catalog, version.schema, 0);
}

interface Row {
  path: string;
  type: string;
  required: boolean;
  constraints: string;
  description: string;
}

const MAX_DEPTH = 8;

function resolve(catalog: Catalog, schema: JsonObject): JsonObject {
  const ref = schema.$ref;
  if (typeof ref !== 'string') return schema;
  const [base, pointer] = ref.split('#') as [string, string | undefined];
  let target: JsonValue | undefined = catalog.schemasById.get(base);
  for (const part of (pointer ?? '').split('/').filter((p) => p !== '')) {
    target = target !== null && typeof target === 'object' && !Array.isArray(target) ? (target)[part.replace(/~1/g, '/').replace(/~0/g, '~')] : undefined;
  }
  const merged = target !== null && typeof target === 'object' && !Array.isArray(target) ? { ...(target), ...schema } : schema;
  delete merged.$ref;
  return merged;
}

function collect(catalog: Catalog, raw: JsonObject, path: string, required: boolean, rows: Row[], depth: number): void {
  const schema = resolve(catalog, raw);
  const properties = schema.properties;
  if (path !== '') rows.push({ path, type: typeOf(schema), required, constraints: constraints(schema), description: typeof schema.description === 'string' ? schema.description : '' });
  if (depth >= MAX_DEPTH || properties === null || typeof properties !== 'object' || Array.isArray(properties)) return;
  const needed = new Set(Array.isArray(schema.required) ? schema.required.filter((r): r is string => typeof r === 'string') : []);
  for (const [name, child] of Object.entries(properties)) {
    if (child !== null && typeof child === 'object' && !Array.isArray(child)) collect(catalog, child, path === '' ? name : `${path}.${name}`, needed.has(name), rows, depth + 1);
  }
}

function typeOf(schema: JsonObject): string {
  const type = schema.type;
  const base = Array.isArray(type) ? type.map((t) => (typeof t === 'string' ? t : JSON.stringify(t))).join(' or ') : typeof type === 'string' ? type : schema.enum !== undefined ? 'enum' : 'any';
  if (base === 'array' && schema.items !== null && typeof schema.items === 'object' && !Array.isArray(schema.items)) {
    const items = schema.items;
    return `array of ${typeof items.type === 'string' ? items.type : 'items'}`;
  }
  return base;
}

function constraints(schema: JsonObject): string {
  const parts: string[] = [];
  if (typeof schema.format === 'string') parts.push(`format ${schema.format}`);
  if (Array.isArray(schema.enum)) parts.push(`one of ${schema.enum.map((v) => `\`${JSON.stringify(v)}\``).join(', ')}`);
  if (typeof schema.pattern === 'string') parts.push(`pattern \`${schema.pattern}\``);
  for (const key of ['minimum', 'exclusiveMinimum', 'maximum', 'exclusiveMaximum', 'minLength', 'maxLength', 'minItems', 'maxItems'] as const) {
    if (typeof schema[key] === 'number') parts.push(`${key} ${String(schema[key])}`);
  }
  if (schema.additionalProperties === false) parts.push('no other fields');
  return parts.join('; ');
}

/** A plausible value for the schema, for the example block: the schema's own example first. */
function example(catalog: Catalog, raw: JsonObject, depth: number): JsonValue {
  const schema = resolve(catalog, raw);
  if (Array.isArray(schema.examples) && schema.examples.length > 0) return schema.examples[0] as JsonValue;
  if (schema.const !== undefined) return schema.const;
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return schema.enum[0] as JsonValue;
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  if (type === 'object' || (type === undefined && schema.properties !== undefined)) {
    const value: JsonObject = {};
    const properties = schema.properties;
    if (depth < MAX_DEPTH && properties !== null && typeof properties === 'object' && !Array.isArray(properties)) {
      for (const [name, child] of Object.entries(properties)) {
        if (child !== null && typeof child === 'object' && !Array.isArray(child)) value[name] = example(catalog, child, depth + 1);
      }
    }
    return value;
  }
  if (type === 'array') return schema.items !== null && typeof schema.items === 'object' && !Array.isArray(schema.items) && depth < MAX_DEPTH ? [example(catalog, schema.items, depth + 1)] : [];
  if (type === 'number' || type === 'integer') return typeof schema.minimum === 'number' ? Math.max(schema.minimum, type === 'integer' ? 1 : 1.5) : type === 'integer' ? 1 : 1.5;
  if (type === 'boolean') return true;
  if (type === 'string') return stringExample(schema);
  return null;
}

function stringExample(schema: JsonObject): string {
  switch (schema.format) {
    case 'date-time':
      return '2026-12-07T10:00:00Z';
    case 'date':
      return '2026-12-07';
    case 'uri':
      return 'https://example.com/track/1';
    case 'email':
      return 'someone@example.com';
    case 'uuid':
      return '0b9e5a4c-6f3e-4a57-9d2c-7c1e2f3a4b5c';
    default:
      return typeof schema.pattern === 'string' ? (matchingCandidate(schema.pattern) ?? 'text') : 'S-1001';
  }
}

// Short candidates only: a catalog's pattern could backtrack badly on long input, never on these.
const CANDIDATES = ['site-a', 'ABCD', 'AB12', 'abc', 'A1', '12345', '12345-6', 'ABC-123', 'a-1', 'x', '1', 'A', 'kg', 'mg/dL'];

function matchingCandidate(pattern: string): string | undefined {
  let regex: RegExp;
  try {
    regex = new RegExp(pattern, 'u');
  } catch {
    return undefined;
  }
  return CANDIDATES.find((candidate) => regex.test(candidate));
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}
