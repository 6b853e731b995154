import { type BrokerLease, leaseEmbeddedBroker } from './broker-registry';
import { BusClient, type BusClientOptions, type BusState, type ConnectFunction, type MessageHandler, type PublishOptions, type QoS, type Unsubscribe } from './bus-client';
import { type BusSettings, embeddedUrl } from './bus-settings';
import { TectonicError } from '../errors';
import type { BirthAndDeath } from '../fleet/birth-death';

/** `open`: connected to an embedded broker without a security file, which admits anyone and so listens on loopback only. */
export type SharedBusState = Exclude<BusState, { kind: 'connected' }> | { kind: 'connected'; open?: true } | { kind: 'starting' } | { kind: 'failed'; error: string };

/**
 * Which connection a subscription uses. 'shared': the one every node of the
 * bus shares. 'inbound': a second connection (client id + "-in") for
 * subscriptions under flow control: holding it stops reading only records,
 * never the PUBACKs bus-publish waits for, which would otherwise deadlock a
 * flow whose outbox waits for room while its entry waits for the outbox.
 */
export type BusLane = 'shared' | 'inbound';

export interface SharedBusOptions {
  settings: BusSettings;
  username?: string;
  password?: string;
  tls?: Record<string, unknown>;
  /** Where the embedded broker keeps its state when settings.persistence is 'disk'. */
  brokerDir?: string;
  /** The embedded broker's refusal and reload lines (lib/broker). */
  brokerLog?: (line: string) => void;
  connect?: ConnectFunction;
  /** With a site id: the connection's birth (on connect), death (its will) and clean shutdown on the site's state topic. */
  health?: BirthAndDeath;
}

/** How long a clean shutdown waits for its offline state to be acknowledged before closing anyway. */
const DEATH_BOUND_MS = 1000;

/** One connection's life, from the first user to the last. */
interface Session {
  ready: Promise<{ client: BusClient; lease?: BrokerLease }>;
  /** The shared connection once made: send() takes it without a turn through `ready`. */
  shared?: BusClient;
  clientState: SharedBusState;
  /** The inbound lane's connection, made on first use. */
  inbound?: BusClient;
  inboundState?: BusState;
}

/**
 * What one tectonic-bus config owns: the embedded broker (when it runs one)
 * and the single connection its nodes share. Like core's mqtt-broker, it
 * keeps a registry of its users: the first one opens the broker and the
 * connection, the last one to leave closes them, so a bus no flow uses holds
 * no socket and no port. Start-up is asynchronous, so publish and subscribe
 * wait for it (and, before the first user, for that user); close releases
 * both, in that order, for good.
 */
export class SharedBus {
  readonly settings: BusSettings;
  private readonly options: SharedBusOptions;
  /** The port asked for: 0 asks the system for a fresh one at every start. */
  private readonly port: number;
  private readonly users = new Set<string>();
  private readonly listeners = new Set<(state: SharedBusState) => void>();
  private readonly errorListeners = new Set<(err: Error) => void>();
  private current: SharedBusState = { kind: 'starting' };
  private session: Session | undefined;
  /** The previous session's teardown: a new one starts after it, so an embedded broker finds its port free. */
  private ended: Promise<void> = Promise.resolve();
  /** Calls made before the first user: they go through once there is a connection. */
  private waiting: Array<{ resolve: (value: { client: BusClient }) => void; reject: (err: Error) => void }> = [];
  private closing: Promise<void> | undefined;
  private finished = false;

  constructor(options: SharedBusOptions) {
    this.settings = { ...options.settings };
    this.options = options;
    this.port = options.settings.port;
  }

  /** How many nodes use the bus now. */
  get userCount(): number {
    return this.users.size;
  }

  /** Adds a user; the first one opens the connection (and the embedded broker). Registering twice counts once. */
  register(userId: string): void {
    if (this.closing !== undefined) return;
    this.users.add(userId);
    this.session ??= this.open();
  }

  /** Removes a user; the last one closes the connection and the broker. Resolves once they are closed; never rejects. */
  deregister(userId: string): Promise<void> {
    if (!this.users.delete(userId) || this.users.size > 0 || this.session === undefined) return this.ended;
    return this.end();
  }

