import type { IPublishPacket } from 'mqtt';
import type { Node, NodeAPI, NodeDef } from 'node-red';
import type { Unsubscribe } from '../lib/bus/bus-client';
import type { SharedBusState } from '../lib/bus/shared-bus';
import { alertsTopic } from '../lib/fleet/health-topics';
import { type CurrentVersions, FleetMonitor, MONITOR_FILTERS } from '../lib/fleet/monitor';
import { exposeMonitorMetrics } from '../lib/fleet/monitor-metrics';
import { type MonitorConfig, parseMonitorSettings } from '../lib/fleet/monitor-settings';
import { sunsetsOf } from '../lib/fleet/monitor-versions';
import { describeReasons } from '../lib/reasons';
import { findBus } from './support/bus-config';
import { findCatalog } from './support/catalog-config';
import { exposeFleet } from './support/fleet-page';
import { translator } from './support/i18n';
import { showCannotStart } from './support/lifecycle';
import { findPolicy } from './support/policy-config';
import { busStatus } from './support/status';
import { StatusThrottle } from './support/status-throttle';
import { nodeCounters } from './support/stats';

interface HeartbeatMonitorDef extends NodeDef, MonitorConfig {
  bus: string;
  /** Optional: the centre's catalog in force, the yardstick for version lag and sunsets. */
  catalog?: string;
  /** Optional: the centre's policy in force, the yardstick for version lag. */
  policy?: string;
}

/** Refusals are logged at most this often: a broken site beating every second must not flood the log. */
const REFUSAL_LOG_MS = 10_000;

export = function (RED: NodeAPI): void {
  const t = translator(RED);
  function HeartbeatMonitor(this: Node, config: HeartbeatMonitorDef): void {
    RED.nodes.createNode(this, config);
    const fail = (problem: string): void => showCannotStart(this, problem, t('heartbeat-monitor.errors.problem', { problem }));
    const parsed = parseMonitorSettings(config);
    if (!parsed.ok) return fail(describeReasons(parsed.reasons));
    const catalog = config.catalog ? findCatalog(RED, config.catalog) : undefined;
    if (catalog !== undefined && 'problem' in catalog) return fail(catalog.problem);
    const policy = config.policy ? findPolicy(RED, config.policy) : undefined;
    if (policy !== undefined && 'problem' in policy) return fail(policy.problem);
    const found = findBus(RED, config.bus, this);
    if ('problem' in found) return fail(found.problem);
    const bus = found.bus;
    const settings = parsed.value;

    // The centre's own catalog and policy, read at each judgement; the sunsets worked out once per catalog.
    let sunsets: { digest: string; map: Map<string, string> } | undefined;
    const current = (): CurrentVersions => {
      const snapshot = catalog?.catalog.snapshot;
      if (snapshot !== undefined && sunsets?.digest !== snapshot.digest) sunsets = { digest: snapshot.digest, map: sunsetsOf(snapshot.catalog) };
      const status = policy?.policy.status;
      return {
        ...(snapshot === undefined ? {} : { catalog: snapshot.digest, sunsets: sunsets?.map }),
        ...(status?.state === 'in-force' ? { policy: `${status.id}@${status.version}` } : {}),
      };
    };
    const counters = nodeCounters(RED, this, 'monitor');
    const monitor = new FleetMonitor({
      settings,
      current,
      alert: (alert) => {
        counters.count(alert.kind === 'recovered' ? 'recoveries' : 'alerts');
        this.send({ topic: alertsTopic(alert.site), payload: alert });
        if (settings.alertSites) bus.send(alertsTopic(alert.site), JSON.stringify(alert), { qos: 1, retain: false }, () => undefined);
        throttle.show();
      },
    });
    const stopCatalog = catalog?.catalog.onState(() => monitor.currentChanged());
    const stopPolicy = policy?.policy.onChange(() => monitor.currentChanged());

    let state: SharedBusState = bus.state;
    let refused = 0;
    let loggedAt = -Infinity;
    const throttle = new StatusThrottle(this, () => {
      if (state.kind !== 'connected') return busStatus(t, state);
      const view = monitor.siteViews();
      const offline = view.filter((s) => s.state === 'offline').length;
      const alerting = view.filter((s) => s.alerts.length > 0).length;
      const text = t('heartbeat-monitor.status.sites', { sites: view.length, offline, alerting });
      return { fill: alerting > 0 ? 'yellow' : 'green', shape: 'dot', text: refused > 0 ? t('heartbeat-monitor.status.andRefused', { text, refused }) : text };
    }, 1000);
    const stopWatching = bus.onState((next) => {
      state = next;
      throttle.show();
    });
    const stopMetrics = exposeMonitorMetrics(monitor);
    const stopPage = exposeFleet(RED, this.id, () => monitor.view());

    let closed = false;
    const onMessage = (topic: string, payload: Buffer, packet: IPublishPacket): void => {
      if (closed) return;
      const outcome = monitor.handle(topic, payload, packet.retain);
      if (!outcome.ok) {
        refused += 1;
        if (Date.now() - loggedAt >= REFUSAL_LOG_MS) {
          loggedAt = Date.now();
          this.warn(t('heartbeat-monitor.errors.refused', { topic, reasons: describeReasons(outcome.reasons) }));
        }
      }
      throttle.show();
    };
    const unsubscribers: Unsubscribe[] = [];
    for (const filter of MONITOR_FILTERS) {
      bus.subscribe(filter, 1, onMessage).then(
        (unsubscribe) => {
          if (closed) void unsubscribe();
          else unsubscribers.push(unsubscribe);
        },
        (err: Error) => {
          if (!closed) fail(err.message);
        },
      );
    }
    monitor.start();

    this.on('close', (done: () => void) => {
      closed = true;
      monitor.close();
      throttle.stop();
      stopWatching();
      stopMetrics();
      stopPage();
      stopCatalog?.();
      stopPolicy?.();
      void Promise.all(unsubscribers.map((unsubscribe) => unsubscribe())).then(() => done(), () => done());
    });
  }

  RED.nodes.registerType('heartbeat-monitor', HeartbeatMonitor);
};
