import type { IPublishPacket } from 'mqtt';
import { topicMatches } from '../envelope/topics';
import type { QoS } from './bus-client';
import type { ReleaseAck } from './deferred-acks';

/**
 * `deferAck`, called while the handler runs, withholds the message's PUBACK
 * until the returned function is called (BusClient.deferAck); handlers that
 * do not call it leave the acknowledgement as it was.
 */
export type MessageHandler = (topic: string, payload: Buffer, packet: IPublishPacket, deferAck: () => ReleaseAck) => void;

export type SubscribeOutcome = { kind: 'granted' } | { kind: 'refused'; why: string } | { kind: 'interrupted' };

export interface Route {
  qos: QoS;
  handlers: Set<MessageHandler>;
  /** The broker's answer to the latest SUBSCRIBE for this filter; none while offline. */
  answer?: Promise<SubscribeOutcome>;
  /** The broker has granted it at least once. */
  confirmed: boolean;
  /** Settles `answer` for callers who subscribed while offline. */
  wake?: (outcome: SubscribeOutcome) => void;
  /** Set while the route has no handler but its node is expected back (see parkMs). */
  parked?: NodeJS.Timeout;
}

/** Bounded: a site may publish on a topic per device. */
const MAX_CACHED_TOPICS = 1024;

/**
 * The filters a connection is subscribed to, each with its handlers, and the
 * routes each topic matched, so that routing a message splits no topic and
 * matches no filter; that cache is forgotten whenever a route comes or goes.
 */
export class RouteTable {
  private readonly routes = new Map<string, Route>();
  private readonly matches = new Map<string, Route[]>();

  get(filter: string): Route | undefined {
    return this.routes.get(filter);
  }

  add(filter: string, route: Route): void {
    this.routes.set(filter, route);
    this.matches.clear();
  }

  forget(filter: string): void {
    this.routes.delete(filter);
    this.matches.clear();
  }

  entries(): IterableIterator<[string, Route]> {
    return this.routes.entries();
  }

  values(): IterableIterator<Route> {
    return this.routes.values();
  }

  clear(): void {
    this.routes.clear();
    this.matches.clear();
  }

  /** The routes whose filter matches `topic`. */
  matching(topic: string): Route[] {
    let found = this.matches.get(topic);
    if (found === undefined) {
      found = [];
      for (const [filter, route] of this.routes) if (topicMatches(filter, topic)) found.push(route);
      if (this.matches.size >= MAX_CACHED_TOPICS) this.matches.clear();
      this.matches.set(topic, found);
    }
    return found;
  }

  /** A message waits while any filter it matches is parked: its node is about to come back. */
  parkedFor(topic: string): boolean {
    for (const [filter, route] of this.routes) {
      if (route.parked !== undefined && route.handlers.size === 0 && topicMatches(filter, topic)) return true;
    }
    return false;
  }
}
