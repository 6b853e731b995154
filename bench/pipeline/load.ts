// The publisher and the checker of the pipeline benchmark. One MQTT.js client
// publishes the local records (QoS 1), one subscribes to every variant's
// output (QoS 1) and checks each message against the record the bench chose.
// Each record's send time stays here, indexed by its sequence number: the
// publisher and the checker share this process's clock.
import { isDeepStrictEqual } from 'node:util';
import { performance } from 'node:perf_hooks';
import { type MqttClient, connect } from 'mqtt';
import { TOPICS } from './flows';
import { expectedCanonical, invalidKind, localRecord, parseShipmentId } from './records';

export type Variant = 'raw' | 'passthrough' | 'core' | 'tectonic' | 'fleet';
export const VARIANTS: readonly Variant[] = ['raw', 'passthrough', 'core', 'tectonic', 'fleet'];

const INPUT_TOPIC: Record<Variant, string> = { raw: TOPICS.raw, passthrough: TOPICS.passthroughIn, core: TOPICS.coreIn, tectonic: TOPICS.tectonicIn, fleet: TOPICS.fleetIn };
const OUTPUT_TOPIC: Record<Variant, string> = { raw: TOPICS.raw, passthrough: TOPICS.passthroughOut, core: TOPICS.coreOut, tectonic: TOPICS.tectonicOut, fleet: TOPICS.fleetOut };
/** raw and passthrough move the local record unchanged; the others must turn it into the canonical one. */
const TRANSFORMS: Record<Variant, boolean> = { raw: false, passthrough: false, core: true, tectonic: true, fleet: true };

/** What the checker saw of one phase. */
export interface PhaseTally {
  sent: number;
  validSent: number;
  invalidSent: number;
  /** Valid records that arrived, correct, once. */
  correct: number;
  /** Outputs that differ from the expected record. */
  wrong: number;
  duplicates: number;
  /** Invalid inputs that arrived on the output anyway. */
  invalidLetThrough: number;
  /** The same, by kind of invalid record. */
  letThroughByKind: Record<string, number>;
  /** Send-to-arrival times of the valid records, ms. */
  latenciesMs: number[];
  firstSendAt: number;
  lastArrivalAt: number;
  firstWrong?: string;
}

interface ActivePhase {
  id: number;
  variant: Variant;
  sendTimes: Float64Array;
  seen: Uint8Array;
  tally: PhaseTally;
  keepLatencies: boolean;
  /** Called on every arrival; the publisher's window waits on it. */
  wake?: () => void;
}

function newTally(): PhaseTally {
  return { sent: 0, validSent: 0, invalidSent: 0, correct: 0, wrong: 0, duplicates: 0, invalidLetThrough: 0, letThroughByKind: {}, latenciesMs: [], firstSendAt: 0, lastArrivalAt: 0 };
}

