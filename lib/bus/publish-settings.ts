import type { WireMode } from '../envelope/cloudevents';
import { reason } from '../reasons';
import type { QoS } from './bus-client';
import { type ParsedSettings, limitField, qosField } from './setting-fields';

/** The bus-publish editor fields this reads. */
export interface RawPublishConfig {
  qos?: string;
  wireMode?: string;
  mode?: string;
  /** The site id, or the name of the environment variable that holds it. */
  site?: string;
  siteType?: string;
  outboxMaxCount?: string;
  outboxMaxBytes?: string;
  whenFull?: string;
}

export interface PublishSettings {
  qos: QoS;
  wireMode: WireMode;
  /** dead-letter: msg.reject goes to the site's dead-letter topic instead of msg.cdm to its canonical topic. */
  mode: 'canonical' | 'dead-letter';
  /** The resolved site id; '' is allowed in canonical mode, where each envelope names its site. */
  site: string;
  outboxMaxCount: number;
  outboxMaxBytes: number;
  whenFull: 'reject' | 'drop-oldest';
}

export const DEFAULT_OUTBOX_MAX_COUNT = 100_000;
export const DEFAULT_OUTBOX_MAX_BYTES = 64 * 1024 * 1024;

/**
 * bus-publish's settings. `site` is the site id already read from the
 * environment when `siteType` is 'env' (that lookup needs the runtime);
 * `protocolVersion` is the bus connection's. The first problem found is the
 * one reported, in the words the node has always used.
 */
export function parsePublishSettings(config: RawPublishConfig, context: { protocolVersion: 4 | 5; site: string }): ParsedSettings<PublishSettings> {
  const warnings: string[] = [];
  const mode = config.mode === 'dead-letter' ? 'dead-letter' : 'canonical';
  const site = context.site;
  if (mode === 'dead-letter' && site === '') {
    const why = config.siteType === 'env' ? `environment variable ${config.site ?? ''} (the site id) is not set` : 'dead-letter mode needs the site id';
    return { ok: false, reasons: [reason('', 'required', why)], warnings };
  }
  const outboxMaxCount = limitField(config.outboxMaxCount, DEFAULT_OUTBOX_MAX_COUNT);
  const outboxMaxBytes = limitField(config.outboxMaxBytes, DEFAULT_OUTBOX_MAX_BYTES);
  if (outboxMaxCount === undefined || outboxMaxBytes === undefined) {
    return { ok: false, reasons: [reason('', 'range', 'the outbox limits must be whole numbers greater than 0')], warnings };
  }
  let wireMode: WireMode = config.wireMode === 'binary' ? 'binary' : 'structured';
  if (wireMode === 'binary' && context.protocolVersion !== 5) {
    // Binary mode needs MQTT 5 user properties; structured mode carries the same attributes on any version.
    warnings.push('binary mode needs an MQTT 5 connection; publishing in structured mode');
    wireMode = 'structured';
  }
  return {
    ok: true,
    value: { qos: qosField(config.qos), wireMode, mode, site, outboxMaxCount, outboxMaxBytes, whenFull: config.whenFull === 'drop-oldest' ? 'drop-oldest' : 'reject' },
    warnings,
  };
}
