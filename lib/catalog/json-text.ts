import type { JsonValue, Reason } from './types';

export type ParsedJson = { ok: true; value: JsonValue } | { ok: false; reasons: Reason[] };

/**
 * Parses JSON from a file or a bus message. Catalogs come from the network,
 * so a `__proto__` key is refused: JSON.parse keeps it as an own property,
 * but the first spread or Object.assign downstream turns it into prototype
 * pollution.
 */
export function parseJsonText(text: string, file: string): ParsedJson {
  let value: JsonValue;
  try {
    value = JSON.parse(text) as JsonValue;
  } catch (err) {
    return { ok: false, reasons: [{ path: file, rule: 'malformed-json', message: `${file} is not valid JSON: ${(err as Error).message}` }] };
  }
  const reasons: Reason[] = [];
  findForbiddenKeys(value, file, '', reasons);
  return reasons.length > 0 ? { ok: false, reasons } : { ok: true, value };
}

function findForbiddenKeys(value: JsonValue, file: string, pointer: string, reasons: Reason[]): void {
  if (Array.isArray(value)) {
    value.forEach((item, i) => findForbiddenKeys(item, file, `${pointer}/${i}`, reasons));
    return;
  }
  if (typeof value !== 'object' || value === null) return;
  for (const key of Object.keys(value)) {
    const child = `${pointer}/${escapePointer(key)}`;
    if (key === '__proto__') {
      reasons.push({ path: `${file}#${child}`, rule: 'forbidden-key', message: `${file} uses the key "__proto__" at ${child || '/'}, which is refused to prevent prototype pollution` });
      continue;
    }
    findForbiddenKeys(value[key] as JsonValue, file, child, reasons);
  }
}

export function escapePointer(token: string): string {
  return token.replace(/~/g, '~0').replace(/\//g, '~1');
}

export function unescapePointer(token: string): string {
  return token.replace(/~1/g, '/').replace(/~0/g, '~');
}
