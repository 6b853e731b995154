import { Counter, Gauge } from 'prom-client';
import { metricsRegistry } from '../metrics/registry';
import type { FleetMonitor } from './monitor';

/**
 * The centre's per-site figures on the pack's Prometheus registry. Read at
 * scrape time from the monitors that run (collect), so a heartbeat costs the
 * monitor nothing for metrics. Label sets are bounded: `site` by the
 * monitor's cap on tracked sites (maxSites, default 5,000), `state` and
 * `kind` by their enumerations.
 */
const monitors = new Set<FleetMonitor>();
let registered = false;

const STATE_VALUE = { online: 1, offline: 0, unknown: -1 } as const;

function register(): void {
  if (registered) return;
  registered = true;
  const views = (): ReturnType<FleetMonitor['siteViews']> => [...monitors].flatMap((m) => m.siteViews());
  new Gauge({
    name: 'tectonic_fleet_site_health_score',
    help: 'Health score of each site, 0 to 100 (docs/fleet.md "Health score")',
    labelNames: ['site'],
    registers: [metricsRegistry],
    collect() {
      this.reset();
      for (const v of views()) this.set({ site: v.site }, v.health.score);
    },
  });
  new Gauge({
    name: 'tectonic_fleet_site_up',
    help: 'State of each site from tectonic/health/{site}/state: 1 online, 0 offline, -1 not heard yet',
    labelNames: ['site'],
    registers: [metricsRegistry],
    collect() {
      this.reset();
      for (const v of views()) this.set({ site: v.site }, STATE_VALUE[v.state]);
    },
  });
  new Gauge({
    name: 'tectonic_fleet_site_heartbeat_age_seconds',
    help: 'Seconds since the latest heartbeat of each site was sent (corrected for clock skew)',
    labelNames: ['site'],
    registers: [metricsRegistry],
    collect() {
      this.reset();
      for (const v of views()) if (v.heartbeat !== undefined) this.set({ site: v.site }, v.heartbeat.ageSeconds);
    },
  });
  new Gauge({
    name: 'tectonic_fleet_site_canary_latency_seconds',
    help: 'End-to-end latency of the latest passing synthetic transaction of each site',
    labelNames: ['site'],
    registers: [metricsRegistry],
    collect() {
      this.reset();
      for (const v of views()) if (v.canary?.ok === true) this.set({ site: v.site }, v.canary.latencyMs / 1000);
    },
  });
  new Gauge({
    name: 'tectonic_fleet_sites',
    help: 'Sites the monitor tracks, by state',
    labelNames: ['state'],
    registers: [metricsRegistry],
    collect() {
      this.reset();
      const counts = { online: 0, offline: 0, unknown: 0 };
      for (const v of views()) counts[v.state] += 1;
      for (const [state, n] of Object.entries(counts)) this.set({ state }, n);
    },
  });
  new Counter({
    name: 'tectonic_fleet_alerts_total',
    help: 'Alerts the monitors sent (after damping), by kind',
    labelNames: ['kind'],
    registers: [metricsRegistry],
    collect() {
      this.reset();
      for (const m of monitors) for (const [kind, n] of m.alertCounts) this.inc({ kind }, n);
    },
  });
}

/** Adds a monitor's sites to the metrics; the returned function takes them away (the node's close). */
export function exposeMonitorMetrics(monitor: FleetMonitor): () => void {
  register();
  monitors.add(monitor);
  return () => monitors.delete(monitor);
}
