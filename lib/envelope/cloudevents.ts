import { type CdmEnvelope, checkEnvelope, majorOf, typeName } from './envelope';
import { type Checked, type Reason, reason } from '../reasons';
import { DEFAULT_MAX_DEPTH, exceedsDepth, parseUntrustedJson } from '../untrusted-json';

/**
 * CloudEvents 1.0 on MQTT, per the CloudEvents MQTT protocol binding:
 * structured mode (one JSON event with the data inside, any MQTT version) and
 * binary mode (attributes as MQTT 5 user properties, the data alone).
 */
export type WireMode = 'structured' | 'binary';

export interface WireProperties {
  contentType?: string;
  userProperties?: Record<string, string | string[]>;
}

export interface WireMessage {
  payload: Buffer;
  properties?: WireProperties;
}

/**
 * What encodeMessage makes: the payload as text. MQTT.js takes text as it
 * takes bytes, and text is neither converted here nor copied again when
 * MQTT.js keeps the packet for its retransmission store (it clones a
 * Buffer payload byte by byte); the socket encodes it once, on the way out.
 */
export interface EncodedMessage {
  payload: string;
  properties?: WireProperties;
}

export interface DecodedMessage {
  envelope: CdmEnvelope;
  data: unknown;
  mode: WireMode;
}

export interface DecodeLimits {
  /** Larger payloads are refused before parsing. */
  maxBytes: number;
  /** Deeper JSON is refused: later stages (cloning, masking) walk it recursively. */
  maxDepth: number;
}

export const DEFAULT_DECODE_LIMITS: DecodeLimits = { maxBytes: 1024 * 1024, maxDepth: DEFAULT_MAX_DEPTH };

export const STRUCTURED_CONTENT_TYPE = 'application/cloudevents+json';
const DATA_CONTENT_TYPE = 'application/json';

// msg.cdm key -> CloudEvents attribute. Extension names must be lower-case
// letters and digits [CloudEvents 1.0, "Attribute Naming Convention"].
const ATTRIBUTE_NAMES = [
  ['id', 'id'],
  ['source', 'source'],
  ['time', 'time'],
  ['entity', 'cdmentity'],
  ['version', 'cdmversion'],
  ['site', 'cdmsite'],
  ['correlationId', 'correlationid'],
  ['traceparent', 'traceparent'],
  ['validated', 'cdmvalidated'],
  ['probe', 'cdmprobe'],
] as const satisfies ReadonlyArray<readonly [keyof CdmEnvelope, string]>;

export function eventType(envelope: Pick<CdmEnvelope, 'entity' | 'version'>): string {
  return `tectonic.cdm.${envelope.entity}.v${majorOf(envelope.version)}`;
}

function attributesOf(envelope: CdmEnvelope): Record<string, string> {
  const attributes: Record<string, string> = {
    specversion: '1.0',
    type: eventType(envelope),
    datacontenttype: DATA_CONTENT_TYPE,
    dataschema: `urn:tectonic:cdm:${envelope.entity}:${envelope.version}`,
  };
  for (const [key, name] of ATTRIBUTE_NAMES) {
    const value = envelope[key];
    if (value !== undefined) attributes[name] = value;
  }
  return attributes;
}

function serialise(data: unknown): Checked<string> {
  if (data === undefined) return { ok: false, reasons: [reason('payload', 'required', 'is missing: there is no record to publish')] };
  try {
    // A function or a symbol has no JSON form: stringify returns undefined rather than throwing.
    const json = JSON.stringify(data) as string | undefined;
    if (json === undefined) return { ok: false, reasons: [reason('payload', 'json', `cannot be written as JSON: a ${typeof data} has no JSON form`)] };
    return { ok: true, value: json };
  } catch (err) {
    return { ok: false, reasons: [reason('payload', 'json', `cannot be written as JSON: ${(err as Error).message}`)] };
  }
}

