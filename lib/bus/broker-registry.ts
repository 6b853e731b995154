import { TectonicError } from '../errors';
import { type EmbeddedBroker, type EmbeddedBrokerOptions, startEmbeddedBroker } from './embedded-broker';

export interface BrokerLease {
  broker: EmbeddedBroker;
  /** Gives the lease back; the last one closes the broker and frees its port. */
  release(): Promise<void>;
}

interface Entry {
  leases: number;
  accessFile: string | undefined;
  ready: Promise<EmbeddedBroker>;
}

const running = new Map<string, Entry>();
const closing = new Map<string, Promise<void>>();

/**
 * Embedded brokers by address, shared within the process: a pilot who imports
 * an example next to the demo gets a second tectonic-bus on the same port,
 * and both should work rather than one failing with "address in use".
 * Port 0 asks for a fresh port and is never shared.
 */
export async function leaseEmbeddedBroker(options: EmbeddedBrokerOptions): Promise<BrokerLease> {
  if (options.port === 0) {
    const broker = await startEmbeddedBroker(options);
    return { broker, release: () => broker.close() };
  }
  const key = `${options.host}:${options.port}`;
  // A redeploy closes the old broker and starts the new one on the same port.
  await closing.get(key);
  let entry = running.get(key);
  if (entry === undefined) {
    const created: Entry = { leases: 0, accessFile: options.accessFile, ready: startEmbeddedBroker(options) };
    created.ready.catch(() => {
      if (running.get(key) === created) running.delete(key);
    });
    running.set(key, created);
    entry = created;
  }
  // Sharing a broker secured by another file would quietly apply that file's users and ACL.
  if (entry.accessFile !== options.accessFile) {
    throw new TectonicError('BROKER_START_FAILED', `another tectonic-bus runs the embedded broker on ${key} with ${entry.accessFile === undefined ? 'no security file' : `security file ${entry.accessFile}`}; use the same file or another port`);
  }
  entry.leases += 1;
  const owner = entry;
  let broker: EmbeddedBroker;
  try {
    broker = await owner.ready;
  } catch (err) {
    owner.leases -= 1;
    throw err;
  }
  let released = false;
  return {
    broker,
    async release() {
      if (released) return;
      released = true;
      owner.leases -= 1;
      if (owner.leases > 0) return;
      if (running.get(key) === owner) running.delete(key);
      const closed = broker.close().finally(() => closing.delete(key));
      closing.set(key, closed);
      await closed;
    },
  };
}
