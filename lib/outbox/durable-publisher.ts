import type { PublishOptions } from '../bus/bus-client';
import type { PublishSettings } from '../bus/publish-settings';
import { TectonicError } from '../errors';
import { type Reason, reason } from '../reasons';
import { type AppendResult, DurableOutbox, type OutboxEntry, type OutboxMessage } from './durable-outbox';
import { type PublishRecord, assembleOutboxMessage } from './outbox-message';
import { OutboxSender } from './outbox-sender';
import { type PolicySource, PolicyPacing } from './policy-pacing';

/** Publishes in flight at once (see the sender's window). */
const SEND_WINDOW = 512;
/** How long an entry on its way to the bus may wait for its PUBACK before the outbox writes it anyway, ms. */
const SEND_GRACE_MS = 200;
/**
 * An outbox that cannot be opened (a full disk, a folder it may not write)
 * is tried again after 1 s, then twice as long each time up to 30 s: a site
 * whose disk fills up resumes by itself once space is freed, without a
 * redeploy, and a disk that stays full costs a try every half minute.
 */
const OPEN_RETRY = { firstMs: 1000, maxMs: 30_000 };

/** The part of the shared bus a publisher uses. */
export interface PublishLink {
  readonly state: { kind: string };
  send(topic: string, payload: Buffer | string, options: PublishOptions, settled: (err?: Error) => void): void;
  onState(listener: (state: { kind: string }) => void): () => void;
}

/** Where each record ends up; the node routes these to its outputs and status. */
export interface PublishOutcomes<M extends PublishRecord> {
  /** The bus took `msg` (msg.topic is the topic it went out on). */
  delivered(msg: M): void;
  /** `msg` will not reach the bus; msg.reject says why. */
  refused(msg: M): void;
  /** A message for an entry whose own was not kept (recovered after a restart, or nothing wired to take it). */
  standIn(entry: OutboxEntry): M;
  /** The bus took the entry of a synthetic transaction (its PUBACK at QoS 1): the probe has passed this site's pipeline. */
  probeTaken?(nonce: string): void;
  /** A count, the outbox depth or `full` changed. */
  changed(): void;
  /** The outbox is open, holding `recovered` entries from before a restart. */
  opened(recovered: number): void;
  /** The outbox cannot be opened; it is tried again in `retryMs`. Meanwhile records are refused as transient. */
  openFailed(err: Error, retryMs: number): void;
}

export interface DurablePublisherOptions<M extends PublishRecord> {
  settings: PublishSettings;
  /** The outbox's own folder. */
  dir: string;
  bus: PublishLink;
  /** The bundle whose retry and rate rules apply, when the node names one. */
  policy?: PolicySource;
  /**
   * Whether delivered messages go anywhere. When not, they are not kept at all:
   * under overload a full outbox would otherwise pin up to maxCount messages in memory.
   */
  keepForOutput: boolean;
  /** Names the refusals (msg.reject.stage) and starts the errors. */
  stage: string;
  outcomes: PublishOutcomes<M>;
  /** When to try again an outbox that cannot be opened (tests shorten it). */
  openRetry?: { firstMs: number; maxMs: number };
}

/**
 * Store-and-forward publishing of records: each is assembled (canonical or
 * dead letter), appended to a durable outbox and sent from there by an
 * OutboxSender, and its message is carried on once the broker acknowledges
 * it, or refused with the reason once it cannot be sent.
 */
export class DurablePublisher<M extends PublishRecord> {
  readonly counts = { accepted: 0, published: 0, rejected: 0, dropped: 0 };
  /** From the first refusal until the bus takes something again: the outbox is full, or was a moment ago. */
  full = false;
  private readonly options: DurablePublisherOptions<M>;
  private readonly outcomes: PublishOutcomes<M>;
  private readonly ready: Promise<DurableOutbox>;
  private readonly stopWatching: () => void;
  private outbox: DurableOutbox | undefined;
  private sender: OutboxSender | undefined;
  /** Why the last try to open the outbox failed; undefined before the first answer and once open. */
  private unavailable: Error | undefined;
  private retry: NodeJS.Timeout | undefined;
  /** Ends the tries to open the outbox (close() before it opened). */
  private stopTrying: (() => void) | undefined;
  private closed = false;
  /** Records that came while the first try to open the outbox was under way: appended once it opens, refused if it fails. */
  private readonly firstTry: Array<{ msg: M; message: OutboxMessage; accepted: (appended: AppendResult) => void; done: (err?: Error) => void }> = [];
  /** Messages waiting for the broker's PUBACK, by outbox seq. Entries recovered after a restart have none. */
  private readonly waiting = new Map<number, M>();
  /**
   * The outbox hands an entry to the bus beside its disk write, so the bus can
   * take it (or the sender give it up) before its append is answered: what
   * happened to such an entry waits here for the append's answer.
   */
  private readonly settledEarly = new Map<number, 'delivered' | 'given-up'>();

