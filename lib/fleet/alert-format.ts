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
}
