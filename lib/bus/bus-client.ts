import mqtt, { type DoneCallback, type IClientOptions, type IClientPublishOptions, type IPublishPacket, type MqttClient } from 'mqtt';
import { TectonicError } from '../errors';
import { type CorkableStream, coalesceWrites } from './coalesce-writes';
import { DeferredAcks, type PubackPacket, type ReleaseAck } from './deferred-acks';
import { InboundQueue } from './inbound-queue';
import { keepAliveWhileHeld } from './keepalive';
import { type MessageHandler, type Route, type SubscribeOutcome, RouteTable } from './route-table';

export type { MessageHandler } from './route-table';
export type { ReleaseAck } from './deferred-acks';

export type QoS = NonNullable<IClientPublishOptions['qos']>;

/** How long an MQTT 5 broker keeps a persistent session of ours: 30 days, longer than any outage a site should ride out. */
export const SESSION_EXPIRY_SECONDS = 30 * 24 * 3600;

export type BusState =
  | { kind: 'connecting' }
  | { kind: 'connected' }
  | { kind: 'disconnected'; error?: string }
  | { kind: 'closed' };

export interface BusClientOptions {
  /** mqtt://, mqtts://, ws:// or wss:// */
  url: string;
  clientId: string;
  protocolVersion: 4 | 5;
  username?: string;
  password?: string;
  keepaliveSeconds?: number;
  /** false: a persistent session that the broker keeps while we are away. */
  clean?: boolean;
  reconnectPeriodMs?: number;
  connectTimeoutMs?: number;
  /** ca, cert, key, rejectUnauthorized, servername as Node's tls module takes them. */
  tls?: Record<string, unknown>;
  /** Upper bound for a graceful close before the connection is cut. */
  closeTimeoutMs?: number;
  /**
   * How long a filter whose last handler left with `keepAtBroker` (a node
   * restarting in a redeploy) keeps its messages waiting for the next handler
   * before they are dropped as unrouted again. 5 s by default.
   */
  parkMs?: number;
  /**
   * The last will, asked again before every connection attempt so it can
   * carry what that attempt will be (the site's session number, lib/fleet/birth-death.ts).
   */
  will?: () => { topic: string; payload: string; qos: QoS; retain: boolean };
}

export interface PublishOptions {
  qos: QoS;
  retain?: boolean;
  properties?: IPublishPacket['properties'];
}

/** Removes a handler; the last one for a filter also unsubscribes at the broker unless `keepAtBroker`. */
export type Unsubscribe = (options?: { keepAtBroker?: boolean }) => Promise<void>;

export type ConnectFunction = (url: string, options: IClientOptions) => MqttClient;

/** MQTT.js's internal MqttClient._sendPacket (see deferred-acks.ts). */
type SendPacket = (packet: { cmd: string; messageId?: number }, cb?: (err?: Error) => void, cbStorePut?: unknown, noStore?: boolean) => void;

/** A release for a message whose PUBACK is not deferred (QoS 0 and 2): nothing to do. */
const NOT_DEFERRED: ReleaseAck = () => undefined;

function withTimeout(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  return Promise.race([work.then(() => undefined), bound]).finally(() => clearTimeout(timer));
}

/**
 * One MQTT connection shared by every node that uses a tectonic-bus config:
 * it routes each incoming message to the handlers whose filter matches, keeps
 * a reference count per filter so the broker sees one subscription however
 * many nodes ask, and tells listeners of every change of connection state.
 */
export class BusClient {
  readonly protocolVersion: 4 | 5;
  private readonly client: MqttClient;
  private readonly routes = new RouteTable();
  private readonly stateListeners = new Set<(state: BusState) => void>();
  private readonly errorListeners = new Set<(err: Error) => void>();
  /** Publishes the broker has not acknowledged yet, each failed with the error given. */
  private readonly unacknowledged = new Set<(err: Error) => void>();
  private readonly closeTimeoutMs: number;
  private readonly parkMs: number;
  private current: BusState = { kind: 'connecting' };
  private lastError: string | undefined;
  private closing: Promise<void> | undefined;
  /** Incoming messages, acknowledged once routed and while nothing holds them (holdInbound). */
  private readonly inbound = new InboundQueue({ route: (packet) => this.route(packet), parkedFor: (topic) => this.routes.parkedFor(topic) });
  /** PUBACKs withheld until the records they carried have finished (deferAck). */
  private readonly deferred: DeferredAcks;
  /** The PUBLISH being routed now: the one deferAck() defers. */
  private routing: IPublishPacket | undefined;
  /** Holds this connection's writes until the end of the event-loop turn (coalesceWrites); undefined until connected. */
  private corkForTurn: (() => void) | undefined;
  /** Handed to every handler: bound once, not per message. */
  private readonly deferRouted = (): ReleaseAck => this.deferAck();

