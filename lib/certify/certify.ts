import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeCatalogBundle, CATALOG_BUNDLE_TOPIC } from '../catalog/catalog-bundle';
import type { Catalog } from '../catalog/catalog-model';
import { compileCatalogValidators } from '../catalog/catalog-validators';
import { TectonicError } from '../errors';
import type { PolicyBundle } from '../policy/bundle-format';
import { policyTopic } from '../policy/policy-source';
import { type BusRecord, type CheckResult, checkCanary, checkDemoKey, checkLife, checkLog, checkMasks, checkOutbox, checkOutputsValid, checkRejects, checkWaits, sortSeen } from './checks';
import { type Fixture, leafValues } from './fixtures';
import { type FlowNode, entryBusPublishes, findEntry, prepareFlow, typesOnPaths } from './flow-harness';
import { findNodeRed, packRoot, startHeadlessNodeRed } from './headless-node-red';
import { PrivateBus } from './private-bus';

export interface CertifyInput {
  flows: FlowNode[];
  fixtures: Fixture[];
  env: Record<string, string>;
  catalog: Catalog;
  /** The signed policy bundle's text, published on the bus as the centre would, and its parsed content. */
  policy?: { text: string; bundle: PolicyBundle };
  nodeRed?: string;
  cwd: string;
  entryName?: string;
  /** How long to wait for records, heartbeats and the like; default 20 s. */
  settleMs?: number;
  log?: (line: string) => void;
}

export interface CertifyReport {
  pass: boolean;
  checks: CheckResult[];
  standIns: Array<{ id: string; type: string; name: string }>;
  notes: string[];
}

const OUTBOX_DOWN_MS = 2_000;

async function settle(bus: PrivateBus, since: number, count: (r: BusRecord) => boolean, boundMs: number): Promise<void> {
  const until = Date.now() + boundMs;
  while (Date.now() < until && !count(sortSeen(bus.seen, since))) await new Promise((r) => setTimeout(r, 100));
}

/**
 * Certifies a site's Node-RED flow: runs it in a Node-RED of its own on a
 * private bus, plays the centre (publishes the catalog and the policy, a
 * little after the first records, so the entry must wait for them), feeds
 * the fixtures at the flow's entry, takes the bus away for a while, stops the
 * runtime cleanly, and judges what it saw.
 */