  private open(): Session {
    if (this.current.kind !== 'starting') this.setState({ kind: 'starting' });
    const parts: Omit<Session, 'ready'> = { clientState: { kind: 'starting' } };
    const session: Session = Object.assign(parts, { ready: this.ended.then(() => this.start(session)) });
    session.ready.catch((err: unknown) => {
      if (this.session === session) this.setState({ kind: 'failed', error: (err as Error).message });
    });
    for (const waiter of this.waiting.splice(0)) session.ready.then(waiter.resolve, waiter.reject);
    return session;
  }

  private async start(session: Session): Promise<{ client: BusClient; lease?: BrokerLease }> {
    let lease: BrokerLease | undefined;
    if (this.settings.mode === 'embedded') {
      const persistence = this.settings.persistence === 'disk' && this.options.brokerDir !== undefined ? { dir: this.options.brokerDir } : 'memory';
      const security = this.settings.securityFile === undefined ? {} : { accessFile: this.settings.securityFile };
      lease = await leaseEmbeddedBroker({ host: this.settings.host, port: this.port, persistence, ...security, ...(this.options.brokerLog ? { log: this.options.brokerLog } : {}) });
      this.settings.port = lease.broker.port;
      this.settings.url = embeddedUrl(this.settings.host, lease.broker.port);
    }
    const health = this.options.health;
    const client = this.connect(this.settings.clientId, health === undefined ? undefined : () => health.will());
    session.shared = client;
    client.onState((state) => {
      // A session that ended may still report its connection closing: its users are gone.
      if (this.session !== session) return;
      if (state.kind === 'connected' && health !== undefined) this.announceBirth(client, health);
      session.clientState = state;
      this.showState(session);
    });
    client.onError((err) => {
      for (const listener of this.errorListeners) listener(err);
    });
    return { client, lease };
  }

  private end(): Promise<void> {
    const session = this.session;
    this.session = undefined;
    if (session === undefined) return this.ended;
    this.ended = session.ready
      .then(
        async ({ client, lease }) => {
          if (this.options.health !== undefined && client.state.kind === 'connected') await this.announceDeath(client, this.options.health);
          await Promise.all([client.close(), session.inbound?.close()]);
          await lease?.release();
        },
        () => undefined,
      )
      .then(() => {
        if (this.session === undefined) this.setState({ kind: 'closed' });
      });
    return this.ended;
  }

  private announceBirth(client: BusClient, health: BirthAndDeath): void {
    let birth;
    try {
      birth = health.birth();
    } catch (err) {
      this.reportError(new TectonicError('BUS_STATE', `cannot keep the session counter for site ${health.site}: ${(err as Error).message}`, { cause: err }));
      return;
    }
    client.send(birth.topic, birth.payload, { qos: birth.qos, retain: birth.retain }, (err) => {
      if (err !== undefined) this.reportError(new TectonicError('BUS_STATE', `cannot announce site ${health.site} online: ${err.message}`, { cause: err }));
    });
  }

