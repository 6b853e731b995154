/**
 * `msg.tectonic`: what an entry that can redeliver says about the message it
 * let in (docs/message-contract.md, "The entry mark"). bus-subscribe in
 * local-records mode sets it; cdm-map reads it to make the envelope id from
 * the input (derived-id.ts) instead of a fresh ULID, so a record the broker
 * redelivers after a kill gets the id its first delivery got.
 *
 * It holds the topic, not a hash of topic and payload: cdm-map hashes the
 * record it maps anyway (a flow may split one input into several records),
 * so hashing the payload at the entry as well would cost a second SHA-256
 * per record on the hot path (docs/performance.md) and decide nothing more.
 */
export interface EntryMark {
  /** The entry: 'records', a bus-subscribe of kind local records. */
  entry: 'records';
  /** The topic the record arrived on, kept apart from msg.topic, which a flow may change. */
  topic: string;
  /** When this delivery arrived, milliseconds since the epoch (this copy's, not the first's). */
  receivedAt: number;
}

export function markRecordEntry(topic: string, receivedAt: number): EntryMark {
  return { entry: 'records', topic, receivedAt };
}

/**
 * The entry topic of a message's mark, read as untrusted (a flow can set
 * msg.tectonic to anything): undefined unless it is a records mark with a
 * topic, and then cdm-map makes a ULID as it always has.
 */
export function entryTopicOf(mark: unknown): string | undefined {
  if (typeof mark !== 'object' || mark === null) return undefined;
  const { entry, topic } = mark as { entry?: unknown; topic?: unknown };
  return entry === 'records' && typeof topic === 'string' && topic !== '' ? topic : undefined;
}
