import type { RegistrySnapshot } from '../fleet/registry-format';
import { type RegistryBus, RegistryFeed } from './registry-feed';

/**
 * One RegistryFeed per bus in this runtime, made by the first lookup node
 * that names the bus: every lookup on it reads the same view, through one
 * subscription per service.
 */
const feeds = new Map<RegistryBus, RegistryFeed>();

export function feedFor(bus: RegistryBus): RegistryFeed {
  let feed = feeds.get(bus);
  if (feed === undefined) {
    feed = new RegistryFeed(bus);
    feeds.set(bus, feed);
  }
  return feed;
}

/** Drops the bus's feed once no lookup uses it, so a closed bus is not kept alive. */
export function dropIfIdle(bus: RegistryBus): void {
  if (feeds.get(bus)?.idle === true) feeds.delete(bus);
}

/** Every view this runtime holds, merged (a service kept on two buses lists both buses' endpoints). */
export function registrySnapshot(): RegistrySnapshot {
  const byService = new Map<string, RegistrySnapshot['services'][number]['endpoints']>();
  for (const feed of feeds.values()) {
    for (const { service, endpoints } of feed.view.snapshot().services) {
      byService.set(service, [...(byService.get(service) ?? []), ...endpoints]);
    }
  }
  return { services: [...byService].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([service, endpoints]) => ({ service, endpoints })) };
}
