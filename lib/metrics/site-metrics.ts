import { Counter, Gauge, Histogram } from 'prom-client';
import { type CounterStore, counterStore } from './counters';
import { metricsRegistry } from './registry';

/**
 * A site's metrics in the one registry (registry.ts). The counters are read
 * from the counter store when Prometheus scrapes (`collect`), never updated
 * per record: a node's hot path adds 1 to a plain field and nothing else
 * (issue 16: the per-record cost must not show). Labels: node id and type
 * (bounded by the flow), stage, outcome, the reject rule (capped per node,
 * counters.ts MAX_RULES).
 */

/** Levels a node reports, each its own gauge in base units. */
const LEVEL_METRICS: Record<string, { name: string; help: string }> = {
  outboxDepth: { name: 'tectonic_outbox_messages', help: 'Records waiting in a bus-publish outbox' },
  outboxBytes: { name: 'tectonic_outbox_bytes', help: 'Bytes held in a bus-publish outbox' },
  inFlight: { name: 'tectonic_in_flight_messages', help: 'Records a bus-subscribe let into the flow that have not finished' },
  connected: { name: 'tectonic_bus_connected', help: '1 while the bus connection is up, 0 otherwise' },
};

export interface SiteMetrics {
  /** Per stage (map, validate, policy, publish, bus, total), seconds: observed for each successful synthetic transaction. */
  canaryDuration: Histogram<'stage'>;
  canaryTotal: Counter<'outcome' | 'stage'>;
  heartbeatsTotal: Counter<'site'>;
  buildInfo: Gauge<'pack' | 'nodered' | 'nodejs'>;
  versionsInfo: Gauge<'site' | 'catalog' | 'policy'>;
}

let made: SiteMetrics | undefined;

/** Registers the site's metrics once per process (a name registered twice is an error in prom-client). */
export function siteMetrics(store: CounterStore = counterStore): SiteMetrics {
  if (made !== undefined) return made;
  const registers = [metricsRegistry];
  new Counter({
    name: 'tectonic_records_total',
    help: 'Records a node took in, passed on and rejected, probes left out',
    labelNames: ['node', 'type', 'stage', 'outcome'] as const,
    registers,
    collect() {
      this.reset();
      for (const c of store.all()) {
        if (c.stage === '') continue;
        this.inc({ node: c.node, type: c.type, stage: c.stage, outcome: 'in' }, c.in);
        this.inc({ node: c.node, type: c.type, stage: c.stage, outcome: 'out' }, c.out);
        this.inc({ node: c.node, type: c.type, stage: c.stage, outcome: 'rejected' }, c.rejected);
      }
    },
  });
  new Counter({
    name: 'tectonic_rejects_total',
    help: 'Rejected records by the rule of their first reason',
    labelNames: ['node', 'type', 'stage', 'rule'] as const,
    registers,
    collect() {
      this.reset();
      for (const c of store.all()) for (const [rule, n] of c.rejectedBy) this.inc({ node: c.node, type: c.type, stage: c.stage, rule }, n);
    },
  });
  new Counter({
    name: 'tectonic_node_events_total',
    help: 'What a node counts besides records (published, duplicates dropped, catalog loads, beats sent, ...)',
    labelNames: ['node', 'type', 'event'] as const,
    registers,
    collect() {
      this.reset();
      for (const c of store.all()) for (const [event, n] of Object.entries(c.counts())) this.inc({ node: c.node, type: c.type, event }, n);
    },
  });
  for (const [level, { name, help }] of Object.entries(LEVEL_METRICS)) {
    new Gauge({
      name,
      help,
      labelNames: ['node', 'type'] as const,
      registers,
      collect() {
        this.reset();
        for (const c of store.all()) {
          const value = c.levels()[level];
          if (typeof value === 'number') this.set({ node: c.node, type: c.type }, value);
        }
      },
    });
  }
  made = {
    canaryDuration: new Histogram({
      name: 'tectonic_canary_duration_seconds',
      help: "A synthetic transaction's latency per stage and end to end (stage total)",
      labelNames: ['stage'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    canaryTotal: new Counter({ name: 'tectonic_canary_total', help: 'Synthetic transactions by outcome, failures by the stage that stopped them', labelNames: ['outcome', 'stage'] as const, registers }),
    heartbeatsTotal: new Counter({ name: 'tectonic_heartbeats_sent_total', help: 'Heartbeats the site published', labelNames: ['site'] as const, registers }),
    buildInfo: new Gauge({ name: 'tectonic_build_info', help: 'Versions of the pack, Node-RED and Node.js; always 1', labelNames: ['pack', 'nodered', 'nodejs'] as const, registers }),
    versionsInfo: new Gauge({ name: 'tectonic_versions_info', help: 'The catalog and policy in force at the site, as its last heartbeat said; always 1', labelNames: ['site', 'catalog', 'policy'] as const, registers }),
  };
  return made;
}
