import { keyText } from '../envelope/derived-id';
import { type Reason, reason } from '../reasons';
import { type Getter, compileGetter, parsePath } from './paths';
import { describeValue, typeName } from './values';

/**
 * The spec's optional `id` member (docs/mapping-spec.md, "The envelope id"):
 * `{ "from": ["shp_no", "dt"] }` names the source fields whose values, in
 * order, identify the record, so that mapping it again gives the same
 * envelope id (lib/envelope/derived-id.ts). Checked and compiled once with
 * the spec; per record only the getters run. A key value that is missing or
 * not a scalar refuses the record: a random id instead would silently undo
 * what the spec asked for.
 */

export const ID_KEYS = ['from', 'description'] as const;
/** More would be a record's content, not its key. */
export const MAX_ID_FIELDS = 16;

/** Where a reason about the key points: the envelope's id, not a field of the canonical record. */
export const ID_REASON_PATH = 'cdm.id';

/** The key of one record: its values as keyText() writes them, or why it has none. */
export type KeyOutcome = { ok: true; text: string } | { ok: false; reasons: Reason[] };

export type RecordKey = (record: unknown) => KeyOutcome;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Compiles `spec.id`; pushes every problem with its path (`id.from[1]`). undefined when absent or wrong. */
export function compileRecordKey(id: unknown, reasons: Reason[]): RecordKey | undefined {
  if (id === undefined) return undefined;
  if (!isObject(id)) {
    reasons.push(reason('id', 'type', `must be an object such as { "from": ["shp_no"] }, got ${typeName(id)}`));
    return undefined;
  }
  const before = reasons.length;
  for (const key of Object.keys(id)) {
    if (!(ID_KEYS as readonly string[]).includes(key)) reasons.push(reason(`id.${key}`, 'unknown-key', `is not part of "id" (known: ${ID_KEYS.join(', ')})`));
  }
  if (id.description !== undefined && typeof id.description !== 'string') reasons.push(reason('id.description', 'type', 'must be a string'));
  const from = id.from;
  if (!Array.isArray(from) || from.length === 0 || from.length > MAX_ID_FIELDS) {
    reasons.push(reason('id.from', from === undefined ? 'required' : 'type', `must be an array of 1 to ${MAX_ID_FIELDS} source paths that identify the record, got ${Array.isArray(from) ? `${from.length} paths` : typeName(from)}`));
    return undefined;
  }
  const getters: Getter[] = [];
  const sources: string[] = [];
  from.forEach((path: unknown, i) => {
    const parsed = parsePath(path, `id.from[${i}]`, 'source', reasons);
    if (parsed === undefined) return;
    const first = sources.indexOf(parsed.text);
    if (first >= 0) reasons.push(reason(`id.from[${i}]`, 'conflict', `"${parsed.text}" is already id.from[${first}]`));
    sources.push(parsed.text);
    getters.push(compileGetter(parsed));
  });
  if (reasons.length !== before) return undefined;
  return keyReader(getters, sources);
}

/** The per-record reader: one array of values, no closure per record. */
function keyReader(getters: readonly Getter[], sources: readonly string[]): RecordKey {
  const values: (string | number | boolean)[] = new Array<string | number | boolean>(getters.length);
  return (record) => {
    let reasons: Reason[] | undefined;
    for (let i = 0; i < getters.length; i++) {
      const value = (getters[i] as Getter)(record);
      if (typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value))) {
        values[i] = value;
        continue;
      }
      const source = sources[i] as string;
      const missing = value === undefined || value === null;
      (reasons ??= []).push(
        reason(
          ID_REASON_PATH,
          missing ? 'missing' : 'type',
          missing
            ? `from "${source}": the key field is missing, and the envelope id is made from it`
            : `from "${source}": ${describeValue(value)} cannot be part of the envelope id (text, a finite number or a boolean)`,
        ),
      );
    }
    return reasons === undefined ? { ok: true, text: keyText(values) } : { ok: false, reasons };
  };
}
