import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseJsonText } from '../catalog/json-text';
import type { JsonValue } from '../catalog/types';
import { TectonicError } from '../errors';

/** One local record the site's system would send, and the file it came from. */
export interface Fixture {
  file: string;
  record: JsonValue;
}

/**
 * The fixture records in DIR, in file-name order: `*.json` (one record or an
 * array of them) and `*.jsonl` (one per line). A site's kit keeps them in
 * `fixtures/`; a record its mapping must refuse belongs there too.
 */
export async function loadFixtures(dir: string): Promise<Fixture[]> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => n.endsWith('.json') || n.endsWith('.jsonl')).sort();
  } catch (err) {
    throw new TectonicError('USAGE', `cannot read the fixtures folder ${dir}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such folder' : (err as Error).message}`);
  }
  const fixtures: Fixture[] = [];
  for (const name of names) {
    const text = await readFile(join(dir, name), 'utf8');
    if (name.endsWith('.jsonl')) {
      text.split(/\r?\n/).forEach((line, i) => {
        if (line.trim() !== '') fixtures.push({ file: `${name}:${i + 1}`, record: parsed(line, `${name}:${i + 1}`) });
      });
    } else {
      const value = parsed(text, name);
      for (const record of Array.isArray(value) ? value : [value]) fixtures.push({ file: name, record });
    }
  }
  if (fixtures.length === 0) throw new TectonicError('USAGE', `${dir} holds no fixture records (*.json or *.jsonl)`);
  return fixtures;
}

function parsed(text: string, where: string): JsonValue {
  const result = parseJsonText(text, where);
  if (!result.ok) throw new TectonicError('USAGE', result.reasons.map((r) => r.message).join('; '));
  return result.value;
}

/** Every string and number in the records, for the masking check: a masked field must not carry one of them as it was. */
export function leafValues(records: readonly JsonValue[]): Set<string> {
  const out = new Set<string>();
  const walk = (value: JsonValue, depth: number): void => {
    if (depth > 64) return;
    if (typeof value === 'string' && value.length >= 3) out.add(value);
    else if (Array.isArray(value)) for (const item of value) walk(item, depth + 1);
    else if (value !== null && typeof value === 'object') for (const item of Object.values(value)) walk(item, depth + 1);
  };
  for (const record of records) walk(record, 0);
  return out;
}
