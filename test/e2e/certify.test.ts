// tectonic certify --agent: a site agent that is not Node-RED (a plain
// Node.js script with MQTT.js, test/fixtures/certify/agent.mjs) on private
// loopback buses. A sound agent passes; one that leaks a name or skips its
// heartbeat fails, each with the assertion and a readable reason. The
// Node-RED side (a kit from tectonic site new) is test/e2e/site-kit.test.ts.
import { after, before, describe, it } from 'mocha';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../support/node-red-process';
import { tectonic } from '../support/tectonic-cli';

interface Report {
  pass: boolean;
  checks: Array<{ id: string; rule: string; pass: boolean; evidence: string }>;
  notes: string[];
}


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
