import { readFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parseDocument } from 'yaml';
import type { ParseArgsConfig } from 'node:util';
import { loadCatalogFromDirectory } from '../catalog/catalog-loader';
import type { Catalog } from '../catalog/catalog-model';
import { parseJsonText } from '../catalog/json-text';
import type { JsonValue } from '../catalog/types';
import type { Reason } from '../reasons';
import { TectonicError } from '../errors';
import type { CliIo } from './cli-types';

type Options = NonNullable<ParseArgsConfig['options']>;

/** node:util parseArgs, with its errors turned into usage errors (exit 2). */
export function parseCommandArgs<O extends Options>(args: string[], options: O): { values: Record<string, string | boolean | undefined>; positionals: string[] } {
  try {
    const parsed = parseArgs({ args, options, allowPositionals: true, strict: true });
    const values: Record<string, string | boolean | undefined> = parsed.values;
    return { values, positionals: parsed.positionals };
  } catch (err) {
    throw new TectonicError('USAGE', (err as Error).message);
  }
}

export async function readText(file: string, io: CliIo): Promise<string> {
  if (file === '-') return io.readStdin();
  try {
    return await readFile(resolve(io.cwd, file), 'utf8');
  } catch (err) {
    throw new TectonicError('USAGE', `cannot read ${file}: ${fileProblem(err, 'file')}`);
  }
}

// A site technician reads these, not a C programmer: the words for the
// errno codes a path on the command line can run into.
const FILE_PROBLEMS: Readonly<Record<string, (kind: 'file' | 'folder') => string>> = {
  ENOENT: (kind) => `no such ${kind}`,
  ENOTDIR: () => 'a part of the path is not a folder',
  EISDIR: () => 'it is a folder, not a file',
  EACCES: () => 'permission denied',
  EPERM: () => 'permission denied',
  ELOOP: () => 'too many symbolic links',
  ENAMETOOLONG: () => 'the name is too long',
};

/** Why a path could not be read, in words; the errno code for anything unusual. */
export function fileProblem(err: unknown, kind: 'file' | 'folder'): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const words = code === undefined ? undefined : FILE_PROBLEMS[code];
  if (words) return words(kind);
  return code ?? (err instanceof Error ? err.message : String(err));
}

export async function readJsonFile(file: string, io: CliIo): Promise<JsonValue> {
  const parsed = parseJsonText(await readText(file, io), file);
  if (!parsed.ok) throw new TectonicError('USAGE', parsed.reasons.map((r) => r.message).join('\n'));
  return parsed.value;
}

/**
 * A JSON file, or a YAML one when its name ends in .yaml or .yml (mapping
 * specs are easier to write and review in YAML, as policy bundles are). YAML
 * 1.2 core schema, so dates stay text and `yes` stays a string; an alias
 * bomb is stopped by the alias cap.
 */
export async function readJsonOrYamlFile(file: string, io: CliIo): Promise<JsonValue> {
  if (!/\.ya?ml$/i.test(file)) return readJsonFile(file, io);
  const doc = parseDocument(await readText(file, io), { schema: 'core', uniqueKeys: true, prettyErrors: false });
  const first = doc.errors[0];
  if (first) throw new TectonicError('USAGE', `${file} is not valid YAML: ${first.message.split('\n')[0] ?? first.message}`);
  try {
    return doc.toJS({ maxAliasCount: 100 }) as JsonValue;
  } catch (err) {
    throw new TectonicError('USAGE', `${file} is not usable YAML: ${(err as Error).message}`);
  }
}

/**
 * Records as DESIGN.md describes them: a JSON array, a single JSON value, or
 * JSON Lines (one record per line, blank lines ignored).
 */
export function parseRecords(text: string, file: string): JsonValue[] {
  const whole = parseJsonText(text, file);
  if (whole.ok) return Array.isArray(whole.value) ? whole.value : [whole.value];
  const records: JsonValue[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === '') return;
    const parsed = parseJsonText(line, `${file}:${i + 1}`);
    if (!parsed.ok) throw new TectonicError('USAGE', parsed.reasons.map((r) => r.message).join('\n'));
    records.push(parsed.value);
  });
  if (records.length === 0) throw new TectonicError('USAGE', `${file} contains no records`);
  return records;
}

/** A catalog folder given on the command line; a missing folder is a usage error. */
export async function loadCatalogArgument(dir: string, io: CliIo): Promise<{ ok: true; catalog: Catalog } | { ok: false; reasons: Reason[] }> {
  const full = resolve(io.cwd, dir);
  let isFolder: boolean;
  try {
    isFolder = (await stat(full)).isDirectory();
  } catch (err) {
    throw new TectonicError('USAGE', `cannot read ${dir}: ${fileProblem(err, 'folder')}`);
  }
  if (!isFolder) throw new TectonicError('USAGE', `${dir} is a file; a catalog is a folder (with catalog.json)`);
  const result = await loadCatalogFromDirectory(full);
  if (!result.ok && result.reasons.some((r) => r.rule === 'unreadable' || r.rule === 'missing-catalog-file')) {
    throw new TectonicError('USAGE', `${dir} is not a catalog folder: ${result.reasons.map((r) => r.message).join('; ')}`);
  }
  return result;
}
