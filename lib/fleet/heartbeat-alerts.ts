import type { FleetAlert } from './alert-format';
import { parseUntrustedJson } from '../untrusted-json';

const KINDS = new Set(['offline', 'missing', 'restart', 'gap', 'canary-failed', 'version-lag', 'sunset', 'drift', 'recovered']);
const SEVERITIES = new Set(['critical', 'warning', 'info']);

/** An alert the centre sent on `tectonic/alerts/{site}`, read as untrusted; undefined when it is not one. */
export function parseFleetAlert(payload: Buffer): FleetAlert | undefined {
  const parsed = parseUntrustedJson(payload.toString('utf8'), 'alert');
  if (!parsed.ok || typeof parsed.value !== 'object' || parsed.value === null) return undefined;
  const a = parsed.value as Record<string, unknown>;
  if (typeof a.site !== 'string' || typeof a.kind !== 'string' || !KINDS.has(a.kind)) return undefined;
  if (typeof a.severity !== 'string' || !SEVERITIES.has(a.severity) || typeof a.since !== 'string' || typeof a.reason !== 'string') return undefined;
  const alert: FleetAlert = { site: a.site, kind: a.kind as FleetAlert['kind'], severity: a.severity as FleetAlert['severity'], since: a.since, reason: a.reason.slice(0, 500) };
  if (typeof a.of === 'string' && KINDS.has(a.of) && a.of !== 'recovered') alert.of = a.of as FleetAlert['of'];
  return alert;
}

/**
 * What the centre currently says about the site: the alerts raised and not
 * yet recovered, by kind. The node's status shows the worst one.
 */
export class SiteAlerts {
  private readonly open = new Map<string, FleetAlert>();

  note(alert: FleetAlert): void {
    if (alert.kind === 'recovered') {
      if (alert.of !== undefined) this.open.delete(alert.of);
    } else {
      this.open.set(alert.kind, alert);
    }
  }

  get worst(): FleetAlert | undefined {
    let worst: FleetAlert | undefined;
    for (const a of this.open.values()) if (worst === undefined || rank(a) > rank(worst)) worst = a;
    return worst;
  }

  get count(): number {
    return this.open.size;
  }
}

function rank(a: FleetAlert): number {
  return a.severity === 'critical' ? 3 : a.severity === 'warning' ? 2 : 1;
}
