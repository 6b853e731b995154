import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Catalog } from '../catalog/catalog-model';
import { compileCatalogValidators } from '../catalog/catalog-validators';
import { TectonicError } from '../errors';
import type { PolicyBundle } from '../policy/bundle-format';
import { type CheckResult, checkCanary, checkDemoKey, checkLife, checkLog, checkMasks, checkOutbox, checkOutputsValid, checkRejects, checkWaits } from './checks';
import { type Fixture, leafValues } from './fixtures';
import { type FlowNode, entryBusPublishes, findEntry, prepareFlow, typesOnPaths } from './flow-harness';
import { findNodeRed, packRoot, startHeadlessNodeRed } from './headless-node-red';
import { PrivateBus } from './private-bus';
import { OUTBOX_DOWN_MS, type Subject, playScenario } from './scenario';

export interface CertifyInput {
  flows: FlowNode[];
  fixtures: Fixture[];
  env: Record<string, string>;
  catalog: Catalog;
  /** The catalog bundle to publish as is (a signed one, format 2), when the catalog came from one. */
  catalogBundle?: string;
  /** The signed policy bundle's text, published on the bus as the centre would, and its parsed content. */
  policy?: { text: string; bundle: PolicyBundle };
  nodeRed?: string;
  cwd: string;
  entryName?: string;
  /** Where the kit is: the runtime's working folder, so the kit's relative paths (mapping.yaml, keys/) resolve as at the site. */
  workDir?: string;
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
  const found = findEntry(input.flows, input.entryName, input.env);
  if (found === undefined) throw new TectonicError('USAGE', `no entry: the flow needs a "link in" node named "${input.entryName ?? 'entry'}" or a bus-subscribe reading local records on one topic (its variable set in --env)`);
  const bus = await PrivateBus.start();
  // Local records on a bus of their own, as at a site: they can still arrive while the central bus is down.
  const ownLocalBus = found.bus !== undefined && !entryBusPublishes(input.flows, found.bus);
  const local = ownLocalBus ? await PrivateBus.start() : bus;
  // The template's heartbeat every second, so the synthetic transaction is seen within the run (a flow that fixes its own interval keeps it).
  const env = { ...input.env, TECTONIC_HEARTBEAT_SECONDS: '1', TECTONIC_BUS_URL: bus.url, TECTONIC_BUS_PORT: String(new URL(bus.url).port) };
  const runtime = await startHeadlessNodeRed({ redJs: findNodeRed(input.nodeRed, input.cwd), env, workDir: input.workDir }).catch(async (err: unknown) => {
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
    const logs = { text: '' };
    const subject: Subject = {
      feedsWhileBusDown: local !== bus || entry.kind === 'link',
      async feed(fixtures) {
        for (const fixture of fixtures) {
          if (entry.kind === 'link') {
            const status = await runtime.post(prepared.feedPath, fixture.record);
            if (status >= 300) throw new TectonicError('USAGE', `feeding ${fixture.file} answered ${status}`);
          } else await local.publish(entry.topic, JSON.stringify(fixture.record));
        }
      },
      async stop() {
        logs.text = runtime.logs();
        await runtime.stop();
      },
    };
    const seen = await playScenario(subject, bus, { fixtures: input.fixtures, catalog: input.catalog, catalogBundle: input.catalogBundle, policy: input.policy, settleMs });
    const fixtureValues = leafValues(input.fixtures.map((f) => f.record));
    const gate = gateOnEveryPath(prepared.flows, entry.kind === 'link' ? entry.id : entry.nodeId);
    const demoKey = readFileSync(join(packRoot(), 'policies', 'demo-policy.pub'), 'utf8');
    const checks: CheckResult[] = [
      checkOutputsValid(seen.all, validators.validators, new Date(), input.policy?.bundle),
      checkMasks(seen.all, input.policy?.bundle, fixtureValues, gate),
      checkRejects(seen.normal, input.fixtures.length),
      checkWaits(seen.early, seen.fedEarly, entry.kind),
      checkLife(seen.all, seen.stoppedAt),
      checkCanary(seen.all),
      checkOutbox(seen.normal, seen.whileDown, OUTBOX_DOWN_MS, !subject.feedsWhileBusDown),
      checkLog(logs.text),
      checkDemoKey(input.flows, input.env, demoKey, (path) => {
        try {
          return readFileSync(resolve(input.workDir ?? input.cwd, path), 'utf8');
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