  constructor(options: DurablePublisherOptions<M>) {
    this.options = options;
    this.outcomes = options.outcomes;
    const { bus, settings } = options;
    this.stopWatching = bus.onState((state) => {
      // A new connection ends any back-off: what waits should go out now.
      if (state.kind === 'connected') this.sender?.kick({ retryNow: true });
    });
    const open = (): Promise<DurableOutbox> =>
      DurableOutbox.open({
        dir: options.dir,
        maxCount: settings.outboxMaxCount,
        maxBytes: settings.outboxMaxBytes,
        whenFull: settings.whenFull,
        // Entries go to the bus beside their write. While the bus is connected
        // an entry waits a little before it is written: under load a PUBACK
        // takes a few event-loop turns, far longer than the commit window, but
        // most come well within the grace, and an acknowledged entry needs no write.
        sendGraceMs: SEND_GRACE_MS,
        sending: () => bus.state.kind === 'connected',
      });
    this.ready = this.openUntilOpen(open, options.openRetry ?? OPEN_RETRY);
    // Rejects only when closed before the outbox could be opened: nothing to report then.
    this.ready.catch(() => undefined);
  }

  /** Resolves with the started outbox once a try to open it succeeds; rejects only if closed first. */
  private openUntilOpen(open: () => Promise<DurableOutbox>, retry: { firstMs: number; maxMs: number }): Promise<DurableOutbox> {
    return new Promise((resolve, reject) => {
      let wait = retry.firstMs;
      const closedFirst = (): void => {
        const err = new TectonicError('BUS_CLOSED', `${this.options.stage}: closed before its outbox could be opened`);
        for (const queued of this.firstTry.splice(0)) queued.done(err);
        reject(err);
      };
      // Called by close() while waiting for the next try; a try under way settles by itself (below).
      this.stopTrying = () => {
        clearTimeout(this.retry);
        this.retry = undefined;
        closedFirst();
      };
      const attempt = (): void => {
        this.retry = undefined;
        open().then(
          (opened) => {
            if (this.closed) {
              // close() waits for this: the folder's lock is free before a redeployed node opens it.
              void opened.close().then(closedFirst, closedFirst);
              return;
            }
            this.unavailable = undefined;
            this.stopTrying = undefined;
            resolve(this.start(opened));
            for (const queued of this.firstTry.splice(0)) opened.appendThen(queued.message, queued.accepted);
          },
          (err: Error) => {
            if (this.closed) return closedFirst();
            this.unavailable = err;
            for (const queued of this.firstTry.splice(0)) this.refuseUnavailable(queued.msg, err, queued.done);
            this.outcomes.openFailed(err, wait);
            this.outcomes.changed();
            this.retry = setTimeout(attempt, wait);
            wait = Math.min(wait * 2, retry.maxMs);
          },
        );
      };
      attempt();
    });
  }

  /** Why the outbox cannot be opened right now; undefined when it is open or its first try has not answered yet. */
  get unavailableBecause(): Error | undefined {
    return this.unavailable;
  }

  /** The outbox is open: records are taken in at once (the entry of a flow waits for this, see lib/flow/readiness). */
  get isOpen(): boolean {
    return this.outbox !== undefined;
  }

  /** Entries held, 0 until the outbox is open. */
  get depth(): number {
    return this.outbox?.depth ?? 0;
  }

  get bytes(): number {
    return this.outbox?.bytes ?? 0;
  }

  /**
   * Takes one record in. `done` is called once: with no argument when the
   * record is accepted (on disk or taken by the bus, so it reaches the bus
   * whatever happens to this process) or refused to the second output, with
   * the error when it cannot be published at all.
   */
  publish(msg: M, done: (err?: Error) => void): void {
    const assembled = assembleOutboxMessage(msg, this.options.settings, this.options.stage);
    if (!assembled.ok) {
      done(new Error(`${this.options.stage}: ${assembled.problem}`));
      return;
    }
    const topic = assembled.message.topic;
    const accepted = (appended: AppendResult): void => this.accepted(msg, topic, appended, done);
    // Once the outbox is open, append at once, with a callback: a promise or a turn through `ready` per record is measurable.
    if (this.outbox !== undefined) this.outbox.appendThen(assembled.message, accepted);
    else if (this.unavailable !== undefined) this.refuseUnavailable(msg, this.unavailable, done);
    else this.firstTry.push({ msg, message: assembled.message, accepted, done });
  }

