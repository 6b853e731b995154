import { parseCanonicalTopic } from '../envelope/topics';
import type { CompiledPolicy } from '../policy/engine';
import type { OutboxEntry } from './durable-outbox';
import type { RetryRule } from './outbox-sender';

/** Where the compiled policy in force is read: it changes when a new bundle arrives, without a redeploy. */
export interface PolicySource {
  readonly compiled: Pick<CompiledPolicy, 'retryFor' | 'rateLimiter'> | undefined;
}

interface TopicScope {
  entity: string;
  site: string;
}

/** A site publishes on a handful of topics, but may on one per device: the cache is bounded. */
const MAX_SCOPES = 256;

/**
 * A policy bundle's `retry` and `rate` rules for the sender, found by the
 * entity and site of each entry's canonical topic. Each topic is parsed once;
 * without a policy nothing is parsed at all.
 */
export class PolicyPacing {
  private readonly scopes = new Map<string, TopicScope | null>();

  constructor(private readonly policy: PolicySource | undefined) {}

  retryFor(entry: OutboxEntry): RetryRule | undefined {
    const compiled = this.policy?.compiled;
    const scope = compiled === undefined ? undefined : this.scopeOf(entry.topic);
    return scope === undefined ? undefined : compiled?.retryFor(scope.entity, scope.site);
  }

  /** 0: send now (a token is taken); else the milliseconds to wait. */
  pace(entry: OutboxEntry): number {
    const compiled = this.policy?.compiled;
    const scope = compiled === undefined ? undefined : this.scopeOf(entry.topic);
    const limiter = scope === undefined ? undefined : compiled?.rateLimiter(scope.entity, scope.site);
    if (limiter === undefined || limiter.tryTake()) return 0;
    return Math.max(1, limiter.waitMs());
  }

  private scopeOf(topic: string): TopicScope | undefined {
    let scope = this.scopes.get(topic);
    if (scope === undefined) {
      const parsed = parseCanonicalTopic(topic);
      scope = parsed === undefined ? null : { entity: parsed.entity, site: parsed.site };
      if (this.scopes.size >= MAX_SCOPES) this.scopes.clear();
      this.scopes.set(topic, scope);
    }
    return scope ?? undefined;
  }
}
