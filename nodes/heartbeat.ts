import type { Node, NodeAPI, NodeDef, NodeStatus } from 'node-red';
import type { Unsubscribe } from '../lib/bus/bus-client';
import { SiteAlerts, parseFleetAlert } from '../lib/fleet/heartbeat-alerts';
import { BeatSequence, buildHeartbeat, publishedVersions } from '../lib/fleet/heartbeat-beat';
import { HeartbeatCanary } from '../lib/fleet/heartbeat-canary';
import type { CanaryResult } from '../lib/fleet/heartbeat-format';
import { type HeartbeatConfig, parseHeartbeatSettings } from '../lib/fleet/heartbeat-settings';
import { alertsTopic, heartbeatTopic } from '../lib/fleet/health-topics';
import { counterStore } from '../lib/metrics/counters';
import { siteMetrics } from '../lib/metrics/site-metrics';
import { findBus } from './support/bus-config';
import { translator } from './support/i18n';
import { showCannotStart } from './support/lifecycle';
import { nodeRedVersion, packVersion } from './support/pack-version';
import { SiteView } from './support/site-view';
import { nodeCounters } from './support/stats';

type HeartbeatDef = NodeDef & HeartbeatConfig & { bus: string };

export = function (RED: NodeAPI): void {
  const t = translator(RED);
  function Heartbeat(this: Node, config: HeartbeatDef): void {
    RED.nodes.createNode(this, config);
    const fail = (problem: string): void => showCannotStart(this, problem, t('heartbeat.errors.problem', { problem }));
    const parsed = parseHeartbeatSettings(config, (name) => process.env[name]);
    if (!parsed.ok) return fail(parsed.problem);
    const settings = parsed.value;
    const found = findBus(RED, config.bus, this);
    if ('problem' in found) return fail(found.problem);
    const bus = found.bus;
    const health = bus.health;
    if (health === undefined) return fail(t('heartbeat.errors.noSite'));
    const site = health.site;

    const startedAt = Date.now();
    const counters = nodeCounters(RED, this, '');
    const metrics = siteMetrics();
    const view = new SiteView(RED);
    const sequence = new BeatSequence();
    const alerts = new SiteAlerts();
    let canaryResult: CanaryResult | undefined;
    let lastSeq = -1;
    let closed = false;
    const subscriptions: Unsubscribe[] = [];
    const keep = (unsubscribe: Unsubscribe): void => {
      if (closed) void unsubscribe();
      else subscriptions.push(unsubscribe);
    };

    const show = (): void => {
      const worst = alerts.worst;
      let status: NodeStatus = { fill: 'green', shape: 'dot', text: t('heartbeat.status.beating', { seq: lastSeq, session: health.session }) };
      if (canaryResult !== undefined && !canaryResult.ok) status = { fill: 'red', shape: 'dot', text: t('heartbeat.status.canaryFailed', { stage: canaryResult.stage }) };
      if (worst !== undefined) status = { fill: worst.severity === 'critical' ? 'red' : 'yellow', shape: 'ring', text: t('heartbeat.status.alert', { kind: worst.kind, reason: worst.reason }) };
      if (lastSeq < 0 && worst === undefined) status = { fill: 'grey', shape: 'ring', text: t('heartbeat.status.waiting') };
      this.status(status);
    };

    // A probe is settled on the probe board: by a stage refusing it, by bus-publish when the broker acknowledges it, or by its deadline.
    const canary =
      settings.probe === undefined
        ? undefined
        : new HeartbeatCanary({
            ...settings.probe,
            settled: (result) => {
              canaryResult = result;
              counters.count(result.ok ? 'canaryPassed' : 'canaryFailed');
              metrics.canaryTotal.inc({ outcome: result.ok ? 'ok' : 'failed', stage: result.ok ? '' : result.stage });
              if (result.ok) {
                metrics.canaryDuration.observe({ stage: 'total' }, result.latencyMs / 1000);
                for (const [stage, ms] of Object.entries(result.stagesMs)) metrics.canaryDuration.observe({ stage }, ms / 1000);
              }
              show();
              this.send([null, { topic: 'canary', payload: result }]);
            },
          });
    const sendProbe = (): void => {
      if (canary === undefined) return;
      counters.count('probesSent');
      this.send([canary.start(), null]);
    };

    const beat = (): void => {
      if (closed || bus.state.kind !== 'connected') return;
      if (canary?.due() === true) sendProbe();
      const versions = { pack: packVersion(), nodeRed: nodeRedVersion(RED), node: process.versions.node, ...view.versions() };
      const hb = buildHeartbeat(
        {
          site, session: health.session, intervalMs: settings.intervalMs, now: new Date(), startedAt,
          stages: counterStore.byStage(), outboxDepth: counterStore.level('outboxDepth'), lastError: view.lastError, versions,
          cdmPublished: publishedVersions.take(), fingerprint: view.flowsFingerprint(), template: settings.template, canary: canaryResult,
        },
        sequence.next(health.session),
      );
      lastSeq = hb.seq;
      bus.publish(heartbeatTopic(site), JSON.stringify(hb), { qos: 1, retain: true }).then(
        () => {
          counters.count('beats');
          metrics.heartbeatsTotal.inc({ site });
          metrics.versionsInfo.reset();
          metrics.versionsInfo.set({ site, catalog: versions.catalog ?? '', policy: versions.policy ?? '' }, 1);
        },
        (err: Error) => this.warn(t('heartbeat.errors.publish', { error: err.message })),
      );
      show();
    };

    bus.subscribe(alertsTopic(site), 1, (_topic, payload) => {
      const alert = parseFleetAlert(payload);
      if (alert === undefined || alert.site !== site) return;
      alerts.note(alert);
      show();
      this.send([null, { topic: alertsTopic(site), payload: alert }]);
    }).then(keep, (err: Error) => this.warn(t('heartbeat.errors.alerts', { error: err.message })));

    // A beat at each (re)connect, the first of its session (seq 0), then one per interval.
    const stopWatching = bus.onState((state) => {
      if (state.kind === 'connected') setImmediate(beat);
    });
    const timer = setInterval(beat, settings.intervalMs);
    show();

    this.on('close', (done: () => void) => {
      closed = true;
      clearInterval(timer);
      stopWatching();
      canary?.close();
      view.close();
      const leaving = subscriptions.splice(0).map((u) => u());
      void Promise.allSettled(leaving).then(() => done());
    });
  }

  RED.nodes.registerType('heartbeat', Heartbeat);
};