  constructor(options: BusClientOptions, connect: ConnectFunction = mqtt.connect) {
    this.protocolVersion = options.protocolVersion;
    this.closeTimeoutMs = options.closeTimeoutMs ?? 2000;
    this.parkMs = options.parkMs ?? 5000;
    this.client = connect(options.url, {
      clientId: options.clientId,
      protocolVersion: options.protocolVersion,
      username: options.username,
      password: options.password,
      keepalive: options.keepaliveSeconds ?? 30,
      clean: options.clean ?? true,
      // MQTT 5 ends a session when the connection drops unless it is given an
      // expiry [MQTT-3.1.2-23]; "persistent" means the broker keeps it while we are away.
      ...(options.protocolVersion === 5 && options.clean === false ? { properties: { sessionExpiryInterval: SESSION_EXPIRY_SECONDS } } : {}),
      reconnectPeriod: options.reconnectPeriodMs ?? 1000,
      connectTimeout: options.connectTimeoutMs ?? 10_000,
      // Routes are subscribed by subscribeRoutes() on every CONNACK instead.
      resubscribe: false,
      // A PINGREQ every half keepalive whatever the traffic, instead of the
      // keepalive timer cleared and set again on every acknowledgement: that
      // was a timer per record published.
      reschedulePings: false,
      // MQTT.js logs every packet through `debug`; even switched off, that
      // costs a call and its arguments per packet.
      log: () => undefined,
      ...(options.will === undefined ? {} : { will: options.will() }),
      ...options.tls,
    });
    this.client.on('connect', (connack) => {
      // MQTT.js opens the socket without TCP_NODELAY; set it on each new stream.
      const stream = this.client.stream as { setNoDelay?: (noDelay: boolean) => void } & Partial<CorkableStream>;
      stream.setNoDelay?.(true);
      this.corkForTurn = typeof stream.cork === 'function' && typeof stream.uncork === 'function' && typeof stream.on === 'function' ? coalesceWrites(stream as CorkableStream) : undefined;
      this.lastError = undefined;
      this.subscribeRoutes(connack.sessionPresent);
      this.setState({ kind: 'connected' });
    });
    this.client.on('reconnect', () => {
      // MQTT.js reads options.will for each CONNECT it sends; 'reconnect' comes just before.
      if (options.will !== undefined) this.client.options.will = options.will();
      this.setState({ kind: 'connecting' });
    });
    // Withheld PUBACKs: MQTT.js sends a QoS 1 PUBACK through _sendPacket from
    // the handleMessage callback, which also lets it parse the next packet.
    // The callback runs at once; the PUBACK of a deferred message (and any
    // behind it) is kept and written in arrival order as records finish.
    const internals = this.client as unknown as { _sendPacket: SendPacket };
    const sendPacket = internals._sendPacket.bind(this.client);
    // Released PUBACKs are written when their records finish, usually while bus-publish's connection reads its PUBACKs: corked for the turn, they leave in one write, not one each.
    this.deferred = new DeferredAcks((packet) => {
      this.corkForTurn?.();
      sendPacket(packet);
    });
    internals._sendPacket = (packet, cb, cbStorePut, noStore) => {
      if (packet.cmd === 'puback' && this.deferred.withhold(packet as PubackPacket)) {
        // What MQTT.js waits for to read on; a written PUBACK calls it as soon.
        cb?.();
        return;
      }
      sendPacket(packet, cb, cbStorePut, noStore);
    };
    this.client.on('close', () => {
      // Never on the next connection: a packet id of this one [MQTT-4.4.0-1] has the broker resend them instead.
      this.deferred.forget();
      this.inbound.forgetAcknowledgements();
      if (this.closing === undefined) this.setState({ kind: 'disconnected', error: this.lastError });
    });
    // Without an 'error' listener an EventEmitter throws, and a refused
    // connection would take the whole Node-RED runtime down.
    this.client.on('error', (err) => {
      this.lastError = err.message;
      if (this.current.kind !== 'connected') this.setState({ kind: 'disconnected', error: err.message });
    });
    // Messages are routed from handleMessage rather than the 'message' event:
    // MQTT.js calls it for every PUBLISH (QoS 0, 1, and 2 on PUBREL) and
    // neither acknowledges the packet nor parses the next one until its
    // callback runs (mqtt/build/lib/handlers/publish.js, pubrel.js). Holding
    // that callback is what holdInbound() does.
    this.client.handleMessage = (packet, callback) => this.receive(packet, callback);
    keepAliveWhileHeld(this.client, () => this.inbound.waitingForAck());
  }

