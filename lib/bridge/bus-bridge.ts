import type { IPublishPacket } from 'mqtt';
import type { MessageHandler, PublishOptions, QoS, ReleaseAck, Unsubscribe } from '../bus/bus-client';
import { TectonicError } from '../errors';
import { DurableOutbox, type OutboxEntry, type OutboxMessage } from '../outbox/durable-outbox';
import { OutboxSender } from '../outbox/outbox-sender';
import type { BridgeSettings } from './bridge-settings';
import { type BridgeDirection, type BridgeRoute, downFilters, hubSitesPayload, hubSitesTopic, routeOf, upFilters } from './bridge-topics';

/** The part of a tectonic-bus (SharedBus) the bridge uses, on either side. */
export interface BridgeBus {
  readonly state: { kind: string };
  readonly protocolVersion: 4 | 5;
  send(topic: string, payload: Buffer | string, options: PublishOptions, settled: (err?: Error) => void): void;
  subscribe(filter: string, qos: QoS, handler: MessageHandler): Promise<Unsubscribe>;
  onState(listener: (state: { kind: string }) => void): () => void;
}

export interface BusBridgeOptions {
  settings: BridgeSettings;
  /** The hub's sites' bus. */
  regional: BridgeBus;
  /** The centre's bus; its connection announces the hub (site id = hub id). */
  global: BridgeBus;
  /** The up direction's outbox folder, kept across restarts. */
  outboxDir: string;
  /** Problems no caller waits for: a refused subscription, an outbox that cannot open, a message that cannot cross. */
  onProblem: (err: Error) => void;
  /** A count or the outbox depth changed. */
  changed: () => void;
  /** Wait before trying again an outbox that cannot be opened; 5 s by default. */
  openRetryMs?: number;
}

/** Publishes in flight to the global bus at once from the outbox. */
const SEND_WINDOW = 256;
/**
 * Records read before the outbox is open wait in memory, their PUBACKs
 * withheld; past this many the rest are let go unacknowledged, and the
 * regional broker sends them again on the session's next connection.
 */
/** How often, and how far apart, a straight-across message is tried while the far bus is away. */
const FORWARD_ATTEMPTS = 60;
const FORWARD_RETRY_MS = 1_000;
const MAX_WAITING_FOR_OUTBOX = 10_000;
/** As bus-publish: an entry the global bus acknowledges within this long after its append is never written to disk. */
const SEND_GRACE_MS = 200;

/**
 * A regional hub: joins the sites' (regional) bus and the centre's (global)
 * one, each a tectonic-bus with a persistent session, and carries the
 * topics of bridge-topics.ts across at QoS 1, bytes, topic and MQTT 5
 * content type and user properties unchanged, so a record keeps its site and
 * its envelope id and the centre's dedup window drops a copy.
 *
 * Nothing is lost: the PUBACK of a message read on one bus is withheld
 * (BusClient.deferAck) until the other side has it. Records and dead letters
 * going up are "had" once they are in the durable outbox (on disk, or
 * acknowledged by the global bus within the grace), so a global outage holds
 * them on disk, not in the regional broker's queue nor in memory. Retained
 * state (health, registry) and everything coming down is "had" once the far
 * broker acknowledges it: a retained message is the latest word, not a
 * queue, and a crash before the PUBACK makes the source broker send it again
 * to the session's next connection [MQTT-4.4.0-1].
 *
 * A copy is possible after a crash (the outbox's deletes are not synced; a
 * message forwarded but not yet acknowledged at its source comes again);
 * consumers drop it by envelope id (bus-subscribe's dedup window).
 */
export class BusBridge {
  readonly counts = { up: 0, upState: 0, down: 0, refused: 0 };
  private readonly options: BusBridgeOptions;
  private readonly sites: ReadonlySet<string>;
  private readonly unsubscribers: Unsubscribe[] = [];
  private readonly stops: Array<() => void> = [];
  private outbox: DurableOutbox | undefined;
  private sender: OutboxSender | undefined;
  private retry: NodeJS.Timeout | undefined;
  private opening: Promise<void> | undefined;
  /** Records that came before the outbox opened. */
  private readonly waitingForOutbox: Array<{ message: OutboxMessage; release: ReleaseAck }> = [];
  private closed = false;

