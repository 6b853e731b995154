import type { Node, NodeAPI, NodeDef } from 'node-red';
import { resolveBusSettings } from '../lib/bus/bus-settings';
import { SharedBus } from '../lib/bus/shared-bus';
import { closeWithin } from '../lib/close-within';
import { BirthAndDeath } from '../lib/fleet/birth-death';
import { parseSiteId } from '../lib/fleet/health-topics';
import { SessionCounter } from '../lib/fleet/session-counter';
import { describeReasons } from '../lib/reasons';
import { maskUrlPasswords } from '../lib/redact-url';
import type { BusCredentials, TectonicBusNode } from './support/bus-config';
import { translator } from './support/i18n';
import { nodeCounters } from './support/stats';
import { stableClientId, stateDir } from './support/user-dir';

interface TectonicBusDef extends NodeDef {
  mode: string;
  host: string;
  port: string;
  url: string;
  protocolVersion: string;
  clientId: string;
  keepalive: string;
  tls: string;
  session: string;
  persistence: string;
  siteId?: string;
  securityFile: string;
}

/** The core tls-config node's one method we rely on. */
interface TlsConfigNode extends Node {
  addTLSOptions(options: Record<string, unknown>): void;
}

export = function (RED: NodeAPI): void {
  const t = translator(RED);
  function TectonicBus(this: TectonicBusNode, config: TectonicBusDef): void {
    RED.nodes.createNode(this, config);
    const settings = resolveBusSettings(config, stableClientId(RED, this.id), this.credentials.user || undefined);
    const site = parseSiteId(config.siteId);
    if (!settings.ok || !site.ok) {
      this.problem = t('tectonic-bus.errors.problem', { problem: describeReasons([...(settings.ok ? [] : settings.reasons), ...(site.ok ? [] : site.reasons)]) });
      this.error(this.problem);
      return;
    }
    let tls: Record<string, unknown> | undefined;
    if (config.tls) {
      const tlsNode = RED.nodes.getNode(config.tls) as TlsConfigNode | null;
      if (tlsNode === null) {
        this.problem = t('tectonic-bus.errors.tlsMissing');
        this.error(this.problem);
        return;
      }
      tls = {};
      tlsNode.addTLSOptions(tls);
    }
    const bus = new SharedBus({
      settings: settings.value,
      username: this.credentials.user || undefined,
      password: this.credentials.password || undefined,
      tls,
      brokerDir:
        settings.value.mode === 'embedded' && settings.value.persistence === 'disk'
          ? stateDir(RED, this, 'broker', `${settings.value.host}_${settings.value.port}`)
          : undefined,
      health: site.value === '' ? undefined : new BirthAndDeath(site.value, new SessionCounter(`${stateDir(RED, this, 'health', site.value)}/session`)),
      brokerLog: (line) => this.log(line),
    });
    this.bus = bus;
    this.siteId = site.value;
    const where =
      settings.value.mode === 'embedded' ? t('tectonic-bus.warnings.embeddedAt', { host: settings.value.host, port: settings.value.port }) : maskUrlPasswords(settings.value.url);
    if (settings.value.mode === 'embedded' && settings.value.securityFile === undefined) this.log(t('tectonic-bus.log.open'));
    let reported = '';
    const counters = nodeCounters(RED, this, '', { levels: () => ({ connected: bus.state.kind === 'connected' ? 1 : 0 }) });
    bus.onState((state) => {
      if (state.kind === 'connected') counters.count('connects');
      else if (state.kind === 'disconnected') counters.count('disconnects');
      // Log each failure once, not on every reconnect attempt.
      const problem = state.kind === 'failed' || state.kind === 'disconnected' ? (state.error ?? '') : '';
      if (problem !== '' && problem !== reported) this.warn(t('tectonic-bus.warnings.connection', { where, problem: maskUrlPasswords(problem) }));
      reported = problem;
      if (state.kind === 'connected') this.log(t('tectonic-bus.log.connected', { url: maskUrlPasswords(bus.settings.url), clientId: bus.settings.clientId }));
    });
    bus.onError((err) => this.error(t('tectonic-bus.errors.problem', { problem: maskUrlPasswords(err.message) }))).catch(() => undefined);
    this.on('close', (_removed: boolean, done: () => void) => {
      void closeWithin(bus.close()).then(done);
    });
  }

  RED.nodes.registerType<TectonicBusNode, TectonicBusDef, unknown, BusCredentials>('tectonic-bus', TectonicBus, {
    credentials: { user: { type: 'text' }, password: { type: 'password' } },
  });
};
