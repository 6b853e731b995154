import { createHash, hash } from 'node:crypto';

/**
 * Envelope ids that a record's own content decides, so that mapping the same
 * input again gives the same id and the centre's de-duplication by id
 * (dedup-window.ts) drops an at-least-once redelivery of an input
 * (docs/message-contract.md, "Ids made from the record").
 *
 * Two kinds, told apart by the UUID's version nibble:
 * - **key ids**, from the key a mapping spec names (`"id": { "from": [...] }`):
 *   a name-based UUID version 5 (SHA-1, RFC 9562 §5.5) in the pack's
 *   namespace over the text `["site","entity",value,...]`. The same key is
 *   the same event for ever: the centre forgets such an id only by count,
 *   like a ULID.
 * - **input ids**, from a redelivering entry's mark (entry-mark.ts) and the
 *   record mapped: a UUID version 8 (RFC 9562 §5.8, custom) whose bits are
 *   SHA-256 over the UTF-8 of the namespace's text followed by the name,
 *   `["site","entity","topic",<the record as JSON>]` (the layout is the
 *   pack's, as §5.8 allows; the text form lets one one-shot hash of one
 *   string do it). Equal readings at different times are different events,
 *   so the centre forgets these ids after a time as well (isInputId).
 *
 * Cost: one hash per mapped record, a one-shot `crypto.hash` where it can
 * be (about half the time of a createHash object, measured alone).
 */

/** The pack's namespace: UUID v5 of the URL namespace (RFC 9562 §6.6) over "urn:tectonic:envelope-id"; test/lib/envelope/derived-id.test.ts derives it. */
export const ENVELOPE_ID_NAMESPACE = 'a40038f9-b594-595d-bbfc-077425c11219';

const NAMESPACE_BYTES = uuidBytes(ENVELOPE_ID_NAMESPACE);

/** The 16 bytes of a UUID written as text. */
export function uuidBytes(uuid: string): Buffer {
  return Buffer.from(uuid.replace(/-/g, ''), 'hex');
}

function format(digest: Buffer, version: number): string {
  // [RFC 9562 §5.5, §5.8]: version in the high nibble of octet 6, variant 0b10 in the top bits of octet 8.
  digest[6] = ((digest[6] as number) & 0x0f) | (version << 4);
  digest[8] = ((digest[8] as number) & 0x3f) | 0x80;
  const hex = digest.toString('hex', 0, 16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

// The namespace and the name in one buffer for the one-shot hash: no buffer per record.
const SCRATCH = Buffer.alloc(8192);

/** A name-based UUID version 5 (RFC 9562 §5.5): SHA-1 over the namespace's bytes and the name's UTF-8. */
export function uuidV5(namespace: Buffer, name: string): string {
  // UTF-8 takes at most 3 bytes per UTF-16 unit, so a name this short fits after the 16 bytes of the namespace.
  if (name.length * 3 > SCRATCH.length - 16) return format(createHash('sha1').update(namespace).update(name, 'utf8').digest(), 5);
  namespace.copy(SCRATCH, 0, 0, 16);
  const length = SCRATCH.write(name, 16, 'utf8');
  return format(hash('sha1', SCRATCH.subarray(0, 16 + length), 'buffer'), 5);
}

/**
 * A key id: the same site, entity and key values (scalars, in the spec's
 * order) always give the same id. `keyText` is the values as a JSON array's
 * members, as keyText() writes them.
 */
export function keyEnvelopeId(site: string, entity: string, keyText: string): string {
  return uuidV5(NAMESPACE_BYTES, `[${JSON.stringify(site)},${JSON.stringify(entity)},${keyText}]`);
}

/**
 * The key values as the members of a JSON array, comma-separated: JSON keeps
 * the text "1" apart from the number 1 and escapes any separator inside a value.
 */
export function keyText(values: readonly (string | number | boolean)[]): string {
  let text = '';
  for (let i = 0; i < values.length; i++) text += (i === 0 ? '' : ',') + JSON.stringify(values[i]);
  return text;
}

/**
 * An input id: the site, the entity, the entry's topic (entry-mark.ts) and
 * the record as cdm-map received it, which for an untouched input is its
 * payload parsed. The record is in the name because a flow may split one
 * input into several records before cdm-map (a split node over a batch):
 * each part is then its own record. A record JSON cannot write (a cycle, a
 * BigInt) has no input id: undefined.
 */
export function inputEnvelopeId(site: string, entity: string, topic: string, record: unknown): string | undefined {
  let text: string | undefined;
  try {
    text = writeJson(record);
  } catch {
    return undefined;
  }
  if (text === undefined) return undefined;
  // The same bytes as hashing the text `${namespace}[site,entity,topic,${text}]`, written into one buffer: the head is the same for every record of a node (issue 19).
  const head = inputIdHead(site, entity, topic);
  if (head.length + text.length * 3 + 1 > SCRATCH.length) return format(hash('sha256', `${head.toString('utf8')}${text}]`, 'buffer'), 8);
  head.copy(SCRATCH, 0);
  let length = head.length + SCRATCH.write(text, head.length, 'utf8');
  SCRATCH[length++] = 0x5d; // ']'
  return format(hash('sha256', SCRATCH.subarray(0, length), 'buffer'), 8);
}

let lastHead: { site: string; entity: string; topic: string; bytes: Buffer } | undefined;

/** The UTF-8 of `${namespace}[site,entity,topic,` for the last site, entity and topic asked for (a node asks for one). */
function inputIdHead(site: string, entity: string, topic: string): Buffer {
  if (lastHead !== undefined && lastHead.site === site && lastHead.entity === entity && lastHead.topic === topic) return lastHead.bytes;
  const bytes = Buffer.from(`${ENVELOPE_ID_NAMESPACE}[${JSON.stringify(site)},${JSON.stringify(entity)},${JSON.stringify(topic)},`, 'utf8');
  lastHead = { site, entity, topic, bytes };
  return bytes;
}

// JSON.stringify gives undefined for undefined and a function, which its typing leaves out: as unwritable as a cycle.
const writeJson: (value: unknown) => string | undefined = JSON.stringify;

const INPUT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** True for an id made from an input (a UUID of version 8): the centre forgets it after its time window. */
export function isInputId(id: string): boolean {
  return id.length === 36 && INPUT_ID.test(id);
}
