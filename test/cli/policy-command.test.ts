import { after, before, describe, it } from 'mocha';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml, stringify as toYaml } from 'yaml';

import { tectonic } from '../support/tectonic-cli';

describe('cli/policy-command', function () {
  // Each test runs the real command (a tsx start of a second or more); on a loaded machine, several seconds.
  this.timeout(60_000);
  const root = join(__dirname, '../..');

  interface ApplyJson {
    ok: boolean;
    policy: { site: string; state: string; name?: string; reason?: { rule: string } }[];
    records: { index: number; pass: boolean; site: string; payload?: unknown; cdm?: unknown; masked?: string[]; reasons?: { path: string; rule: string; message: string }[] }[];
  }

  let tmp: string;
  const at = (name: string): string => join(tmp, name);
  const hour = 3600_000;

  const labCdm = { entity: 'lab-result', version: '1.1.0', site: 'clinic-3', id: '01J1', time: '2026-11-25T10:00:00Z', source: 'urn:test', validated: 'lab-result@1.1.0' };
  const lab = {
    resultId: 'R-1',
    patient: { name: 'Ada Lovelace', birthDate: '1815-12-10', ids: [{ system: 'mrn', value: 'MRN-12345' }] },
    analyte: '2345-7',
    result: { value: 5.4, unit: 'mmol/L' },
    reportedBy: 'lab@clinic.example',
    collectedAt: '2026-11-24T08:00:00+01:00',
    siteId: 'clinic-3',
    internalNotes: 'called the patient',
  };
  const shipment = { shipmentId: 'S-1', occurredAt: '2026-11-24T10:00:00Z', status: 'delivered', weightKg: 3.5, siteId: 'site-a' };
  const shipmentCdm = { entity: 'shipment', version: '1.1.0', site: 'site-a', id: '01J2', time: '2026-11-25T10:00:00Z', source: 'urn:test', validated: 'shipment@1.1.0' };

  /** The sample bundle with a validity window around the real clock, since the command uses it. */
  function sampleWithDates(issued: number, expires: number, extra: Record<string, unknown> = {}): string {
    const doc = parseYaml(readFileSync(join(root, 'policies/central-default.yaml'), 'utf8')) as Record<string, unknown>;
    return toYaml({ ...doc, issuedAt: new Date(issued).toISOString(), expiresAt: new Date(expires).toISOString(), ...extra });
  }

  before(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'tectonic-policy-'));
    const now = Date.now();
    writeFileSync(at('bundle.yaml'), sampleWithDates(now - hour, now + 30 * 24 * hour));
    writeFileSync(at('expired.yaml'), sampleWithDates(now - 48 * hour, now - hour));
    writeFileSync(at('invalid.yaml'), sampleWithDates(now - hour, now + hour, { rules: [{ deny: { when: 'process.exit()', reason: 'x' } }, { maxBytes: 'big' }] }));
    writeFileSync(
      at('records.jsonl'),
      [
        JSON.stringify({ payload: lab, cdm: labCdm, transport: { tls: true } }),
        JSON.stringify({ payload: { ...shipment, weightKg: 5000 }, cdm: shipmentCdm, transport: { tls: true } }),
        JSON.stringify({ payload: shipment, cdm: shipmentCdm, transport: { tls: true } }),
      ].join('\n'),
    );
    writeFileSync(at('bare.json'), JSON.stringify([shipment, { ...shipment, weightKg: -2 }]));
    const keygen = await tectonic(['policy', 'keygen', '--out', at('keys')]);
    assert.equal(keygen.code, 0, keygen.stderr);
    const other = await tectonic(['policy', 'keygen', '--out', at('other-keys')]);
    assert.equal(other.code, 0, other.stderr);
    const sign = await tectonic(['policy', 'sign', at('bundle.yaml'), '--key', at('keys/policy.key'), '--out', at('signed.json')]);
    assert.equal(sign.code, 0, sign.stderr);
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  // Issue 18: the sample's source expired a month after it was issued, so a
  // bundle signed from it as the docs show was valid for days.
  describe('the sample policy (policies/)', () => {
    it('its source is valid for a year or more', () => {
      const doc = parseYaml(readFileSync(join(root, 'policies/central-default.yaml'), 'utf8')) as { issuedAt: string; expiresAt: string };
      const days = (Date.parse(doc.expiresAt) - Date.parse(doc.issuedAt)) / (24 * hour);
      assert.ok(days >= 365, `valid for ${days} days`);
    });

    it('the signing step in policies/README.md gives the committed signed sample byte for byte', async () => {
      // The step as the README writes it, with the demo key committed for it:
      // Ed25519 signatures are deterministic, so the same canonical bytes
      // give the same file (and a change of the canonical JSON library
      // that changed one byte would show here).
      const readme = readFileSync(join(root, 'policies/README.md'), 'utf8');
      const expiry = /s\/\^expiresAt: \.\*\/expiresAt: (\S+)\//.exec(readme)?.[1];
      assert.ok(expiry !== undefined, 'policies/README.md shows the sed line with the demo expiry');
      const source = readFileSync(join(root, 'policies/central-default.yaml'), 'utf8').replace(/^expiresAt: .*$/m, `expiresAt: ${expiry}`);
      writeFileSync(at('demo-central.yaml'), source);
      const r = await tectonic(['policy', 'sign', at('demo-central.yaml'), '--key', join(root, 'policies/demo-policy.key'), '--out', at('resigned.json')]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(readFileSync(at('resigned.json'), 'utf8'), readFileSync(join(root, 'policies/central-default.signed.json'), 'utf8'));
    });
  });

  describe('tectonic policy keygen', () => {
    it('writes a private key readable by its owner only, and a public key', () => {
      assert.equal(statSync(at('keys/policy.key')).mode & 0o777, 0o600);
      assert.match(readFileSync(at('keys/policy.key'), 'utf8'), /^-----BEGIN PRIVATE KEY-----/);
      assert.match(readFileSync(at('keys/policy.pub'), 'utf8'), /^-----BEGIN PUBLIC KEY-----/);
    });

    it('refuses to overwrite an existing key (exit 2), unless --force', async () => {
      const before = readFileSync(at('keys/policy.key'), 'utf8');
      const refused = await tectonic(['policy', 'keygen', '--out', at('keys')]);
      assert.equal(refused.code, 2);
      assert.match(refused.stderr, /not overwritten unless --force/);
      assert.equal(readFileSync(at('keys/policy.key'), 'utf8'), before);
      const forced = await tectonic(['policy', 'keygen', '--out', at('forced'), '--json']);
      assert.equal(forced.code, 0);
      const again = await tectonic(['policy', 'keygen', '--out', at('forced'), '--force', '--json']);
      assert.equal(again.code, 0, again.stderr);
      const out = JSON.parse(again.stdout) as { keyId: string; privateKey: string; publicKey: string };
      assert.match(out.keyId, /^[A-Za-z0-9_-]{16}$/);
      assert.notEqual(out.keyId, (JSON.parse(forced.stdout) as { keyId: string }).keyId);
      assert.equal(out.privateKey, at('forced/policy.key'));
    });
  });

  describe('tectonic policy sign', () => {
    it('prints the signed bundle as JSON on stdout', async () => {
      const r = await tectonic(['policy', 'sign', at('bundle.yaml'), '--key', at('keys/policy.key')]);
      assert.equal(r.code, 0, r.stderr);
      const signed = JSON.parse(r.stdout) as { id: string; signature: { keyId: string; alg: string; value: string } };
      assert.equal(signed.id, 'central-default');
      assert.equal(signed.signature.alg, 'Ed25519');
    });

    it('writes YAML when --out ends in .yaml, and it verifies', async () => {
      const r = await tectonic(['policy', 'sign', at('bundle.yaml'), '--key', at('keys/policy.key'), '--out', at('signed.yaml')]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(readFileSync(at('signed.yaml'), 'utf8'), /^signature:\n {2}keyId: /m);
      const v = await tectonic(['policy', 'verify', at('signed.yaml'), '--pub', at('keys/policy.pub')]);
      assert.equal(v.code, 0, v.stdout);
    });

    it('an invalid bundle is not signed: exit 1 with every problem', async () => {
      const r = await tectonic(['policy', 'sign', at('invalid.yaml'), '--key', at('keys/policy.key'), '--json']);
      assert.equal(r.code, 1);
      const out = JSON.parse(r.stdout) as { signed: boolean; reasons: { path: string; rule: string }[] };
      assert.equal(out.signed, false);
      assert.deepEqual(out.reasons.map((x) => [x.path, x.rule]), [['rules[0].deny.when', 'expression'], ['rules[1].maxBytes', 'range']]);
    });

    it('usage errors: exit 2', async () => {
      assert.equal((await tectonic(['policy', 'sign', at('bundle.yaml')])).code, 2, 'no --key');
      assert.equal((await tectonic(['policy', 'sign', at('bundle.yaml'), '--key', at('keys/policy.pub')])).code, 2, 'a public key to sign with');
      assert.equal((await tectonic(['policy', 'sign', at('nope.yaml'), '--key', at('keys/policy.key')])).code, 2, 'a missing file');
      assert.equal((await tectonic(['policy'])).code, 2, 'no subcommand');
      assert.equal((await tectonic(['policy', 'frob'])).code, 2, 'unknown subcommand');
    });
  });

  describe('tectonic policy verify', () => {
    it('valid: exit 0, --json names the bundle and key', async () => {
      const r = await tectonic(['policy', 'verify', at('signed.json'), '--pub', at('keys/policy.pub'), '--json']);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      const out = JSON.parse(r.stdout) as { valid: boolean; id: string; version: number; keyId: string; rules: number };
      assert.deepEqual([out.valid, out.id, out.version, out.rules], [true, 'central-default', 7, 16]);
      assert.match(out.keyId, /^[A-Za-z0-9_-]{16}$/);
    });

    it('a flipped byte: exit 1 with the reason', async () => {
      const text = readFileSync(at('signed.json'), 'utf8');
      writeFileSync(at('tampered.json'), text.replace('"maxBytes": 65536', '"maxBytes": 65537'));
      const r = await tectonic(['policy', 'verify', at('tampered.json'), '--pub', at('keys/policy.pub')]);
      assert.equal(r.code, 1);
      assert.match(r.stdout, /^NOT valid: \[policy-bad-signature\]/);
    });

    it('a wrong key: exit 1, unknown key; key rotation: either key verifies', async () => {
      const wrong = await tectonic(['policy', 'verify', at('signed.json'), '--pub', at('other-keys/policy.pub'), '--json']);
      assert.equal(wrong.code, 1);
      assert.equal((JSON.parse(wrong.stdout) as { reason: { rule: string } }).reason.rule, 'policy-unknown-key');
      const both = await tectonic(['policy', 'verify', at('signed.json'), '--pub', at('other-keys/policy.pub'), '--pub', at('keys/policy.pub')]);
      assert.equal(both.code, 0, both.stdout);
    });

    it('expired, rolled back, too large: exit 1 with the reason', async () => {
      const sign = await tectonic(['policy', 'sign', at('expired.yaml'), '--key', at('keys/policy.key'), '--out', at('expired.json')]);
      assert.equal(sign.code, 0);
      const cases: [string[], string][] = [
        [[at('expired.json')], 'policy-expired'],
        [[at('signed.json'), '--last-seen-version', '8'], 'policy-rollback'],
        [[at('signed.json'), '--max-bytes', '100'], 'policy-too-large'],
      ];
      for (const [args, rule] of cases) {
        const r = await tectonic(['policy', 'verify', ...args, '--pub', at('keys/policy.pub'), '--json']);
        assert.equal(r.code, 1, r.stdout);
        assert.equal((JSON.parse(r.stdout) as { valid: boolean; reason: { rule: string } }).reason.rule, rule);
      }
    });

    it('usage errors: exit 2', async () => {
      assert.equal((await tectonic(['policy', 'verify', at('signed.json')])).code, 2, 'no --pub');
      assert.equal((await tectonic(['policy', 'verify', at('signed.json'), '--pub', at('bundle.yaml')])).code, 2, 'not a key');
      assert.equal((await tectonic(['policy', 'verify', at('signed.json'), '--pub', at('keys/policy.pub'), '--last-seen-version', 'x'])).code, 2);
    });
  });

  describe('tectonic policy apply', () => {
    const apply = (args: string[], options: Parameters<typeof tectonic>[1] = { env: { TECTONIC_POLICY_HASH_KEY: 'clinic secret' } }): ReturnType<typeof tectonic> =>
      tectonic(['policy', 'apply', '--bundle', at('signed.json'), '--pub', at('keys/policy.pub'), ...args], options);

    it('each record\'s verdict: masked pass, reject with the rule: exit 1', async () => {
      const r = await apply([at('records.jsonl'), '--json']);
      assert.equal(r.code, 1, r.stderr);
      const out = JSON.parse(r.stdout) as ApplyJson;
      assert.equal(out.ok, false);
      assert.deepEqual(out.policy.map((p) => [p.site, p.state, p.name]), [['clinic-3', 'in-force', 'central-default@7'], ['site-a', 'in-force', 'central-default@7']]);
      const [first, second, third] = out.records;
      assert.equal(first?.pass, true, JSON.stringify(first));
      assert.doesNotMatch(JSON.stringify(first), /Ada Lovelace|MRN-12345|1815-12-10|called the patient/);
      assert.deepEqual(first?.masked, ['patient.name', 'patient.birthDate', 'patient.ids[0].value', 'reportedBy', 'internalNotes']);
      assert.deepEqual(first?.cdm, labCdm);
      assert.equal(second?.pass, false);
      assert.deepEqual(second?.reasons?.map((x) => [x.rule, x.message]), [['rules[8].deny', 'implausible weight']]);
      assert.deepEqual(second?.payload, { ...shipment, weightKg: 5000 }, 'a reject carries the (masked) record');
      assert.equal(third?.pass, true);
      assert.deepEqual(third?.payload, shipment);
    });

    it('text output; the hash key from --hash-key; all pass: exit 0', async () => {
      const r = await apply(['-', '--hash-key', 'k'], { stdin: JSON.stringify({ payload: lab, cdm: labCdm, transport: { tls: true } }) });
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /^policy central-default@7 in force at clinic-3/);
      assert.match(r.stdout, /#1 pass {2}masked: patient.name/);
      assert.match(r.stdout, /"name":"hmac:[A-Za-z0-9_-]{43}"/);
      assert.match(r.stdout, /1 of 1 record\(s\) pass/);
    });

    it('bare payloads take the envelope from --entity and --site', async () => {
      const r = await apply([at('bare.json'), '--entity', 'shipment@1.1.0', '--site', 'site-a', '--tls', '--json']);
      assert.equal(r.code, 1);
      const out = JSON.parse(r.stdout) as ApplyJson;
      // Not validated by cdm-validate (no cdm.validated), so the validation rule rejects both; the second also has a negative weight.
      assert.deepEqual(out.records.map((x) => x.reasons?.map((y) => y.rule)), [['rules[3].validation'], ['rules[3].validation', 'rules[9].require']]);
    });

    it('a tampered bundle rejects every record with the reason: exit 1', async () => {
      const r = await tectonic(['policy', 'apply', '--bundle', at('tampered.json'), '--pub', at('keys/policy.pub'), at('records.jsonl'), '--json'], { env: { TECTONIC_POLICY_HASH_KEY: 'k' } });
      assert.equal(r.code, 1);
      const out = JSON.parse(r.stdout) as ApplyJson;
      assert.ok(out.records.length === 3 && out.records.every((x) => !x.pass && x.reasons?.[0]?.rule === 'policy-bad-signature' && x.payload === undefined));
      assert.ok(out.policy.every((p) => p.state === 'fail-closed'));
    });

    it('an expired bundle rejects every record: exit 1', async () => {
      const r = await tectonic(['policy', 'apply', '--bundle', at('expired.json'), '--pub', at('keys/policy.pub'), at('records.jsonl')], { env: { TECTONIC_POLICY_HASH_KEY: 'k' } });
      assert.equal(r.code, 1);
      assert.match(r.stdout, /policy NOT in force at clinic-3: \[policy-expired\]/);
      assert.match(r.stdout, /0 of 3 record\(s\) pass/);
    });

    it('no hash key: the gate could not mask, so it fails closed (policy-invalid), with a hint', async () => {
      const r = await apply([at('records.jsonl')], { env: {} });
      assert.equal(r.code, 1);
      assert.match(r.stdout, /\[policy-invalid\]/);
      assert.match(r.stderr, /--hash-key or TECTONIC_POLICY_HASH_KEY/);
    });

    it('usage errors: exit 2', async () => {
      assert.equal((await tectonic(['policy', 'apply', '--pub', at('keys/policy.pub'), at('records.jsonl')])).code, 2, 'no --bundle');
      assert.equal((await apply([at('bare.json')])).code, 2, 'bare payloads without a site');
      assert.equal((await apply([at('bare.json'), '--site', 's', '--entity', 'shipment'])).code, 2, '--entity without a version');
      assert.ok(!existsSync(at('nope.json')));
      assert.equal((await apply([at('nope.json')])).code, 2, 'a missing records file');
    });
  });
});
