import type { Node, NodeAPI, NodeDef, NodeMessage } from 'node-red';
import { describeReasons, type Reason, reason } from '../lib/reasons';
import { readLookupMessage } from '../lib/registry/lookup-message';
import { type LookupConfig, parseLookupSettings } from '../lib/registry/lookup-settings';
import type { RegistryFeed } from '../lib/registry/registry-feed';
import { dropIfIdle, feedFor } from '../lib/registry/shared-feeds';
import { EndpointPicker } from '../lib/registry/strategies';
import { findBus, type TectonicBusNode } from './support/bus-config';
import { translator } from './support/i18n';
import { showCannotStart } from './support/lifecycle';
import { serveRegistry } from './support/registry-endpoint';
import { busStatus } from './support/status';
import { StatusThrottle } from './support/status-throttle';
import { nodeCounters } from './support/stats';

type RegistryLookupDef = NodeDef & LookupConfig & { bus: string; retry?: boolean; wires?: string[][] };

/** How long a message waits for a service's first retained entries after deploy. */
const FIRST_VIEW_BOUND_MS = 5000;

/** Services one node follows when msg.service names them. */
const MAX_SERVICES = 64;

/** Tries per message with retry on: the first endpoint and two more. */
const MAX_ATTEMPTS = 3;

type LookupMsg = NodeMessage & { url?: string; endpoint?: object; registry?: { attempts?: number; failed?: unknown }; reject?: object };

export = function (RED: NodeAPI): void {
  const t = translator(RED);
  serveRegistry(RED);
  function RegistryLookup(this: Node, config: RegistryLookupDef): void {
    RED.nodes.createNode(this, config);
    const fail = (problem: string): void => showCannotStart(this, problem, t('registry-lookup.errors.problem', { problem }));
    const found = findBus(RED, config.bus, this);
    if ('problem' in found) return fail(found.problem);
    const bus = found.bus;
    const site = (RED.nodes.getNode(config.bus) as TectonicBusNode | null)?.siteId ?? '';
    const parsed = parseLookupSettings(config, site, (name) => RED.util.evaluateNodeProperty(name, 'env', this, {}) as string | undefined);
    if (!parsed.ok) return fail(describeReasons(parsed.reasons));
    const settings = parsed.value;
    const feed: RegistryFeed = feedFor(bus);
    const picker = new EndpointPicker(settings.strategy, settings.preference);
    // With nothing wired to the second output, "no endpoint" goes to done(err) so a catch node sees it.
    const errorsWired = (config.wires?.[1]?.length ?? 0) > 0;
    const counts = { resolved: 0, unresolved: 0, failed: 0 };
    nodeCounters(RED, this, 'lookup', { counts: () => ({ ...counts }) });

    const uses = new Map<string, { ready: Promise<void>; release: () => Promise<void>; settled: boolean }>();
    const use = (service: string): { ready: Promise<void>; settled: boolean } => {
      let found = uses.get(service);
      if (found === undefined) {
        const made = { ...feed.use(service), settled: false };
        void made.ready.then(
          () => (made.settled = true),
          (err: Error) => {
            made.settled = true;
            // Refused (an ACL without the health or registry topics): lookups still answer from what arrives, bounded by TTLs.
            this.warn(t('registry-lookup.warnings.subscribe', { service, error: err.message }));
          },
        );
        uses.set(service, made);
        found = made;
      }
      return found;
    };
    if (settings.service !== undefined) use(settings.service);
    const stopRefusals = feed.onRefusal((topic, reasons) => this.warn(t('registry-lookup.warnings.malformed', { topic, reasons: describeReasons(reasons) })));

    const throttle = new StatusThrottle(this, () => busStatus(t, bus.state, t('registry-lookup.status.counts', counts)));
    const stopWatching = bus.onState(() => throttle.show());

    const resolve = (msg: LookupMsg, service: string, send: (msgs: Array<NodeMessage | null>) => void, done: (err?: Error) => void): void => {
      const endpoint = picker.pick(feed.view.healthy(service));
      if (endpoint !== undefined) {
        counts.resolved += 1;
        msg.url = endpoint.url;
        // A copy: the view's endpoint is shared by every lookup, and a flow may change what it is handed.
        msg.endpoint = { ...endpoint, metadata: structuredClone(endpoint.metadata) };
        send([msg, null]);
        done();
      } else {
        counts.unresolved += 1;
        refuse(msg, [reason('service', 'no-endpoint', t('registry-lookup.errors.noEndpoint', { service }))], send, done);
      }
      throttle.show();
    };
    const refuse = (msg: LookupMsg, reasons: Reason[], send: (msgs: Array<NodeMessage | null>) => void, done: (err?: Error) => void): void => {
      const message = describeReasons(reasons);
      msg.reject = { stage: 'registry-lookup', reasons };
      if (!errorsWired) return done(new Error(message));
      (msg as { error?: object }).error = { message, source: { id: this.id, type: 'registry-lookup', name: this.name } };
      send([null, msg]);
      done();
    };

    this.on('input', (raw, send, done) => {
      const msg = raw as LookupMsg;
      const request = readLookupMessage(msg, settings.service);
      if (request.kind === 'refused') return refuse(msg, request.reasons, send, done);
      // msg.service comes from the flow: each new name is a subscription, so their number is bounded.
      if (!uses.has(request.service) && uses.size >= MAX_SERVICES) return refuse(msg, [reason('service', 'too-many', t('registry-lookup.errors.tooMany', { max: MAX_SERVICES }))], send, done);
      const wanted = use(request.service);
      if (request.kind === 'failed') {
        counts.failed += feed.view.markFailed(request.service, request.endpoint, settings.coolDownMs).length;
        // Retry: the same message goes out again to the next healthy endpoint, a bounded number of times.
        const attempts = (msg.registry?.attempts ?? 1) + 1;
        if (config.retry !== true || attempts > MAX_ATTEMPTS || feed.view.healthy(request.service).length === 0) {
          throttle.show();
          return done();
        }
        msg.registry = { attempts };
        delete (msg as { error?: unknown }).error;
        return resolve(msg, request.service, send, done);
      }
      if (wanted.settled) return resolve(msg, request.service, send, done);
      // Just deployed: the service's retained entries are on their way; wait for them (bounded) rather than answer "none".
      let answered = false;
      const answer = (): void => {
        if (answered) return;
        answered = true;
        clearTimeout(timer);
        resolve(msg, request.service, send, done);
      };
      const timer = setTimeout(answer, FIRST_VIEW_BOUND_MS);
      void wanted.ready.catch(() => undefined).then(answer);
    });

    this.on('close', (done: () => void) => {
      stopWatching();
      stopRefusals();
      throttle.stop();
      void Promise.all([...uses.values()].map((u) => u.release())).then(() => {
        dropIfIdle(bus);
        done();
      });
    });
  }

  RED.nodes.registerType('registry-lookup', RegistryLookup);
};
