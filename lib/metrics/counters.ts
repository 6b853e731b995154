import type { StageCounters } from '../fleet/heartbeat-format';

/**
 * The one store of counters of a site's runtime: the stats endpoint
 * (GET /tectonic/stats/:id), the Prometheus endpoint (/tectonic/metrics) and
 * the heartbeat all read it, so the three never disagree.
 *
 * A node counts with plain integer increments on its own NodeCounters; the
 * Prometheus metrics copy them at scrape time (site-metrics.ts), so a record
 * costs an addition, not a label lookup. Probes (synthetic transactions) are
 * not counted: the nodes skip them before they count.
 */
export interface CounterReads {
  levels?: () => Record<string, number>;
  counts?: () => Record<string, number>;
  /** For a node whose record counts live elsewhere (bus-subscribe's decoder): sets in, out and rejects before a read. */
  sync?: (counters: NodeCounters) => void;
}

export class NodeCounters {
  in = 0;
  out = 0;
  rejected = 0;
  /** Rejected records by the rule of their first reason: a bounded set (the pack's rules and JSON Schema keywords). */
  readonly rejectedBy = new Map<string, number>();
  /** Things a node counts besides records (reloads, connects, beats): name -> count. */
  readonly events = new Map<string, number>();

  constructor(
    readonly node: string,
    readonly type: string,
    /** The pipeline stage for records (map, validate, policy, publish, subscribe), '' for a node that handles none. */
    readonly stage: string,
    /** What the node reports besides: current levels (outboxDepth, inFlight, connected) and its own detailed counts (published, duplicatesDropped). */
    readonly reads: CounterReads = {},
  ) {}

  /** Brings in, out and rejects up to date; every reader calls it first. */
  refresh(): this {
    this.reads.sync?.(this);
    return this;
  }

  /** Sets a rule's count outright (for sync). */
  setRejected(rule: string, n: number): void {
    if (n > 0 || this.rejectedBy.has(rule)) this.rejectedBy.set(rule, n);
    let sum = 0;
    for (const count of this.rejectedBy.values()) sum += count;
    this.rejected = sum;
  }

  levels(): Record<string, number> {
    return this.reads.levels?.() ?? {};
  }

  /** The events and the node's detailed counts, as one set of counters. */
  counts(): Record<string, number> {
    const all: Record<string, number> = this.reads.counts?.() ?? {};
    for (const [event, n] of this.events) all[event] = n;
    return all;
  }

  reject(rule: string | undefined): void {
    this.rejected += 1;
    const key = rule === undefined || rule === '' ? 'unknown' : this.rejectedBy.has(rule) || this.rejectedBy.size < MAX_RULES ? rule : 'other';
    this.rejectedBy.set(key, (this.rejectedBy.get(key) ?? 0) + 1);
  }

  count(event: string, by = 1): void {
    this.events.set(event, (this.events.get(event) ?? 0) + by);
  }

  /** What GET /tectonic/stats/:id answers: in, out, rejected, rejected.<rule>, the events and the levels. */
  snapshot(): Record<string, number> {
    const flat: Record<string, number> = this.stage === '' ? {} : { in: this.in, out: this.out, rejected: this.rejected };
    for (const [rule, n] of this.rejectedBy) flat[`rejected.${rule}`] = n;
    return { ...flat, ...this.counts(), ...this.levels() };
  }
}

/** Past this many distinct rules a node counts further ones as `other`, so label sets stay bounded. */
export const MAX_RULES = 64;

export class CounterStore {
  private readonly nodes = new Map<string, NodeCounters>();

  /** Adds a node's counters; the returned function removes exactly these (a redeployed node's successor may be in already). */
  add(counters: NodeCounters): () => void {
    this.nodes.set(counters.node, counters);
    return () => {
      if (this.nodes.get(counters.node) === counters) this.nodes.delete(counters.node);
    };
  }

  get(node: string): NodeCounters | undefined {
    return this.nodes.get(node)?.refresh();
  }

  /** Every node's counters, each brought up to date. */
  all(): NodeCounters[] {
    return [...this.nodes.values()].map((c) => c.refresh());
  }

  /** Per stage, summed over the nodes of that stage: what a heartbeat carries. */
  byStage(): Record<string, StageCounters> {
    const stages: Record<string, StageCounters> = {};
    for (const c of this.all()) {
      if (c.stage === '') continue;
      const s = (stages[c.stage] ??= { in: 0, out: 0, rejected: {} });
      s.in += c.in;
      s.out += c.out;
      for (const [rule, n] of c.rejectedBy) s.rejected[rule] = (s.rejected[rule] ?? 0) + n;
    }
    return stages;
  }

  /** A level summed over every node that reports it (outboxDepth over the site's bus-publish nodes). */
  level(name: string): number {
    let sum = 0;
    for (const c of this.nodes.values()) {
      const value = c.levels()[name];
      if (typeof value === 'number' && Number.isFinite(value)) sum += value;
    }
    return sum;
  }
}

/** The runtime's store: one Node-RED per process at a site (the test helper restarts nodes, and each removes its own on close). */
export const counterStore = new CounterStore();