  constructor(options: BusBridgeOptions) {
    this.options = options;
    this.sites = new Set(options.settings.sites);
  }

  /** Entries held in the up direction's outbox (0 before it opens). */
  get held(): number {
    return this.outbox?.depth ?? 0;
  }

  /**
   * Subscribes both ways at once: a persistent session's queued messages
   * come right after the CONNACK, and one for a filter with no handler yet
   * would be acknowledged unrouted, that is lost. Records read before the
   * outbox is open wait for it.
   */
  start(): void {
    const { global, settings } = this.options;
    this.stops.push(
      global.onState((state) => {
        if (state.kind !== 'connected') return;
        this.sender?.kick({ retryNow: true });
        // Every connection, not once: a global broker that lost its retained store learns the list again.
        global.send(hubSitesTopic(settings.hubId), hubSitesPayload(settings.hubId, settings.sites), { qos: 1, retain: true }, (err) => {
          if (err !== undefined && !this.closed) this.problem(`cannot announce the hub's sites on ${hubSitesTopic(settings.hubId)}: ${err.message}`);
        });
      }),
    );
    this.subscribeAll(global, downFilters(settings.sites), this.handlerFor('down'));
    this.subscribeAll(this.options.regional, upFilters(settings.sites), this.handlerFor('up'));
    this.opening = this.openOutbox();
  }

  private openOutbox(): Promise<void> {
    const { settings, global } = this.options;
    return DurableOutbox.open({
      dir: this.options.outboxDir,
      maxCount: settings.outboxMaxCount,
      maxBytes: settings.outboxMaxBytes,
      whenFull: 'reject',
      sendGraceMs: SEND_GRACE_MS,
      sending: () => global.state.kind === 'connected',
      onProblem: (problem) => this.problem(`the bridge's outbox: ${problem.message}`),
    }).then(
      async (outbox) => {
        if (this.closed) {
          await outbox.close();
          return;
        }
        this.outbox = outbox;
        outbox.onChange(() => this.options.changed());
        this.sender = new OutboxSender({
          outbox,
          publish: (entry: OutboxEntry, settled) => global.send(entry.topic, entry.payload, { qos: 1, retain: false, properties: entry.properties }, settled),
          canSend: () => global.state.kind === 'connected',
          window: SEND_WINDOW,
          onePumpPerTurn: true,
          onDelivered: () => {
            this.counts.up += 1;
            this.options.changed();
          },
        });
        this.sender.start();
        for (const waiting of this.waitingForOutbox.splice(0)) this.append(outbox, waiting.message, waiting.release);
        this.options.changed();
      },
      (err: Error) => {
        if (this.closed) return;
        const waitMs = this.options.openRetryMs ?? 5000;
        this.problem(`the bridge's outbox cannot be opened (${err.message}); trying again in ${waitMs / 1000} s`);
        this.retry = setTimeout(() => {
          this.opening = this.openOutbox();
        }, waitMs);
      },
    );
  }

  private subscribeAll(bus: BridgeBus, filters: string[], handler: MessageHandler): void {
    for (const filter of filters) {
      bus.subscribe(filter, 1, handler).then(
        (unsubscribe) => {
          if (this.closed) void unsubscribe({ keepAtBroker: true });
          else this.unsubscribers.push(unsubscribe);
        },
        (err: Error) => {
          if (!this.closed) this.problem(err.message);
        },
      );
    }
  }

  private handlerFor(direction: BridgeDirection): MessageHandler {
    const target = direction === 'up' ? this.options.global : this.options.regional;
    return (topic, payload, packet, deferAck) => {
      if (this.closed) return;
      const route = routeOf(direction, topic, this.sites);
      if (route === undefined) return;
      const properties = wireProperties(packet);
      if (properties?.userProperties !== undefined && target.protocolVersion === 4) {
        // A binary-mode CloudEvent keeps its envelope in user properties, which MQTT 3.1.1 cannot carry.
        this.counts.refused += 1;
        this.problem(`cannot forward ${topic} to an MQTT 3.1.1 bus: its user properties (a binary-mode envelope) would be lost; publish structured events or make both buses MQTT 5`);
        return;
      }
      const release = deferAck();
      if (direction === 'up' && !route.retain) this.hold(topic, payload, properties, route, release);
      else this.forward(target, direction, topic, payload, properties, route, release);
    };
  }

