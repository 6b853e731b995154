import type { PublishSettings } from '../bus/publish-settings';
import { encodeMessage } from '../envelope/cloudevents';
import { deadLetterOf } from '../envelope/dead-letter';
import { type CdmEnvelope, checkEnvelope, isCleanEnvelope } from '../envelope/envelope';
import { canonicalTopic } from '../envelope/topics';
import { describeReasons } from '../reasons';
import type { OutboxMessage } from './entry-codec';

/** The parts of a flow message a publish reads, and `reject`, which it sets when it refuses one. */
export interface PublishRecord {
  cdm?: unknown;
  payload?: unknown;
  topic?: unknown;
  reject?: unknown;
}

export type AssembledMessage = { ok: true; message: OutboxMessage } | { ok: false; problem: string };

/**
 * What goes into the outbox for one record: its dead letter (msg.reject of a
 * refused record, to the site's dead-letter topic), or its CloudEvent on the
 * canonical topic of msg.cdm. A record that cannot be published is a problem
 * worded for the catch node; a canonical one also gets msg.reject.
 */
export function assembleOutboxMessage(msg: PublishRecord, settings: Pick<PublishSettings, 'mode' | 'site' | 'qos' | 'wireMode'>, stage: string): AssembledMessage {
  if (settings.mode === 'dead-letter') {
    const site = settings.site;
    const letter = deadLetterOf({ reject: msg.reject, cdm: msg.cdm, payload: msg.payload, site, now: new Date() });
    if (!letter.ok) return { ok: false, problem: `not a dead letter: ${describeReasons(letter.reasons)}` };
    return { ok: true, message: { topic: letter.value.topic, payload: letter.value.body, qos: settings.qos, properties: { contentType: 'application/json' }, key: site } };
  }
  // A clean envelope is read as it is (only its known attributes, right now); any other gets the worded check.
  let envelope: CdmEnvelope;
  if (isCleanEnvelope(msg.cdm)) envelope = msg.cdm;
  else {
    const checked = checkEnvelope(msg.cdm);
    if (!checked.ok) {
      msg.reject = { stage, reasons: checked.reasons };
      return { ok: false, problem: `msg.cdm is not a usable envelope (set it with cdm-map): ${describeReasons(checked.reasons)}` };
    }
    envelope = checked.value;
  }
  const wire = encodeMessage(envelope, msg.payload, settings.wireMode);
  if (!wire.ok) {
    msg.reject = { stage, reasons: wire.reasons };
    return { ok: false, problem: `the record cannot be published: ${describeReasons(wire.reasons)}` };
  }
  const message: OutboxMessage = { topic: canonicalTopic(envelope), payload: wire.value.payload, qos: settings.qos, properties: wire.value.properties, key: envelope.site };
  if (envelope.probe !== undefined) message.probe = envelope.probe;
  return { ok: true, message };
}
