import { after, before, describe, it } from 'mocha';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseEnv } from 'node:util';
import { parseAccessConfig, parseConfigText } from '../../lib/broker/broker-config';
import { verifyPassword } from '../../lib/broker/password-hash';
import { tectonic } from '../support/tectonic-cli';

describe('cli: tectonic site new', function () {
  this.timeout(60_000);
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'tectonic-site-new-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('writes a kit: the template unchanged, the variables, an identity whose hash verifies, a mapping that maps its fixture to a valid record', async () => {
    const kitDir = join(dir, 'fra');
    const made = await tectonic(['site', 'new', 'fra', '--bus-url', 'mqtts://bus.example.com:8883', '--out', kitDir, '--trust-key', 'policies/demo-policy.pub', '--policy', 'policies/central-default.signed.json']);
    assert.equal(made.code, 0, made.stderr);
    for (const file of ['flows.json', 'site.env', 'identity/password', 'identity/broker-user.yaml', 'mapping.yaml', 'fixtures/records.jsonl', 'cdm.md', 'README.md', 'keys/central.pub', 'policy.signed.json']) {
      assert.ok(existsSync(join(kitDir, file)), `${file} is in the kit`);
    }
    assert.equal(readFileSync(join(kitDir, 'flows.json'), 'utf8'), readFileSync('flows/site-agent.json', 'utf8'), 'the template is shipped unchanged');
    assert.equal(readFileSync(join(kitDir, 'policy.signed.json'), 'utf8'), readFileSync('policies/central-default.signed.json', 'utf8'), 'the policy to certify against is in the kit');
    assert.equal(statSync(join(kitDir, 'site.env')).mode & 0o077, 0, 'site.env is readable by its owner only');
    const env = parseEnv(readFileSync(join(kitDir, 'site.env'), 'utf8'));
    assert.equal(env.SITE_ID, 'fra');
    assert.equal(env.TECTONIC_BUS_URL, 'mqtts://bus.example.com:8883');
    assert.equal(env.TECTONIC_BUS_USER, 'site-fra');
    const password = readFileSync(join(kitDir, 'identity/password'), 'utf8').trim();
    assert.equal(env.TECTONIC_BUS_PASSWORD, password);
    assert.ok(password.length >= 24);

    // The broker's users line, read by the broker's own config parser.
    const raw = parseConfigText(`users:\n${readFileSync(join(kitDir, 'identity/broker-user.yaml'), 'utf8').split('\n').filter((l) => !l.startsWith('#')).map((l) => `  ${l}`).join('\n')}`);
    assert.ok(raw.ok);
    const access = parseAccessConfig(raw.value);
    assert.ok(access.ok, JSON.stringify(!access.ok && access.reasons));
    const user = access.value.users[0];
    assert.equal(user?.name, 'site-fra');
    assert.equal(user?.role, 'site');
    const hash = user?.passwordHash;
    assert.ok(hash !== undefined);
    assert.equal(await verifyPassword(password, hash), true, 'the hash is of the kit password');
    assert.equal(await verifyPassword('not-it', hash), false);

    const mapped = await tectonic(['map', '--spec', join(kitDir, 'mapping.yaml'), join(kitDir, 'fixtures/records.jsonl'), '--json']);
    assert.equal(mapped.code, 0, mapped.stderr + mapped.stdout);
    const record = (JSON.parse(mapped.stdout.trim().split('\n')[0] ?? '{}') as { value: unknown }).value;
    const file = join(dir, 'record.json');
    writeFileSync(file, JSON.stringify(record));
    const valid = await tectonic(['validate', 'shipment@1.1.0', file, '--catalog', 'cdm']);
    assert.equal(valid.code, 0, valid.stdout + valid.stderr);
    assert.match(readFileSync(join(kitDir, 'cdm.md'), 'utf8'), /## shipment: Shipment event/);
  });

  it('refuses a bad site id, a plaintext-looking bus URL, an existing folder', async () => {
    const bad = await tectonic(['site', 'new', 'a/b', '--bus-url', 'mqtts://bus:8883', '--out', join(dir, 'x')]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /not a site id/);
    const noUrl = await tectonic(['site', 'new', 'muc', '--bus-url', 'http://bus', '--out', join(dir, 'y')]);
    assert.equal(noUrl.code, 2);
    assert.match(noUrl.stderr, /--bus-url must be the central bus/);
    const again = await tectonic(['site', 'new', 'fra', '--bus-url', 'mqtts://bus:8883', '--out', join(dir, 'fra')]);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /exists already/);
  });
});
