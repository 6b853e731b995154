// QoS 1 publish throughput to the embedded broker with a LevelDB folder and a
// persistent-session subscriber online (clean: false, QoS 1, so every message
// is queued for it, sent and deleted), for the three ways the broker can
// acknowledge (docs/outbox.md, "What durable means"):
//
//   on-receipt         aedes' own order: PUBACK first, the message stored after
//   after-store        PUBACK once the message is queued (lib/bus/ack-after-store.ts)
//   after-store, sync  the same, every LevelDB write synced (persistence sync: true)
//
// each with one message in flight (the PUBACK's latency: what a sync costs per
// message) and with a window of 512 (bus-publish's), alternated within each
// round so the machine's noise falls on all of them.
//
//   node scripts/run-benches.mjs broker
//
// Broker: lib/bus/embedded-broker.ts in a process of its own on 127.0.0.1
// (test/support/broker-process.ts), a fresh folder per case. Every load loop
// is bounded in count and time; every process is stopped by its pid.
import { performance } from 'node:perf_hooks';
import mqtt, { type MqttClient } from 'mqtt';
import { startBrokerProcess } from '../test/support/broker-process';
import { waitFor } from '../test/support/node-red-process';
import { env } from './bench-env';

const ROUNDS = env('BENCH_ROUNDS', 3);
const MESSAGES = env('BENCH_MESSAGES', 20_000);
const CASE_CAP_MS = env('BENCH_CASE_CAP_SECONDS', 3) * 1000;
const WARM_UP = 500;
const TOPIC = 'cdm/shipment/v1/site-a';
const payload = Buffer.alloc(300 - TOPIC.length, 'x');

interface Variant {
  name: string;
  qos1Ack: 'after-store' | 'on-receipt';
  sync: boolean;
}
const VARIANTS: Variant[] = [
  { name: 'on-receipt (aedes)', qos1Ack: 'on-receipt', sync: false },
  { name: 'after-store', qos1Ack: 'after-store', sync: false },
  { name: 'after-store, sync', qos1Ack: 'after-store', sync: true },
];
const WINDOWS = [1, 512];

const connect = (url: string, clientId: string, clean: boolean): Promise<MqttClient> =>
  mqtt.connectAsync(url, { clientId, clean, protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5_000 });

/** Publishes with up to `window` PUBACKs outstanding until MESSAGES or the cap; messages acknowledged per second. */
async function load(publisher: MqttClient, window: number, count: number, capMs: number): Promise<{ done: number; seconds: number }> {
  const started = performance.now();
  const deadline = started + capMs;
  let issued = 0;
  let done = 0;
  const lane = async (): Promise<void> => {
    while (issued < count && performance.now() < deadline) {
      issued += 1;
      await publisher.publishAsync(TOPIC, payload, { qos: 1 });
      done += 1;
    }
  };
  await Promise.all(Array.from({ length: window }, () => lane()));
  return { done, seconds: (performance.now() - started) / 1000 };
}

async function runCase(variant: Variant, window: number): Promise<number> {
  const broker = await startBrokerProcess({ qos1Ack: variant.qos1Ack, sync: variant.sync });
  const clients: MqttClient[] = [];
  try {
    const subscriber = await connect(broker.url, 'bench-consumer', false);
    clients.push(subscriber);
    let received = 0;
    subscriber.on('message', () => (received += 1));
    await subscriber.subscribeAsync(TOPIC, { qos: 1 });
    const publisher = await connect(broker.url, 'bench-publisher', true);
    clients.push(publisher);
    const warm = await load(publisher, Math.min(window, 64), WARM_UP, CASE_CAP_MS);
    const measured = await load(publisher, window, MESSAGES, CASE_CAP_MS);
    // The subscriber gets everything before the broker stops, so the next case starts on a quiet machine.
    const expected = warm.done + measured.done;
    await waitFor(() => received >= expected, { timeoutMs: 30_000, intervalMs: 20, message: `the subscriber to get ${expected} messages (has ${received})` });
    return measured.done / measured.seconds;
  } finally {
    await Promise.all(clients.map((c) => c.endAsync(true)));
    await broker.stop();
  }
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
};

async function main(): Promise<void> {
  const rates = new Map<string, number[]>();
  for (let round = 0; round < ROUNDS; round += 1) {
    for (const window of WINDOWS) {
      for (const variant of VARIANTS) {
        const rate = await runCase(variant, window);
        const key = `${window}\t${variant.name}`;
        rates.set(key, [...(rates.get(key) ?? []), rate]);
      }
    }
  }
  console.log(`QoS 1, 300-byte messages, persistent subscriber online; median of ${ROUNDS} rounds (${MESSAGES.toLocaleString('en')} messages or ${CASE_CAP_MS / 1000} s per case)`);
  for (const window of WINDOWS) {
    const base = median(rates.get(`${window}\t${VARIANTS[0]?.name ?? ''}`) ?? []);
    for (const variant of VARIANTS) {
      const rate = median(rates.get(`${window}\t${variant.name}`) ?? []);
      const perMessage = window === 1 ? `, ${(1000 / rate).toFixed(3)} ms per message` : '';
      console.log(
        `window ${String(window).padStart(3)}  ${variant.name.padEnd(20)} ${Math.round(rate).toLocaleString('en').padStart(7)} acknowledged/s (${((rate / base) * 100).toFixed(0)}%${perMessage})`,
      );
    }
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
