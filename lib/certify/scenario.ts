import { CATALOG_BUNDLE_TOPIC, encodeCatalogBundle } from '../catalog/catalog-bundle';
import type { Catalog } from '../catalog/catalog-model';
import type { PolicyBundle } from '../policy/bundle-format';
import { policyTopic } from '../policy/policy-source';
import { type BusRecord, sortSeen } from './checks';
import type { Fixture } from './fixtures';
import type { PrivateBus } from './private-bus';

/** The agent under certification, whatever it is built with. */
export interface Subject {
  /** Hands the records to the agent where it reads them. */
  feed(fixtures: readonly Fixture[]): Promise<void>;
  /** Whether the agent can still be fed while the central bus is down (its local records do not come over that bus). */
  readonly feedsWhileBusDown: boolean;
  /** A clean stop: SIGTERM, as a service manager does. */
  stop(): Promise<void>;
}

export interface Observed {
  fedEarly: number;
  early: BusRecord;
  normal: BusRecord;
  whileDown: BusRecord;
  all: BusRecord;
  stoppedAt: number;
}

export const OUTBOX_DOWN_MS = 2_000;

async function settle(bus: PrivateBus, since: number, done: (r: BusRecord) => boolean, boundMs: number): Promise<void> {
  const until = Date.now() + boundMs;
  while (Date.now() < until && !done(sortSeen(bus.seen, since))) await new Promise((r) => setTimeout(r, 100));
}

/**
 * What every certification plays, as the centre and the site's systems would:
 * the first records before the catalog and policy are on the bus, every
 * fixture with the bus up, every fixture again with the bus down for a
 * while, a heartbeat with its synthetic transaction, and a clean stop.
 */
export async function playScenario(subject: Subject, bus: PrivateBus, input: { fixtures: Fixture[]; catalog: Catalog; catalogBundle?: string; policy?: { text: string; bundle: PolicyBundle }; settleMs: number }): Promise<Observed> {
  const handled = (n: number) => (r: BusRecord): boolean => r.outputs.length + r.letters.length >= n;
  const early = input.fixtures.slice(0, Math.max(1, Math.ceil(input.fixtures.length / 2)));
  // Ready when it says so (its birth on the bus), and a moment more for its subscriptions: records fed earlier would fall on no one.
  await settle(bus, 0, (r) => r.states.some((s) => s.state === 'online'), 10_000);
  await new Promise((r) => setTimeout(r, 500));
  const startedAt = Date.now();
  await subject.feed(early);
  await new Promise((r) => setTimeout(r, 1_000));
  // A signed bundle goes out as it was signed: a kit that trusts the centre's catalog key accepts only that.
  await bus.retain(CATALOG_BUNDLE_TOPIC, input.catalogBundle ?? encodeCatalogBundle(input.catalog.sourceFiles).text);
  if (input.policy !== undefined) {
    const topic = policyTopic(input.policy.bundle.id);
    if (topic.ok) await bus.retain(topic.topic, input.policy.text);
  }
  await settle(bus, startedAt, handled(early.length), input.settleMs);
  const earlyRecord = sortSeen(bus.seen, startedAt);

  const normalAt = Date.now();
  await subject.feed(input.fixtures);
  await settle(bus, normalAt, handled(input.fixtures.length), input.settleMs);
  const normal = sortSeen(bus.seen, normalAt);
  await new Promise((r) => setTimeout(r, 300));
  const downAt = Date.now();
  await bus.halt();
  if (subject.feedsWhileBusDown) await subject.feed(input.fixtures);
  await new Promise((r) => setTimeout(r, OUTBOX_DOWN_MS));
  await bus.resume();
  await settle(bus, downAt, (r) => r.outputs.length >= normal.outputs.length && r.letters.length >= normal.letters.length, input.settleMs);
  const whileDown = sortSeen(bus.seen, downAt);

  await settle(bus, startedAt, (r) => r.heartbeats.some((h) => h.beat.canary !== undefined), input.settleMs);
  const stoppedAt = Date.now();
  await subject.stop();
  await settle(bus, stoppedAt, (r) => r.states.some((s) => s.state === 'offline' && s.at >= stoppedAt), 5_000);
  return { fedEarly: early.length, early: earlyRecord, normal, whileDown, all: sortSeen(bus.seen, 0), stoppedAt };
}
