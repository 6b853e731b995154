import type { FlowClock } from '../flow/in-flight';
import type { AlertKind, FleetAlert } from './alert-format';
import type { DampingSettings } from './monitor-settings';

interface SiteBudget {
  windowStart: number;
  sent: number;
  /** Alerts held back in this window. */
  held: number;
  /** Per kind: what the outside was last told (raised or not) and what is true now, with the alert that made it so. */
  told: Map<AlertKind, boolean>;
  actual: Map<AlertKind, FleetAlert>;
  cleared: Map<AlertKind, FleetAlert>;
  timer?: unknown;
}

/**
 * Keeps a flapping site from flooding whoever is on call: at most
 * `maxAlertsPerWindow` alerts per site per window go out as they happen
 * (so the first offline of a quiet site is never delayed); the rest are held
 * back. At the window's end the outside is told only where it now stands
 * wrong: one alert per kind whose raised/recovered state differs from what was
 * last sent, carrying `held` (how many were held back). A site that went
 * offline and online twenty times in a minute gives six alerts and, at most,
 * one reconciling alert per kind.
 */
export class AlertDamper {
  private readonly sites = new Map<string, SiteBudget>();

  constructor(
    private readonly settings: DampingSettings,
    private readonly clock: FlowClock,
    private readonly out: (alert: FleetAlert) => void,
  ) {}

  /** Alerts held back so far, across all sites (for the page and the status). */
  heldTotal = 0;

  offer(alert: FleetAlert): void {
    const budget = this.budgetOf(alert.site);
    const kind = alert.kind === 'recovered' ? alert.of : alert.kind;
    if (kind === undefined) return;
    if (alert.kind === 'recovered') {
      budget.actual.delete(kind);
      budget.cleared.set(kind, alert);
    } else {
      budget.actual.set(kind, alert);
      budget.cleared.delete(kind);
    }
    const now = this.clock.now();
    if (now - budget.windowStart >= this.settings.windowMs && budget.timer === undefined) {
      budget.windowStart = now;
      budget.sent = 0;
    }
    if (budget.sent < this.settings.maxAlertsPerWindow) {
      budget.sent += 1;
      budget.told.set(kind, alert.kind !== 'recovered');
      this.out(alert);
      return;
    }
    budget.held += 1;
    this.heldTotal += 1;
    budget.timer ??= this.clock.setTimeout(() => this.reconcile(alert.site), Math.max(0, budget.windowStart + this.settings.windowMs - now));
  }

  /** Forgets a site (it left the fleet, or the monitor closes). */
  forget(site: string): void {
    const budget = this.sites.get(site);
    if (budget?.timer !== undefined) this.clock.clearTimeout(budget.timer);
    this.sites.delete(site);
  }

  close(): void {
    for (const site of [...this.sites.keys()]) this.forget(site);
  }

  private budgetOf(site: string): SiteBudget {
    let budget = this.sites.get(site);
    if (budget === undefined) {
      budget = { windowStart: this.clock.now(), sent: 0, held: 0, told: new Map(), actual: new Map(), cleared: new Map() };
      this.sites.set(site, budget);
    }
    return budget;
  }

  private reconcile(site: string): void {
    const budget = this.sites.get(site);
    if (budget === undefined) return;
    budget.timer = undefined;
    const held = budget.held;
    budget.held = 0;
    budget.windowStart = this.clock.now();
    budget.sent = 0;
    let first = true;
    const kinds = new Set<AlertKind>([...budget.told.keys(), ...budget.actual.keys()]);
    for (const kind of kinds) {
      const raised = budget.actual.has(kind);
      if ((budget.told.get(kind) ?? false) === raised) continue;
      const latest = raised ? budget.actual.get(kind) : budget.cleared.get(kind);
      if (latest === undefined) continue;
      budget.told.set(kind, raised);
      budget.sent += 1;
      this.out(first ? { ...latest, held } : latest);
      first = false;
    }
  }
}
