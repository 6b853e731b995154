import { type Checked, type Reason, reason } from '../reasons';
import { type EnvLookup, typedField } from '../sources/typed-field';
import { parseUntrustedJson } from '../untrusted-json';
import { checkEndpointUrl, checkEntryFields, type EntryFields } from './entry-format';
import type { HealthCheckSettings } from './health-check';

/** registry-announce's editor fields: each a value or an environment variable (`<field>Type` = 'env'). */
export interface AnnounceConfig {
  service?: string;
  serviceType?: string;
  instance?: string;
  instanceType?: string;
  url?: string;
  urlType?: string;
  weight?: string;
  weightType?: string;
  region?: string;
  regionType?: string;
  ttl?: string;
  ttlType?: string;
  metadata?: string;
  metadataType?: string;
  healthUrl?: string;
  healthUrlType?: string;
  healthInterval?: string;
  healthTimeout?: string;
  healthFailures?: string;
}

export interface AnnounceSettings {
  fields: Omit<EntryFields, 'session'>;
  health?: HealthCheckSettings;
}

export const DEFAULTS = { instance: 'default', weight: 100, ttl: 30, healthIntervalS: 10, healthTimeoutS: 2, healthFailures: 2 } as const;

/** The node's settings, checked as a reader checks an entry, so a node never announces what readers would refuse. */
export function parseAnnounceSettings(config: AnnounceConfig, site: string, env: EnvLookup): Checked<AnnounceSettings> {
  const reasons: Reason[] = [];
  const text = (field: keyof AnnounceConfig, typeField: keyof AnnounceConfig): string => {
    const value = typedField(config[field], config[typeField], field, env);
    if (value.ok) return value.text;
    reasons.push(reason(field, 'env', value.problem));
    return '';
  };
  const number = (field: string, raw: string, fallback: number): number => {
    if (raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isFinite(value)) reasons.push(reason(field, 'type', `"${raw}" is not a number`));
    return value;
  };
  const metadataText = text('metadata', 'metadataType');
  let metadata: Record<string, unknown> = {};
  if (metadataText !== '') {
    const parsed = parseUntrustedJson(metadataText, 'metadata');
    if (!parsed.ok) reasons.push(...parsed.reasons);
    else metadata = parsed.value as Record<string, unknown>;
  }
  const region = text('region', 'regionType');
  const fields = {
    service: text('service', 'serviceType'),
    site,
    instance: text('instance', 'instanceType') || DEFAULTS.instance,
    url: text('url', 'urlType'),
    metadata,
    weight: number('weight', text('weight', 'weightType'), DEFAULTS.weight),
    ttl: number('ttl', text('ttl', 'ttlType'), DEFAULTS.ttl),
    ...(region === '' ? {} : { region }),
  };
  if (reasons.length > 0) return { ok: false, reasons };
  reasons.push(...checkEntryFields(fields));
  const healthUrl = text('healthUrl', 'healthUrlType');
  let health: HealthCheckSettings | undefined;
  if (healthUrl !== '') {
    const bad = checkEndpointUrl(healthUrl, 'healthUrl');
    if (bad !== undefined) reasons.push(bad);
    const intervalS = number('healthInterval', (config.healthInterval ?? '').trim(), DEFAULTS.healthIntervalS);
    const timeoutS = number('healthTimeout', (config.healthTimeout ?? '').trim(), DEFAULTS.healthTimeoutS);
    const failures = number('healthFailures', (config.healthFailures ?? '').trim(), DEFAULTS.healthFailures);
    if (!(intervalS >= 1 && intervalS <= 3600)) reasons.push(reason('healthInterval', 'range', 'must be 1 to 3600 seconds'));
    if (!(timeoutS > 0 && timeoutS < intervalS)) reasons.push(reason('healthTimeout', 'range', 'must be more than 0 and less than the interval'));
    if (!(Number.isInteger(failures) && failures >= 1 && failures <= 100)) reasons.push(reason('healthFailures', 'range', 'must be a whole number from 1 to 100'));
    health = { url: healthUrl, intervalMs: intervalS * 1000, timeoutMs: timeoutS * 1000, failuresToWithdraw: failures };
  }
  if (reasons.length > 0) return { ok: false, reasons };
  return { ok: true, value: health === undefined ? { fields } : { fields, health } };
}
