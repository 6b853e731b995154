import type { MessageHandler, QoS, Unsubscribe } from '../bus/bus-client';
import { STATE_FILTER, siteOfHealthTopic } from '../fleet/health-topics';
import type { Reason } from '../reasons';
import { serviceFilter } from './entry-format';
import { type RegistryClock, RegistryView, type ViewOptions } from './view';

/** The part of SharedBus a feed uses. */
export interface RegistryBus {
  subscribe(filter: string, qos: QoS, handler: MessageHandler): Promise<Unsubscribe>;
}

/** How long after the broker grants a subscription its retained messages are taken to have arrived (they follow the SUBACK). */
export const RETAINED_SETTLE_MS = 150;

interface Subscription {
  users: number;
  ready: Promise<void>;
  unsubscribe?: Unsubscribe;
  /** Set when the subscription ends before the broker granted it. */
  ended: boolean;
}

/**
 * Keeps one RegistryView current from one bus: one subscription per service
 * that any lookup node on this bus names (`tectonic/registry/{service}/#`),
 * shared by them all, and one to the sites' states (`tectonic/health/+/state`)
 * while any service is kept. Lookups read the view, never the broker.
 */
export class RegistryFeed {
  readonly view: RegistryView;
  private readonly subscriptions = new Map<string, Subscription>();
  private health: Subscription | undefined;
  private readonly refusalListeners = new Set<(topic: string, reasons: Reason[]) => void>();

  constructor(
    private readonly bus: RegistryBus,
    clock: RegistryClock = { now: () => Date.now() },
    options: ViewOptions = {},
    private readonly settleMs = RETAINED_SETTLE_MS,
  ) {
    this.view = new RegistryView(clock, options);
  }

  /** A malformed entry or state from the bus: a lookup node reports it. */
  onRefusal(listener: (topic: string, reasons: Reason[]) => void): () => void {
    this.refusalListeners.add(listener);
    return () => this.refusalListeners.delete(listener);
  }

  /** Whether any service is kept: a feed with none can be dropped. */
  get idle(): boolean {
    return this.subscriptions.size === 0;
  }

  /**
   * Keeps `service` current for one more user; resolves once its retained
   * entries and the sites' states have arrived (or the subscription failed:
   * rejects). The returned release ends the user's interest.
   */
  use(service: string): { ready: Promise<void>; release: () => Promise<void> } {
    this.view.keep(service);
    this.health ??= this.subscribeTo(STATE_FILTER, (topic, payload) => {
      const site = siteOfHealthTopic(topic);
      if (site === undefined) return;
      const parsed = this.view.receiveSiteState(site, payload);
      if (!parsed.ok && payload.length > 0) this.refused(topic, parsed.reasons);
    });
    let subscription = this.subscriptions.get(service);
    if (subscription === undefined) {
      subscription = this.subscribeTo(serviceFilter(service), (topic, payload) => {
        const parsed = this.view.receiveEntry(topic, payload);
        if (!parsed.ok) this.refused(topic, parsed.reasons);
      });
      this.subscriptions.set(service, subscription);
    }
    subscription.users += 1;
    const mine = subscription;
    const health = this.health;
    let released = false;
    return {
      ready: Promise.all([mine.ready, health.ready]).then(() => undefined),
      release: async () => {
        if (released) return;
        released = true;
        mine.users -= 1;
        if (mine.users > 0) return;
        this.subscriptions.delete(service);
        this.view.forget(service);
        const leaving = [end(mine)];
        if (this.subscriptions.size === 0 && this.health !== undefined) {
          leaving.push(end(this.health));
          this.health = undefined;
        }
        await Promise.all(leaving);
      },
    };
  }

  private subscribeTo(filter: string, handler: MessageHandler): Subscription {
    const subscription: Subscription = { users: 0, ended: false, ready: Promise.resolve() };
    subscription.ready = this.bus.subscribe(filter, 1, handler).then(async (unsubscribe) => {
      if (subscription.ended) {
        await unsubscribe();
        return;
      }
      subscription.unsubscribe = unsubscribe;
      await new Promise((resolve) => setTimeout(resolve, this.settleMs));
    });
    // A failed subscription is reported to whoever waits on `ready`; unobserved it must not crash the runtime.
    subscription.ready.catch(() => undefined);
    return subscription;
  }

  private refused(topic: string, reasons: Reason[]): void {
    for (const listener of this.refusalListeners) listener(topic, reasons);
  }
}

function end(subscription: Subscription): Promise<void> {
  subscription.ended = true;
  return subscription.unsubscribe?.() ?? Promise.resolve();
}
