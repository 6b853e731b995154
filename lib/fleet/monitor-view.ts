import type { FleetAlert } from './alert-format';
import type { HealthScore } from './health-score';
import type { CanaryResult, Heartbeat, TemplateFingerprint } from './heartbeat-format';

/**
 * One site as the monitor sees it: what GET /tectonic/fleet/data returns per
 * site (docs/fleet.md "The fleet page"), and what the metrics read.
 */
export interface FleetSiteView {
  site: string;
  /** Named in the monitor's expected sites. */
  expected: boolean;
  /** From `tectonic/health/{site}/state`; unknown until one arrives. */
  state: 'online' | 'offline' | 'unknown';
  stateReason?: string;
  session?: number;
  stateSince?: string;
  heartbeat?: {
    seq: number;
    sentAt: string;
    /** Seconds since the beat was sent, by the monitor's clock corrected for the skew it measured. */
    ageSeconds: number;
    intervalMs: number;
    /** A retained beat already older than one and a half intervals when it arrived. */
    stale: boolean;
    /** The site's clock minus the monitor's, from live beats (positive: the site is ahead). */
    skewMs?: number;
    skewReported: boolean;
    uptimeSeconds: number;
  };
  restarts: number;
  gaps: number;
  missedBeats: number;
  rates: { inPerSecond: number; outPerSecond: number; rejectedPerSecond: number; rejectRate: number };
  /** Records out per second, oldest first, one point per beat (the page's chart). */
  history: number[];
  /** Records rejected since the site's birth, by rule. */
  rejects: Record<string, number>;
  outboxDepth: number;
  canary?: CanaryResult;
  versions?: Heartbeat['versions'];
  cdmPublished: string[];
  template?: { name: string; version: string };
  fingerprint?: string;
  /** Set when the template's fingerprint is known: whether it matches. */
  drift?: { drifting: boolean; expected: string; actual: string };
  lastError?: Heartbeat['lastError'];
  health: HealthScore;
  /** The conditions raised now. */
  alerts: FleetAlert[];
}

export interface FleetView {
  generatedAt: string;
  weights: Record<string, number>;
  current: { catalog?: string; policy?: string };
  sites: FleetSiteView[];
  /** The fleet's bill of materials: per component (pack, nodeRed, node, catalog, policy, template), how many sites run each version. */
  bom: Record<string, Record<string, number>>;
  templates: TemplateFingerprint[];
  recentAlerts: FleetAlert[];
  heldAlerts: number;
  /** Sites heard beyond the monitor's cap (maxSites), not tracked. */
  ignoredSites: number;
}
