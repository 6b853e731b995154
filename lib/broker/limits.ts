/**
 * The broker's limits and their defaults (docs/security.md, "Limits"). Each
 * default is safe for a bus of a few hundred sites on one host and can be
 * raised in the config's `limits`.
 */
export interface BrokerLimits {
  /**
   * Largest MQTT packet accepted, checked from its fixed header before it is
   * buffered. Above bus-subscribe's default message limit (1 MiB), so an
   * oversized record reaches the consumer's refusal with its reason rather
   * than closing the publisher's connection, which would retry it forever.
   */
  maxPacketBytes: number;
  /** Largest first packet (the CONNECT), before the client is authenticated. */
  maxConnectBytes: number;
  /** Connections open at once, over every listener. */
  maxConnections: number;
  /** New connections accepted per second (a burst of this many, refilled each second). */
  connectionsPerSecond: number;
  /** A socket that sends no CONNECT within this time is closed (aedes connectTimeout). */
  connectTimeoutMs: number;
  /** Most `/`-separated levels in a topic or filter (aedes maxTopicLevels, at most 100). */
  maxTopicLevels: number;
  /** Retained payload bytes one user may hold on the broker, over all its retained topics. */
  maxRetainedBytesPerUser: number;
  /** A client that does not read its socket for this long is disconnected (aedes drainTimeout). */
  drainTimeoutMs: number;
}

export const DEFAULT_LIMITS: BrokerLimits = {
  maxPacketBytes: 4 * 1024 * 1024,
  maxConnectBytes: 64 * 1024,
  maxConnections: 10_000,
  connectionsPerSecond: 200,
  connectTimeoutMs: 10_000,
  maxTopicLevels: 16,
  maxRetainedBytesPerUser: 16 * 1024 * 1024,
  drainTimeoutMs: 30_000,
};

/** Upper bounds a config may not exceed: MQTT's own packet limit, aedes' level ceiling. */
export const LIMIT_BOUNDS: Record<keyof BrokerLimits, [number, number]> = {
  maxPacketBytes: [64, 268_435_455],
  maxConnectBytes: [64, 268_435_455],
  maxConnections: [1, 1_000_000],
  connectionsPerSecond: [1, 100_000],
  connectTimeoutMs: [100, 600_000],
  maxTopicLevels: [1, 100],
  maxRetainedBytesPerUser: [0, 1024 ** 4],
  drainTimeoutMs: [100, 3_600_000],
};

/** A token bucket of `perSecond` tokens; `now` is injected so tests need no real time. */
export class ConnectionRate {
  private tokens: number;
  private last: number;

  constructor(
    private readonly perSecond: number,
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = perSecond;
    this.last = now();
  }

  admit(): boolean {
    const t = this.now();
    this.tokens = Math.min(this.perSecond, this.tokens + ((t - this.last) / 1000) * this.perSecond);
    this.last = t;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

/**
 * Retained bytes by user. A retained message replaces the one on its topic,
 * whoever held it; an empty one clears it [MQTT-3.3.1-10]. Counts what was
 * retained since this broker started: messages retained by an earlier run
 * are not charged to anyone.
 */
export class RetainedQuota {
  private readonly byTopic = new Map<string, { user: string; bytes: number }>();
  private readonly byUser = new Map<string, number>();

  constructor(private readonly limit: number) {}

  /** Would `user` stay within its quota if `topic` held `bytes`? */
  fits(user: string, topic: string, bytes: number): boolean {
    const held = this.byTopic.get(topic);
    const own = held?.user === user ? held.bytes : 0;
    return (this.byUser.get(user) ?? 0) - own + bytes <= this.limit;
  }

  record(user: string, topic: string, bytes: number): void {
    const held = this.byTopic.get(topic);
    if (held !== undefined) this.byUser.set(held.user, (this.byUser.get(held.user) ?? 0) - held.bytes);
    if (bytes === 0) this.byTopic.delete(topic);
    else {
      this.byTopic.set(topic, { user, bytes });
      this.byUser.set(user, (this.byUser.get(user) ?? 0) + bytes);
    }
  }

  usedBy(user: string): number {
    return this.byUser.get(user) ?? 0;
  }
}