export async function certifyFlow(input: CertifyInput): Promise<CertifyReport> {
  const log = input.log ?? (() => undefined);
  const validators = compileCatalogValidators(input.catalog);
  if (!validators.ok) throw new TectonicError('USAGE', `the catalog does not compile: ${validators.reasons.map((r) => r.message).join('; ')}`);
  const settleMs = input.settleMs ?? 20_000;
  const notes: string[] = [];
  const found = findEntry(input.flows, input.entryName);
  if (found === undefined) throw new TectonicError('USAGE', `no entry: the flow needs a "link in" node named "${input.entryName ?? 'entry'}" or a bus-subscribe reading local records`);
  const bus = await PrivateBus.start();
  // Local records on a bus of their own, as at a site: they can still arrive while the central bus is down.
  const ownLocalBus = found.bus !== undefined && !entryBusPublishes(input.flows, found.bus);
  const local = ownLocalBus ? await PrivateBus.start() : bus;
  const env = { ...input.env, TECTONIC_BUS_URL: bus.url, TECTONIC_BUS_PORT: String(new URL(bus.url).port) };
  const runtime = await startHeadlessNodeRed({ redJs: findNodeRed(input.nodeRed, input.cwd), env }).catch(async (err: unknown) => {
    await bus.close();
    if (local !== bus) await local.close();
    throw err;
  });
  try {
    const prepared = prepareFlow(input.flows, {
      busUrl: bus.url,
      installedTypes: await runtime.installedTypes(),
      entryName: input.entryName,
      env: input.env,
      ...(ownLocalBus && found.bus !== undefined ? { localBus: { id: found.bus, url: local.url } } : {}),
    });
    notes.push(...prepared.notes);
    for (const s of prepared.standIns) notes.push(`stand-in: ${s.type} "${s.name}" (${s.id}) is not installed here and passes messages through`);
    if (prepared.entry === undefined) throw new TectonicError('USAGE', `no entry: the flow needs a "link in" node named "${input.entryName ?? 'entry'}" or a bus-subscribe reading local records`);
    log(`running the flow in Node-RED at ${runtime.url}, private bus ${bus.url}, entry ${prepared.entry.kind === 'link' ? `link in "${prepared.entry.name}"` : prepared.entry.topic}`);
    await runtime.deploy(prepared.flows);
    const entry = prepared.entry;
    const feed = async (fixtures: readonly Fixture[]): Promise<void> => {
      for (const fixture of fixtures) {
        if (entry.kind === 'link') {
          const status = await runtime.post(prepared.feedPath, fixture.record);
          if (status >= 300) throw new TectonicError('USAGE', `feeding ${fixture.file} answered ${status}`);
        } else await local.publish(entry.topic, JSON.stringify(fixture.record));
      }
    };
    const handled = (n: number) => (r: BusRecord): boolean => r.outputs.length + r.letters.length >= n;

    // Round 1: records before the centre has published its catalog and policy.
    const early = input.fixtures.slice(0, Math.max(1, Math.ceil(input.fixtures.length / 2)));
    const startedAt = Date.now();
    await feed(early);
    await new Promise((r) => setTimeout(r, 1_000));
    await bus.retain(CATALOG_BUNDLE_TOPIC, encodeCatalogBundle(input.catalog.sourceFiles).text);
    if (input.policy !== undefined) {
      const topic = policyTopic(input.policy.bundle.id);
      if (topic.ok) await bus.retain(topic.topic, input.policy.text);
    }
    await settle(bus, startedAt, handled(early.length), settleMs);
    const earlyRecord = sortSeen(bus.seen, startedAt);

    // Round 2: every fixture with the bus up, then again with it down.
    const normalAt = Date.now();
    await feed(input.fixtures);
    await settle(bus, normalAt, handled(input.fixtures.length), settleMs);
    const normal = sortSeen(bus.seen, normalAt);
    await new Promise((r) => setTimeout(r, 300));
    const downAt = Date.now();
    await bus.halt();
    // With one bus for local records and the centre, nothing can be fed while it is down: C7 says so.
    if (local !== bus || entry.kind === 'link') await feed(input.fixtures);
    await new Promise((r) => setTimeout(r, OUTBOX_DOWN_MS));
    await bus.resume();
    await settle(bus, downAt, (r) => r.outputs.length >= normal.outputs.length && r.letters.length >= normal.letters.length, settleMs);
    const whileDown = sortSeen(bus.seen, downAt);

    // A heartbeat (with its synthetic transaction), then a clean stop.
    await settle(bus, startedAt, (r) => r.heartbeats.some((h) => h.beat.canary !== undefined), settleMs);
    const stoppedAt = Date.now();
    const logs = runtime.logs();
    await runtime.stop();
    await settle(bus, stoppedAt, (r) => r.states.some((s) => s.state === 'offline'), 5_000);
    const all = sortSeen(bus.seen, 0);

    const fixtureValues = leafValues(input.fixtures.map((f) => f.record));
    const gate = gateOnEveryPath(prepared.flows, entry.kind === 'link' ? entry.id : entry.nodeId);
    const demoKey = readFileSync(join(packRoot(), 'policies', 'demo-policy.pub'), 'utf8');
    const checks: CheckResult[] = [
      checkOutputsValid(all, validators.validators, new Date()),
      checkMasks(all, input.policy?.bundle, fixtureValues, gate),
      checkRejects(normal, input.fixtures.length),
      checkWaits(earlyRecord, early.length, entry.kind),
      checkLife(all, stoppedAt),
      checkCanary(all),
      checkOutbox(normal, whileDown, OUTBOX_DOWN_MS, local === bus && entry.kind === 'bus'),
      checkLog(logs),
      checkDemoKey(input.flows, input.env, demoKey, (path) => {
        try {
          return readFileSync(path, 'utf8');
        } catch {
          return undefined;
        }
      }),
    ];
    return { pass: checks.every((c) => c.pass), checks, standIns: prepared.standIns, notes };
  } finally {
    await runtime.stop();
    await bus.close();
    if (local !== bus) await local.close();
  }
}

function gateOnEveryPath(flows: readonly FlowNode[], entryId: string): { known: boolean; ok: boolean; detail: string } {
  const paths = typesOnPaths(flows, entryId, (n) => n.type === 'bus-publish' && n.mode !== 'dead-letter');
  if (paths.length === 0) return { known: true, ok: false, detail: 'no path from the entry to a canonical bus-publish' };
  const ungated = paths.filter((p) => !p.has('policy-gate'));
  return ungated.length === 0
    ? { known: true, ok: true, detail: `a policy-gate on all ${paths.length} path(s) from the entry to the bus` }
    : { known: true, ok: false, detail: `${ungated.length} of ${paths.length} path(s) from the entry reach bus-publish without a policy-gate` };
}