async function connected(url: string, clientId: string): Promise<MqttClient> {
  const client = connect(url, { clientId, clean: true, protocolVersion: 4, reconnectPeriod: 1000, connectTimeout: 10_000 });
  // MQTT.js opens its socket without TCP_NODELAY; without it, Nagle plus
  // delayed ACKs add milliseconds at moderate rates (issue 6).
  client.on('connect', () => (client.stream as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${clientId}: no CONNACK from ${url} within 10 s`)), 10_000);
    client.once('connect', () => {
      clearTimeout(timer);
      resolve();
    });
  });
  return client;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export class PipelineLoad {
  private phase: ActivePhase | undefined;
  private phaseSerial = 0;

  private constructor(
    private readonly publisher: MqttClient,
    private readonly checker: MqttClient,
  ) {
    checker.on('message', (topic, payload) => this.onOutput(topic, payload));
  }

  static async open(brokerUrl: string): Promise<PipelineLoad> {
    const publisher = await connected(brokerUrl, `bench-publisher-${process.pid}`);
    const checker = await connected(brokerUrl, `bench-checker-${process.pid}`);
    await checker.subscribeAsync(Object.values(OUTPUT_TOPIC).map((topic) => ({ topic, qos: 1 as const })).reduce<Record<string, { qos: 1 }>>((all, s) => ({ ...all, [s.topic]: { qos: s.qos } }), {}));
    return new PipelineLoad(publisher, checker);
  }

  async close(): Promise<void> {
    await Promise.all([this.publisher.endAsync(true), this.checker.endAsync(true)]);
  }

  private begin(variant: Variant, capacity: number, keepLatencies: boolean): ActivePhase {
    this.phaseSerial += 1;
    const phase: ActivePhase = { id: this.phaseSerial, variant, sendTimes: new Float64Array(capacity), seen: new Uint8Array(capacity), tally: newTally(), keepLatencies };
    this.phase = phase;
    return phase;
  }

  private send(phase: ActivePhase, seq: number): void {
    const now = performance.now();
    if (phase.tally.sent === 0) phase.tally.firstSendAt = now;
    phase.sendTimes[seq] = now;
    phase.tally.sent += 1;
    if (invalidKind(seq) === undefined) phase.tally.validSent += 1;
    else phase.tally.invalidSent += 1;
    this.publisher.publish(INPUT_TOPIC[phase.variant], JSON.stringify(localRecord(phase.id, seq)), { qos: 1 });
  }

  private onOutput(topic: string, payload: Buffer): void {
    const phase = this.phase;
    if (phase === undefined || topic !== OUTPUT_TOPIC[phase.variant]) return;
    const now = performance.now();
    let body: unknown;
    try {
      body = JSON.parse(payload.toString('utf8'));
    } catch {
      this.wrong(phase, `not JSON: ${payload.toString('utf8').slice(0, 120)}`);
      return;
    }
    // tectonic publishes a structured CloudEvent: the record is its `data`.
    const record = (phase.variant === 'tectonic' || phase.variant === 'fleet' ? (body as { data?: unknown } | null)?.data : body) as Record<string, unknown> | null | undefined;
    const id = parseShipmentId(TRANSFORMS[phase.variant] ? record?.shipmentId : record?.Sendung);
    if (id === undefined || id.phase !== phase.id) {
      // A straggler of an earlier phase is no error; anything unidentifiable is.
      if (id === undefined) this.wrong(phase, `no shipment id: ${payload.toString('utf8').slice(0, 120)}`);
      return;
    }
    const { seq } = id;
    if (seq >= phase.seen.length || phase.sendTimes[seq] === 0) {
      this.wrong(phase, `never sent: ${seq}`);
      return;
    }
    if (phase.seen[seq] === 1) {
      phase.tally.duplicates += 1;
      return;
    }
    phase.seen[seq] = 1;
    const kind = invalidKind(seq);
    if (kind !== undefined) {
      if (TRANSFORMS[phase.variant]) {
        phase.tally.invalidLetThrough += 1;
        phase.tally.letThroughByKind[kind] = (phase.tally.letThroughByKind[kind] ?? 0) + 1;
      }
      phase.wake?.();
      return;
    }
    const expected: unknown = TRANSFORMS[phase.variant] ? expectedCanonical(phase.id, seq) : localRecord(phase.id, seq);
    if (isDeepStrictEqual(record, expected)) phase.tally.correct += 1;
    else this.wrong(phase, `seq ${seq}: got ${JSON.stringify(record)}, expected ${JSON.stringify(expected)}`);
    phase.tally.lastArrivalAt = now;
    if (phase.keepLatencies) phase.tally.latenciesMs.push(now - (phase.sendTimes[seq] as number));
    phase.wake?.();
  }

  private wrong(phase: ActivePhase, why: string): void {
    phase.tally.wrong += 1;
    phase.tally.firstWrong ??= why;
  }

  /** Valid records sent and not yet seen, right or wrong. */
  private outstanding(phase: ActivePhase): number {
    return phase.tally.validSent - phase.tally.correct - phase.tally.wrong;
  }

  /** Waits (bounded) until every valid record of the phase arrived, then a short grace for late invalid ones. */
  private async drain(phase: ActivePhase, boundMs: number): Promise<void> {
    const deadline = performance.now() + boundMs;
    while (this.outstanding(phase) > 0 && performance.now() < deadline) await delay(5);
    await delay(250);
  }

  /**
   * Full speed with a bounded in-flight window: the publisher stops while
   * more than `window` valid records are on their way, so neither the broker
   * nor Node-RED builds up a queue that would flatter or hide the figure.
   */
  async fullSpeed(variant: Variant, count: number, window: number, capMs: number): Promise<PhaseTally> {
    const phase = this.begin(variant, count, false);
    const deadline = performance.now() + capMs;
    let seq = 0;
    while (seq < count && performance.now() < deadline) {
      while (seq < count && this.outstanding(phase) < window) this.send(phase, seq++);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 50);
        phase.wake = () => {
          if (this.outstanding(phase) < window / 2) {
            clearTimeout(timer);
            phase.wake = undefined;
            resolve();
          }
        };
      });
    }
    phase.wake = undefined;
    await this.drain(phase, Math.max(1_000, deadline - performance.now()));
    this.phase = undefined;
    return phase.tally;
  }

  /** An open-loop publisher at `rate` records/s for `seconds`, paced every millisecond or so. */
  async fixedRate(variant: Variant, rate: number, seconds: number, keepLatencies: boolean, onTick?: () => void, drainMs = 10_000): Promise<PhaseTally> {
    const count = Math.ceil(rate * seconds);
    const phase = this.begin(variant, count, keepLatencies);
    const started = performance.now();
    const deadline = started + seconds * 1000 + 5_000;
    let seq = 0;
    while (seq < count && performance.now() < deadline) {
      const due = Math.min(count, Math.floor(((performance.now() - started) / 1000) * rate) + 1);
      while (seq < due) this.send(phase, seq++);
      onTick?.();
      await delay(1);
    }
    await this.drain(phase, drainMs);
    this.phase = undefined;
    return phase.tally;
  }

  /** Sends small batches until one comes through complete (the policy may still be loading), within a bound. */
  async warmUp(variant: Variant, records: number, boundMs: number): Promise<PhaseTally> {
    const deadline = performance.now() + boundMs;
    let last: PhaseTally | undefined;
    while (performance.now() < deadline) {
      last = await this.fullSpeed(variant, records, 200, Math.min(10_000, deadline - performance.now()));
      if (last.correct === last.validSent && last.wrong === 0) return last;
      await delay(500);
    }
    throw new Error(`${variant}: warm-up never delivered a whole batch (${JSON.stringify({ ...last, latenciesMs: undefined })})`);
  }
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] as number;
}
