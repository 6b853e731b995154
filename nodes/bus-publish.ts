import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import type { QoS } from '../lib/bus/bus-client';
import type { SharedBus, SharedBusState } from '../lib/bus/shared-bus';
import { type WireMode, encodeMessage } from '../lib/envelope/cloudevents';
import { deadLetterOf } from '../lib/envelope/dead-letter';
import { type CdmEnvelope, checkEnvelope, isCleanEnvelope } from '../lib/envelope/envelope';
import { canonicalTopic, parseCanonicalTopic } from '../lib/envelope/topics';
import { type AppendResult, DurableOutbox, type OutboxEntry, type OutboxMessage } from '../lib/outbox/durable-outbox';
import { OutboxSender } from '../lib/outbox/outbox-sender';
import { type Reason, describeReasons, reason } from '../lib/reasons';
import { findBus } from './support/bus-config';
import { type PolicyView, findPolicy } from './support/policy-config';
import { exposeStats } from './support/stats';
import { busStatus, problemStatus } from './support/status';
import { StatusThrottle } from './support/status-throttle';
import { stateDir } from './support/user-dir';

interface BusPublishDef extends NodeDef {
  bus: string;
  qos: string;
  wireMode: string;
  mode: string;
  site: string;
  siteType: string;
  outboxMaxCount: string;
  outboxMaxBytes: string;
  whenFull: string;
  policy: string;
}

type CdmMessage = NodeMessageInFlow & { cdm?: unknown; reject?: { stage: string; reasons: Reason[] } };

const DEFAULT_MAX_COUNT = 100_000;
const DEFAULT_MAX_BYTES = 64 * 1024 * 1024;
/** Publishes in flight at once (see the sender's window). */
const SEND_WINDOW = 512;
/** How long an entry on its way to the bus may wait for its PUBACK before the outbox writes it anyway, ms. */
const SEND_GRACE_MS = 200;

function wholeNumber(text: string | undefined, fallback: number): number | undefined {
  const trimmed = (text ?? '').trim();
  if (trimmed === '') return fallback;
  return /^\d+$/.test(trimmed) && Number(trimmed) > 0 ? Number(trimmed) : undefined;
}