  get state(): BusState {
    return this.current;
  }

  /** Calls `listener` now with the current state and on every change; returns the way to stop. */
  onState(listener: (state: BusState) => void): () => void {
    this.stateListeners.add(listener);
    listener(this.current);
    return () => this.stateListeners.delete(listener);
  }

  /**
   * Problems no caller is waiting for: a message handler that threw (instead of
   * breaking MQTT.js's stream), a subscription refused on a later reconnect.
   */
  onError(listener: (err: Error) => void): () => void {
    this.errorListeners.add(listener);
    return () => this.errorListeners.delete(listener);
  }

  /**
   * Stops reading incoming messages until the returned function is called
   * (every hold must be released; releasing twice is harmless). The message
   * being routed when the hold starts is not acknowledged, and MQTT.js reads
   * nothing more from the socket, so TCP pushes back to the broker, which
   * queues: that is back-pressure for a flow that is behind (issue 6).
   *
   * It holds the whole connection: other subscribers on it wait too, and the
   * PUBACKs of its own publishes queue behind the held message. SharedBus
   * therefore gives flow-controlled subscriptions a connection of their own
   * (its inbound lane), which publishes nothing.
   */
  holdInbound(): () => void {
    return this.inbound.hold();
  }

  /**
   * Withholds the PUBACK of the QoS 1 message being routed now (call it from
   * a handler) until the returned function is called with 'finished'; PUBACKs
   * go out in the order their messages arrived [MQTT-4.6.0-2], each once it
   * and those before it are released, while MQTT.js reads on. 'abandoned'
   * sends none, so the broker keeps the message. A connection that closes
   * first forgets them all: the broker resends those messages on the next
   * connection of a persistent session. QoS 0 and 2: nothing is deferred.
   */
  deferAck(): ReleaseAck {
    const packet = this.routing;
    if (packet === undefined || packet.qos !== 1 || packet.messageId === undefined) return NOT_DEFERRED;
    return this.deferred.defer(packet.messageId);
  }

  /** PUBACKs withheld or awaited on the current connection. */
  get deferredAcks(): number {
    return this.deferred.size;
  }

  /** How many holds are active. */
  get inboundHolds(): number {
    return this.inbound.holdCount;
  }

  /** Resolves once the broker has acknowledged (QoS 1 and 2) or the packet is written (QoS 0). */
  publish(topic: string, payload: Buffer | string, options: PublishOptions): Promise<void> {
    return new Promise((resolve, reject) => this.send(topic, payload, options, (err) => (err === undefined ? resolve() : reject(err))));
  }

