import { type Checked, reason } from '../reasons';

/** A site id as it appears in a topic level: the same rule as the records' `cdm/{entity}/v{major}/{site}`. */
export const SITE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** Retained: the connection's birth (`online`) and death (`offline`, the last will). */
export const stateTopic = (site: string): string => `tectonic/health/${site}/state`;
/** Retained: the site's latest heartbeat. */
export const heartbeatTopic = (site: string): string => `tectonic/health/${site}/heartbeat`;
/** What the centre tells a site about itself. */
export const alertsTopic = (site: string): string => `tectonic/alerts/${site}`;
/** Retained: a vetted template's fingerprint, published by the centre. */
export const templateTopic = (name: string): string => `tectonic/templates/${name}`;

export const STATE_FILTER = 'tectonic/health/+/state';
export const HEARTBEAT_FILTER = 'tectonic/health/+/heartbeat';

/** The site in `tectonic/health/{site}/...`, or undefined. */
export function siteOfHealthTopic(topic: string): string | undefined {
  const parts = topic.split('/');
  return parts.length === 4 && parts[0] === 'tectonic' && parts[1] === 'health' && SITE_ID.test(parts[2] as string) ? parts[2] : undefined;
}

/** '' stays '' (no site: the bus announces nothing); anything else must be a site id. */
export function parseSiteId(raw: string | undefined): Checked<string> {
  const site = (raw ?? '').trim();
  const unset = /^\$\{(\S+)\}$/.exec(site);
  if (unset) return { ok: false, reasons: [reason('siteId', 'env', `environment variable ${unset[1]} is not set`)] };
  if (site !== '' && !SITE_ID.test(site)) {
    return { ok: false, reasons: [reason('siteId', 'pattern', `"${site}" is not a site id: 1 to 64 letters, digits, ".", "_" or "-", starting with a letter or digit`)] };
  }
  return { ok: true, value: site };
}
