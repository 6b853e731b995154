import { crc32 } from 'node:zlib';
import type { Checked } from '../reasons';
import { reason } from '../reasons';

/** A message as the publishing node hands it to the outbox. */
export interface OutboxMessage {
  topic: string;
  /** Bytes, or text (UTF-8 on the wire and on disk): bus-publish hands its events over as text. */
  payload: Buffer | string;
  qos: 0 | 1 | 2;
  properties?: { contentType?: string; userProperties?: Record<string, string | string[]> };
  /** For per-site order and status (the node puts the site here). */
  key?: string;
  /**
   * A synthetic transaction's nonce (lib/fleet/probe-mark.ts), so the broker's
   * acknowledgement of this entry can settle the probe. In memory only: never
   * written to disk, since a probe does not outlive its process.
   */
  probe?: string;
}

/** A message the outbox holds, with its place in line. */
export interface OutboxEntry extends OutboxMessage {
  seq: number;
  enqueuedAt: number;
  /** Publish attempts in this process so far (the sender counts them; not stored, so it starts at 0 after a restart). */
  attempts: number;
}

/*
 * Key layout. One leading byte names the record kind so entries and the
 * bookkeeping record never interleave in iteration order:
 *   0x01 + uint64 BE seq  an entry; big-endian so LevelDB's bytewise order is append order
 *   0x00 'next-seq'       the next sequence number, so seqs never repeat after the
 *                         newest entries were acked and deleted
 */
const ENTRY_PREFIX = 0x01;
export const ENTRY_RANGE = { gte: Buffer.from([ENTRY_PREFIX]), lt: Buffer.from([ENTRY_PREFIX + 1]) };
export const NEXT_SEQ_KEY = Buffer.from('\u0000next-seq', 'latin1');

export function entryKey(seq: number): Buffer {
  const key = Buffer.allocUnsafe(9);
  key[0] = ENTRY_PREFIX;
  key.writeBigUInt64BE(BigInt(seq), 1);
  return key;
}

/** The seq of an entry key, or undefined for a key that is not one. */
export function seqOfKey(key: Uint8Array): number | undefined {
  if (key.length !== 9 || key[0] !== ENTRY_PREFIX) return undefined;
  const seq = Buffer.from(key.buffer, key.byteOffset, key.byteLength).readBigUInt64BE(1);
  return seq <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(seq) : undefined;
}

export function encodeSeq(seq: number): Buffer {
  const value = Buffer.allocUnsafe(8);
  value.writeBigUInt64BE(BigInt(seq));
  return value;
}

export function decodeSeq(value: Uint8Array): number | undefined {
  if (value.length !== 8) return undefined;
  const seq = Buffer.from(value.buffer, value.byteOffset, value.byteLength).readBigUInt64BE(0);
  return seq <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(seq) : undefined;
}

/*
 * Value layout, version 1:
 *   [0]      format version (1)
 *   [1..4]   CRC-32 of bytes 5.. (LevelDB checks its own blocks, but not a value
 *            that a bug or a disk fault garbled before it reached LevelDB)
 *   [5..8]   header length H, uint32 BE
 *   [9..9+H] header JSON: { t: topic, q: qos, e: enqueuedAt, p?: properties, k?: key }
 *   rest     the payload, as is (no base64: payloads are often binary and large)
 */
const FORMAT = 1;
const FIXED = 9;

interface Header {
  t: string;
  q: 0 | 1 | 2;
  e: number;
  p?: OutboxMessage['properties'];
  k?: string;
}

export function encodeEntry(message: OutboxMessage, enqueuedAt: number): Buffer {
  const header: Header = { t: message.topic, q: message.qos, e: enqueuedAt };
  if (message.properties !== undefined) header.p = message.properties;
  if (message.key !== undefined) header.k = message.key;
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const payload = typeof message.payload === 'string' ? Buffer.from(message.payload, 'utf8') : message.payload;
  const value = Buffer.allocUnsafe(FIXED + json.length + payload.length);
  value[0] = FORMAT;
  value.writeUInt32BE(json.length, 5);
  json.copy(value, FIXED);
  payload.copy(value, FIXED + json.length);
  value.writeUInt32BE(crc32(value.subarray(5)), 1);
  return value;
}

/** Decodes a stored value; a value that does not decode is a reason, never a throw. */
export function decodeEntry(seq: number, stored: Uint8Array): Checked<OutboxEntry> {
  const value = Buffer.from(stored.buffer, stored.byteOffset, stored.byteLength);
  const bad = (message: string): Checked<OutboxEntry> => ({ ok: false, reasons: [reason(`outbox.${seq}`, 'outbox-corrupt-entry', message)] });
  if (value.length < FIXED) return bad(`entry ${seq} is ${value.length} bytes, shorter than any entry`);
  if (value[0] !== FORMAT) return bad(`entry ${seq} has format ${value[0]}, this version reads format ${FORMAT}`);
  if (value.readUInt32BE(1) !== crc32(value.subarray(5))) return bad(`entry ${seq} fails its checksum`);
  const headerLength = value.readUInt32BE(5);
  if (FIXED + headerLength > value.length) return bad(`entry ${seq} declares a ${headerLength}-byte header but holds ${value.length - FIXED} bytes`);
  let header: unknown;
  try {
    header = JSON.parse(value.toString('utf8', FIXED, FIXED + headerLength));
  } catch (err) {
    return bad(`entry ${seq} has an unreadable header: ${(err as Error).message}`);
  }
  if (!isHeader(header)) return bad(`entry ${seq} has a header without topic, qos and time`);
  // A copy, not a view: the entry may outlive the iterator's buffer.
  const entry: OutboxEntry = { seq, topic: header.t, payload: Buffer.from(value.subarray(FIXED + headerLength)), qos: header.q, enqueuedAt: header.e, attempts: 0 };
  if (header.p !== undefined) entry.properties = header.p;
  if (header.k !== undefined) entry.key = header.k;
  return { ok: true, value: entry };
}

function isHeader(value: unknown): value is Header {
  if (typeof value !== 'object' || value === null) return false;
  const h = value as Record<string, unknown>;
  return (
    typeof h.t === 'string' &&
    (h.q === 0 || h.q === 1 || h.q === 2) &&
    typeof h.e === 'number' &&
    (h.p === undefined || (typeof h.p === 'object' && h.p !== null)) &&
    (h.k === undefined || typeof h.k === 'string')
  );
}

/** What an entry weighs against `maxBytes`: payload and topic, the parts that grow with the data. */
export function entryBytes(message: Pick<OutboxMessage, 'topic' | 'payload'>): number {
  const payload = message.payload;
  return (typeof payload === 'string' ? Buffer.byteLength(payload, 'utf8') : payload.length) + Buffer.byteLength(message.topic, 'utf8');
}
