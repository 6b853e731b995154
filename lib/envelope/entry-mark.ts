import { createHash } from 'node:crypto';

/**
 * `msg.tectonic`: what an entry that can redeliver says about the message it
 * let in (docs/message-contract.md, "The entry mark"). bus-subscribe in
 * local-records mode sets it; cdm-map reads it to make the envelope id from
 * the input (derived-id.ts) instead of a fresh ULID, so a record the broker
 * redelivers after a kill gets the id its first delivery got.
 */
export interface EntryMark {
  /** The entry: 'records', a bus-subscribe of kind local records. */
  entry: 'records';
  /** SHA-256, hex, of the topic, a NUL and the payload's bytes as they arrived. */
  key: string;
  /** When this delivery arrived, milliseconds since the epoch (this copy's, not the first's). */
  receivedAt: number;
}

export function markRecordEntry(topic: string, payload: Buffer, receivedAt: number): EntryMark {
  // A topic cannot hold NUL [MQTT-4.7.3-2], so topic and payload cannot run into each other.
  const key = createHash('sha256').update(topic, 'utf8').update('\u0000').update(payload).digest('hex');
  return { entry: 'records', key, receivedAt };
}

const KEY = /^[0-9a-f]{64}$/;

/**
 * The entry key of a message's mark, read as untrusted (a flow can set
 * msg.tectonic to anything): undefined unless it is a records mark with a
 * well-formed key, and then cdm-map makes a ULID as it always has.
 */
export function entryKeyOf(mark: unknown): string | undefined {
  if (typeof mark !== 'object' || mark === null) return undefined;
  const { entry, key } = mark as { entry?: unknown; key?: unknown };
  return entry === 'records' && typeof key === 'string' && KEY.test(key) ? key : undefined;
}
