import { readFile, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { parseEnv } from 'node:util';
import { type CertifyReport, certifyFlow } from '../certify/certify';
import { certifyAgent, parseFeedSpec } from '../certify/certify-agent';
import { loadFixtures } from '../certify/fixtures';
import type { FlowNode } from '../certify/flow-harness';
import { packRoot } from '../certify/headless-node-red';
import { decodeCatalogBundle } from '../catalog/catalog-bundle';
import { type CatalogLoadResult, loadCatalogFromFiles } from '../catalog/catalog-loader';
import { TectonicError } from '../errors';
import { checkBundleTrust } from '../policy/trust';
import { loadCatalogArgument, parseCommandArgs, readText } from './cli-input';
import { type CliCommand, type CliIo, EXIT } from './cli-types';

async function readEnvFile(file: string | undefined, io: CliIo): Promise<Record<string, string>> {
  if (file === undefined) return {};
  const parsed = parseEnv(await readText(file, io));
  return Object.fromEntries(Object.entries(parsed).filter((e): e is [string, string] => typeof e[1] === 'string'));
}

function catalogFromBundle(text: string, file: string): CatalogLoadResult {
  const decoded = decodeCatalogBundle(text);
  if (!decoded.ok) throw new TectonicError('USAGE', `${file} is neither a catalog folder nor a catalog bundle: ${decoded.reasons.map((r) => `${r.rule}: ${r.message}`).join('; ')}`);
  return loadCatalogFromFiles(decoded.files);
}

async function readFlows(file: string, io: CliIo): Promise<FlowNode[]> {
  let value: unknown;
  try {
    value = JSON.parse(await readText(file, io));
  } catch (err) {
    if (err instanceof TectonicError) throw err;
    throw new TectonicError('USAGE', `${file} is not JSON: ${(err as Error).message}`);
  }
  if (!Array.isArray(value) || !value.every((n) => typeof n === 'object' && n !== null && typeof (n as FlowNode).id === 'string' && typeof (n as FlowNode).type === 'string')) {
    throw new TectonicError('USAGE', `${file} is not a Node-RED flows file (an array of nodes with id and type)`);
  }
  return value as FlowNode[];
}

function print(report: CertifyReport, io: CliIo): void {
  for (const note of report.notes) io.out(`note  ${note}\n`);
  for (const check of report.checks) io.out(`${check.pass ? 'PASS' : 'FAIL'}  ${check.id.padEnd(3)}  ${check.rule}\n        ${check.evidence}\n`);
  const failed = report.checks.filter((c) => !c.pass).length;
  io.out(report.pass ? `certified: all ${report.checks.length} assertions hold\n` : `not certified: ${failed} of ${report.checks.length} assertions fail\n`);
}

/**
 * `tectonic certify`: the automated certification a site's agent passes
 * before it may publish on the production bus (docs/certify.md).
 */
export const certifyCommand: CliCommand = {
  name: 'certify',
  summary: "certify a site's agent: run its flow on a private bus with fixtures and check the numbered assertions",
  usage: `tectonic certify FLOWS --fixtures DIR [--env FILE] [--catalog DIR|BUNDLE] [--policy SIGNED --pub PUB] [--entry NAME] [--node-red DIR] [--json]
tectonic certify --agent CMD --feed mqtt:TOPIC|dir:PATH|http:URL --fixtures DIR [--env FILE] [--catalog DIR|BUNDLE] [--policy SIGNED --pub PUB] [--json]
  FLOWS: the site's flows.json; it runs in a Node-RED of its own on a private loopback bus
  --agent CMD: an agent that is not Node-RED, run with TECTONIC_BUS_URL and TECTONIC_LOCAL_BUS_URL set; --feed: where it reads its records
  --fixtures DIR: local records (*.json, *.jsonl) fed at the entry: a "link in" named NAME (default "entry") or the local-records bus-subscribe
  --env FILE: the site's variables (site.env); --catalog DIR|BUNDLE: a catalog folder (default the pack's sample) or a catalog bundle file, published as is (a signed one, from tectonic catalog sign, for a kit that trusts the centre's catalog key)
  --policy SIGNED --pub PUB: the central policy, published on the private bus as the centre would (default the pack's sample, checked with its demo key)
  prints one line per assertion with its evidence; --json for a machine; exit 0 certified, 1 an assertion fails, 2 usage or input error`,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, {
      fixtures: { type: 'string' },
      env: { type: 'string' },
      catalog: { type: 'string' },
      policy: { type: 'string' },
      pub: { type: 'string' },
      entry: { type: 'string' },
      'node-red': { type: 'string' },
      json: { type: 'boolean' },
      agent: { type: 'string' },
      feed: { type: 'string' },
    });
    const agent = typeof values.agent === 'string' ? values.agent : undefined;
    const [flowsFile, ...extra] = positionals;
    if (agent === undefined && (flowsFile === undefined || extra.length > 0)) throw new TectonicError('USAGE', 'give exactly one FLOWS file, or --agent CMD');
    if (agent !== undefined && positionals.length > 0) throw new TectonicError('USAGE', 'give either FLOWS or --agent CMD, not both');
    if (agent !== undefined && typeof values.feed !== 'string') throw new TectonicError('USAGE', '--agent needs --feed mqtt:TOPIC, dir:PATH or http:URL');
    if (typeof values.fixtures !== 'string') throw new TectonicError('USAGE', '--fixtures DIR is required');
    const feed = agent !== undefined ? parseFeedSpec(String(values.feed)) : undefined;
    const flows = flowsFile !== undefined ? await readFlows(flowsFile, io) : [];
    const fixtures = await loadFixtures(resolve(io.cwd, values.fixtures));
    const env = await readEnvFile(typeof values.env === 'string' ? values.env : undefined, io);
    const catalogArg = typeof values.catalog === 'string' ? values.catalog : join(packRoot(), 'cdm');
    // A folder is published as an unsigned bundle; a bundle file (a signed one for a kit that trusts the centre's catalog key) as it is.
    const catalogBundle = (await stat(resolve(io.cwd, catalogArg)).then((s) => s.isDirectory(), () => false)) ? undefined : await readText(catalogArg, io);
    const catalog = catalogBundle === undefined ? await loadCatalogArgument(catalogArg, io) : catalogFromBundle(catalogBundle, catalogArg);
    if (!catalog.ok) throw new TectonicError('USAGE', `the catalog does not load: ${catalog.reasons.map((r) => r.message).join('; ')}`);
    const policyFile = typeof values.policy === 'string' ? resolve(io.cwd, values.policy) : join(packRoot(), 'policies', 'central-default.signed.json');
    const pubFile = typeof values.pub === 'string' ? resolve(io.cwd, values.pub) : join(packRoot(), 'policies', 'demo-policy.pub');
    const policyText = await readText(policyFile, io);
    const trusted = checkBundleTrust({ signed: policyText, trustedKeys: [await readFile(pubFile, 'utf8')], now: () => new Date() });
    if (!trusted.ok) throw new TectonicError('USAGE', `the policy ${policyFile} is not usable: ${trusted.reason.message}`);
    const common = {
      fixtures,
      env,
      catalog: catalog.catalog,
      catalogBundle,
      policy: { text: policyText, bundle: trusted.bundle },
      cwd: io.cwd,
      log: values.json === true ? undefined : (line: string) => io.err(`${line}\n`),
    };
    const report =
      agent !== undefined && feed !== undefined
        ? await certifyAgent({ ...common, command: agent, feed })
        : await certifyFlow({ ...common, flows, workDir: dirname(resolve(io.cwd, flowsFile ?? '.')), nodeRed: typeof values['node-red'] === 'string' ? values['node-red'] : undefined, entryName: typeof values.entry === 'string' ? values.entry : undefined });
    if (values.json === true) io.out(`${JSON.stringify(report)}\n`);
    else print(report, io);
    return report.pass ? EXIT.ok : EXIT.failed;
  },
};
