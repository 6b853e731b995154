import type { NodeAPI } from 'node-red';
import { registrySnapshot } from '../../lib/registry/shared-feeds';
import type { AdminRequest, AdminResponse } from './admin-http';

// Per admin app: a runtime embedded more than once in a process (the test helper) gets a fresh one each time.
const served = new WeakSet<object>();

/**
 * GET /tectonic/fleet/registry: the RegistrySnapshot (lib/fleet/registry-format.ts)
 * of every view this runtime's lookup nodes keep, for the fleet page and
 * the monitor. Only services some lookup names are kept, so only they appear.
 */
export function serveRegistry(RED: NodeAPI): void {
  if (served.has(RED.httpAdmin)) return;
  served.add(RED.httpAdmin);
  RED.httpAdmin.get('/tectonic/fleet/registry', RED.auth.needsPermission('flows.read'), (_req: AdminRequest, res: AdminResponse) => {
    res.json(registrySnapshot());
  });
}
