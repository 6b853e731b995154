import { Acl, type Principal } from './acl';
import type { AccessConfig, BrokerUser } from './broker-config';
import { RetainedQuota } from './limits';
import { verifyPassword } from './password-hash';

/**
 * The broker's authentication and authorization, as aedes hooks: who a client
 * is (password or client certificate), which client ids it may use, and what
 * it may publish, subscribe to and receive (lib/broker/acl.ts). The users and
 * rules can be swapped at run time (`reload`); each hook reads the current
 * ones, and forwarding checks every message, so a narrowed right applies to
 * subscriptions made before the reload too.
 *
 * Written against aedes 1.2.0's hooks (docs/Aedes.md): an `authenticate`
 * error with `returnCode` 2 to 5 is sent as that CONNACK return code; an
 * `authorizeSubscribe` answer of a null subscription is granted 0x80 in the
 * SUBACK [MQTT-3.9.3]; an `authorizePublish` error closes the connection,
 * which [MQTT-3.3.5-2] allows for a PUBLISH the server does not authorize.
 * test/e2e/broker-conformance.test.ts holds each over real connections.
 */
export interface ClientLike {
  id: string;
  clean?: boolean;
  conn?: unknown;
}

interface ConnectPacket {
  clientId?: string;
  clean?: boolean;
  will?: { topic?: string } | null;
}

interface PublishPacket {
  topic: string;
  retain?: boolean;
  payload?: string | Uint8Array;
}

/** The identity a connection proved below MQTT: the names in its verified client certificate. */
export interface PeerIdentity {
  certificateNames: readonly string[];
}

export type RefusalLog = (what: string, fields: { user: string; clientId: string; why: string }) => void;

type ConnackError = Error & { returnCode?: number };

function refusal(returnCode: 2 | 4 | 5, message: string): ConnackError {
  return Object.assign(new Error(message), { returnCode });
}

/** [MQTT-3.1.3-8]: a server refuses a zero-length client id with CleanSession 0, return code 2. */
const NO_ID_PERSISTENT = 'a zero-length client id cannot have a persistent session';

export class AccessControl {
  private acl: Acl;
  private users = new Map<string, BrokerUser>();
  private principals = new Map<string, Principal>();
  private readonly clientUser = new WeakMap<object, string>();
  private readonly pending = new WeakMap<object, { noId: boolean; clean: boolean; willTopic: string | undefined }>();
  private readonly forwardCache = new WeakMap<Principal, Map<string, boolean>>();
  private readonly quota: RetainedQuota;

  constructor(
    access: AccessConfig,
    options: { maxRetainedBytesPerUser: number; peer: (conn: unknown) => PeerIdentity | undefined; log: RefusalLog },
  ) {
    this.acl = new Acl(access.acl);
    this.quota = new RetainedQuota(options.maxRetainedBytesPerUser);
    this.peer = options.peer;
    this.log = options.log;
    this.replace(access);
  }

  private readonly peer: (conn: unknown) => PeerIdentity | undefined;
  private readonly log: RefusalLog;

  /** No users: the broker is open (and the listeners must be loopback). */
  get open(): boolean {
    return this.users.size === 0;
  }

  /** Swaps users and rules; returns the users that are gone, whose sessions the broker ends. */
  reload(access: AccessConfig): string[] {
    const before = [...this.users.keys()];
    this.replace(access);
    return before.filter((name) => !this.users.has(name));
  }

  /** The user a connected client authenticated as ('' for anonymous), if any. */
  userOf(client: object): string | undefined {
    return this.clientUser.get(client);
  }

  private replace(access: AccessConfig): void {
    this.acl = new Acl(access.acl);
    this.users = new Map(access.users.map((u) => [u.name, u]));
    this.principals = new Map(access.users.map((u) => [u.name, { name: u.name, role: u.role, sites: u.sites }]));
  }

  private principalOf(client: object): Principal | undefined {
    const name = this.clientUser.get(client);
    if (name === undefined) return undefined;
    if (name === '') return this.open ? { name: '', role: 'anonymous', sites: [] } : undefined;
    return this.principals.get(name);
  }

  readonly preConnect = (client: ClientLike, packet: ConnectPacket, callback: (error: Error | null, success: boolean) => void): void => {
    this.pending.set(client, { noId: (packet.clientId ?? '') === '', clean: packet.clean !== false, willTopic: packet.will?.topic });
    callback(null, true);
  };

