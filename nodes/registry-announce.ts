import type { Node, NodeAPI, NodeDef } from 'node-red';
import { closeWithin } from '../lib/close-within';
import { systemClock } from '../lib/flow/in-flight';
import { describeReasons } from '../lib/reasons';
import { type AnnounceConfig, parseAnnounceSettings } from '../lib/registry/announce-settings';
import { Announcer } from '../lib/registry/announcer';
import { HealthWatch } from '../lib/registry/health-check';
import { findBus, type TectonicBusNode } from './support/bus-config';
import { translator } from './support/i18n';
import { showCannotStart } from './support/lifecycle';
import { busStatus } from './support/status';
import { nodeCounters } from './support/stats';

type RegistryAnnounceDef = NodeDef & AnnounceConfig & { bus: string };

/** How long close waits for the broker to take the clearing message. */
const CLEAR_BOUND_MS = 2000;

export = function (RED: NodeAPI): void {
  const t = translator(RED);
  function RegistryAnnounce(this: Node, config: RegistryAnnounceDef): void {
    RED.nodes.createNode(this, config);
    const fail = (problem: string): void => showCannotStart(this, problem, t('registry-announce.errors.problem', { problem }));
    // Look first without registering: this node's close handler must run before
    // the bus's deregistration, so the clearing message leaves before the connection closes.
    const looked = findBus(RED, config.bus);
    if ('problem' in looked) return fail(looked.problem);
    const bus = looked.bus;
    const site = (RED.nodes.getNode(config.bus) as TectonicBusNode | null)?.siteId ?? '';
    if (site === '' || bus.health === undefined) return fail(t('registry-announce.errors.noSite'));
    const parsed = parseAnnounceSettings(config, site, (name) => RED.util.evaluateNodeProperty(name, 'env', this, {}) as string | undefined);
    if (!parsed.ok) return fail(describeReasons(parsed.reasons));
    const { fields, health } = parsed.value;

    let problem = '';
    const announcer = new Announcer(
      fields,
      // Only while connected: an entry queued offline would reach the broker after the reconnect's own, naming the lost session.
      (topic, payload) => (bus.state.kind === 'connected' ? bus.publish(topic, payload, { qos: 1, retain: true }) : Promise.resolve()),
      systemClock,
      () => bus.health?.session,
      (err) => {
        if (problem !== err.message) this.warn(t('registry-announce.errors.publish', { topic: announcer.topic, error: err.message }));
        problem = err.message;
      },
    );
    const show = (): void => {
      const detail =
        announcer.state === 'announced'
          ? t('registry-announce.status.announced', { service: fields.service, instance: fields.instance })
          : t('registry-announce.status.withdrawn', { why: watch?.lastOutcome?.healthy === false ? watch.lastOutcome.why : t('registry-announce.status.checking') });
      this.status(bus.state.kind === 'connected' && announcer.state === 'withdrawn' ? { fill: 'yellow', shape: 'ring', text: detail } : busStatus(t, bus.state, detail));
    };
    const counters = nodeCounters(RED, this, 'announce', { levels: () => ({ announced: announcer.state === 'announced' ? 1 : 0 }) });
    const watch =
      health === undefined
        ? undefined
        : new HealthWatch(health, systemClock, (verdict, outcome) => {
            counters.count(verdict === 'announce' ? 'healthy' : 'withdrawals');
            if (verdict === 'announce') announcer.announce();
            else {
              this.warn(t('registry-announce.warnings.withdrawn', { url: health.url, why: outcome.healthy ? '' : outcome.why }));
              announcer.withdraw();
            }
            show();
          });

    let wasConnected = false;
    const stopWatching = bus.onState((state) => {
      // Every (re)connect announces again: a broker that lost its retained state gets the entry back at once.
      if (state.kind === 'connected' && !wasConnected && (watch === undefined || watch.healthy)) announcer.reannounce();
      wasConnected = state.kind === 'connected';
      show();
    });
    this.on('close', (_removed: boolean, done: () => void) => {
      stopWatching();
      watch?.stop();
      void closeWithin(announcer.close(), CLEAR_BOUND_MS).then(() => done());
    });
    findBus(RED, config.bus, this);
    watch?.start();
  }

  RED.nodes.registerType('registry-announce', RegistryAnnounce);
};
