import { join } from 'node:path';
import type { NodeAPI } from 'node-red';
import type { FleetView } from '../../lib/fleet/monitor-view';

/**
 * The fleet page under the admin root (docs/fleet.md "The fleet page").
 *
 * GET /tectonic/fleet serves the page itself to anyone: it holds no data,
 * as the editor's own page at the admin root holds none, and a browser that
 * navigates to it cannot send the editor's bearer token (the editor keeps it
 * in localStorage and adds it to its own XHRs). Every byte of fleet data is at
 * GET /tectonic/fleet/data, behind RED.auth.needsPermission('flows.read')
 * like the rest of the admin API; the page's script reads the editor's token
 * from localStorage (`auth-tokens` plus the editor path's suffix, as
 * @node-red/editor-client's RED.settings names it) and sends it. The editor
 * sidebar tab goes through jQuery, to which the editor adds the token itself.
 */
const views = new Map<string, () => FleetView>();
const served = new WeakSet<object>();

interface PageResponse {
  status(code: number): PageResponse;
  json(body: unknown): void;
  set(field: string, value: string): PageResponse;
  sendFile(path: string): void;
}

/** Where the build ships the page: resources/ at the package root, beside dist/. */
export const PAGE_FILE = join(__dirname, '..', '..', '..', 'resources', 'fleet', 'index.html');

/** Several monitors (rare) show as one fleet: the first to know a site shows it. */
export function mergeViews(all: FleetView[]): FleetView | undefined {
  const [first, ...rest] = all;
  if (first === undefined) return undefined;
  const bom = Object.fromEntries(Object.entries(first.bom).map(([component, row]) => [component, { ...row }]));
  const merged: FleetView = { ...first, bom, sites: [...first.sites], recentAlerts: [...first.recentAlerts], templates: [...first.templates] };
  const known = new Set(first.sites.map((s) => s.site));
  for (const view of rest) {
    for (const site of view.sites) if (!known.has(site.site)) { known.add(site.site); merged.sites.push(site); }
    merged.recentAlerts.push(...view.recentAlerts);
    merged.templates.push(...view.templates);
    merged.heldAlerts += view.heldAlerts;
    merged.ignoredSites += view.ignoredSites;
    for (const [component, row] of Object.entries(view.bom)) {
      const into = (merged.bom[component] ??= {});
      for (const [version, n] of Object.entries(row)) into[version] = (into[version] ?? 0) + n;
    }
  }
  merged.sites.sort((a, b) => a.health.score - b.health.score || a.site.localeCompare(b.site));
  return merged;
}

/** Serves a monitor's view on the fleet page; the returned function withdraws it (the node's close). */
export function exposeFleet(RED: NodeAPI, nodeId: string, view: () => FleetView): () => void {
  views.set(nodeId, view);
  if (!served.has(RED.httpAdmin)) {
    served.add(RED.httpAdmin);
    RED.httpAdmin.get('/tectonic/fleet', (_req: unknown, res: PageResponse) => {
      res.set('Cache-Control', 'no-store').sendFile(PAGE_FILE);
    });
    RED.httpAdmin.get('/tectonic/fleet/data', RED.auth.needsPermission('flows.read'), (_req: unknown, res: PageResponse) => {
      const merged = mergeViews([...views.values()].map((read) => read()));
      if (merged === undefined) res.status(404).json({ message: 'no heartbeat-monitor node is running' });
      else res.set('Cache-Control', 'no-store').json(merged);
    });
  }
  return () => {
    if (views.get(nodeId) === view) views.delete(nodeId);
  };
}
