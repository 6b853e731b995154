import { after, before, describe, it } from 'mocha';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseEnv } from 'node:util';
import { type BrokerUser, parseAccessConfig, parseConfigText } from '../../lib/broker/broker-config';
import { verifyPassword } from '../../lib/broker/password-hash';
import { tectonic } from '../support/tectonic-cli';

/** The kit's users line, read by the broker's own config parser. */
function brokerUser(kitDir: string): BrokerUser {
  const raw = parseConfigText(`users:\n${readFileSync(join(kitDir, 'identity/broker-user.yaml'), 'utf8').split('\n').filter((l) => !l.startsWith('#')).map((l) => `  ${l}`).join('\n')}`);
  assert.ok(raw.ok);
  const access = parseAccessConfig(raw.value);
  assert.ok(access.ok, JSON.stringify(!access.ok && access.reasons));
  const user = access.value.users[0];
  assert.ok(user);
  return user;
}

describe('cli: tectonic hub new', function () {
  this.timeout(60_000);
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'tectonic-hub-new-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('central: the template unchanged, the catalog, policy and key copied in, a central identity whose hash verifies', async () => {
    const kitDir = join(dir, 'central');
    const made = await tectonic(['hub', 'new', 'central', '--bus-url', 'mqtts://bus.example.com:8883', '--sites', 'fra, lyo', '--policy', 'policies/central-default.signed.json', '--trust-key', 'policies/demo-policy.pub', '--out', kitDir]);
    assert.equal(made.code, 0, made.stderr);
    for (const file of ['flows.json', 'hub.env', 'flows_cred.json', 'settings.js', 'identity/password', 'identity/broker-user.yaml', 'README.md', 'policy.signed.json', 'keys/central.pub', 'cdm/shipment']) {
      assert.ok(existsSync(join(kitDir, file)), `${file} is in the kit`);
    }
    assert.equal(readFileSync(join(kitDir, 'flows.json'), 'utf8'), readFileSync('flows/central-hub.json', 'utf8'), 'the template is shipped unchanged');
    assert.equal(statSync(join(kitDir, 'hub.env')).mode & 0o077, 0, 'hub.env is readable by its owner only');
    const env = parseEnv(readFileSync(join(kitDir, 'hub.env'), 'utf8'));
    assert.equal(env.TECTONIC_EXPECTED_SITES, 'fra,lyo');
    assert.equal(env.TECTONIC_BUS_USER, 'central');
    assert.equal(env.TECTONIC_TEMPLATE_NAME, 'central-hub');
    const password = readFileSync(join(kitDir, 'identity/password'), 'utf8').trim();
    assert.equal(env.TECTONIC_BUS_PASSWORD, password);
    const user = brokerUser(kitDir);
    assert.equal(user.role, 'central');
    assert.ok(user.passwordHash !== undefined);
    assert.equal(await verifyPassword(password, user.passwordHash), true);
    assert.doesNotMatch(readFileSync(join(kitDir, 'flows_cred.json'), 'utf8'), new RegExp(password), 'the credentials file holds references, not the password');
  });

  it("regional: a hub user with its sites' rights and its own id, the regional bus port in its variables", async () => {
    const kitDir = join(dir, 'north');
    const made = await tectonic(['hub', 'new', 'regional', 'north', '--bus-url', 'mqtts://bus.example.com:8883', '--sites', 'fra,muc', '--regional-port', '1999', '--out', kitDir]);
    assert.equal(made.code, 0, made.stderr);
    assert.equal(readFileSync(join(kitDir, 'flows.json'), 'utf8'), readFileSync('flows/regional-hub.json', 'utf8'));
    const env = parseEnv(readFileSync(join(kitDir, 'hub.env'), 'utf8'));
    assert.equal(env.HUB_ID, 'north');
    assert.equal(env.HUB_SITES, 'fra,muc');
    assert.equal(env.TECTONIC_REGIONAL_BUS_PORT, '1999');
    assert.equal(env.TECTONIC_REGIONAL_BUS_HOST, '127.0.0.1', 'the regional bus admits only this machine until told otherwise');
    const user = brokerUser(kitDir);
    assert.equal(user.name, 'hub-north');
    assert.equal(user.role, 'hub');
    assert.deepEqual(user.sites, ['north', 'fra', 'muc']);
  });

  it('refuses what it cannot make: no kind, a regional hub without sites or id, a central option on a regional hub, a bad site id or port', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['hub', 'new'], /say which hub: central or regional/],
      [['hub', 'new', 'regional', '--bus-url', 'mqtt://127.0.0.1:1883'], /needs its ID/],
      [['hub', 'new', 'regional', 'south', '--bus-url', 'mqtt://127.0.0.1:1883', '--out', join(dir, 's1')], /needs the sites it bridges/],
      [['hub', 'new', 'regional', 'south', '--bus-url', 'mqtt://127.0.0.1:1883', '--sites', 'a', '--policy', 'x', '--out', join(dir, 's2')], /--policy and --trust-key are for the central hub/],
      [['hub', 'new', 'central', '--bus-url', 'mqtt://127.0.0.1:1883', '--sites', 'a/b', '--out', join(dir, 's3')], /"a\/b" is not a site id/],
      [['hub', 'new', 'central', '--bus-url', 'http://bus', '--out', join(dir, 's4')], /--bus-url must be the central bus/],
      [['hub', 'new', 'regional', 'south', '--bus-url', 'mqtt://127.0.0.1:1883', '--sites', 'a', '--regional-port', 'abc', '--out', join(dir, 's5')], /--regional-port abc: not a port/],
      [['hub', 'new', 'regional', 'south', '--bus-url', 'mqtt://127.0.0.1:1883', '--sites', 'a', '--regional-port', '70000', '--out', join(dir, 's6')], /--regional-port 70000: not a port/],
      [['hub', 'new', 'regional', 'south', '--bus-url', 'mqtt://127.0.0.1:1883', '--sites', 'a', '--regional-port', '0', '--out', join(dir, 's7')], /--regional-port 0: not a port/],
    ];
    for (const [args, reason] of cases) {
      const run = await tectonic(args);
      assert.equal(run.code, 2, `${args.join(' ')}: ${run.stdout}`);
      assert.match(run.stderr, reason, args.join(' '));
    }
  });
});
