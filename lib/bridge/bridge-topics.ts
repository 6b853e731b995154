import { SITE_ID } from '../fleet/health-topics';

/**
 * Which topics a regional hub carries, and which way. The two sets are
 * disjoint (nothing the hub publishes on one bus matches what it reads on
 * the other), so a forwarded message cannot come back: the embedded aedes
 * speaks MQTT 3.1.1, which has no no-local subscription option.
 *
 * Up (regional -> global), only for the hub's own sites:
 *   cdm/+/+/{site}                  records, the site unchanged in the topic
 *   tectonic/health/{site}/#        birth, death (the site's will), heartbeats
 *   tectonic/registry/+/{site}/#    announced endpoints
 *   tectonic/dlq/{site}/#           dead letters
 * Down (global -> regional):
 *   tectonic/cdm/#, tectonic/policy/#, tectonic/templates/#   the centre's artefacts
 *   tectonic/alerts/{site}/#        what the centre tells each of the hub's sites
 */
export type BridgeDirection = 'up' | 'down';

/** What a bridged topic carries; it decides the retained flag and whether the up direction goes through the outbox. */
export type BridgedKind = 'record' | 'health' | 'registry' | 'dead-letter' | 'catalog' | 'policy' | 'template' | 'alert';

export interface BridgeRoute {
  kind: BridgedKind;
  /**
   * Retained on the far side. A broker clears the RETAIN flag of a message it
   * sends to an established subscription [MQTT-3.3.1-9], and MQTT 3.1.1 has
   * no Retain As Published, so the flag cannot be read off what arrives: it
   * comes from the topic contract (docs/message-contract.md), where every
   * topic is either always retained or never.
   */
  retain: boolean;
  /** The site the topic names (up, and alerts); undefined for the centre's artefacts. */
  site?: string;
}

const RETAINED: Record<BridgedKind, boolean> = {
  record: false,
  health: true,
  registry: true,
  'dead-letter': false,
  catalog: true,
  policy: true,
  template: true,
  alert: false,
};

/** Subscriptions on the regional bus: what goes up. */
export function upFilters(sites: readonly string[]): string[] {
  return sites.flatMap((site) => [`cdm/+/+/${site}`, `tectonic/health/${site}/#`, `tectonic/registry/+/${site}/#`, `tectonic/dlq/${site}/#`]);
}

/** Subscriptions on the global bus: what comes down. */
export function downFilters(sites: readonly string[]): string[] {
  return ['tectonic/cdm/#', 'tectonic/policy/#', 'tectonic/templates/#', ...sites.map((site) => `tectonic/alerts/${site}/#`)];
}

/**
 * Where a message arriving on `direction`'s source bus goes, or undefined when
 * the hub does not carry it (another hub's site, a topic outside both sets).
 * The check is made per message and not left to the subscriptions alone: an
 * overlapping subscription of another node on the same bus connection is
 * routed here too.
 */
export function routeOf(direction: BridgeDirection, topic: string, sites: ReadonlySet<string>): BridgeRoute | undefined {
  const parts = topic.split('/');
  const served = (site: string | undefined): site is string => site !== undefined && sites.has(site);
  if (direction === 'up') {
    if (parts[0] === 'cdm') return parts.length === 4 && served(parts[3]) ? route('record', parts[3]) : undefined;
    if (parts[0] !== 'tectonic') return undefined;
    if (parts[1] === 'health' && parts.length >= 4) return served(parts[2]) ? route('health', parts[2]) : undefined;
    if (parts[1] === 'registry' && parts.length >= 4) return served(parts[3]) ? route('registry', parts[3]) : undefined;
    if (parts[1] === 'dlq' && parts.length >= 3) return served(parts[2]) ? route('dead-letter', parts[2]) : undefined;
    return undefined;
  }
  if (parts[0] !== 'tectonic' || parts.length < 3) return undefined;
  if (parts[1] === 'cdm') return route('catalog');
  if (parts[1] === 'policy') return route('policy');
  if (parts[1] === 'templates') return route('template');
  if (parts[1] === 'alerts') return served(parts[2]) ? route('alert', parts[2]) : undefined;
  return undefined;
}

function route(kind: BridgedKind, site?: string): BridgeRoute {
  return site === undefined ? { kind, retain: RETAINED[kind] } : { kind, retain: RETAINED[kind], site };
}

/** Retained on the global bus: the sites a hub serves, so the centre can mark them unreachable when the hub's own state is offline. */
export const hubSitesTopic = (hub: string): string => `tectonic/health/${hub}/sites`;

export interface HubSites {
  hub: string;
  sites: string[];
}

export function hubSitesPayload(hub: string, sites: readonly string[]): string {
  const body: HubSites = { hub, sites: [...sites] };
  return JSON.stringify(body);
}

/** Whether `value` can stand as one topic level naming a site (no '/', '+', '#', not empty). */
export function isSiteLevel(value: string): boolean {
  return SITE_ID.test(value);
}