  /**
   * publish() with a callback, for the path every record takes: no promise
   * per message. `settled` is called once, with no argument when the broker
   * has acknowledged (QoS 1 and 2) or the packet is written (QoS 0), else
   * with the error; synchronously when the connection is already closed.
   */
  send(topic: string, payload: Buffer | string, options: PublishOptions, settled: (err?: Error) => void): void {
    if (this.closing !== undefined) {
      settled(new TectonicError('BUS_CLOSED', 'the bus connection is closed'));
      return;
    }
    const fail = (err: Error): void => {
      if (this.unacknowledged.delete(fail)) settled(err);
    };
    this.unacknowledged.add(fail);
    // Only the members MQTT.js has defaults for, unless there are properties:
    // it spreads the options over its defaults, and on Node 20's V8 a spread
    // that adds members makes an object that is slow to read.
    const properties = this.protocolVersion === 5 ? options.properties : undefined;
    const publishOptions: IClientPublishOptions = properties === undefined ? { qos: options.qos, retain: options.retain ?? false } : { qos: options.qos, retain: options.retain ?? false, properties };
    this.client.publish(topic, payload, publishOptions, (err) => {
      if (err) fail(new TectonicError('BUS_PUBLISH_FAILED', `publish to ${topic} failed: ${err.message}`, { cause: err }));
      else if (this.unacknowledged.delete(fail)) settled();
    });
  }

  /**
   * Adds `handler` for `filter`. The first handler of a filter subscribes at the
   * broker, now if connected or else on the next CONNACK; the returned function
   * removes the handler and unsubscribes the last. Rejects only when the broker
   * refuses the filter.
   */
  async subscribe(filter: string, qos: QoS, handler: MessageHandler): Promise<Unsubscribe> {
    if (this.closing !== undefined) throw new TectonicError('BUS_CLOSED', 'the bus connection is closed');
    let route = this.routes.get(filter);
    if (route?.parked !== undefined) {
      clearTimeout(route.parked);
      route.parked = undefined;
      this.inbound.scheduleDrain();
    }
    if (route === undefined) {
      route = { qos, handlers: new Set(), confirmed: false };
      this.routes.add(filter, route);
      route.answer = this.client.connected ? this.subscribeAtBroker(filter, route) : this.nextAnswer(route);
    }
    route.handlers.add(handler);
    // Every handler waits for the broker's answer, not only the first: one that
    // joins while the SUBSCRIBE is in flight must neither resolve before the
    // subscription exists nor succeed when the broker refuses it.
    const outcome = await route.answer;
    if (outcome?.kind === 'refused') {
      route.handlers.delete(handler);
      throw new TectonicError('BUS_SUBSCRIBE_FAILED', `subscribe to ${filter} failed: ${outcome.why}`);
    }
    let removed = false;
    return async (options: { keepAtBroker?: boolean } = {}) => {
      if (removed) return;
      removed = true;
      const current = this.routes.get(filter);
      current?.handlers.delete(handler);
      if (current !== undefined && current.handlers.size === 0) {
        // keepAtBroker: a node that is only restarting leaves its subscription in
        // the persistent session, so the broker queues what arrives meanwhile.
        if (options.keepAtBroker && this.closing === undefined) {
          this.park(filter, current);
          return;
        }
        this.routes.forget(filter);
        this.inbound.scheduleDrain();
        if (this.closing === undefined && this.client.connected) {
          // A broker that went away mid-unsubscribe must not hold a redeploy up.
          await withTimeout(this.client.unsubscribeAsync(filter).catch(() => undefined), this.closeTimeoutMs);
        }
      }
    };
  }

  /**
   * Keeps a route without handlers for a while: a node restarting in a
   * redeploy closes before its successor subscribes, and whatever arrives in
   * between (after a hold, a whole socket's worth) would otherwise be
   * acknowledged with no one to receive it. Messages for a parked filter wait
   * like held ones until a handler comes back or the park expires.
   */
  private park(filter: string, route: Route): void {
    clearTimeout(route.parked);
    route.parked = setTimeout(() => {
      route.parked = undefined;
      if (route.handlers.size === 0 && this.routes.get(filter) === route) this.routes.forget(filter);
      this.inbound.scheduleDrain();
    }, this.parkMs);
    route.parked.unref();
  }

  /**
   * After a CONNACK: a new session has no subscriptions, so every route is
   * subscribed again; a resumed one keeps them, so only the routes that were
   * added while offline are. MQTT.js's own `resubscribe` would miss those.
   */
  private subscribeRoutes(sessionPresent: boolean): void {
    for (const [filter, route] of this.routes.entries()) {
      if (sessionPresent && route.confirmed) continue;
      const answer = this.subscribeAtBroker(filter, route);
      const wake = route.wake;
      route.wake = undefined;
      route.answer = answer;
      if (wake) void answer.then(wake);
    }
  }

