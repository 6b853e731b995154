import { filterCovers, filtersOverlap, topicMatches } from './topic-filters';

/**
 * Who may publish and subscribe to what (docs/security.md, "Topics and
 * rights"): each role's rights follow the topic layout of DESIGN.md and
 * lib/envelope/topics.ts, and extra rules from the config add or remove
 * rights. Deny by default; a matching deny rule wins over every allow.
 */
export type Role = 'site' | 'hub' | 'central';
export type Action = 'publish' | 'subscribe';

export interface Principal {
  /** '' for an anonymous client (admitted only while no user is configured). */
  name: string;
  role: Role | 'anonymous';
  /** The sites whose rights the principal has: one for a site, a hub's list. */
  sites: readonly string[];
}

export interface AclRule {
  user?: string;
  /** A role, or '*' for every client, anonymous ones included. */
  role?: Role | '*';
  action: Action | 'both';
  pattern: string;
  allow: boolean;
}

/** What a site may publish: only under its own site id. */
export function sitePublishFilters(site: string): string[] {
  return [`cdm/+/+/${site}`, `tectonic/health/${site}/#`, `tectonic/registry/+/${site}/#`, `tectonic/dlq/${site}/#`];
}

/**
 * What a site may read: the catalog, policy, templates and registry the
 * centre publishes, every site's liveness (registry lookups need it), and its
 * own records, health, dead letters and alerts.
 */
export function siteSubscribeFilters(site: string): string[] {
  return [
    'tectonic/cdm/#',
    'tectonic/policy/#',
    'tectonic/templates/#',
    'tectonic/registry/#',
    'tectonic/health/+/state',
    `cdm/+/+/${site}`,
    `tectonic/health/${site}/#`,
    `tectonic/dlq/${site}/#`,
    `tectonic/alerts/${site}/#`,
  ];
}

function roleFilters(principal: Principal, action: Action): string[] {
  // Central (and an anonymous client on a broker with no users, which is
  // loopback-only) may do everything; `$SYS/` is the broker's own (aedes#597).
  if (principal.role === 'central' || principal.role === 'anonymous') return action === 'publish' ? ['#'] : ['#', '$SYS/#'];
  const perSite = action === 'publish' ? sitePublishFilters : siteSubscribeFilters;
  return [...new Set(principal.sites.flatMap(perSite))];
}

function applies(rule: AclRule, principal: Principal, action: Action): boolean {
  if (rule.action !== 'both' && rule.action !== action) return false;
  if (rule.user !== undefined && rule.user !== principal.name) return false;
  if (rule.role !== undefined && rule.role !== '*' && rule.role !== principal.role) return false;
  return rule.user !== undefined || rule.role !== undefined;
}

export interface AccessVerdict {
  allow: boolean;
  /** Why, for the broker's refusal log line. */
  why: string;
}

export class Acl {
  constructor(private readonly rules: readonly AclRule[]) {}

  /** May `principal` publish on `topic` (a topic name, no wildcards)? */
  publish(principal: Principal, topic: string): AccessVerdict {
    return this.decide(principal, 'publish', (filter) => topicMatches(filter, topic), (filter) => topicMatches(filter, topic));
  }

  /** May `principal` subscribe to `filter`? Only if every topic it matches is allowed. */
  subscribe(principal: Principal, filter: string): AccessVerdict {
    return this.decide(principal, 'subscribe', (allowed) => filterCovers(allowed, filter), (denied) => filtersOverlap(denied, filter));
  }

  /** May `principal` receive a message on `topic` (forwarding, retained ones included)? */
  receive(principal: Principal, topic: string): AccessVerdict {
    return this.decide(principal, 'subscribe', (filter) => topicMatches(filter, topic), (filter) => topicMatches(filter, topic));
  }

  private decide(principal: Principal, action: Action, allows: (filter: string) => boolean, denies: (filter: string) => boolean): AccessVerdict {
    const who = principal.name === '' ? 'anonymous' : principal.name;
    for (const rule of this.rules) {
      if (!rule.allow && applies(rule, principal, action) && denies(rule.pattern)) return { allow: false, why: `denied by rule ${rule.pattern} for ${who}` };
    }
    if (roleFilters(principal, action).some(allows)) return { allow: true, why: `role ${principal.role}` };
    for (const rule of this.rules) {
      if (rule.allow && applies(rule, principal, action) && allows(rule.pattern)) return { allow: true, why: `rule ${rule.pattern}` };
    }
    return { allow: false, why: `no right of ${who} (role ${principal.role}) allows it` };
  }
}
