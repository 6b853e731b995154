/**
 * What heartbeat-monitor sends on its output and, for the site concerned, on
 * `tectonic/alerts/{site}`. One alert per change: raised, then `recovered`
 * (with `of` naming what cleared) when the condition ends.
 */
export type AlertKind = 'offline' | 'missing' | 'restart' | 'gap' | 'canary-failed' | 'version-lag' | 'sunset' | 'drift';

export interface FleetAlert {
  site: string;
  kind: AlertKind | 'recovered';
  /** With kind `recovered`: the alert that cleared. */
  of?: AlertKind;
  severity: 'critical' | 'warning' | 'info';
  /** ISO 8601: when the condition began (for `recovered`, when it ended). */
  since: string;
  /** Plain words for the person on call. */
  reason: string;
  /** Added by heartbeat-monitor (optional, so older readers ignore it): the site's session when the alert was raised. */
  session?: number;
  /** Added by heartbeat-monitor's damping: how many alerts for this site were held back before this one (docs/fleet.md). */
  held?: number;
  /** Added by heartbeat-monitor: the facts behind the reason (the failed canary's stage, the missing sequence numbers, ...). */
  details?: Record<string, string | number | boolean>;
}
