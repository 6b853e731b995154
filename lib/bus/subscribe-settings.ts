import { type DecodeLimits, DEFAULT_DECODE_LIMITS } from '../envelope/cloudevents';
import { deadLetterFilter } from '../envelope/dead-letter';
import { parseMajors, subscriptionFilters } from '../envelope/topics';
import { DEFAULT_MAX_IN_FLIGHT } from '../flow/in-flight';
import { checkTopicFilter } from '../flow/topic-filter';
import { type Reason, reason } from '../reasons';
import type { QoS } from './bus-client';
import { type ParsedSettings, countField, qosField } from './setting-fields';

/** The bus-subscribe editor fields this reads. */
export interface RawSubscribeConfig {
  kind?: string;
  entity?: string;
  versions?: string;
  /** The site id, or the name of the environment variable that holds it. */
  site?: string;
  siteType?: string;
  group?: string;
  qos?: string;
  maxBytes?: string;
  dedupWindow?: string;
  /** Seconds an id made from an input is remembered (lib/envelope/derived-id.ts); absent in nodes saved before it: the default. */
  dedupMaxAge?: string;
  /** records: the MQTT topic filter. */
  topic?: string;
  /** 'pass': synthetic transactions go into the flow (msg.probe set); anything else: dropped (docs/fleet.md). */
  probes?: string;
  /** Absent in nodes saved before flow control: they take the default like an empty field. */
  maxInFlight?: string;
}

/** canonical: envelopes on canonical topics; dead-letter: a site's refused records; records: a site's own JSON on any topic. */
export type SubscriptionKind = 'canonical' | 'dead-letter' | 'records';

export interface SubscribeSettings {
  kind: SubscriptionKind;
  /** What is subscribed at the broker. */
  filters: string[];
  qos: QoS;
  /** Envelope ids remembered to drop redelivered duplicates. */
  dedupWindow: number;
  /** How long an id made from an input (a UUID of version 8) is remembered, besides the count; 0: not at all. */
  dedupMaxAgeMs: number;
  limits: DecodeLimits;
  /** Records unfinished in the flow before the connection is held; 0: no flow control. */
  maxInFlight: number;
  /** Synthetic transactions (envelope `probe`) are dropped unless this is true (setting `probes: "pass"`). */
  passProbes?: boolean;
}

export const DEFAULT_DEDUP_WINDOW = 10_000;

/**
 * 2 minutes: longer than a site's Node-RED takes to restart and get the
 * input it had not acknowledged redelivered (seconds under systemd or a
 * container restart), so that copy is dropped; short enough that equal
 * readings minutes apart on one topic both pass. Too short fails towards a
 * duplicate (as before ids were made from the input), too long towards a
 * genuine reading dropped: hence the short side (docs/message-contract.md).
 */
export const DEFAULT_DEDUP_MAX_AGE_SECONDS = 120;

// aedes has no shared subscriptions: a `$share/...` filter would match nothing and every message would vanish.
const NO_SHARING = 'the embedded broker has no shared subscriptions; this node receives every message';

function refused(reasons: Reason[], warnings: string[]): ParsedSettings<SubscribeSettings> {
  return { ok: false, reasons, warnings };
}

/**
 * bus-subscribe's settings. `site` is the site id already read from the
 * environment when `siteType` is 'env' (that lookup needs the runtime);
 * `embedded` says the bus runs the embedded broker. The first problem found is
 * the one reported, in the words the node has always used.
 */
export function parseSubscribeSettings(config: RawSubscribeConfig, context: { embedded: boolean; site: string }): ParsedSettings<SubscribeSettings> {
  const warnings: string[] = [];
  const kind: SubscriptionKind = config.kind === 'dead-letter' || config.kind === 'records' ? config.kind : 'canonical';
  let filters: string[];
  if (kind === 'records') {
    const topic = checkTopicFilter(config.topic ?? '');
    if (!topic.ok) return refused(topic.reasons, warnings);
    const unshared = topic.value.group !== undefined && context.embedded;
    if (unshared) warnings.push(NO_SHARING);
    filters = [unshared ? topic.value.match : topic.value.filter];
  } else {
    const site = context.site;
    if (config.siteType === 'env' && site === '') return refused([reason('', 'env', `environment variable ${config.site ?? ''} is not set`)], warnings);
    const majors = parseMajors(config.versions ?? '');
    if (!majors.ok) return refused(majors.reasons, warnings);
    let group = config.group ?? '';
    if (group !== '' && context.embedded) {
      warnings.push(NO_SHARING);
      group = '';
    }
    // The canonical selection checks the site id in dead-letter mode too, before it names a topic level.
    const selection = subscriptionFilters(kind === 'dead-letter' ? { site } : { entity: config.entity ?? '', majors: majors.value, site, group });
    if (!selection.ok) return refused(selection.reasons, warnings);
    filters = kind === 'dead-letter' ? [deadLetterFilter(site)] : selection.value;
  }
  const dedupWindow = countField(config.dedupWindow, DEFAULT_DEDUP_WINDOW);
  if (dedupWindow === undefined) return refused([reason('', 'integer', `the duplicate window must be a whole number of messages, got "${(config.dedupWindow ?? '').trim()}"`)], warnings);
  const dedupMaxAge = countField(config.dedupMaxAge, DEFAULT_DEDUP_MAX_AGE_SECONDS);
  if (dedupMaxAge === undefined) return refused([reason('', 'integer', `the time input ids are remembered must be a whole number of seconds, got "${(config.dedupMaxAge ?? '').trim()}"`)], warnings);
  const qos = qosField(config.qos);
  const maxBytes = countField(config.maxBytes, DEFAULT_DECODE_LIMITS.maxBytes);
  if (maxBytes === undefined) return refused([reason('', 'integer', `max bytes must be a whole number, got "${(config.maxBytes ?? '').trim()}"`)], warnings);
  const maxInFlight = countField(config.maxInFlight, DEFAULT_MAX_IN_FLIGHT);
  if (maxInFlight === undefined) {
    return refused([reason('', 'integer', `max in flight must be a whole number of records (0: no limit), got "${(config.maxInFlight ?? '').trim()}"`)], warnings);
  }
  const probes = config.probes === 'pass' ? { passProbes: true } : {};
  return { ok: true, value: { kind, filters, qos, dedupWindow, dedupMaxAgeMs: dedupMaxAge * 1000, limits: { ...DEFAULT_DECODE_LIMITS, maxBytes }, maxInFlight, ...probes }, warnings };
}
