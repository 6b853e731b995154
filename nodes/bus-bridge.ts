import type { Node, NodeAPI, NodeDef } from 'node-red';
import { parseBridgeSettings } from '../lib/bridge/bridge-settings';
import { BusBridge } from '../lib/bridge/bus-bridge';
import type { SharedBusState } from '../lib/bus/shared-bus';
import { describeReasons } from '../lib/reasons';
import { findBus } from './support/bus-config';
import { translator } from './support/i18n';
import { showCannotStart } from './support/lifecycle';
import { busStatus } from './support/status';
import { StatusThrottle } from './support/status-throttle';
import { nodeCounters } from './support/stats';
import { stateDir } from './support/user-dir';

interface BusBridgeDef extends NodeDef {
  regionalBus: string;
  globalBus: string;
  hubId: string;
  hubIdType: string;
  sites: string;
  sitesType: string;
  outboxMaxCount?: string;
  outboxMaxBytes?: string;
}

export = function (RED: NodeAPI): void {
  const t = translator(RED);
  function BusBridgeNode(this: Node, config: BusBridgeDef): void {
    RED.nodes.createNode(this, config);
    const fail = (problem: string): void => showCannotStart(this, problem, t('bus-bridge.errors.problem', { problem }));
    if (config.regionalBus === config.globalBus) return fail(t('bus-bridge.errors.sameBus'));
    // Looked up before either is used: a bridge that cannot start holds neither connection open.
    const regionalFound = findBus(RED, config.regionalBus);
    if ('problem' in regionalFound) return fail(regionalFound.problem);
    const globalFound = findBus(RED, config.globalBus);
    if ('problem' in globalFound) return fail(globalFound.problem);
    const evaluate = (value: string | undefined, type: string): string => (type === 'env' ? String(RED.util.evaluateNodeProperty(value ?? '', 'env', this, {}) ?? '') : (value ?? ''));
    const globalSiteId = globalFound.bus.health?.site;
    const parsed = parseBridgeSettings({
      hubId: evaluate(config.hubId, config.hubIdType),
      sites: evaluate(config.sites, config.sitesType),
      outboxMaxCount: config.outboxMaxCount,
      outboxMaxBytes: config.outboxMaxBytes,
      globalSiteId,
    });
    if (!parsed.ok) return fail(describeReasons(parsed.reasons));
    const settings = parsed.value;
    if (globalSiteId === undefined) this.warn(t('bus-bridge.warnings.noHubDeath', { hub: settings.hubId }));

    findBus(RED, config.regionalBus, this);
    findBus(RED, config.globalBus, this);
    const regional = regionalFound.bus;
    const global = globalFound.bus;

    let regionalState: SharedBusState = regional.state;
    let globalState: SharedBusState = global.state;
    const bridge = new BusBridge({
      settings,
      regional,
      global,
      outboxDir: stateDir(RED, this, 'bridge', settings.hubId),
      onProblem: (err) => this.error(t('bus-bridge.errors.problem', { problem: err.message })),
      changed: () => throttle.show(),
    });
    const { counts } = bridge;
    const throttle = new StatusThrottle(this, () => {
      // The side that is down is the one worth showing; the global side when both are up.
      const [side, state] = regionalState.kind !== 'connected' ? [t('bus-bridge.side.regional'), regionalState] : [t('bus-bridge.side.global'), globalState];
      return busStatus(t, state, t('bus-bridge.status.counts', { side, up: counts.up + counts.upState, down: counts.down, held: bridge.held }));
    });
    const stops = [
      regional.onState((next) => {
        regionalState = next;
        throttle.show();
      }),
      global.onState((next) => {
        globalState = next;
        throttle.show();
      }),
    ];
    // In the one store of counters (stats and metrics endpoints): what crossed each way, and what waits.
    nodeCounters(RED, this, 'bridge', { counts: () => ({ ...counts }), levels: () => ({ held: bridge.held }) });
    bridge.start();

    // removed: the subscriptions go; a restart keeps them in both persistent sessions.
    this.on('close', (removed: boolean, done: () => void) => {
      for (const stop of stops) stop();
      throttle.stop();
      void bridge.close(removed).then(() => done());
    });
  }

  RED.nodes.registerType('bus-bridge', BusBridgeNode);
};
