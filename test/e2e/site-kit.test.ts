// From `tectonic site new` to `tectonic certify`, as a central team and a site
// would: a kit made for site fra passes certification unchanged (its flow is
// the site-agent template, run in a Node-RED of its own on private buses);
// the same kit with a broken mapping, a removed policy gate, or its heartbeat
// deleted fails, each with the assertion and a readable reason.
import { after, before, describe, it } from 'mocha';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tectonic } from '../support/tectonic-cli';

interface Report {
  pass: boolean;
  checks: Array<{ id: string; rule: string; pass: boolean; evidence: string }>;
  notes: string[];
}

type Node = { id: string; type: string } & Record<string, unknown>;

describe('a site kit from tectonic site new, certified', function () {
  this.timeout(300_000);
  const dir = mkdtempSync(join(tmpdir(), 'tectonic-kit-'));
  const kit = join(dir, 'fra');

  before(async () => {
    // The central team's own key signs the policy; the kit trusts it.
    const keys = await tectonic(['policy', 'keygen', '--out', join(dir, 'central')]);
    assert.equal(keys.code, 0, keys.stderr);
    const signed = await tectonic(['policy', 'sign', 'policies/central-default.yaml', '--key', join(dir, 'central', 'policy.key'), '--out', join(dir, 'policy.signed.json')]);
    assert.equal(signed.code, 0, signed.stderr);
    const made = await tectonic(['site', 'new', 'fra', '--bus-url', 'mqtts://bus.example.com:8883', '--trust-key', join(dir, 'central', 'policy.pub'), '--out', kit]);
    assert.equal(made.code, 0, made.stderr);
    // The site adds a record its mapping must refuse (an unknown status), as the kit's guide says.
    const fixture = JSON.parse(readFileSync(join(kit, 'fixtures', 'records.jsonl'), 'utf8').trim()) as Record<string, unknown>;
    writeFileSync(join(kit, 'fixtures', 'records.jsonl'), `${JSON.stringify(fixture)}\n${JSON.stringify({ ...fixture, shipmentId: 'S-2' })}\n${JSON.stringify({ ...fixture, shipmentId: 'S-3', status: 'teleported' })}\n`);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** Certifies a copy of the kit after `change`; prints one line per run. */
  async function certify(name: string, change: (copy: string) => void = () => undefined, extra: string[] = []): Promise<{ code: number | null; report: Report }> {
    const copy = join(dir, name);
    cpSync(kit, copy, { recursive: true });
    change(copy);
    const run = await tectonic(['certify', join(copy, 'flows.json'), '--fixtures', join(copy, 'fixtures'), '--env', join(copy, 'site.env'), '--policy', join(dir, 'policy.signed.json'), '--pub', join(copy, 'keys', 'central.pub'), '--json', ...extra]);
    assert.ok(run.stdout.trim().startsWith('{'), `certify printed no report: ${run.stderr}`);
    const report = JSON.parse(run.stdout) as Report;
    console.log(`      ${name}: ${report.checks.map((c) => `${c.id} ${c.pass ? 'pass' : 'FAIL'}`).join(', ')}`);
    if (process.env.CERTIFY_VERBOSE) console.log(report.checks.map((c) => `        ${c.id}: ${c.evidence}`).join('\n'));
    return { code: run.code, report };
  }
  const check = (report: Report, id: string): Report['checks'][number] => {
    const found = report.checks.find((c) => c.id === id);
    assert.ok(found, `no assertion ${id}`);
    return found;
  };
  const editFlows = (copy: string, edit: (flows: Node[]) => Node[]): void => {
    const file = join(copy, 'flows.json');
    writeFileSync(file, JSON.stringify(edit(JSON.parse(readFileSync(file, 'utf8')) as Node[])));
  };

  it('the kit as made passes every assertion', async () => {
    const { code, report } = await certify('unchanged');
    // Certified in its own folder (relative paths resolve there), the kit is left as it was: a site starts it next.
    for (const file of ['flows.json', 'site.env', 'flows_cred.json']) assert.equal(readFileSync(join(dir, 'unchanged', file), 'utf8'), readFileSync(join(kit, file), 'utf8'), `certify changed the kit's ${file}`);
    assert.deepEqual(report.checks.filter((c) => !c.pass).map((c) => `${c.id}: ${c.evidence}`), []);
    assert.equal(code, 0);
    assert.match(check(report, 'C3').evidence, /3 fed: 2 published, 1 dead-lettered with reasons \(cdm-validate: .*status/);
  });

  it('a broken mapping (a required field no longer mapped) fails C1 and C3 says why', async () => {
    const { code, report } = await certify('broken-mapping', (copy) => {
      const spec = readFileSync(join(copy, 'mapping.yaml'), 'utf8');
      writeFileSync(join(copy, 'mapping.yaml'), spec.replace(/ {2}- to: status\n {4}from: status\n/, ''));
    });
    assert.equal(code, 1);
    assert.match(check(report, 'C1').evidence, /no canonical record reached the bus/);
    assert.match(check(report, 'C3').evidence, /3 fed: 0 published, 3 dead-lettered with reasons \(cdm-validate: required at status/);
  });

  it('a removed policy gate fails C2, naming the ungated path', async () => {
    const { code, report } = await certify('no-gate', (copy) =>
      editFlows(copy, (flows) => flows.filter((n) => n.type !== 'policy-gate').map((n) => (n.type === 'cdm-validate' ? { ...n, wires: [['agent-publish'], ['agent-dlq']] } : n))),
    );
    assert.equal(code, 1);
    assert.equal(check(report, 'C2').pass, false);
    assert.match(check(report, 'C2').evidence, /reach bus-publish without a policy-gate/);
  });

  it('a deleted heartbeat fails C5 and C6', async () => {
    const { code, report } = await certify('no-heartbeat', (copy) => editFlows(copy, (flows) => flows.filter((n) => n.type !== 'heartbeat')));
    assert.equal(code, 1);
    assert.match(check(report, 'C5').evidence, /no heartbeat/);
    assert.equal(check(report, 'C6').pass, false);
  });

  it("a kit that trusts the centre's catalog key refuses an unsigned catalog and passes with the signed bundle (--catalog BUNDLE)", async () => {
    const signed = await tectonic(['catalog', 'sign', 'cdm', '--key', join(dir, 'central', 'policy.key'), '--sequence', '1', '--out', join(dir, 'catalog.signed.json')]);
    assert.equal(signed.code, 0, signed.stderr);
    const trustCatalogKey = (copy: string): void =>
      editFlows(copy, (flows) => flows.map((n) => (n.type === 'cdm-catalog' ? { ...n, publicKeyFile: 'TECTONIC_POLICY_PUB', publicKeyFileType: 'env' } : n)));
    const unsigned = await certify('catalog-key-unsigned', trustCatalogKey);
    assert.equal(unsigned.code, 1, 'an unsigned catalog is refused by a kit that trusts a catalog key');
    assert.match(check(unsigned.report, 'C1').evidence, /no canonical record reached the bus/);
    const passed = await certify('catalog-key-signed', trustCatalogKey, ['--catalog', join(dir, 'catalog.signed.json')]);
    assert.deepEqual(passed.report.checks.filter((c) => !c.pass).map((c) => `${c.id}: ${c.evidence}`), []);
    assert.equal(passed.code, 0);
  });
});
