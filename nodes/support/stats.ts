import type { Node, NodeAPI } from 'node-red';
import { type CounterReads, NodeCounters, counterStore } from '../../lib/metrics/counters';
import { type AdminRequest, type AdminResponse, param } from './admin-http';
import { serveMetrics } from './metrics-endpoint';

// Per admin app: a runtime embedded more than once in a process (the test helper) gets a fresh one each time.
const served = new WeakSet<object>();

/**
 * A node's counters in the one store (lib/metrics/counters.ts), read at
 * GET /tectonic/stats/:id, by the metrics at /tectonic/metrics and by the
 * heartbeat. They leave the store when the node closes.
 */
export function nodeCounters(RED: NodeAPI, node: Node, stage: string, reads?: CounterReads): NodeCounters {
  const counters = new NodeCounters(node.id, node.type, stage, reads);
  const remove = counterStore.add(counters);
  node.on('close', () => remove());
  serveStats(RED);
  serveMetrics(RED);
  return counters;
}

function serveStats(RED: NodeAPI): void {
  if (served.has(RED.httpAdmin)) return;
  served.add(RED.httpAdmin);
  RED.httpAdmin.get('/tectonic/stats/:id', RED.auth.needsPermission('flows.read'), (req: AdminRequest, res: AdminResponse) => {
    const id = param(req, 'id');
    const counters = id === undefined ? undefined : counterStore.get(id);
    if (counters === undefined) res.status(404).json({ message: `no node ${String(id)} with counters is running` });
    else res.json(counters.snapshot());
  });
}

export function readStats(nodeId: string): Record<string, number> | undefined {
  return counterStore.get(nodeId)?.snapshot();
}
