import type { JsonValue } from './types';
import type { Reason } from '../reasons';
import { isPollutingMember, mayHoldPollutingKey, pollutingKeyName } from '../untrusted-json';

export type ParsedJson = { ok: true; value: JsonValue } | { ok: false; reasons: Reason[] };

/**
 * Parses JSON from a file or a bus message. Catalogs come from the network,
 * so the keys lib/untrusted-json.ts refuses in data (`__proto__`,
 * `constructor.prototype`) are refused here, each one named with its place.
 */
export function parseJsonText(text: string, file: string): ParsedJson {
  let value: JsonValue;
  try {
    value = JSON.parse(text) as JsonValue;
  } catch (err) {
    return { ok: false, reasons: [{ path: file, rule: 'malformed-json', message: `${file} is not valid JSON: ${(err as Error).message}` }] };
  }
  const reasons: Reason[] = [];
  // A text that cannot hold such a key is not walked: catalogs are reloaded whole.
  if (mayHoldPollutingKey(text)) findForbiddenKeys(value, file, '', reasons);
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
    if (isPollutingMember(key, value[key])) {
      reasons.push({ path: `${file}#${child}`, rule: 'forbidden-key', message: `${file} uses the key "${pollutingKeyName(key)}" at ${child || '/'}, which is refused to prevent prototype pollution` });
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
