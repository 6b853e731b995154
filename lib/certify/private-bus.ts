import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { type EmbeddedBroker, startEmbeddedBroker } from '../bus/embedded-broker';

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
    await this.observer?.publishAsync(topic, payload, { qos: 1 });
  }

  /** Retained, as the centre publishes its catalog and policy. */
  async retain(topic: string, payload: string): Promise<void> {
    await this.observer?.publishAsync(topic, payload, { qos: 1, retain: true });
  }

  async close(): Promise<void> {
    await this.observer?.endAsync(true);
    await this.broker?.close();
    await rm(this.dir, { recursive: true, force: true });
  }
}
