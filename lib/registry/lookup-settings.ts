import { type Checked, type Reason, reason } from '../reasons';
import { type EnvLookup, typedField } from '../sources/typed-field';
import { NAME } from './entry-format';
import { isStrategy, type Preference, STRATEGIES, type Strategy } from './strategies';

/** registry-lookup's editor fields. An empty service means "from msg.service". */
export interface LookupConfig {
  service?: string;
  serviceType?: string;
  strategy?: string;
  region?: string;
  regionType?: string;
  coolDown?: string;
}

export interface LookupSettings {
  /** undefined: each message names its service in msg.service. */
  service?: string;
  strategy: Strategy;
  preference: Preference;
  coolDownMs: number;
}

export const DEFAULT_COOL_DOWN_S = 30;

export function parseLookupSettings(config: LookupConfig, site: string, env: EnvLookup): Checked<LookupSettings> {
  const reasons: Reason[] = [];
  const service = typedField(config.service, config.serviceType, 'service', env);
  const region = typedField(config.region, config.regionType, 'region', env);
  if (!service.ok) reasons.push(reason('service', 'env', service.problem));
  else if (service.text !== '' && !NAME.test(service.text)) reasons.push(reason('service', 'pattern', `"${service.text}" is not a service name`));
  if (!region.ok) reasons.push(reason('region', 'env', region.problem));
  const strategy = (config.strategy ?? '').trim() || 'failover';
  if (!isStrategy(strategy)) reasons.push(reason('strategy', 'enum', `must be one of ${STRATEGIES.join(', ')}`));
  const coolDownText = (config.coolDown ?? '').trim();
  const coolDownS = coolDownText === '' ? DEFAULT_COOL_DOWN_S : Number(coolDownText);
  if (!(coolDownS >= 0 && coolDownS <= 86_400)) reasons.push(reason('coolDown', 'range', 'must be 0 to 86400 seconds'));
  if (strategy === 'same-site' && site === '') reasons.push(reason('strategy', 'site', 'same-site needs a tectonic-bus with a site id'));
  if (strategy === 'same-region' && region.ok && region.text === '') reasons.push(reason('region', 'required', 'same-region needs this node\'s region'));
  if (reasons.length > 0 || !service.ok || !region.ok || !isStrategy(strategy)) return { ok: false, reasons };
  const preference: Preference = { ...(site === '' ? {} : { site }), ...(region.text === '' ? {} : { region: region.text }) };
  return { ok: true, value: { ...(service.text === '' ? {} : { service: service.text }), strategy, preference, coolDownMs: coolDownS * 1000 } };
}
