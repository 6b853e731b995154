import { inputEnvelopeId, keyEnvelopeId } from '../envelope/derived-id';
import { entryTopicOf } from '../envelope/entry-mark';
import { envelopeFrom } from '../envelope/new-envelope';
import type { EnvelopeOrigin } from '../envelope/new-envelope';
import type { PipelineMessage } from '../envelope/pipeline-message';
import type { MapResult } from './compile';

/** cdm-map's stage name in msg.reject. */
export const MAP_STAGE = 'cdm-map';

/**
 * Puts a mapping's result on the message it was made from: the canonical
 * record with a new envelope that carries on the message's correlation and
 * trace, or the reasons. True when it mapped.
 */
export function applyMapping(msg: PipelineMessage, result: MapResult, origin: EnvelopeOrigin): boolean {
  if (!result.ok) {
    // The local record stays as it came, so a technician sees what could not be mapped.
    msg.reject = { stage: MAP_STAGE, reasons: result.reasons };
    return false;
  }
  msg.cdm = envelopeFrom(origin, msg, envelopeId(msg, result.key, origin));
  msg.payload = result.value;
  return true;
}

/**
 * The id made from the record, in this order (docs/mapping-spec.md, "The
 * envelope id"): the key the spec names; else, for a message an entry that
 * redelivers let in (msg.tectonic), the input and the record as it came;
 * else undefined, and the envelope gets a ULID as it always has (and always
 * for a probe).
 * Read before msg.payload becomes the canonical record.
 */
function envelopeId(msg: PipelineMessage, key: string | undefined, origin: EnvelopeOrigin): string | undefined {
  // A probe gets a fresh id whatever its record says, so no duplicate window at the centre swallows the next one.
  if (msg.probe !== undefined) return undefined;
  if (key !== undefined) return keyEnvelopeId(origin.site, origin.entity, key);
  const topic = entryTopicOf(msg.tectonic);
  return topic === undefined ? undefined : inputEnvelopeId(origin.site, origin.entity, topic, msg.payload);
}
