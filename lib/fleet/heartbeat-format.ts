/**
 * What a site's heartbeat node publishes, retained, on
 * `tectonic/health/{site}/heartbeat` (format 1). The monitor reads it; both
 * sides use these types. A field added later is optional, so older monitors
 * read newer beats.
 */
export interface Heartbeat {
  format: 1;
  site: string;
  /** The bus session (tectonic/health/{site}/state) this beat belongs to: a new one is a restart. */
  session: number;
  /** 0 at each birth, +1 per beat: a missing number within one session is a gap. */
  seq: number;
  /** The sender's clock, ISO 8601: a stale retained beat and clock skew show against the receiver's. */
  sentAt: string;
  /** The interval the site beats at, so the monitor's missing-beat threshold follows each site. */
  intervalMs: number;
  uptimeSeconds: number;
  /** Per stage (map, validate, policy, publish, subscribe, ...): records in, out and rejected by reason rule; probes left out. */
  stages: Record<string, StageCounters>;
  outboxDepth: number;
  lastError?: { at: string; message: string; node?: string };
  versions: {
    pack: string;
    nodeRed: string;
    node: string;
    /** The catalog and policy in force (catalog bundle version/digest, policy id@version). */
    catalog?: string;
    policy?: string;
  };
  /** CDM versions published since the last beat, as `entity@x.y.z`. */
  cdmPublished: string[];
  flows: {
    /** sha256 hex of what the template owns (lib/fleet/fingerprint.ts). */
    fingerprint: string;
    template?: { name: string; version: string };
  };
  /** The latest synthetic transaction, if the node runs them. */
  canary?: CanaryResult;
}

export interface StageCounters {
  in: number;
  out: number;
  rejected: Record<string, number>;
}

export type CanaryResult =
  | { ok: true; at: string; nonce: string; latencyMs: number; stagesMs: Record<string, number> }
  | { ok: false; at: string; nonce: string; stage: string; reason: string };

/** Retained on `tectonic/templates/{name}` by the centre: what a site running the template should fingerprint as. */
export interface TemplateFingerprint {
  name: string;
  version: string;
  fingerprint: string;
}
