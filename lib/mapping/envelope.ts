import { randomFillSync } from 'node:crypto';
import { monotonicFactory } from 'ulidx';
import type { CdmEnvelope } from '../envelope/envelope';
import { isoInstant } from './iso-instant';

/**
 * The envelope cdm-map puts on `msg.cdm` (docs/message-contract.md). `id` is
 * a ULID from a monotonic factory: ids sort by time, and two made in the same
 * millisecond still sort in the order they were made, which a consumer
 * de-duplicating or ordering by id relies on.
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
  const at = (input.now ?? Date.now)();
  const envelope: CdmEnvelope = {
    entity: input.entity,
    version: input.version,
    site: input.site,
    id: ulid(at),
    time: isoInstant(at),
    source: input.source,
  };
  if (input.correlationId !== undefined) envelope.correlationId = input.correlationId;
  if (input.traceparent !== undefined) envelope.traceparent = input.traceparent;
  return envelope;
}
