import { type BundleProblem, BundleReporter, type BundleSource, type BundleEvent, type Decoded } from './bundle-source';

/** The part of the shared bus a bundle source and its publisher need; lib/bus's SharedBus has this shape. */
export interface BundleBus {
  publish(topic: string, payload: Buffer, options: { qos: 0 | 1 | 2; retain?: boolean }): Promise<void>;
  subscribe(filter: string, qos: 0 | 1 | 2, handler: (topic: string, payload: Buffer) => void): Promise<() => Promise<void>>;
}

export interface BusBundleOptions<T> {
  topic: string;
  decode(payload: Buffer): Decoded<T>;
  subscribeFailed(err: Error): BundleProblem;
}

/**
 * The retained message on a topic, which the broker hands to a site as soon
 * as it subscribes, however long ago the central instance published it;
 * later versions arrive as they are published.
 */
export class BusBundleSource<T> implements BundleSource<T> {
  readonly origin: string;
  private closed = false;
  private unsubscribe: (() => Promise<void>) | undefined;

  constructor(
    private readonly bus: Pick<BundleBus, 'subscribe'>,
    private readonly options: BusBundleOptions<T>,
  ) {
    this.origin = `bus ${options.topic}`;
  }

  start(listener: (event: BundleEvent<T>) => void): void {
    const reporter = new BundleReporter(listener);
    const onMessage = (_topic: string, payload: Buffer): void => {
      if (this.closed) return;
      // An empty retained message clears the topic: nothing offered, what is in force stays [MQTT-3.3.1-10].
      if (payload.length === 0) return;
      reporter.report(this.options.decode(payload));
    };
    this.bus.subscribe(this.options.topic, 1, onMessage).then(
      (unsubscribe) => {
        if (this.closed) void unsubscribe().catch(() => undefined);
        else this.unsubscribe = unsubscribe;
      },
      (err: Error) => {
        if (!this.closed) reporter.problem(this.options.subscribeFailed(err));
      },
    );
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.unsubscribe?.().catch(() => undefined);
  }
}
