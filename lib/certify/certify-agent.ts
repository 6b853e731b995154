import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { compileCatalogValidators } from '../catalog/catalog-validators';
import { TectonicError } from '../errors';
import type { CertifyInput, CertifyReport } from './certify';
import { type CheckResult, checkCanary, checkLife, checkMasks, checkOutbox, checkOutputsValid, checkRejects, checkWaits } from './checks';
import { leafValues } from './fixtures';
import { PrivateBus } from './private-bus';
import { OUTBOX_DOWN_MS, type Subject, playScenario } from './scenario';

/** Where an agent reads its local records: an MQTT topic on the local bus, a folder, or an HTTP endpoint. */
export type FeedSpec = { kind: 'mqtt'; topic: string } | { kind: 'dir'; path: string } | { kind: 'http'; url: string };

export function parseFeedSpec(text: string): FeedSpec {
  const [kind, ...rest] = text.split(':');
  const value = rest.join(':');
  if (kind === 'mqtt' && value !== '' && !/[+#]/.test(value)) return { kind, topic: value };
  if (kind === 'dir' && value !== '') return { kind, path: value };
  if (kind === 'http' && /^https?:\/\//.test(value)) return { kind, url: value };
  throw new TectonicError('USAGE', `--feed must be mqtt:TOPIC, dir:PATH or http:URL, got "${text}"`);
}

/**
 * Certifies an agent that is not a Node-RED flow (a script, an ETL tool): it
 * runs as a command with its buses in its environment (TECTONIC_BUS_URL for
 * the central bus, TECTONIC_LOCAL_BUS_URL for local records), is fed where it
 * reads, and is judged by what appears on the bus: every assertion that does
 * not need to see inside a flow.
 */
export async function certifyAgent(input: Omit<CertifyInput, 'flows' | 'nodeRed' | 'entryName'> & { command: string; feed: FeedSpec }): Promise<CertifyReport> {
  const validators = compileCatalogValidators(input.catalog);
  if (!validators.ok) throw new TectonicError('USAGE', `the catalog does not compile: ${validators.reasons.map((r) => r.message).join('; ')}`);
  const bus = await PrivateBus.start();
  const local = await PrivateBus.start();
  let child: ChildProcess | undefined;
  let output = '';
  try {
    const env = { ...process.env, ...input.env, TECTONIC_BUS_URL: bus.url, TECTONIC_LOCAL_BUS_URL: local.url };
    // Its own process group, so a stop reaches what the command started, and only that.
    child = spawn(input.command, { shell: true, cwd: input.cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    input.log?.(`running the agent "${input.command}" (pid ${String(child.pid)}), central bus ${bus.url}, local bus ${local.url}`);
    const proc = child;
    const exited = (): boolean => proc.exitCode !== null || proc.signalCode !== null;
    const signal = (name: NodeJS.Signals): void => {
      if (proc.pid !== undefined && !exited()) {
        try {
          process.kill(-proc.pid, name);
        } catch {
          /* gone meanwhile */
        }
      }
    };
    let fileNumber = 0;
    const feed = input.feed;
    const subject: Subject = {
      feedsWhileBusDown: true,
      async feed(fixtures) {
        if (exited()) throw new TectonicError('USAGE', `the agent exited (code ${String(proc.exitCode)}):\n${output}`);
        for (const fixture of fixtures) {
          const body = JSON.stringify(fixture.record);
          if (feed.kind === 'mqtt') await local.publish(feed.topic, body);
          else if (feed.kind === 'dir') {
            const dir = resolve(input.cwd, feed.path);
            await mkdir(dir, { recursive: true });
            fileNumber += 1;
            await writeFile(join(dir, `${String(fileNumber).padStart(6, '0')}.json`), body);
          } else {
            const res = await fetch(feed.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
            await res.arrayBuffer();
            if (res.status >= 300) throw new TectonicError('USAGE', `the agent's ${feed.url} answered ${res.status} for ${fixture.file}`);
          }
        }
      },
      async stop() {
        signal('SIGTERM');
        const bound = Date.now() + 10_000;
        while (!exited() && Date.now() < bound) await new Promise((r) => setTimeout(r, 100));
        signal('SIGKILL');
      },
    };
    const seen = await playScenario(subject, bus, { fixtures: input.fixtures, catalog: input.catalog, catalogBundle: input.catalogBundle, policy: input.policy, settleMs: input.settleMs ?? 20_000 });
    const checks: CheckResult[] = [
      checkOutputsValid(seen.all, validators.validators, new Date(), input.policy?.bundle),
      checkMasks(seen.all, input.policy?.bundle, leafValues(input.fixtures.map((f) => f.record)), { known: false, ok: true, detail: '' }),
      checkRejects(seen.normal, input.fixtures.length),
      checkWaits(seen.early, seen.fedEarly, 'bus'),
      checkLife(seen.all, seen.stoppedAt),
      checkCanary(seen.all),
      checkOutbox(seen.normal, seen.whileDown, OUTBOX_DOWN_MS, false),
    ];
    return { pass: checks.every((c) => c.pass), checks, standIns: [], notes: ['an agent is judged by what it publishes: C8 (log) and C10 (trusted keys) need to see inside a flow'] };
  } finally {
    if (child?.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    await bus.close();
    await local.close();
  }
}
