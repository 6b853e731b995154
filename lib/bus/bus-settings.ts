import { randomBytes } from 'node:crypto';
import { type Checked, type Reason, reason } from '../reasons';

export type BusMode = 'embedded' | 'external';

/** What a tectonic-bus config resolves to once its strings are checked. */
export interface BusSettings {
  mode: BusMode;
  /** Embedded: where the broker listens. */
  host: string;
  port: number;
  /** External: the broker URL. Embedded: filled in once the broker listens. */
  url: string;
  protocolVersion: 4 | 5;
  clientId: string;
  keepaliveSeconds: number;
  /** persistent: the broker keeps the session (subscriptions, queued QoS 1 messages) while we are away. */
  session: 'persistent' | 'clean';
  /** Embedded: whether the broker keeps sessions and queued messages on disk across its own restart. */
  persistence: 'disk' | 'memory';
  /**
   * Embedded: a broker config file (docs/security.md) whose users and ACL the
   * broker enforces, reloaded when it changes; '' for none, and then the
   * broker admits anyone but listens on loopback only. Absent when none.
   */
  securityFile?: string;
}

/** The editor's fields, as strings after Node-RED's `${ENV}` substitution. */
export interface RawBusConfig {
  mode?: string;
  host?: string;
  port?: string | number;
  url?: string;
  protocolVersion?: string | number;
  clientId?: string;
  keepalive?: string | number;
  session?: string;
  persistence?: string;
  securityFile?: string;
}

const URL_SCHEMES = new Set(['mqtt:', 'mqtts:', 'ws:', 'wss:']);
// MQTT 3.1.1 servers must accept ids of 1 to 23 of these characters [MQTT-3.1.3-5]; longer ones are a broker's choice.
const CLIENT_ID = /^[0-9A-Za-z_.-]{1,128}$/;

function integer(value: string | number | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const text = String(value).trim();
  return /^\d+$/.test(text) ? Number(text) : Number.NaN;
}

export function generatedClientId(): string {
  return `tectonic_${randomBytes(4).toString('hex')}`;
}

/** A host to dial for a broker that listens on `host`: a wildcard address is reached on loopback. */
export function dialHost(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::') return '::1';
  return host;
}

export function embeddedUrl(host: string, port: number): string {
  const dial = dialHost(host);
  return `mqtt://${dial.includes(':') ? `[${dial}]` : dial}:${port}`;
}

/**
 * The id a connection with credentials uses when none is configured: a
 * broker with users takes only ids that begin with the user name and "_" or
 * "-" (docs/security.md), so no one can take another user's session.
 */
export function userClientId(username: string, defaultClientId: string): string {
  return `${username}_${defaultClientId.replace(/^(tn|tectonic)_/, '').slice(0, 12)}`;
}

/**
 * `defaultClientId` is used when the config leaves the id empty. It should be
 * stable across restarts (a persistent session is found by its client id) and
 * differ between instances that run the same flow template. With a
 * `username` the default begins with it (userClientId).
 */
export function resolveBusSettings(raw: RawBusConfig, defaultClientId?: string, username?: string): Checked<BusSettings> {
  const reasons: Reason[] = [];
  // Node-RED replaces a whole-value `${NAME}` with the variable; when it is
  // unset the text stays as it was, and that deserves its own plain reason.
  for (const [field, value] of Object.entries(raw)) {
    const unset = typeof value === 'string' ? /^\$\{(\S+)\}$/.exec(value.trim()) : null;
    if (unset) reasons.push(reason(field, 'env', `environment variable ${unset[1]} is not set`));
  }
  if (reasons.length > 0) return { ok: false, reasons };
  const mode = raw.mode === undefined || raw.mode === '' ? 'embedded' : raw.mode;
  if (mode !== 'embedded' && mode !== 'external') reasons.push(reason('mode', 'enum', `must be "embedded" or "external", got "${mode}"`));

  const host = (raw.host ?? '').trim() || '127.0.0.1';
  const port = integer(raw.port, 1883);
  if (mode === 'embedded' && !(Number.isInteger(port) && port >= 0 && port <= 65535)) {
    reasons.push(reason('port', 'range', `must be a port number from 0 to 65535, got "${String(raw.port)}"`));
  }

  let url = '';
  if (mode === 'external') {
    url = (raw.url ?? '').trim();
    let parsed: URL | undefined;
    try {
      parsed = new URL(url);
    } catch {
      reasons.push(reason('url', 'format', url === '' ? 'is required in external mode, e.g. mqtt://broker.example:1883' : `"${url}" is not a URL`));
    }
    if (parsed !== undefined && !URL_SCHEMES.has(parsed.protocol)) {
      reasons.push(reason('url', 'scheme', `must start with mqtt://, mqtts://, ws:// or wss://, got "${parsed.protocol}//"`));
    }
  }

  const requested = integer(raw.protocolVersion, 4);
  if (requested !== 4 && requested !== 5) reasons.push(reason('protocolVersion', 'enum', `must be 4 (MQTT 3.1.1) or 5, got "${String(raw.protocolVersion)}"`));
  // aedes speaks MQTT 3.1.1 only, so the embedded connection always does.
  const protocolVersion: 4 | 5 = mode === 'embedded' || requested !== 5 ? 4 : 5;

  const fallbackId = defaultClientId || generatedClientId();
  const clientId = (raw.clientId ?? '').trim() || (username ? userClientId(username, fallbackId) : fallbackId);
  if (!CLIENT_ID.test(clientId)) reasons.push(reason('clientId', 'pattern', 'must be 1 to 128 letters, digits, "_", "." or "-"'));

  const keepaliveSeconds = integer(raw.keepalive, 30);
  if (!(Number.isInteger(keepaliveSeconds) && keepaliveSeconds >= 0 && keepaliveSeconds <= 65535)) {
    reasons.push(reason('keepalive', 'range', `must be seconds from 0 to 65535, got "${String(raw.keepalive)}"`));
  }

  const session = raw.session === undefined || raw.session === '' ? 'persistent' : raw.session;
  if (session !== 'persistent' && session !== 'clean') reasons.push(reason('session', 'enum', `must be "persistent" or "clean", got "${session}"`));
  const persistence = raw.persistence === undefined || raw.persistence === '' ? 'disk' : raw.persistence;
  if (persistence !== 'disk' && persistence !== 'memory') reasons.push(reason('persistence', 'enum', `must be "disk" or "memory", got "${persistence}"`));

  const securityFile = mode === 'embedded' ? (raw.securityFile ?? '').trim() : '';

  if (reasons.length > 0) return { ok: false, reasons };
  return {
    ok: true,
    value: {
      mode: mode as BusMode,
      host,
      port,
      url,
      protocolVersion,
      clientId,
      keepaliveSeconds,
      session: session as BusSettings['session'],
      persistence: persistence as BusSettings['persistence'],
      ...(securityFile === '' ? {} : { securityFile }),
    },
  };
}

/**
 * How records leave on this bus, for the policy gate's transport check at
 * deploy: an external bus's URL, or an embedded broker's as it listens (its
 * listen address, so one on 0.0.0.0 counts as reached over the network).
 */
export function transportUrlOf(settings: Pick<BusSettings, 'mode' | 'url' | 'host' | 'port'>): string {
  if (settings.mode !== 'embedded') return settings.url;
  const host = settings.host.includes(':') ? `[${settings.host}]` : settings.host;
  return `mqtt://${host}:${settings.port}`;
}