  /** A promise of the broker's answer to the SUBSCRIBE the next CONNACK sends. */
  private nextAnswer(route: Route): Promise<SubscribeOutcome> {
    return new Promise((resolve) => {
      route.wake = resolve;
    });
  }

  private subscribeAtBroker(filter: string, route: Route): Promise<SubscribeOutcome> {
    return new Promise((resolve) => {
      this.client.subscribe(filter, { qos: route.qos }, (err, granted) => {
        // SUBACK 0x80 (MQTT 3.1.1) or a reason code >= 0x80 (MQTT 5) means refused [MQTT-3.9.3].
        const refused = granted?.find((g) => g.qos >= 128);
        if (refused !== undefined) {
          if (this.routes.get(filter) === route) this.routes.forget(filter);
          const why = `the broker refused it (code ${refused.qos})`;
          // Handlers already attached learn of it here; new callers through their rejected promise.
          if (route.confirmed) this.report(new TectonicError('BUS_SUBSCRIBE_FAILED', `subscribe to ${filter} failed: ${why}`));
          resolve({ kind: 'refused', why });
        } else if (err && !this.client.connected) {
          // The connection went away before the SUBACK: the next CONNACK subscribes again.
          resolve({ kind: 'interrupted' });
        } else if (err) {
          // MQTT.js refuses an invalid filter itself, without asking the broker.
          if (this.routes.get(filter) === route) this.routes.forget(filter);
          resolve({ kind: 'refused', why: err.message });
        } else {
          route.confirmed = true;
          resolve({ kind: 'granted' });
        }
      });
    });
  }

  /** Ends the connection, gracefully if it can within the bound, then by force. Idempotent. */
  close(): Promise<void> {
    if (this.closing === undefined) this.inbound.settle();
    this.closing ??= new Promise<void>((resolve) => {
      const timer = setTimeout(() => this.client.end(true, {}, () => resolve()), this.closeTimeoutMs);
      this.client.end(false, {}, () => {
        clearTimeout(timer);
        resolve();
      });
    }).then(() => {
      // MQTT.js keeps a QoS 1/2 publish made while offline in its store and never
      // calls back once ended; settle it so the sender's done() still runs.
      const closed = new TectonicError('BUS_CLOSED', 'the bus connection closed before the broker acknowledged the message');
      for (const fail of [...this.unacknowledged]) fail(closed);
      this.unacknowledged.clear();
      for (const route of this.routes.values()) {
        route.wake?.({ kind: 'interrupted' });
        clearTimeout(route.parked);
      }
      this.routes.clear();
      this.setState({ kind: 'closed' });
      this.stateListeners.clear();
      this.errorListeners.clear();
    });
    return this.closing;
  }

  private report(err: Error): void {
    for (const listener of this.errorListeners) listener(err);
  }

  private setState(state: BusState): void {
    this.current = state;
    for (const listener of this.stateListeners) listener(state);
  }

  /** MQTT.js's handleMessage: route now, or queue behind a hold, a parked filter, or earlier messages. */
  private receive(packet: IPublishPacket, ack: DoneCallback): void {
    if (this.closing !== undefined) {
      // Closing: nothing is routed any more. An error tells MQTT.js to read on
      // without acknowledging, so the PUBACKs of our own publishes still arrive
      // and the broker keeps this message for the session's return.
      ack(new TectonicError('BUS_CLOSED', 'the bus connection is closing'));
      return;
    }
    this.inbound.push(packet, ack);
  }

  private route(packet: IPublishPacket): void {
    // A topic alias could leave packet.topic empty, but we never announce a
    // Topic Alias Maximum (absent means 0), so the broker must not use one [MQTT-3.1.2-26].
    const topic = packet.topic;
    const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
    this.routing = packet;
    try {
      for (const route of this.routes.matching(topic)) {
        for (const handler of route.handlers) {
          try {
            handler(topic, payload, packet, this.deferRouted);
          } catch (err) {
            this.report(err instanceof Error ? err : new Error(String(err)));
          }
        }
      }
    } finally {
      this.routing = undefined;
    }
  }
}
