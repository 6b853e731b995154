import type { NodeAPI } from 'node-red';
import { type AdminRequest, type AdminResponse, param } from './admin-http';

/**
 * Counters a node exposes beyond its status dot (outbox depth, duplicates
 * dropped, ...), by node id: for the heartbeat to report and for tests and
 * operators to read at GET /tectonic/stats/:id.
 */
const sources = new Map<string, () => Record<string, number>>();
// Per admin app: a runtime embedded more than once in a process (the test helper) gets a fresh one each time.
const served = new WeakSet<object>();

export function exposeStats(RED: NodeAPI, nodeId: string, read: () => Record<string, number>): () => void {
  sources.set(nodeId, read);
  if (!served.has(RED.httpAdmin)) {
    served.add(RED.httpAdmin);
    RED.httpAdmin.get('/tectonic/stats/:id', RED.auth.needsPermission('flows.read'), (req: AdminRequest, res: AdminResponse) => {
      const id = param(req, 'id');
      const read = id === undefined ? undefined : sources.get(id);
      if (read === undefined) res.status(404).json({ message: `no node ${String(id)} with counters is running` });
      else res.json(read());
    });
  }
  return () => {
    if (sources.get(nodeId) === read) sources.delete(nodeId);
  };
}

export function readStats(nodeId: string): Record<string, number> | undefined {
  return sources.get(nodeId)?.();
}
