import { isAbsolute, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { type Checked, type Reason, reason } from '../reasons';
import type { AclRule, Role } from './acl';
import { type BrokerLimits, DEFAULT_LIMITS, LIMIT_BOUNDS } from './limits';
import { type ScryptHash, parsePasswordHash } from './password-hash';

/**
 * The broker config (docs/security.md, "The config file"), a public contract
 * shared by `tectonic broker --config FILE` and the embedded broker's
 * security file: listeners, persistence, users, ACL and limits, in YAML or
 * JSON. Relative paths are relative to the file's folder.
 */
export type ClientCerts = 'none' | 'optional' | 'required';

export interface TlsFiles {
  cert: string;
  key: string;
  ca?: string;
  clientCerts: ClientCerts;
}

export interface ListenerConfig {
  host: string;
  port: number;
  tls?: TlsFiles;
  /** MQTT over WebSocket on this listener instead of plain MQTT. */
  websocket?: { path: string };
}

export type PersistenceConfig = { kind: 'memory' } | { kind: 'disk'; dir: string; sync: boolean } | { kind: 'redis'; url: string };

export interface BrokerUser {
  name: string;
  role: Role;
  sites: string[];
  /** Absent: the user authenticates with a client certificate only. */
  passwordHash?: ScryptHash;
}

/** What reloads from the file without a restart. */
export interface AccessConfig {
  users: BrokerUser[];
  acl: AclRule[];
}

export interface BrokerConfig extends AccessConfig {
  listeners: ListenerConfig[];
  persistence: PersistenceConfig;
  limits: BrokerLimits;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const ROLES = new Set(['site', 'hub', 'central']);
const CLIENT_CERTS = new Set(['none', 'optional', 'required']);

type Raw = Record<string, unknown>;
const isObject = (value: unknown): value is Raw => typeof value === 'object' && value !== null && !Array.isArray(value);

/** YAML 1.2 reads JSON too. A file that is not a mapping is refused. */
export function parseConfigText(text: string): Checked<Raw> {
  let value: unknown;
  try {
    value = parseYaml(text, { maxAliasCount: 100 });
  } catch (err) {
    return { ok: false, reasons: [reason('', 'syntax', `not YAML or JSON: ${(err as Error).message.split('\n')[0] ?? ''}`)] };
  }
  if (value === null || value === undefined) return { ok: true, value: {} };
  if (!isObject(value)) return { ok: false, reasons: [reason('', 'type', 'must be a mapping of listeners, persistence, users, acl, limits')] };
  return { ok: true, value };
}

function parseUser(raw: unknown, path: string, reasons: Reason[]): BrokerUser | undefined {
  if (!isObject(raw)) {
    reasons.push(reason(path, 'type', 'must be { name, role, site | sites, passwordHash }'));
    return undefined;
  }
  const { name, role, site, sites, passwordHash } = raw;
  const before = reasons.length;
  if (typeof name !== 'string' || !NAME.test(name)) reasons.push(reason(`${path}.name`, 'pattern', 'must be 1 to 64 letters, digits, ".", "_" or "-", starting with a letter or digit'));
  if (typeof role !== 'string' || !ROLES.has(role)) reasons.push(reason(`${path}.role`, 'enum', 'must be site, hub or central'));
  let siteList: string[] = [];
  if (role === 'site') {
    if (typeof site !== 'string' || !NAME.test(site)) reasons.push(reason(`${path}.site`, 'required', 'a site user needs its site id'));
    else siteList = [site];
  } else if (role === 'hub') {
    if (!Array.isArray(sites) || sites.length === 0 || !sites.every((s) => typeof s === 'string' && NAME.test(s))) {
      reasons.push(reason(`${path}.sites`, 'required', 'a hub user needs a list of site ids'));
    } else siteList = [...new Set(sites as string[])];
  }
  let hash: ScryptHash | undefined;
  if (passwordHash !== undefined) {
    const parsed = typeof passwordHash === 'string' ? parsePasswordHash(passwordHash) : parsePasswordHash('');
    if (parsed.ok) hash = parsed.value;
    else reasons.push(...parsed.reasons.map((r) => ({ ...r, path: `${path}.passwordHash` })));
  }
  if (reasons.length > before) return undefined;
  return { name: name as string, role: role as Role, sites: siteList, ...(hash === undefined ? {} : { passwordHash: hash }) };
}

function parseRule(raw: unknown, path: string, reasons: Reason[]): AclRule | undefined {
  if (!isObject(raw)) {
    reasons.push(reason(path, 'type', 'must be { user | role, action, pattern, allow }'));
    return undefined;
  }
  const { user, role, action, pattern, allow } = raw;
  const before = reasons.length;
  if ((user === undefined) === (role === undefined)) reasons.push(reason(path, 'required', 'needs exactly one of user or role'));
  if (user !== undefined && (typeof user !== 'string' || !NAME.test(user))) reasons.push(reason(`${path}.user`, 'pattern', 'is not a user name'));
  if (role !== undefined && (typeof role !== 'string' || !(ROLES.has(role) || role === '*'))) reasons.push(reason(`${path}.role`, 'enum', 'must be site, hub, central or "*"'));
  if (action !== 'publish' && action !== 'subscribe' && action !== 'both') reasons.push(reason(`${path}.action`, 'enum', 'must be publish, subscribe or both'));
  if (typeof pattern !== 'string' || !validFilter(pattern)) reasons.push(reason(`${path}.pattern`, 'pattern', 'must be an MQTT topic filter ("#" only last, "+" a whole level)'));
  if (typeof allow !== 'boolean') reasons.push(reason(`${path}.allow`, 'type', 'must be true or false'));
  if (reasons.length > before) return undefined;
  return { ...(user === undefined ? {} : { user: user as string }), ...(role === undefined ? {} : { role: role as AclRule['role'] }), action: action as AclRule['action'], pattern: pattern as string, allow: allow as boolean };
}

/** [MQTT-4.7.1-2], [MQTT-4.7.1-3]: `#` last and alone in its level, `+` alone in its level. */
function validFilter(filter: string): boolean {
  if (filter === '' || filter.length > 1024) return false;
  const levels = filter.split('/');
  return levels.every((level, i) => (level.includes('#') ? level === '#' && i === levels.length - 1 : !level.includes('+') || level === '+'));
}

/**
 * A user's client ids begin with its name and `_` or `-` (lib/broker/access-control.ts);
 * were one name that prefix of another, the first could take the second's sessions.
 */
function ambiguousNames(users: readonly BrokerUser[]): Reason[] {
  const reasons: Reason[] = [];
  const names = users.map((u) => u.name);
  names.forEach((name, i) => {
    if (names.indexOf(name) !== i) reasons.push(reason(`users.${i}.name`, 'unique', `"${name}" appears twice`));
    for (const other of names) {
      if (other !== name && (other.startsWith(`${name}_`) || other.startsWith(`${name}-`))) {
        reasons.push(reason(`users.${i}.name`, 'prefix', `"${name}" followed by "_" or "-" begins "${other}", so its client ids could take ${other}'s sessions`));
      }
    }
  });
  return reasons;
}

export function parseAccessConfig(raw: Raw): Checked<AccessConfig> {
  const reasons: Reason[] = [];
  const users: BrokerUser[] = [];
  const acl: AclRule[] = [];
  if (raw.users !== undefined && !Array.isArray(raw.users)) reasons.push(reason('users', 'type', 'must be a list'));
  else (raw.users ?? []).forEach((u: unknown, i: number) => void pushDefined(users, parseUser(u, `users.${i}`, reasons)));
  if (raw.acl !== undefined && !Array.isArray(raw.acl)) reasons.push(reason('acl', 'type', 'must be a list'));
  else (raw.acl ?? []).forEach((r: unknown, i: number) => void pushDefined(acl, parseRule(r, `acl.${i}`, reasons)));
  reasons.push(...ambiguousNames(users));
  return reasons.length > 0 ? { ok: false, reasons } : { ok: true, value: { users, acl } };
}

function pushDefined<T>(list: T[], value: T | undefined): void {
  if (value !== undefined) list.push(value);
}

function parseLimits(raw: unknown, reasons: Reason[]): BrokerLimits {
  const limits = { ...DEFAULT_LIMITS };
  if (raw === undefined) return limits;
  if (!isObject(raw)) {
    reasons.push(reason('limits', 'type', 'must be a mapping'));
    return limits;
  }
  for (const [key, value] of Object.entries(raw)) {
    const bounds = LIMIT_BOUNDS[key as keyof BrokerLimits] as [number, number] | undefined;
    if (bounds === undefined) reasons.push(reason(`limits.${key}`, 'unknown', `is not a limit (known: ${Object.keys(LIMIT_BOUNDS).join(', ')})`));
    else if (typeof value !== 'number' || !Number.isInteger(value) || value < bounds[0] || value > bounds[1]) {
      reasons.push(reason(`limits.${key}`, 'range', `must be an integer from ${bounds[0]} to ${bounds[1]}`));
    } else limits[key as keyof BrokerLimits] = value;
  }
  return limits;
}

function parseListener(raw: unknown, path: string, baseDir: string, reasons: Reason[]): ListenerConfig | undefined {
  if (!isObject(raw)) {
    reasons.push(reason(path, 'type', 'must be { host, port, tls?, websocket? }'));
    return undefined;
  }
  const before = reasons.length;
  const host = raw.host === undefined ? '127.0.0.1' : raw.host;
  if (typeof host !== 'string' || host === '') reasons.push(reason(`${path}.host`, 'type', 'must be an address'));
  const port = raw.port;
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65535) reasons.push(reason(`${path}.port`, 'range', 'must be a port number from 0 to 65535'));
  let tls: TlsFiles | undefined;
  if (raw.tls !== undefined) {
    const t = raw.tls;
    if (!isObject(t) || typeof t.cert !== 'string' || typeof t.key !== 'string' || (t.ca !== undefined && typeof t.ca !== 'string')) {
      reasons.push(reason(`${path}.tls`, 'type', 'must be { cert, key, ca?, clientCerts? } with file paths'));
    } else {
      const clientCerts = t.clientCerts ?? 'none';
      if (typeof clientCerts !== 'string' || !CLIENT_CERTS.has(clientCerts)) reasons.push(reason(`${path}.tls.clientCerts`, 'enum', 'must be none, optional or required'));
      if (clientCerts !== 'none' && t.ca === undefined) reasons.push(reason(`${path}.tls.ca`, 'required', 'client certificates need the CA that issues them'));
      const at = (file: string): string => (isAbsolute(file) ? file : resolve(baseDir, file));
      tls = { cert: at(t.cert), key: at(t.key), ...(typeof t.ca === 'string' ? { ca: at(t.ca) } : {}), clientCerts: clientCerts as ClientCerts };
    }
  }
  let websocket: ListenerConfig['websocket'];
  if (raw.websocket !== undefined && raw.websocket !== false) {
    const w = raw.websocket === true ? {} : raw.websocket;
    if (!isObject(w) || (w.path !== undefined && (typeof w.path !== 'string' || !w.path.startsWith('/')))) reasons.push(reason(`${path}.websocket`, 'type', 'must be true or { path: "/mqtt" }'));
    else websocket = { path: (w.path) ?? '/mqtt' };
  }
  if (reasons.length > before) return undefined;
  return { host: host as string, port: port as number, ...(tls ? { tls } : {}), ...(websocket ? { websocket } : {}) };
}

function parsePersistence(raw: unknown, baseDir: string, reasons: Reason[]): PersistenceConfig {
  if (raw === undefined || raw === 'memory') return { kind: 'memory' };
  if (isObject(raw) && raw.kind === 'memory') return { kind: 'memory' };
  if (isObject(raw) && raw.kind === 'disk' && typeof raw.dir === 'string' && raw.dir !== '') {
    return { kind: 'disk', dir: isAbsolute(raw.dir) ? raw.dir : resolve(baseDir, raw.dir), sync: raw.sync === true };
  }
  if (isObject(raw) && raw.kind === 'redis' && typeof raw.url === 'string' && /^rediss?:\/\//.test(raw.url)) return { kind: 'redis', url: raw.url };
  reasons.push(reason('persistence', 'type', 'must be { kind: memory }, { kind: disk, dir } or { kind: redis, url: redis://... }'));
  return { kind: 'memory' };
}

const KNOWN_KEYS = new Set(['listeners', 'persistence', 'users', 'acl', 'limits']);

export function parseBrokerConfig(raw: Raw, baseDir: string): Checked<BrokerConfig> {
  const reasons: Reason[] = [];
  for (const key of Object.keys(raw)) if (!KNOWN_KEYS.has(key)) reasons.push(reason(key, 'unknown', `is not a broker setting (known: ${[...KNOWN_KEYS].join(', ')})`));
  const listeners: ListenerConfig[] = [];
  if (!Array.isArray(raw.listeners) || raw.listeners.length === 0) reasons.push(reason('listeners', 'required', 'needs at least one { host, port }'));
  else raw.listeners.forEach((l: unknown, i: number) => void pushDefined(listeners, parseListener(l, `listeners.${i}`, baseDir, reasons)));
  const persistence = parsePersistence(raw.persistence, baseDir, reasons);
  const limits = parseLimits(raw.limits, reasons);
  const access = parseAccessConfig(raw);
  if (!access.ok) reasons.push(...access.reasons);
  if (reasons.length > 0 || !access.ok) return { ok: false, reasons };
  return { ok: true, value: { listeners, persistence, limits, ...access.value } };
}

/** Loopback addresses, where a broker with no users may listen: the one test the transport checks use too. */
export { isLoopback } from '../policy/transport-check';
