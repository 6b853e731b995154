import type { IPublishPacket } from 'mqtt';
import { decodeMessage } from '../envelope/cloudevents';
import { decodeDeadLetter } from '../envelope/dead-letter';
import { DedupWindow, messageKey } from '../envelope/dedup-window';
import { isInputId } from '../envelope/derived-id';
import { markRecordEntry } from '../envelope/entry-mark';
import { topicDisagreement } from '../envelope/topics';
import { decodeLocalRecord } from '../flow/local-record';
import type { Reason } from '../reasons';
import { DEFAULT_DEDUP_MAX_AGE_SECONDS, type SubscribeSettings } from './subscribe-settings';

// Enough of a malformed message to see what it was, without echoing megabytes into the debug sidebar.
const RAW_PREVIEW_CHARS = 2048;

/** A message that could not be read, for the log and the catch node. */
export interface MalformedReport {
  topic: string;
  /** The start of the payload as text. */
  payloadPreview: string;
  reasons: Reason[];
}

/** Where decoded messages go: the node's output, log and status. */
export interface InboundSink {
  /** A message for the flow. */
  deliver(msg: Record<string, unknown>): void;
  malformed(report: MalformedReport): void;
  /** A count changed. */
  changed(): void;
}

/**
 * Turns what a subscription receives into flow messages, by its kind:
 * canonical CloudEvents (checked against their topic, duplicates dropped by
 * envelope id), dead letters (back as the refused message, for replay), or a
 * site's own JSON records. Everything not readable is reported, not thrown.
 */
export class InboundDecoder {
  readonly counts = { received: 0, duplicatesDropped: 0, malformed: 0 };
  /** Synthetic transactions dropped (docs/fleet.md); apart from `counts`, which are the decoder's own verdicts on the bus's messages. */
  readonly probes = { dropped: 0 };
  /** Decodes one MQTT message and delivers it: the handler of the subscription's kind, chosen once. */
  readonly receive: (topic: string, payload: Buffer, packet: IPublishPacket) => void;
  /**
   * The flow message `receive` delivered for these bytes, made again for a
   * record sent into the flow once more (refused as transient): no counts, no
   * de-duplication (it is not a duplicate of itself), nothing reported.
   * Decoding again only then is cheaper than keeping a copy of every record.
   * Undefined if they do not decode.
   */
  readonly again: (topic: string, payload: Buffer, packet: IPublishPacket) => Record<string, unknown> | undefined;
  private readonly settings: Pick<SubscribeSettings, 'limits' | 'passProbes'>;
  private readonly dedup: DedupWindow;
  private readonly dedupMaxAgeMs: number;
  private readonly sink: InboundSink;
  private readonly now: () => number;

  /** `now`: the clock of the entry mark and the duplicate window's age; default Date.now. */
  constructor(settings: Pick<SubscribeSettings, 'kind' | 'dedupWindow' | 'limits'> & Partial<Pick<SubscribeSettings, 'dedupMaxAgeMs' | 'passProbes'>>, sink: InboundSink, now: () => number = Date.now) {
    this.settings = settings;
    this.now = now;
    this.dedup = new DedupWindow(settings.dedupWindow, { now });
    this.dedupMaxAgeMs = settings.dedupMaxAgeMs ?? DEFAULT_DEDUP_MAX_AGE_SECONDS * 1000;
    this.sink = sink;
    const handlers = { canonical: this.onCanonical, 'dead-letter': this.onDeadLetter, records: this.onRecord };
    const handler = handlers[settings.kind];
    this.receive = (topic, payload, packet) => {
      const msg = handler(topic, payload, packet, true);
      if (msg !== undefined) this.sink.deliver(msg);
    };
    this.again = (topic, payload, packet) => handler(topic, payload, packet, false);
  }

