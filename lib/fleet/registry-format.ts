/**
 * The registry as the monitor and the fleet page show it
 * (GET /tectonic/fleet/registry): each service, its endpoints and their state.
 */
export interface RegistrySnapshot {
  services: Array<{
    service: string;
    endpoints: Array<{
      site: string;
      instance: string;
      url: string;
      region?: string;
      weight: number;
      /** up: announced, fresh, its site online; offline: its site's will fired; expired: past its TTL; failed: reported failed by a flow, cooling down. */
      state: 'up' | 'offline' | 'expired' | 'failed';
      expiresAt: string;
    }>;
  }>;
}