  /** Offline before closing, so the centre hears a clean shutdown and not a lost connection. Never rejects. */
  private announceDeath(client: BusClient, health: BirthAndDeath): Promise<void> {
    const death = health.death();
    const sent = new Promise<void>((resolve) => client.send(death.topic, death.payload, { qos: death.qos, retain: death.retain }, () => resolve()));
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, DEATH_BOUND_MS);
    });
    return Promise.race([sent, bound]).finally(() => clearTimeout(timer));
  }

  private reportError(err: Error): void {
    for (const listener of this.errorListeners) listener(err);
  }

  /** The current session's connection; before the first user, a wait for it. */
  private connection(): Promise<{ client: BusClient }> {
    if (this.closing !== undefined) return Promise.reject(new TectonicError('BUS_CLOSED', 'the bus connection is closed'));
    if (this.session !== undefined) return this.session.ready;
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  private connect(clientId: string, will?: BusClientOptions['will']): BusClient {
    const options = this.options;
    return new BusClient(
      {
        url: this.settings.url,
        clientId,
        protocolVersion: this.settings.protocolVersion,
        username: options.username,
        password: options.password,
        keepaliveSeconds: this.settings.keepaliveSeconds,
        clean: this.settings.session === 'clean',
        tls: options.tls,
        will,
      },
      options.connect,
    );
  }

  /** The inbound lane's client, connected on first use (after start-up, so an embedded broker is listening). */
  private async inboundClient(): Promise<BusClient> {
    await this.connection();
    const session = this.session;
    if (session === undefined) throw new TectonicError('BUS_CLOSED', 'the bus connection is closed');
    if (session.inbound === undefined) {
      const client = this.connect(`${this.settings.clientId}-in`);
      session.inbound = client;
      client.onState((state) => {
        if (this.session !== session) return;
        session.inboundState = state;
        this.showState(session);
      });
    }
    return session.inbound;
  }

  /** The shared connection's state, unless the inbound lane is down while it is up. */
  private showState(session: Session): void {
    const inbound = session.inboundState;
    this.setState(session.clientState.kind === 'connected' && inbound !== undefined && inbound.kind !== 'connected' ? inbound : session.clientState);
  }

  get state(): SharedBusState {
    return this.current;
  }

  /** The site this connection announces (birth, death, session number), when it has a site id. */
  get health(): BirthAndDeath | undefined {
    return this.options.health;
  }

  get protocolVersion(): 4 | 5 {
    return this.settings.protocolVersion;
  }

  onState(listener: (state: SharedBusState) => void): () => void {
    this.listeners.add(listener);
    listener(this.current);
    return () => this.listeners.delete(listener);
  }

  publish(topic: string, payload: Buffer | string, options: PublishOptions): Promise<void> {
    return new Promise((resolve, reject) => this.send(topic, payload, options, (err) => (err === undefined ? resolve() : reject(err))));
  }

  /** BusClient.send on the shared connection: every record goes through here, so no promise once it is made. */
  send(topic: string, payload: Buffer | string, options: PublishOptions, settled: (err?: Error) => void): void {
    const shared = this.session?.shared;
    if (shared !== undefined) {
      shared.send(topic, payload, options, settled);
      return;
    }
    this.connection().then(
      ({ client }) => client.send(topic, payload, options, settled),
      (err: unknown) => settled(err instanceof Error ? err : new Error(String(err))),
    );
  }

  async subscribe(filter: string, qos: QoS, handler: MessageHandler, lane: BusLane = 'shared'): Promise<Unsubscribe> {
    const client = lane === 'inbound' ? await this.inboundClient() : (await this.connection()).client;
    return client.subscribe(filter, qos, handler);
  }

  /**
   * Stops reading incoming messages on the inbound lane until the returned
   * function is called (see BusClient.holdInbound). Takes effect at once when
   * the lane is up: a node calls it from inside a message handler, and the
   * message's acknowledgement must already wait.
   */
  holdInbound(): () => void {
    const inbound = this.session?.inbound;
    if (inbound !== undefined) return inbound.holdInbound();
    // No record can have arrived on a lane not made yet; hold from the moment there is one.
    let release: (() => void) | undefined;
    let released = false;
    void this.inboundClient().then(
      (client) => {
        if (!released) release = client.holdInbound();
      },
      () => undefined,
    );
    return () => {
      released = true;
      release?.();
    };
  }

  /** Problems no caller is waiting for (see BusClient.onError), from whichever connection is current. */
  onError(listener: (err: Error) => void): Promise<() => void> {
    this.errorListeners.add(listener);
    return Promise.resolve(() => this.errorListeners.delete(listener));
  }

  /** For good: every user is dropped and no later one reopens it. Idempotent; never rejects, so a Node-RED close handler can always call done(). */
  close(): Promise<void> {
    if (this.closing !== undefined) return this.closing;
    this.users.clear();
    const closed = new TectonicError('BUS_CLOSED', 'the bus connection is closed');
    for (const waiter of this.waiting.splice(0)) waiter.reject(closed);
    const ending = this.end();
    this.closing = ending.finally(() => {
      this.setState({ kind: 'closed' });
      this.finished = true;
      this.listeners.clear();
      this.errorListeners.clear();
    });
    return this.closing;
  }

  private setState(given: SharedBusState): void {
    if (this.finished) return;
    const state: SharedBusState = given.kind === 'connected' && this.settings.mode === 'embedded' && this.settings.securityFile === undefined ? { kind: 'connected', open: true } : given;
    this.current = state;
    for (const listener of this.listeners) listener(state);
  }
}
