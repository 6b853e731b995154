import { type BrokerLease, leaseEmbeddedBroker } from './broker-registry';
import { BusClient, type BusState, type ConnectFunction, type MessageHandler, type PublishOptions, type QoS, type Unsubscribe } from './bus-client';
import { type BusSettings, embeddedUrl } from './bus-settings';

export type SharedBusState = BusState | { kind: 'starting' } | { kind: 'failed'; error: string };

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
  /** Set once start-up has made the client, so holdInbound() can act at once. */
  private client: BusClient | undefined;

  constructor(options: SharedBusOptions) {
    this.settings = { ...options.settings };
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
    const client = new BusClient(
      {
        url: this.settings.url,
        clientId: this.settings.clientId,
        protocolVersion: this.settings.protocolVersion,
        username: options.username,
        password: options.password,
        keepaliveSeconds: this.settings.keepaliveSeconds,
        clean: this.settings.session === 'clean',
        tls: options.tls,
      },
      options.connect,
    );
    this.client = client;
    client.onState((state) => this.setState(state));
    return { client, lease };
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

  async publish(topic: string, payload: Buffer, options: PublishOptions): Promise<void> {
    const { client } = await this.ready;
    await client.publish(topic, payload, options);
  }

  async subscribe(filter: string, qos: QoS, handler: MessageHandler): Promise<Unsubscribe> {
    const { client } = await this.ready;
    return client.subscribe(filter, qos, handler);
  }

  /**
   * Stops reading incoming messages on the shared connection until the
   * returned function is called (see BusClient.holdInbound). Takes effect at
   * once: a node calls it from inside a message handler, and the message's
   * acknowledgement must already wait.
   */
  holdInbound(): () => void {
    if (this.client !== undefined) return this.client.holdInbound();
    // Before start-up finished no message can have arrived; hold from the moment there is a client.
    let release: (() => void) | undefined;
    let released = false;
    void this.ready.then(
      ({ client }) => {
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
          await client.close();
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