export function encodeMessage(envelope: CdmEnvelope, data: unknown, mode: WireMode): Checked<EncodedMessage> {
  // The data is written on its own first: inside the event a function or symbol would silently drop the `data` member.
  const body = serialise(data);
  if (!body.ok) return body;
  if (mode === 'binary') {
    const { datacontenttype: _moved, ...userProperties } = attributesOf(envelope);
    return { ok: true, value: { payload: body.value, properties: { contentType: DATA_CONTENT_TYPE, userProperties } } };
  }
  return { ok: true, value: { payload: structuredEvent(envelope, body.value), properties: { contentType: STRUCTURED_CONTENT_TYPE } } };
}

/**
 * JSON.stringify(attributesOf(envelope) with the data last), written piece
 * by piece: this runs for every record published, and stringifying an
 * object of a dozen members cost more than its data. Everything between the
 * attributes that change per record (id, time, correlation and trace ids)
 * comes from a template made once per entity, version, site, source and
 * validation mark, so a record's event is a handful of pieces; a text with
 * nothing to escape is quoted as it is.
 */
function structuredEvent(envelope: CdmEnvelope, dataJson: string): string {
  const t = templateFor(envelope);
  let event = t.beforeId + jsonText(envelope.id) + t.beforeTime + jsonText(envelope.time) + t.beforeCorrelation;
  if (envelope.correlationId !== undefined) event += jsonText(envelope.correlationId);
  if (envelope.traceparent !== undefined) event += `,"traceparent":${jsonText(envelope.traceparent)}`;
  if (envelope.probe !== undefined) event += `,"cdmprobe":${jsonText(envelope.probe)}`;
  return `${event}${t.beforeData}${dataJson}}`;
}

// Printable ASCII but `"` and `\`: JSON.stringify writes such a text as it is, in quotes.
const PLAIN_JSON_TEXT = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

function jsonText(text: string): string {
  return PLAIN_JSON_TEXT.test(text) ? `"${text}"` : JSON.stringify(text);
}

/** A structured event's constant text around the attributes that change per record. */
interface EventTemplate {
  entity: string;
  version: string;
  site: string;
  source: string;
  validated: string | undefined;
  correlated: boolean;
  beforeId: string;
  beforeTime: string;
  /** Up to the correlation id's value when there is one, else up to where it would be. */
  beforeCorrelation: string;
  beforeData: string;
}

/** The templates in use: a site publishes a handful of kinds of record, so they are few and found by comparing. */
const templates: EventTemplate[] = [];
const TEMPLATES_KEPT = 16;

function templateFor(e: CdmEnvelope): EventTemplate {
  const correlated = e.correlationId !== undefined;
  for (const t of templates) {
    if (t.entity === e.entity && t.version === e.version && t.site === e.site && t.source === e.source && t.validated === e.validated && t.correlated === correlated) return t;
  }
  const attributes = attributesOf({ entity: e.entity, version: e.version } as CdmEnvelope);
  const head = JSON.stringify({ specversion: attributes.specversion, type: attributes.type, datacontenttype: attributes.datacontenttype, dataschema: attributes.dataschema }).slice(0, -1);
  const template: EventTemplate = {
    entity: e.entity,
    version: e.version,
    site: e.site,
    source: e.source,
    validated: e.validated,
    correlated,
    beforeId: `${head},"id":`,
    beforeTime: `,"source":${jsonText(e.source)},"time":`,
    beforeCorrelation: `,"cdmentity":${jsonText(e.entity)},"cdmversion":${jsonText(e.version)},"cdmsite":${jsonText(e.site)}${correlated ? ',"correlationid":' : ''}`,
    beforeData: `${e.validated !== undefined ? `,"cdmvalidated":${jsonText(e.validated)}` : ''},"data":`,
  };
  if (templates.length >= TEMPLATES_KEPT) templates.pop();
  templates.unshift(template);
  return template;
}

/** JSON from the bus, safely: a reason (rule `json` or `prototype-key`) instead of a throw. */
export function parseJson(payload: Buffer, path: string): Checked<unknown> {
  return parseUntrustedJson(payload.toString('utf8'), path);
}

function firstValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function envelopeFrom(read: (name: string) => unknown, path: string): Checked<CdmEnvelope> {
  const candidate: Record<string, unknown> = {};
  for (const [key, name] of ATTRIBUTE_NAMES) {
    const value = read(name);
    if (value !== undefined) candidate[key] = value;
  }
  const specversion = read('specversion');
  if (specversion !== '1.0') {
    return { ok: false, reasons: [reason(`${path}.specversion`, 'const', `must be "1.0" (a CloudEvents 1.0 event), got ${JSON.stringify(specversion) ?? 'nothing'}`)] };
  }
  const checked = checkEnvelope(candidate, 'cdm');
  if (checked.ok) return checked;
  // Name the wire attribute, not the msg.cdm key, so the reason matches what the sender wrote.
  const wireName = new Map<string, string>(ATTRIBUTE_NAMES.map(([key, name]) => [`cdm.${key}`, `${path}.${name}`]));
  return { ok: false, reasons: checked.reasons.map((r) => ({ ...r, path: wireName.get(r.path) ?? r.path })) };
}

/** Rebuilds payload and envelope from either wire mode; every problem is a reason, never a throw. */
export function decodeMessage(wire: WireMessage, limits: DecodeLimits = DEFAULT_DECODE_LIMITS): Checked<DecodedMessage> {
  if (wire.payload.length > limits.maxBytes) {
    return { ok: false, reasons: [reason('', 'maxBytes', `message is ${wire.payload.length} bytes, more than the limit of ${limits.maxBytes}`)] };
  }
  const user = wire.properties?.userProperties;
  if (user !== undefined && firstValue(user.specversion) !== undefined) {
    return decodeBinary(wire, user, limits);
  }
  const parsed = parseJson(wire.payload, 'event');
  if (!parsed.ok) return parsed;
  const event = parsed.value;
  if (typeof event !== 'object' || event === null || Array.isArray(event)) {
    return { ok: false, reasons: [reason('event', 'type', `must be a CloudEvents JSON object, got ${typeName(event)}`)] };
  }
  const fields = event as Record<string, unknown>;
  const envelope = envelopeFrom((name) => fields[name], 'event');
  if (!envelope.ok) return envelope;
  const reasons: Reason[] = [];
  if (fields.data_base64 !== undefined) reasons.push(reason('event.data_base64', 'unsupported', 'binary data is not a canonical record; send JSON in "data"'));
  else if (!('data' in fields)) reasons.push(reason('event.data', 'required', 'is missing: the event carries no record'));
  else if (exceedsDepth(fields.data, limits.maxDepth)) reasons.push(reason('event.data', 'maxDepth', `is nested deeper than ${limits.maxDepth} levels`));
  if (reasons.length > 0) return { ok: false, reasons };
  return { ok: true, value: { envelope: envelope.value, data: fields.data, mode: 'structured' } };
}

function decodeBinary(wire: WireMessage, user: Record<string, string | string[]>, limits: DecodeLimits): Checked<DecodedMessage> {
  const contentType = wire.properties?.contentType ?? firstValue(user.datacontenttype) ?? DATA_CONTENT_TYPE;
  if (!/^application\/(.+\+)?json\b/i.test(contentType)) {
    return { ok: false, reasons: [reason('contentType', 'unsupported', `content type "${contentType}" is not JSON`)] };
  }
  const envelope = envelopeFrom((name) => firstValue(user[name]), 'properties');
  if (!envelope.ok) return envelope;
  const data = parseJson(wire.payload, 'payload');
  if (!data.ok) return data;
  if (exceedsDepth(data.value, limits.maxDepth)) {
    return { ok: false, reasons: [reason('payload', 'maxDepth', `is nested deeper than ${limits.maxDepth} levels`)] };
  }
  return { ok: true, value: { envelope: envelope.value, data: data.value, mode: 'binary' } };
}