export = function (RED: NodeAPI): void {
  function BusPublish(this: Node, config: BusPublishDef): void {
    RED.nodes.createNode(this, config);
    const fail = (problem: string): void => {
      this.status(problemStatus(problem));
      this.error(`bus-publish: ${problem}`);
      this.on('input', (_msg, _send, done) => done(new Error(`bus-publish: ${problem}`)));
    };
    const found = findBus(RED, config.bus, this);
    if ('problem' in found) return fail(found.problem);
    const bus: SharedBus = found.bus;
    const deadLetters = config.mode === 'dead-letter';
    let site = config.site ?? '';
    if (config.siteType === 'env') site = String(RED.util.evaluateNodeProperty(site, 'env', this, {}) ?? '');
    if (deadLetters && site === '') return fail(config.siteType === 'env' ? `environment variable ${config.site} (the site id) is not set` : 'dead-letter mode needs the site id');
    const maxCount = wholeNumber(config.outboxMaxCount, DEFAULT_MAX_COUNT);
    const maxBytes = wholeNumber(config.outboxMaxBytes, DEFAULT_MAX_BYTES);
    if (maxCount === undefined || maxBytes === undefined) return fail('the outbox limits must be whole numbers greater than 0');
    const qos = (['0', '1', '2'].includes(config.qos) ? Number(config.qos) : 1) as QoS;
    let wireMode: WireMode = config.wireMode === 'binary' ? 'binary' : 'structured';
    if (wireMode === 'binary' && bus.protocolVersion !== 5) {
      // Binary mode needs MQTT 5 user properties; structured mode carries the same attributes on any version.
      this.warn('bus-publish: binary mode needs an MQTT 5 connection; publishing in structured mode');
      wireMode = 'structured';
    }

    // The policy bundle's retry and rate rules, when the node names a tectonic-policy.
    let policy: PolicyView | undefined;
    if (config.policy) {
      const foundPolicy = findPolicy(RED, config.policy);
      if ('problem' in foundPolicy) return fail(foundPolicy.problem);
      policy = foundPolicy.policy;
    }
    // A site publishes on a handful of topics: each is parsed once.
    const scopes = new Map<string, { entity: string; site: string } | null>();
    const scopeOf = (entry: OutboxEntry): { entity: string; site: string } | undefined => {
      let scope = scopes.get(entry.topic);
      if (scope === undefined) {
        const topic = parseCanonicalTopic(entry.topic);
        scope = topic === undefined ? null : { entity: topic.entity, site: topic.site };
        if (scopes.size >= 256) scopes.clear();
        scopes.set(entry.topic, scope);
      }
      return scope ?? undefined;
    };

    let state: SharedBusState = bus.state;
    const counts = { accepted: 0, published: 0, rejected: 0, dropped: 0 };
    let outbox: DurableOutbox | undefined;
    // Red from the first refusal until the bus takes something again: the outbox is full, or was a moment ago.
    let full = false;
    const throttle = new StatusThrottle(this, () => {
      if (full) return { fill: 'red', shape: 'dot', text: `outbox full (${outbox?.depth ?? 0}) · ${counts.rejected} rejected` };
      const waiting = outbox !== undefined && outbox.depth > 0 ? ` · ${outbox.depth} waiting` : '';
      return busStatus(state, `${counts.published} sent${waiting}`);
    });
    const stopWatching = bus.onState((next) => {
      state = next;
      throttle.show();
      // A new connection ends any back-off: what waits should go out now.
      if (next.kind === 'connected') sender?.kick({ retryNow: true });
    });

    // Messages waiting for the broker's PUBACK, by outbox sequence number, so the
    // output can carry them on. Entries recovered after a restart have none.
    // With nothing wired to the first output they are not kept at all: under
    // overload a full outbox would otherwise pin up to maxCount messages in memory.
    const waiting = new Map<number, CdmMessage>();
    const keepForOutput = ((this as Node & { wires?: string[][] }).wires?.[0]?.length ?? 1) > 0;
    // The outbox hands an entry to the bus beside its disk write, so the bus can
    // take it (or the sender give it up) before its append is answered: what
    // happened to such an entry waits here for the append's answer.
    const settledEarly = new Map<number, 'delivered' | 'given-up'>();
    const rejectOut = (msg: CdmMessage, reasons: Reason[]): void => {
      counts.rejected += 1;
      msg.reject = { stage: 'bus-publish', reasons };
      this.send([null, msg]);
      throttle.show();
    };

    let sender: OutboxSender | undefined;
    const ready: Promise<DurableOutbox> = DurableOutbox.open({
      dir: stateDir(RED, this, 'outbox', this.id),
      maxCount,
      maxBytes,
      whenFull: config.whenFull === 'drop-oldest' ? 'drop-oldest' : 'reject',
      // Entries go to the bus beside their write. While the bus is connected
      // an entry waits a little before it is written: under load a PUBACK
      // takes a few event-loop turns, far longer than the commit window, but
      // most come well within the grace, and an acknowledged entry needs no write.
      sendGraceMs: SEND_GRACE_MS,
      sending: () => bus.state.kind === 'connected',
    }).then((opened) => {
      outbox = opened;
      opened.onChange(() => throttle.show());
      sender = new OutboxSender({
        outbox: opened,
        publish: (entry: OutboxEntry, settled: (err?: Error) => void) => bus.send(entry.topic, entry.payload, { qos: entry.qos, properties: entry.properties }, settled),
        // While disconnected the entries stay on disk, not in the MQTT client's memory.
        canSend: () => bus.state.kind === 'connected',
        // Enough in flight that most entries reach the bus inside the outbox's
        // commit window and skip the disk; one socket write per turn.
        window: SEND_WINDOW,
        onePumpPerTurn: true,
        // Without a policy there is nothing to look up: no topic is parsed per record.
        retryFor: (entry: OutboxEntry) => {
          const compiled = policy?.compiled;
          const scope = compiled === undefined ? undefined : scopeOf(entry);
          return scope === undefined ? undefined : compiled?.retryFor(scope.entity, scope.site);
        },
        pace: (entry: OutboxEntry) => {
          const compiled = policy?.compiled;
          const scope = compiled === undefined ? undefined : scopeOf(entry);
          const limiter = scope === undefined ? undefined : compiled?.rateLimiter(scope.entity, scope.site);
          if (limiter === undefined || limiter.tryTake()) return 0;
          return Math.max(1, limiter.waitMs());
        },
        onDelivered: (entry: OutboxEntry) => {
          counts.published += 1;
          full = false;
          const msg = waiting.get(entry.seq);
          waiting.delete(entry.seq);
          if (msg !== undefined) {
            msg.topic = entry.topic;
            this.send([msg, null]);
          } else if (keepForOutput) {
            settledEarly.set(entry.seq, 'delivered');
          }
          throttle.show();
        },
        onGiveUp: (entry: OutboxEntry, why: Reason) => {
          const known = waiting.get(entry.seq);
          waiting.delete(entry.seq);
          if (known === undefined && keepForOutput) settledEarly.set(entry.seq, 'given-up');
          const msg = known ?? { _msgid: RED.util.generateId(), topic: entry.topic, payload: entry.payload.toString('utf8') };
          rejectOut(msg, [why]);
        },
      });
      sender.start();
      if (opened.depth > 0) this.log(`bus-publish: ${opened.depth} message(s) from before the restart are waiting in the outbox`);
      throttle.show();
      return opened;
    });
    ready.catch((err: Error) => {
      this.status(problemStatus(`outbox: ${err.message}`));
      this.error(`bus-publish: the outbox cannot be opened: ${err.message}`);
    });
    const stopStats = exposeStats(RED, this.id, () => ({ ...counts, outboxDepth: outbox?.depth ?? 0, outboxBytes: outbox?.bytes ?? 0 }));

    const prepare = (msg: CdmMessage): { ok: true; message: OutboxMessage } | { ok: false; error: Error } => {
      if (deadLetters) {
        const letter = deadLetterOf({ reject: msg.reject, cdm: msg.cdm, payload: msg.payload, site, now: new Date() });
        if (!letter.ok) return { ok: false, error: new Error(`bus-publish: not a dead letter: ${describeReasons(letter.reasons)}`) };
        return { ok: true, message: { topic: letter.value.topic, payload: letter.value.body, qos, properties: { contentType: 'application/json' }, key: site } };
      }
      // A clean envelope is read as it is (only its known attributes, right now); any other gets the worded check.
      let envelope: CdmEnvelope;
      if (isCleanEnvelope(msg.cdm)) envelope = msg.cdm;
      else {
        const checked = checkEnvelope(msg.cdm);
        if (!checked.ok) {
          msg.reject = { stage: 'bus-publish', reasons: checked.reasons };
          return { ok: false, error: new Error(`bus-publish: msg.cdm is not a usable envelope (set it with cdm-map): ${describeReasons(checked.reasons)}`) };
        }
        envelope = checked.value;
      }
      const wire = encodeMessage(envelope, msg.payload, wireMode);
      if (!wire.ok) {
        msg.reject = { stage: 'bus-publish', reasons: wire.reasons };
        return { ok: false, error: new Error(`bus-publish: the record cannot be published: ${describeReasons(wire.reasons)}`) };
      }
      return { ok: true, message: { topic: canonicalTopic(envelope), payload: wire.value.payload, qos, properties: wire.value.properties, key: envelope.site } };
    };

    this.on('input', (input, _send, done) => {
      const msg = input as CdmMessage;
      const prepared = prepare(msg);
      if (!prepared.ok) {
        done(prepared.error);
        return;
      }
      const accepted = (appended: AppendResult): void => {
        if (!appended.ok) {
          full = true;
          rejectOut(msg, [appended.reason]);
          done();
          return;
        }
        counts.accepted += 1;
        const early = settledEarly.get(appended.seq);
        if (early !== undefined) settledEarly.delete(appended.seq);
        if (early === 'delivered') {
          msg.topic = prepared.message.topic;
          this.send([msg, null]);
        } else if (early === undefined && keepForOutput) {
          waiting.set(appended.seq, msg);
        }
        for (const evicted of appended.dropped) {
          counts.dropped += 1;
          const lost = waiting.get(evicted.seq);
          waiting.delete(evicted.seq);
          rejectOut(lost ?? { _msgid: RED.util.generateId(), topic: evicted.topic, payload: evicted.payload.toString('utf8') }, [
            reason('', 'outbox-dropped', `dropped from the full outbox (limit ${maxCount} messages, ${maxBytes} bytes) to make room for newer messages`),
          ]);
        }
        // Accepted: the message is on disk or the bus has it, and reaches the bus whatever happens to this process.
        done();
      };
      // Once the outbox is open, append at once, with a callback: a promise or a turn through `ready` per record is measurable.
      if (outbox !== undefined) outbox.appendThen(prepared.message, accepted);
      else ready.then((opened) => opened.appendThen(prepared.message, accepted), (err: Error) => done(err));
    });

    this.on('close', (done: () => void) => {
      stopWatching();
      stopStats();
      throttle.stop();
      void ready
        .then(async (opened) => {
          await sender?.stop();
          await opened.close();
        })
        .catch(() => undefined)
        .then(() => done());
    });
  }

  RED.nodes.registerType('bus-publish', BusPublish);
};
