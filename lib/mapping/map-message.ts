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
  msg.cdm = envelopeFrom(origin, msg);
  msg.payload = result.value;
  return true;
}