  /** Transient: the same record is taken once the outbox opens, so an entry can hold it or a caller retry it. */
  private refuseUnavailable(msg: M, err: Error, done: (err?: Error) => void): void {
    this.refuse(msg, [reason('', 'outbox-unavailable', `the outbox cannot be opened (${err.message}); it is tried again until it opens`)], true);
    done();
  }

  /** Stops sending and closes the outbox; what it holds waits on disk for the next start. Never rejects. */
  close(): Promise<void> {
    this.stopWatching();
    this.closed = true;
    // A wait for the next try ends here; a try under way finishes first and closes what it opened.
    if (this.retry !== undefined) this.stopTrying?.();
    return this.ready
      .then(async (opened) => {
        await this.sender?.stop();
        await opened.close();
      })
      .catch(() => undefined);
  }

  private start(opened: DurableOutbox): DurableOutbox {
    this.outbox = opened;
    opened.onChange(() => this.outcomes.changed());
    const bus = this.options.bus;
    const pacing = new PolicyPacing(this.options.policy);
    const sender = new OutboxSender({
      outbox: opened,
      publish: (entry: OutboxEntry, settled: (err?: Error) => void) => bus.send(entry.topic, entry.payload, { qos: entry.qos, properties: entry.properties }, settled),
      // While disconnected the entries stay on disk, not in the MQTT client's memory.
      canSend: () => bus.state.kind === 'connected',
      // Enough in flight that most entries reach the bus inside the outbox's
      // commit window and skip the disk; one socket write per turn.
      window: SEND_WINDOW,
      onePumpPerTurn: true,
      retryFor: (entry: OutboxEntry) => pacing.retryFor(entry),
      pace: (entry: OutboxEntry) => pacing.pace(entry),
      onDelivered: (entry: OutboxEntry) => this.delivered(entry),
      onGiveUp: (entry: OutboxEntry, why: Reason) => this.givenUp(entry, why),
    });
    this.sender = sender;
    sender.start();
    this.outcomes.opened(opened.depth);
    this.outcomes.changed();
    return opened;
  }

  private accepted(msg: M, topic: string, appended: AppendResult, done: (err?: Error) => void): void {
    if (!appended.ok) {
      // Full only when it is: a message too large for the whole outbox is refused for itself.
      if (appended.reason.rule === 'outbox-full') this.full = true;
      this.refuse(msg, [appended.reason], appended.transient);
      done();
      return;
    }
    this.counts.accepted += 1;
    const early = this.settledEarly.get(appended.seq);
    if (early !== undefined) this.settledEarly.delete(appended.seq);
    if (early === 'delivered') {
      msg.topic = topic;
      this.outcomes.delivered(msg);
    } else if (early === undefined && this.options.keepForOutput) {
      this.waiting.set(appended.seq, msg);
    }
    for (const evicted of appended.dropped) {
      this.counts.dropped += 1;
      const lost = this.waiting.get(evicted.seq);
      this.waiting.delete(evicted.seq);
      const { outboxMaxCount, outboxMaxBytes } = this.options.settings;
      this.refuse(lost ?? this.outcomes.standIn(evicted), [
        reason('', 'outbox-dropped', `dropped from the full outbox (limit ${outboxMaxCount} messages, ${outboxMaxBytes} bytes) to make room for newer messages`),
      ]);
    }
    // Accepted: the message is on disk or the bus has it, and reaches the bus whatever happens to this process.
    done();
  }

  private delivered(entry: OutboxEntry): void {
    this.counts.published += 1;
    if (entry.probe !== undefined) this.outcomes.probeTaken?.(entry.probe);
    this.full = false;
    const msg = this.waiting.get(entry.seq);
    this.waiting.delete(entry.seq);
    if (msg !== undefined) {
      msg.topic = entry.topic;
      this.outcomes.delivered(msg);
    } else if (this.options.keepForOutput) {
      this.settledEarly.set(entry.seq, 'delivered');
    }
    this.outcomes.changed();
  }

  private givenUp(entry: OutboxEntry, why: Reason): void {
    const known = this.waiting.get(entry.seq);
    this.waiting.delete(entry.seq);
    if (known === undefined && this.options.keepForOutput) this.settledEarly.set(entry.seq, 'given-up');
    this.refuse(known ?? this.outcomes.standIn(entry), [why]);
  }

  /** `transient`: refused for the outbox's state (full, closing, a failed write), not for the message; see Rejection.transient. */
  private refuse(msg: M, reasons: Reason[], transient = false): void {
    this.counts.rejected += 1;
    msg.reject = transient ? { stage: this.options.stage, reasons, transient: true } : { stage: this.options.stage, reasons };
    this.outcomes.refused(msg);
    this.outcomes.changed();
  }
}
