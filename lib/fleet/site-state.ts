import { type Checked, reason } from '../reasons';
import { parseUntrustedJson } from '../untrusted-json';

/**
 * What `tectonic/health/{site}/state` holds (retained). `session` counts the
 * site's connections, kept on disk across restarts: a new number is a new
 * birth, so the centre tells a restart from a gap in heartbeats.
 */
export interface SiteState {
  state: 'online' | 'offline';
  session: number;
  /** ISO 8601: when this state began (the connection, or the clean shutdown; for the will, when it was set). */
  since: string;
  /** Offline only: `shutdown` (closed cleanly) or `connection-lost` (the last will). */
  reason?: 'shutdown' | 'connection-lost';
}

export function onlineState(session: number, now: Date): SiteState {
  return { state: 'online', session, since: now.toISOString() };
}

export function offlineState(session: number, why: 'shutdown' | 'connection-lost', now: Date): SiteState {
  return { state: 'offline', session, since: now.toISOString(), reason: why };
}

/** A state message from the bus; an empty payload (a cleared retained state) is refused like any other bad one. */
export function parseSiteState(payload: Buffer | string): Checked<SiteState> {
  // A state is a few dozen bytes; anything far larger is not one, and is not worth parsing.
  if (payload.length > 4096) return { ok: false, reasons: [reason('', 'size', 'a site state is at most 4096 bytes')] };
  const parsed = parseUntrustedJson(payload.toString(), '');
  if (!parsed.ok) return parsed;
  const value = parsed.value as Partial<SiteState> | null;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return { ok: false, reasons: [reason('', 'type', 'a site state must be a JSON object')] };
  if (value.state !== 'online' && value.state !== 'offline') return { ok: false, reasons: [reason('state', 'enum', 'must be "online" or "offline"')] };
  if (!Number.isSafeInteger(value.session) || (value.session as number) < 0) return { ok: false, reasons: [reason('session', 'type', 'must be a non-negative integer')] };
  if (typeof value.since !== 'string' || Number.isNaN(Date.parse(value.since))) return { ok: false, reasons: [reason('since', 'format', 'must be an ISO 8601 time')] };
  const out: SiteState = { state: value.state, session: value.session as number, since: value.since };
  if (value.reason === 'shutdown' || value.reason === 'connection-lost') out.reason = value.reason;
  return { ok: true, value: out };
}
