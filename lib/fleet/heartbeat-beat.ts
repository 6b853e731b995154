import type { CanaryResult, Heartbeat, StageCounters } from './heartbeat-format';

/** What the node gathers from the runtime for a beat; everything else the beat adds itself. */
export interface BeatInput {
  site: string;
  session: number;
  intervalMs: number;
  now: Date;
  startedAt: number;
  stages: Record<string, StageCounters>;
  outboxDepth: number;
  lastError?: Heartbeat['lastError'];
  versions: Heartbeat['versions'];
  cdmPublished: string[];
  fingerprint: string;
  template?: { name: string; version: string };
  canary?: CanaryResult;
}

/**
 * The sequence of a site's beats: 0 at each birth, +1 per beat. A birth is a
 * new bus session (tectonic/health/{site}/state), so the centre tells a
 * restart (a new session) from a gap (same session, a number missing).
 */
export class BeatSequence {
  private session: number | undefined;
  private seq = 0;

  next(session: number): number {
    if (session !== this.session) {
      this.session = session;
      this.seq = 0;
      return 0;
    }
    this.seq += 1;
    return this.seq;
  }
}

export function buildHeartbeat(input: BeatInput, seq: number): Heartbeat {
  const beat: Heartbeat = {
    format: 1,
    site: input.site,
    session: input.session,
    seq,
    sentAt: input.now.toISOString(),
    intervalMs: input.intervalMs,
    uptimeSeconds: Math.max(0, Math.round((input.now.getTime() - input.startedAt) / 1000)),
    stages: input.stages,
    outboxDepth: input.outboxDepth,
    versions: input.versions,
    cdmPublished: input.cdmPublished,
    flows: { fingerprint: input.fingerprint, ...(input.template !== undefined ? { template: input.template } : {}) },
  };
  if (input.lastError !== undefined) beat.lastError = input.lastError;
  if (input.canary !== undefined) beat.canary = input.canary;
  return beat;
}

/** `entity@version` handed to bus-publish since the last beat; taken (and emptied) at each beat. */
export class PublishedVersions {
  private readonly seen = new Set<string>();
  private lastEntity: unknown;
  private lastVersion: unknown;

  /**
   * Per record: two comparisons when the record is of the kind the one
   * before it was (nearly always), a set insertion otherwise.
   */
  noteEnvelope(cdm: unknown): void {
    if (typeof cdm !== 'object' || cdm === null) return;
    const { entity, version } = cdm as { entity?: unknown; version?: unknown };
    if (entity === this.lastEntity && version === this.lastVersion) return;
    if (typeof entity !== 'string' || typeof version !== 'string') return;
    this.lastEntity = entity;
    this.lastVersion = version;
    this.note(entity, version);
  }

  note(entity: string, version: string): void {
    // Bounded: a site publishes a handful of versions.
    if (this.seen.size < 256) this.seen.add(`${entity}@${version}`);
  }

  take(): string[] {
    const all = [...this.seen].sort();
    this.seen.clear();
    this.lastEntity = undefined;
    this.lastVersion = undefined;
    return all;
  }
}

/** The site's: every bus-publish of the runtime notes here, the heartbeat takes. */
export const publishedVersions = new PublishedVersions();
