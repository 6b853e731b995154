import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

export const SAMPLE_CATALOG_DIR = join(__dirname, '../../../cdm');

/** The sample catalog as an in-memory file map, to break in tests. */
export function sampleFiles(): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const full = join(dir, name);
      if (statSync(full).isDirectory()) walk(full);
      else if (name.endsWith('.json')) files.set(relative(SAMPLE_CATALOG_DIR, full).split('\\').join('/'), readFileSync(full, 'utf8'));
    }
  };
  walk(SAMPLE_CATALOG_DIR);
  return files;
}

/** Edits one JSON file of a file map. */
export function editJson(files: Map<string, string>, path: string, edit: (value: Record<string, unknown>) => void): Map<string, string> {
  const text = files.get(path);
  if (text === undefined) throw new Error(`no ${path}`);
  const value = JSON.parse(text) as Record<string, unknown>;
  edit(value);
  const copy = new Map(files);
  copy.set(path, JSON.stringify(value));
  return copy;
}
