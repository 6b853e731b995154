import type { NodeAPI } from 'node-red';
import { type AdminRequest, type AdminResponse, param } from './admin-http';

/**
 * The last local record each deployed cdm-map received, by node id, for its
 * edit dialog's Try it box. A reference only: nothing is copied per message,
 * the record is serialised when the dialog asks.
 */
const seen = new Map<string, { record: unknown }>();
const served = new WeakSet<object>();

export function rememberLastRecord(RED: NodeAPI, nodeId: string): { saw(record: unknown): void; forget(): void } {
  if (!served.has(RED.httpAdmin)) {
    served.add(RED.httpAdmin);
    RED.httpAdmin.get('/tectonic/map/:id/last-record', RED.auth.needsPermission('cdm-map.read'), (req: AdminRequest, res: AdminResponse) => {
      const id = param(req, 'id');
      const last = id === undefined ? undefined : seen.get(id);
      // Not an error for the dialog of a node never deployed or not fed yet: an empty answer, not a 404 in the console.
      res.json(last === undefined ? {} : { record: last.record });
    });
  }
  const slot = { record: undefined as unknown };
  return {
    saw(record: unknown): void {
      slot.record = record;
      seen.set(nodeId, slot);
    },
    forget(): void {
      if (seen.get(nodeId) === slot) seen.delete(nodeId);
    },
  };
}
