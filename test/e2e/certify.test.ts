// tectonic certify on a site agent's flow: the real command, a Node-RED of
// its own, a private broker, the fixtures fed at the flow's entry. A sound
// agent passes; the same agent with a broken mapping or without its policy
// gate fails, each with the assertion and a readable reason.
import { after, before, describe, it } from 'mocha';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../support/node-red-process';
import { tectonic } from '../support/tectonic-cli';

interface Report {
  pass: boolean;
  checks: Array<{ id: string; rule: string; pass: boolean; evidence: string }>;
  notes: string[];
}

type Node = { id: string; type: string } & Record<string, unknown>;

describe('tectonic certify: a site agent on a private bus', function () {
  this.timeout(240_000);
  const dir = mkdtempSync(join(tmpdir(), 'tectonic-certify-test-'));
  const fixtures = join(repoRoot, 'test/fixtures/certify/fixtures');
  const agent = JSON.parse(readFileSync(join(repoRoot, 'test/fixtures/certify/site-agent.flows.json'), 'utf8')) as Node[];

  before(async () => {
    // The central team's own key, not the demo key: the policy is signed with it.
    const keys = await tectonic(['policy', 'keygen', '--out', dir]);
    assert.equal(keys.code, 0, keys.stderr);
    const signed = await tectonic(['policy', 'sign', 'policies/central-default.yaml', '--key', join(dir, 'policy.key'), '--out', join(dir, 'policy.signed.json')]);
    assert.equal(signed.code, 0, signed.stderr);
    writeFileSync(join(dir, 'site.env'), `SITE_ID=site-cert\nTECTONIC_BUS_URL=mqtts://bus.example.com:8883\nTECTONIC_POLICY_HASH_KEY=certify-test-hash-key-0123456789\nTECTONIC_POLICY_PUB=${join(dir, 'policy.pub')}\n`);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  async function certify(flows: Node[], name: string): Promise<{ code: number | null; report: Report; stderr: string }> {
    const file = join(dir, `${name}.json`);
    writeFileSync(file, JSON.stringify(flows));
    const run = await tectonic(['certify', file, '--fixtures', fixtures, '--env', join(dir, 'site.env'), '--policy', join(dir, 'policy.signed.json'), '--pub', join(dir, 'policy.pub'), '--json']);
    assert.ok(run.stdout.trim().startsWith('{'), `certify printed no report: ${run.stderr}`);
    const report = JSON.parse(run.stdout) as Report;
    console.log(`      ${name}: ${report.checks.map((c) => `${c.id} ${c.pass ? 'pass' : 'FAIL'}`).join(', ')}`);
    if (process.env.CERTIFY_VERBOSE) console.log(report.checks.map((c) => `        ${c.id}: ${c.evidence}`).join('\n'));
    return { code: run.code, report, stderr: run.stderr };
  }

  const check = (report: Report, id: string): Report['checks'][number] => {
    const found = report.checks.find((c) => c.id === id);
    assert.ok(found, `no assertion ${id}`);
    return found;
  };

  it('a sound agent passes every assertion: valid records, masks, rejects dead-lettered with reasons, waits for catalog and policy, birth, heartbeat and death, canary, outbox across an outage, nothing logged, no demo key', async () => {
    const { code, report } = await certify(agent, 'sound');
    assert.deepEqual(report.checks.filter((c) => !c.pass).map((c) => `${c.id}: ${c.evidence}`), []);
    assert.equal(code, 0);
    // One record has an unknown status code, one an implausible weight (the policy's deny rule).
    assert.match(check(report, 'C3').evidence, /5 fed: 3 published, 2 dead-lettered with reasons \(.*implausible weight.*unknown code "XX"/);
  });

  it('a broken mapping fails C1 or C3 with the reason', async () => {
    const broken = agent.map((n) => (n.id === 'agent-map' ? { ...n, rules: (n.rules as Array<Record<string, unknown>>).filter((r) => r.to !== 'weightKg') } : n));
    const { code, report } = await certify(broken, 'broken-mapping');
    assert.equal(code, 1);
    assert.equal(report.pass, false);
    const c3 = check(report, 'C3');
    assert.match(c3.evidence, /5 fed: 0 published, 5 dead-lettered with reasons \(cdm-validate: required at weightKg: is required but missing/);
    assert.equal(check(report, 'C1').pass, false);
    assert.match(check(report, 'C1').evidence, /no canonical record reached the bus/);
  });

  it('without its heartbeat it fails C5 and C6', async () => {
    const { code, report } = await certify(agent.filter((n) => n.id !== 'agent-heartbeat'), 'no-heartbeat');
    assert.equal(code, 1);
    assert.match(check(report, 'C5').evidence, /no heartbeat/);
    assert.equal(check(report, 'C6').pass, false);
  });

  it('without its policy gate it fails C2, naming the ungated path', async () => {
    const ungated = agent.filter((n) => n.id !== 'agent-gate').map((n) => (n.id === 'agent-validate' ? { ...n, wires: [['agent-publish'], ['agent-dlq']] } : n));
    const { code, report } = await certify(ungated, 'no-gate');
    assert.equal(code, 1);
    const c2 = check(report, 'C2');
    assert.equal(c2.pass, false);
    assert.match(c2.evidence, /reach bus-publish without a policy-gate/);
  });
});

describe('tectonic certify --agent: an agent that is not Node-RED', function () {
  this.timeout(180_000);
  const dir = mkdtempSync(join(tmpdir(), 'tectonic-certify-agent-'));
  const fixtures = join(repoRoot, 'test/fixtures/certify/agent-fixtures');
  const agent = `${JSON.stringify(process.execPath)} test/fixtures/certify/agent.mjs`;

  before(async () => {
    const keys = await tectonic(['policy', 'keygen', '--out', dir]);
    assert.equal(keys.code, 0, keys.stderr);
    const signed = await tectonic(['policy', 'sign', 'policies/central-default.yaml', '--key', join(dir, 'policy.key'), '--out', join(dir, 'policy.signed.json')]);
    assert.equal(signed.code, 0, signed.stderr);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  async function certifyAgent(variant: string): Promise<{ code: number | null; report: Report }> {
    writeFileSync(join(dir, `${variant || 'sound'}.env`), `SITE_ID=clinic-3\nTECTONIC_POLICY_HASH_KEY=certify-agent-hash-key\nAGENT_VARIANT=${variant}\n`);
    const run = await tectonic(['certify', '--agent', agent, '--feed', 'mqtt:clinic/lab/records', '--fixtures', fixtures, '--env', join(dir, `${variant || 'sound'}.env`), '--policy', join(dir, 'policy.signed.json'), '--pub', join(dir, 'policy.pub'), '--json']);
    assert.ok(run.stdout.trim().startsWith('{'), `certify printed no report: ${run.stderr}`);
    const report = JSON.parse(run.stdout) as Report;
    console.log(`      agent ${variant || 'sound'}: ${report.checks.map((c) => `${c.id} ${c.pass ? 'pass' : 'FAIL'}`).join(', ')}`);
    if (process.env.CERTIFY_VERBOSE) console.log(report.checks.map((c) => `        ${c.id}: ${c.evidence}`).join('\n'));
    return { code: run.code, report };
  }

  it('a sound agent passes every assertion that does not need to see inside a flow', async () => {
    const { code, report } = await certifyAgent('');
    assert.deepEqual(report.checks.filter((c) => !c.pass).map((c) => `${c.id}: ${c.evidence}`), []);
    assert.equal(code, 0);
    assert.deepEqual(report.checks.map((c) => c.id), ['C1', 'C2', 'C3', 'C4', 'C5', 'C6', 'C7']);
  });

  it('an agent that publishes a name unmasked fails C2, naming the field', async () => {
    const { code, report } = await certifyAgent('unmasked');
    assert.equal(code, 1);
    const c2 = report.checks.find((c) => c.id === 'C2');
    assert.equal(c2?.pass, false);
    assert.match(c2?.evidence ?? '', /patient\.name carries "(Ada Lovelace|Charles Babbage|Mary Somerville)" unmasked/);
  });

  it('an agent that skips its heartbeat fails C5 and C6', async () => {
    const { code, report } = await certifyAgent('no-heartbeat');
    assert.equal(code, 1);
    assert.match(report.checks.find((c) => c.id === 'C5')?.evidence ?? '', /no heartbeat/);
    assert.equal(report.checks.find((c) => c.id === 'C6')?.pass, false);
  });
});
