import type { Endpoint } from './view';

/**
 * How registry-lookup picks one of a service's healthy endpoints, which the
 * view hands over primary first (weight descending, then `{site}/{instance}`):
 * - failover: the first, so traffic stays on the primary while it is healthy
 *   and moves to the backup only when it is not;
 * - round-robin: each healthy endpoint in turn;
 * - same-site / same-region: the first on this site (or region), else failover.
 */
export const STRATEGIES = ['failover', 'round-robin', 'same-site', 'same-region'] as const;
export type Strategy = (typeof STRATEGIES)[number];

export function isStrategy(value: string): value is Strategy {
  return (STRATEGIES as readonly string[]).includes(value);
}

export interface Preference {
  site?: string;
  region?: string;
}

/** One lookup node's picker: round robin keeps its own turn. */
export class EndpointPicker {
  private turn = 0;

  constructor(
    readonly strategy: Strategy,
    private readonly preference: Preference = {},
  ) {}

  pick(healthy: readonly Endpoint[]): Endpoint | undefined {
    switch (this.strategy) {
      case 'failover':
        return healthy[0];
      case 'round-robin': {
        if (healthy.length === 0) return undefined;
        const index = this.turn % healthy.length;
        this.turn = index + 1;
        return healthy[index];
      }
      case 'same-site':
        return preferred(healthy, (e) => e.site === this.preference.site);
      case 'same-region':
        return preferred(healthy, (e) => e.region !== undefined && e.region === this.preference.region);
    }
  }
}

function preferred(healthy: readonly Endpoint[], local: (endpoint: Endpoint) => boolean): Endpoint | undefined {
  for (let i = 0; i < healthy.length; i++) {
    const endpoint = healthy[i] as Endpoint;
    if (local(endpoint)) return endpoint;
  }
  return healthy[0];
}