  /** Up, records and dead letters: accepted once in the outbox; the sender takes them on to the global bus. */
  private hold(topic: string, payload: Buffer, properties: OutboxMessage['properties'], route: BridgeRoute, release: ReleaseAck): void {
    const message: OutboxMessage = properties === undefined ? { topic, payload, qos: 1, key: route.site } : { topic, payload, qos: 1, properties, key: route.site };
    const outbox = this.outbox;
    if (outbox !== undefined) this.append(outbox, message, release);
    else if (this.waitingForOutbox.length < MAX_WAITING_FOR_OUTBOX) this.waitingForOutbox.push({ message, release });
    else release('abandoned');
  }

  private append(outbox: DurableOutbox, message: OutboxMessage, release: ReleaseAck): void {
    const topic = message.topic;
    outbox.appendThen(message, (result) => {
      if (result.ok) {
        release('finished');
        return;
      }
      // Not acknowledged: the regional broker keeps it and sends it again on the session's next connection.
      release('abandoned');
      this.counts.refused += 1;
      this.problem(`${topic} not taken: ${result.reason.message}`);
    });
  }

  /** Straight across: the source's PUBACK waits for the far broker's. */
  private forward(target: BridgeBus, direction: BridgeDirection, topic: string, payload: Buffer, properties: OutboxMessage['properties'], route: BridgeRoute, release: ReleaseAck, attempt = 1): void {
    const options: PublishOptions = properties === undefined ? { qos: 1, retain: route.retain } : { qos: 1, retain: route.retain, properties };
    target.send(topic, payload, options, (err) => {
      if (err !== undefined) {
        // The far side not connected yet (a hub starting) or gone for a moment: an unacknowledged message
        // comes again only on the source's next connection, so try again here for a while before giving it back.
        if (!this.closed && attempt < FORWARD_ATTEMPTS) {
          setTimeout(() => {
            if (this.closed) release('abandoned');
            else this.forward(target, direction, topic, payload, properties, route, release, attempt + 1);
          }, FORWARD_RETRY_MS).unref();
          return;
        }
        release('abandoned');
        if (!this.closed) this.problem(err.message);
        return;
      }
      release('finished');
      if (direction === 'up') this.counts.upState += 1;
      else this.counts.down += 1;
      this.options.changed();
    });
  }

  private problem(message: string): void {
    this.options.onProblem(new TectonicError('BUS_PUBLISH_FAILED', message));
  }

  /**
   * Stops forwarding. `removed` (the node deleted or changed): the
   * subscriptions go too; otherwise they stay in both persistent sessions,
   * so the brokers queue what arrives until the hub is back. The outbox keeps
   * what it holds on disk. Never rejects.
   */
  async close(removed: boolean): Promise<void> {
    // Handlers leave first (synchronously, inside unsubscribe): a message that
    // came between `closed` and their leaving would be acknowledged unforwarded,
    // while one for a parked filter waits for the successor.
    const leaving = this.unsubscribers.splice(0).map((unsubscribe) => unsubscribe({ keepAtBroker: !removed }).catch(() => undefined));
    this.closed = true;
    clearTimeout(this.retry);
    // Unacknowledged, so the regional broker keeps them for the next start.
    for (const waiting of this.waitingForOutbox.splice(0)) waiting.release('abandoned');
    for (const stop of this.stops.splice(0)) stop();
    await Promise.all(leaving);
    await this.opening?.catch(() => undefined);
    await this.sender?.stop();
    await this.outbox?.close().catch(() => undefined);
  }
}

/** What of a PUBLISH's MQTT 5 properties crosses: the CloudEvents content type and attributes. */
function wireProperties(packet: IPublishPacket): OutboxMessage['properties'] | undefined {
  const { contentType, userProperties } = packet.properties ?? {};
  if (contentType === undefined && userProperties === undefined) return undefined;
  const properties: NonNullable<OutboxMessage['properties']> = {};
  if (contentType !== undefined) properties.contentType = contentType;
  if (userProperties !== undefined && Object.keys(userProperties).length > 0) properties.userProperties = userProperties;
  return properties;
}
