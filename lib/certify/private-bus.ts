import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { type EmbeddedBroker, startEmbeddedBroker } from '../bus/embedded-broker';
import { TectonicError } from '../errors';

/** A publish the private broker never acknowledges (a refused topic) fails after a bound instead of hanging the run. */
async function bounded(work: Promise<unknown> | undefined, what: string, ms = 10_000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new TectonicError('USAGE', `${what}: the private broker did not acknowledge within ${ms} ms`)), ms);
  });
  try {
    await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** A message seen on the private bus, with when it arrived. */
export interface Seen {
  topic: string;
  payload: Buffer;
  retain: boolean;
  at: number;
}

/**
 * The private bus a certification runs on: the embedded broker on a free
 * loopback port with its state on disk (so it can be halted and started
 * again, as a site's link to the bus fails), and an observer with a
 * persistent session that records everything the agent publishes.
 */
export class PrivateBus {
  readonly seen: Seen[] = [];
  private broker: EmbeddedBroker | undefined;
  private observer: MqttClient | undefined;

  private constructor(private readonly dir: string, private port: number) {}

  static async start(): Promise<PrivateBus> {
    const bus = new PrivateBus(await mkdtemp(join(tmpdir(), 'tectonic-certify-bus-')), 0);
    await bus.resume();
    bus.observer = mqtt.connect(bus.url, { clientId: 'tectonic-certify-observer', clean: false, reconnectPeriod: 200, keepalive: 10 });
    bus.observer.on('message', (topic, payload, packet) => bus.seen.push({ topic, payload, retain: packet.retain, at: Date.now() }));
    await new Promise<void>((resolve, reject) => {
      bus.observer?.once('connect', () => bus.observer?.subscribe(['cdm/#', 'tectonic/dlq/#', 'tectonic/health/#', 'tectonic/registry/#'], { qos: 1 }, (err) => (err ? reject(err) : resolve())));
    });
    return bus;
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  /** Stops the broker, as a lost link does; the agent must hold what it publishes meanwhile. */
  async halt(): Promise<void> {
    await this.broker?.close();
    this.broker = undefined;
  }

  async resume(): Promise<void> {
    this.broker = await startEmbeddedBroker({ host: '127.0.0.1', port: this.port, persistence: { dir: this.dir } });
    this.port = this.broker.port;
  }

  /** Publishes as the site's local system would (a bus entry). */
  async publish(topic: string, payload: string): Promise<void> {
    await bounded(this.observer?.publishAsync(topic, payload, { qos: 1 }), `publishing on ${topic}`);
  }

  /** Retained, as the centre publishes its catalog and policy. */
  async retain(topic: string, payload: string): Promise<void> {
    await bounded(this.observer?.publishAsync(topic, payload, { qos: 1, retain: true }), `publishing on ${topic}`);
  }

  async close(): Promise<void> {
    await this.observer?.endAsync(true);
    await this.broker?.close();
    await rm(this.dir, { recursive: true, force: true });
  }
}