  readonly authenticate = (client: ClientLike, username: string | undefined, password: Buffer | undefined, callback: (error: Error | null, success: boolean) => void): void => {
    const connect = this.pending.get(client);
    this.pending.delete(client);
    const refuse = (error: ConnackError, user: string): void => {
      this.log('connect', { user: user || 'anonymous', clientId: client.id, why: error.message });
      callback(error, false);
    };
    if (connect?.noId === true && !connect.clean) return refuse(refusal(2, NO_ID_PERSISTENT), username ?? '');
    this.identify(client, username, password).then(
      (identity) => {
        if ('refused' in identity) return refuse(identity.refused, username ?? '');
        const name = identity.user;
        // An id aedes made up for a zero-length one (clean session only) is nobody's to take.
        if (name !== '' && connect?.noId !== true && !(client.id === name || client.id.startsWith(`${name}_`) || client.id.startsWith(`${name}-`))) {
          return refuse(refusal(2, `client id "${client.id}" does not begin with the user name "${name}" and "_" or "-"`), name);
        }
        this.clientUser.set(client, name);
        const principal = this.principalOf(client);
        const will = connect?.willTopic;
        if (principal !== undefined && will !== undefined) {
          const verdict = this.acl.publish(principal, will);
          if (!verdict.allow) return refuse(refusal(5, `last will on ${will}: ${verdict.why}`), name);
        }
        callback(null, true);
      },
      (err: unknown) => refuse(refusal(5, `cannot check the password: ${(err as Error).message}`), username ?? ''),
    );
  };

  private async identify(client: ClientLike, username: string | undefined, password: Buffer | undefined): Promise<{ user: string } | { refused: ConnackError }> {
    if (this.open) return { user: '' };
    const certificateNames = this.peer(client.conn)?.certificateNames ?? [];
    const certUser = certificateNames.find((n) => this.users.has(n));
    if (username === undefined || username === '') {
      if (certUser !== undefined) return { user: certUser };
      return { refused: refusal(5, 'anonymous clients are refused: this broker has users') };
    }
    const user = this.users.get(username);
    if (certificateNames.length > 0 && certUser !== undefined) {
      // A certificate names its user; a different user name in CONNECT is someone else's.
      if (username === certUser) return { user: certUser };
      return { refused: refusal(5, `the client certificate names "${certUser}", not "${username}"`) };
    }
    if (user?.passwordHash === undefined || password === undefined) return { refused: refusal(4, 'bad user name or password') };
    return (await verifyPassword(password, user.passwordHash)) ? { user: username } : { refused: refusal(4, 'bad user name or password') };
  }

  readonly authorizePublish = (client: ClientLike | null, packet: PublishPacket, callback: (error?: Error | null) => void): void => {
    // `$SYS/` is the broker's own (aedes' default hook refuses it too, aedes#597).
    if (packet.topic.startsWith('$SYS/')) return callback(new Error('$SYS/ topics are reserved for the broker'));
    // A null client is a last will aedes publishes for a client of an earlier
    // broker run; its topic was checked when that client connected.
    if (client === null) return callback(null);
    const principal = this.principalOf(client);
    const user = this.userOf(client) ?? '';
    const deny = (why: string): void => {
      this.log('publish', { user: user || 'anonymous', clientId: client.id, why: `${packet.topic}: ${why}` });
      callback(new Error(`not authorized to publish on ${packet.topic}: ${why}`));
    };
    if (principal === undefined) return deny('the user is no longer configured');
    const verdict = this.acl.publish(principal, packet.topic);
    if (!verdict.allow) return deny(verdict.why);
    if (packet.retain === true) {
      const bytes = packet.payload === undefined ? 0 : typeof packet.payload === 'string' ? Buffer.byteLength(packet.payload) : packet.payload.length;
      if (!this.quota.fits(user, packet.topic, bytes)) return deny(`retained quota of the user exceeded (${this.quota.usedBy(user)} bytes held)`);
      this.quota.record(user, packet.topic, bytes);
    }
    callback(null);
  };

  readonly authorizeSubscribe = <S extends { topic: string }>(client: ClientLike, sub: S, callback: (error: Error | null, sub: S | null) => void): void => {
    const principal = this.principalOf(client);
    const verdict = principal === undefined ? { allow: false, why: 'the user is no longer configured' } : this.acl.subscribe(principal, sub.topic);
    if (verdict.allow) return callback(null, sub);
    this.log('subscribe', { user: this.userOf(client) || 'anonymous', clientId: client.id, why: `${sub.topic}: ${verdict.why}` });
    // A null subscription is granted 0x80 (Failure) in the SUBACK [MQTT-3.9.3-1].
    callback(null, null);
  };

  /** Every message to every client passes here, retained ones sent on SUBSCRIBE too. */
  readonly authorizeForward = <P extends { topic: string }>(client: ClientLike, packet: P): P | null => {
    const principal = this.principalOf(client);
    if (principal === undefined) return null;
    let cache = this.forwardCache.get(principal);
    if (cache === undefined) this.forwardCache.set(principal, (cache = new Map<string, boolean>()));
    let allowed = cache.get(packet.topic);
    if (allowed === undefined) {
      allowed = this.acl.receive(principal, packet.topic).allow;
      if (cache.size >= 4096) cache.clear();
      cache.set(packet.topic, allowed);
    }
    return allowed ? packet : null;
  };
}
