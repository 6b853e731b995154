import type { NodeAPI } from 'node-red';
import { metricsRegistry } from '../../lib/metrics/registry';
import { siteMetrics } from '../../lib/metrics/site-metrics';
import { nodeRedVersion, packVersion } from './pack-version';
import type { AdminRequest, AdminResponse } from './admin-http';

const served = new WeakSet<object>();

/**
 * GET /tectonic/metrics under the admin root: the one Prometheus registry in
 * text format, behind the admin API's authentication (`flows.read`, as the
 * stats endpoint). Any of the pack's nodes with counters installs it.
 */
export function serveMetrics(RED: NodeAPI): void {
  if (served.has(RED.httpAdmin)) return;
  served.add(RED.httpAdmin);
  const metrics = siteMetrics();
  metrics.buildInfo.reset();
  metrics.buildInfo.set({ pack: packVersion(), nodered: nodeRedVersion(RED), nodejs: process.versions.node }, 1);
  RED.httpAdmin.get('/tectonic/metrics', RED.auth.needsPermission('flows.read'), (_req: AdminRequest, res: AdminResponse) => {
    metricsRegistry.metrics().then(
      (text) => {
        res.set('Content-Type', metricsRegistry.contentType);
        res.send(text);
      },
      (err: unknown) => res.status(500).json({ message: `metrics could not be collected: ${err instanceof Error ? err.message : String(err)}` }),
    );
  });
}
