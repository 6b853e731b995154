import { type BrokerLease, leaseEmbeddedBroker } from './broker-registry';
import { BusClient, type BusState, type ConnectFunction, type MessageHandler, type PublishOptions, type QoS, type Unsubscribe } from './bus-client';
import { type BusSettings, embeddedUrl } from './bus-settings';

export type SharedBusState = BusState | { kind: 'starting' } | { kind: 'failed'; error: string };

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
  connect?: ConnectFunction;
}

/**
 * What one tectonic-bus config owns: the embedded broker (when it runs one)
 * and the single connection its nodes share. Start-up is asynchronous, so
 * publish and subscribe wait for it; close releases both, in that order.
 */
export class SharedBus {
  readonly settings: BusSettings;
  private readonly ready: Promise<{ client: BusClient; lease?: BrokerLease }>;
  private readonly listeners = new Set<(state: SharedBusState) => void>();
  private current: SharedBusState = { kind: 'starting' };
  private closing: Promise<void> | undefined;
  private clientState: SharedBusState = { kind: 'starting' };
  private options: SharedBusOptions;
  /** The shared connection once made: publish() takes it without a turn through `ready`. */
  private shared: BusClient | undefined;
  /** The inbound lane's connection, made on first use. */
  private inbound: BusClient | undefined;
  private inboundState: BusState | undefined;

  constructor(options: SharedBusOptions) {
    this.settings = { ...options.settings };
    this.options = options;
    this.ready = this.start(options);
    this.ready.catch((err: unknown) => this.setState({ kind: 'failed', error: (err as Error).message }));
  }

  private async start(options: SharedBusOptions): Promise<{ client: BusClient; lease?: BrokerLease }> {
    let lease: BrokerLease | undefined;
    if (this.settings.mode === 'embedded') {
      const persistence = this.settings.persistence === 'disk' && options.brokerDir !== undefined ? { dir: options.brokerDir } : 'memory';
      lease = await leaseEmbeddedBroker({ host: this.settings.host, port: this.settings.port, persistence });
      this.settings.port = lease.broker.port;
      this.settings.url = embeddedUrl(this.settings.host, lease.broker.port);
    }
    const client = this.connect(this.settings.clientId);
    this.shared = client;
    client.onState((state) => {
      this.clientState = state;
      this.showState();
    });
    return { client, lease };
  }

  private connect(clientId: string): BusClient {
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
      },
      options.connect,
    );
  }

  /** The inbound lane's client, connected on first use (after start-up, so an embedded broker is listening). */
  private async inboundClient(): Promise<BusClient> {
    await this.ready;
    if (this.inbound === undefined) {
      const client = this.connect(`${this.settings.clientId}-in`);
      this.inbound = client;
      client.onState((state) => {
        this.inboundState = state;
        this.showState();
      });
    }
    return this.inbound;
  }

  /** The shared connection's state, unless the inbound lane is down while it is up. */
  private showState(): void {
    const inbound = this.inboundState;
    this.setState(this.clientState.kind === 'connected' && inbound !== undefined && inbound.kind !== 'connected' ? inbound : this.clientState);
  }

  get state(): SharedBusState {
    return this.current;
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
    if (this.shared !== undefined) {
      this.shared.send(topic, payload, options, settled);
      return;
    }
    this.ready.then(
      ({ client }) => client.send(topic, payload, options, settled),
      (err: unknown) => settled(err instanceof Error ? err : new Error(String(err))),
    );
  }

  async subscribe(filter: string, qos: QoS, handler: MessageHandler, lane: BusLane = 'shared'): Promise<Unsubscribe> {
    const client = lane === 'inbound' ? await this.inboundClient() : (await this.ready).client;
    return client.subscribe(filter, qos, handler);
  }

  /**
   * Stops reading incoming messages on the inbound lane until the returned
   * function is called (see BusClient.holdInbound). Takes effect at once when
   * the lane is up: a node calls it from inside a message handler, and the
   * message's acknowledgement must already wait.
   */
  holdInbound(): () => void {
    if (this.inbound !== undefined) return this.inbound.holdInbound();
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

  async onError(listener: (err: Error) => void): Promise<() => void> {
    const { client } = await this.ready;
    return client.onError(listener);
  }

  /** Idempotent; never rejects, so a Node-RED close handler can always call done(). */
  close(): Promise<void> {
    this.closing ??= this.ready
      .then(
        async ({ client, lease }) => {
          await Promise.all([client.close(), this.inbound?.close()]);
          await lease?.release();
        },
        () => undefined,
      )
      .finally(() => {
        this.setState({ kind: 'closed' });
        this.listeners.clear();
      });
    return this.closing;
  }

  private setState(state: SharedBusState): void {
    if (this.current.kind === 'closed') return;
    this.current = state;
    for (const listener of this.listeners) listener(state);
  }
}
