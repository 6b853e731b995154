import { randomFillSync } from 'node:crypto';
import { monotonicFactory } from 'ulidx';
import { isoInstant } from '../mapping/iso-instant';
import { type CdmEnvelope, isTraceparent } from './envelope';
import type { PipelineMessage } from './pipeline-message';
import { envelopeOf } from './read-envelope';

/**
 * The envelope cdm-map puts on `msg.cdm` (docs/message-contract.md). `id` is
 * a ULID from a monotonic factory: ids sort by time, and two made in the same
 * millisecond still sort in the order they were made. An id made from the
 * record (derived-id.ts) replaces it when the caller passes one; such ids do
 * not sort by time, `time` does.
 */
export interface NewEnvelopeInput {
  entity: string;
  version: string;
  site: string;
  source: string;
  correlationId?: string;
  traceparent?: string;
  /** The clock, injectable for tests; default Date.now. */
  now?: () => number;
}

/** What every envelope a node makes has in common, fixed at deploy. */
export type EnvelopeOrigin = Omit<NewEnvelopeInput, 'correlationId' | 'traceparent'>;

/**
 * Cryptographic randomness drawn a few kilobytes at a time: ulidx's own source
 * asks the system once for each of the 16 random characters of an id, which
 * cost more than the rest of the envelope together.
 */
function bufferedRandom(): () => number {
  const pool = new Uint32Array(1024);
  let next = pool.length;
  return () => {
    if (next === pool.length) {
      randomFillSync(pool);
      next = 0;
    }
    return (pool[next++] as number) / 0x1_0000_0000;
  };
}

const ulid = monotonicFactory(bufferedRandom());

export function newEnvelope(input: NewEnvelopeInput): CdmEnvelope {
  return build(input, input.correlationId, input.traceparent);
}

/**
 * The envelope for a record made from `incoming`, carrying on its business
 * transaction and trace: the correlation id and traceparent the flow set on
 * the message win over those of an earlier envelope. A record that starts a
 * transaction is its own correlation (its id: no second random value).
 * `id`, when given, is the id made from the record (derived-id.ts).
 */
export function envelopeFrom(origin: EnvelopeOrigin, incoming: PipelineMessage, id?: string): CdmEnvelope {
  const earlier = envelopeOf(incoming.cdm);
  const envelope = build(origin, correlation(incoming.correlationId) ?? correlation(earlier?.correlationId) ?? SELF, isTraceparent(incoming.traceparent) ? incoming.traceparent : isTraceparent(earlier?.traceparent) ? earlier.traceparent : undefined, id);
  // A synthetic transaction keeps its mark on the canonical record (lib/fleet/probe-mark.ts).
  const probe = incoming.probe;
  if (typeof probe === 'string' && probe !== '' && probe.length <= 64) envelope.probe = probe;
  return envelope;
}

/** A correlation id worth carrying on: a non-empty string within the contract's 256 characters. */
export function correlation(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' && value.length <= 256 ? value : undefined;
}

/** A record that starts its own transaction: its correlation id is its envelope id. */
const SELF = Symbol('its own id');

/**
 * The members are added in one order whatever is present (correlationId
 * before traceparent), so traced and untraced envelopes share their hidden
 * classes as far as they go: every node reads them per record (issue 19).
 */
function build(origin: EnvelopeOrigin, correlationId: string | typeof SELF | undefined, traceparent: string | undefined, id?: string): CdmEnvelope {
  const at = (origin.now ?? Date.now)();
  const envelope: CdmEnvelope = {
    entity: origin.entity,
    version: origin.version,
    site: origin.site,
    id: id ?? ulid(at),
    time: isoInstant(at),
    source: origin.source,
  };
  if (correlationId === SELF) envelope.correlationId = envelope.id;
  else if (correlationId !== undefined) envelope.correlationId = correlationId;
  if (traceparent !== undefined) envelope.traceparent = traceparent;
  return envelope;
}