  // Each handler makes the flow message; `fresh` (a receipt, not a retry) counts, drops duplicates and reports.
  private readonly onCanonical = (topic: string, payload: Buffer, packet: IPublishPacket, fresh: boolean): Record<string, unknown> | undefined => {
    const decoded = decodeMessage({ payload, properties: packet.properties }, this.settings.limits);
    if (!decoded.ok) return this.reportMalformed(fresh, topic, payload, decoded.reasons);
    const disagreement = topicDisagreement(topic, decoded.value.envelope);
    if (disagreement.length > 0) return this.reportMalformed(fresh, topic, payload, disagreement);
    const { envelope } = decoded.value;
    // A synthetic transaction is the site's own check (docs/fleet.md): consumers leave it out unless asked for it.
    if (envelope.probe !== undefined && this.settings.passProbes !== true) {
      if (fresh) this.probes.dropped += 1;
      return undefined;
    }
    // An id made from an input is remembered for a time only: an equal reading later is a new event (derived-id.ts).
    const { site, id } = envelope;
    if (fresh && !this.admit(site, id, isInputId(id) ? this.dedupMaxAgeMs : undefined)) return undefined;
    this.received(fresh);
    const msg: Record<string, unknown> = { topic, payload: decoded.value.data, cdm: envelope };
    // The trace goes on with the record (W3C Trace Context, lib/fleet/trace-context.ts); a passed probe keeps its mark.
    if (envelope.traceparent !== undefined) msg.traceparent = envelope.traceparent;
    if (envelope.probe !== undefined) msg.probe = envelope.probe;
    return msg;
  };

  // Dead letters come back as the message that was refused, with msg.reject,
  // ready to be fixed and sent through the pipeline again (the replay path).
  private readonly onDeadLetter = (topic: string, payload: Buffer, _packet: IPublishPacket, fresh: boolean): Record<string, unknown> | undefined => {
    const decoded = decodeDeadLetter(payload, this.settings.limits);
    if (!decoded.ok) return this.reportMalformed(fresh, topic, payload, decoded.reasons);
    const letter = decoded.value;
    if (fresh && !this.admit(letter.site, `${letter.stage}\u0000${letter.time}\u0000${letter.cdm?.id ?? JSON.stringify(letter.payload)}`)) return undefined;
    this.received(fresh);
    const msg: Record<string, unknown> = { topic, payload: letter.payload, reject: { stage: letter.stage, reasons: letter.reasons, site: letter.site, time: letter.time } };
    if (letter.cdm !== undefined) msg.cdm = letter.cdm;
    return msg;
  };

  // A site's own records: JSON on any topic, no envelope yet and so no id to
  // drop duplicates by; cdm-map makes msg.cdm downstream, its id from the
  // entry mark (entry-mark.ts), so a redelivery of the same input gets the
  // same id and the centre drops it.
  private readonly onRecord = (topic: string, payload: Buffer, _packet: IPublishPacket, fresh: boolean): Record<string, unknown> | undefined => {
    const decoded = decodeLocalRecord(payload, this.settings.limits);
    if (!decoded.ok) return this.reportMalformed(fresh, topic, payload, decoded.reasons);
    this.received(fresh);
    return { topic, payload: decoded.value, tectonic: markRecordEntry(topic, this.now()) };
  };

  private received(fresh: boolean): void {
    if (!fresh) return;
    this.counts.received += 1;
    this.sink.changed();
  }

  private admit(site: string, id: string, forgetAfterMs?: number): boolean {
    if (this.dedup.admit(messageKey(site, id), forgetAfterMs)) return true;
    this.counts.duplicatesDropped += 1;
    this.sink.changed();
    return false;
  }

  private reportMalformed(fresh: boolean, topic: string, payload: Buffer, reasons: Reason[]): undefined {
    if (!fresh) return undefined;
    this.counts.malformed += 1;
    this.sink.changed();
    this.sink.malformed({ topic, payloadPreview: payload.toString('utf8', 0, RAW_PREVIEW_CHARS), reasons });
    return undefined;
  }
}
