// The config file of `tectonic broker --config` and of the embedded broker's
// security file (docs/security.md): what it accepts and each refusal's reason.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { isLoopback, parseBrokerConfig, parseConfigText } from '../../../lib/broker/broker-config';
import { DEFAULT_LIMITS } from '../../../lib/broker/limits';

const HASH = 'scrypt$16384$8$1$bzb5aXU7nR3iXpFmCbfB+g==$VvX1zAWGFw2vs4IDTxhwFfWR/13Gy61n1zLJFh8sF54=';

const ISSUE_EXAMPLE = `
listeners:
  - { host: 127.0.0.1, port: 1883 }
  - { host: 0.0.0.0, port: 8883, tls: { cert: server.pem, key: server.key, ca: ca.pem, clientCerts: required } }
persistence: { kind: disk, dir: ./bus-data }
users:
  - { name: central, role: central, passwordHash: "${HASH}" }
  - { name: site-fra, role: site, site: fra, passwordHash: "${HASH}" }
  - { name: hub-eu, role: hub, sites: [fra, muc], passwordHash: "${HASH}" }
acl: []
limits: { maxPacketBytes: 1048576, maxConnections: 10000 }
`;

function parse(text: string) {
  const raw = parseConfigText(text);
  assert.ok(raw.ok);
  return parseBrokerConfig(raw.value, '/etc/tectonic');
}

describe('lib/broker/broker-config', () => {
  it('reads the example of issue 20, paths relative to the file', () => {
    const parsed = parse(ISSUE_EXAMPLE);
    assert.ok(parsed.ok, JSON.stringify(!parsed.ok && parsed.reasons));
    const config = parsed.value;
    assert.deepEqual(config.listeners[1]?.tls, { cert: '/etc/tectonic/server.pem', key: '/etc/tectonic/server.key', ca: '/etc/tectonic/ca.pem', clientCerts: 'required' });
    assert.deepEqual(config.persistence, { kind: 'disk', dir: '/etc/tectonic/bus-data', sync: false });
    assert.deepEqual(
      config.users.map((u) => [u.name, u.role, u.sites]),
      [
        ['central', 'central', []],
        ['site-fra', 'site', ['fra']],
        ['hub-eu', 'hub', ['fra', 'muc']],
      ],
    );
    assert.equal(config.limits.maxConnections, 10000);
    assert.equal(config.limits.connectTimeoutMs, DEFAULT_LIMITS.connectTimeoutMs);
  });
  it('reads JSON and the redis persistence', () => {
    const parsed = parse(JSON.stringify({ listeners: [{ port: 1883, websocket: true }], persistence: { kind: 'redis', url: 'redis://127.0.0.1:6379' } }));
    assert.ok(parsed.ok);
    assert.deepEqual(parsed.value.persistence, { kind: 'redis', url: 'redis://127.0.0.1:6379' });
    assert.deepEqual(parsed.value.listeners[0], { host: '127.0.0.1', port: 1883, websocket: { path: '/mqtt' } });
  });
  const refused: [string, string, RegExp][] = [
    ['no listeners', 'users: []', /listeners: needs at least one/],
    ['an unknown key', 'listeners: [{ port: 1 }]\nuser: []', /user: is not a broker setting/],
    ['a site without its site id', `listeners: [{ port: 1 }]\nusers: [{ name: s, role: site }]`, /users\.0\.site/],
    ['a hub without sites', `listeners: [{ port: 1 }]\nusers: [{ name: h, role: hub }]`, /users\.0\.sites/],
    ['an unknown role', `listeners: [{ port: 1 }]\nusers: [{ name: x, role: admin }]`, /users\.0\.role/],
    ['a bad hash', `listeners: [{ port: 1 }]\nusers: [{ name: x, role: central, passwordHash: "md5$1" }]`, /users\.0\.passwordHash/],
    ['a name that begins another with "-"', `listeners: [{ port: 1 }]\nusers: [{ name: site, role: central }, { name: site-fra, role: site, site: fra }]`, /could take site-fra's sessions/],
    ['a duplicate name', `listeners: [{ port: 1 }]\nusers: [{ name: a, role: central }, { name: a, role: central }]`, /appears twice/],
    ['a rule with user and role', `listeners: [{ port: 1 }]\nacl: [{ user: a, role: site, action: publish, pattern: x, allow: true }]`, /exactly one of user or role/],
    ['a rule with a bad filter', `listeners: [{ port: 1 }]\nacl: [{ role: "*", action: publish, pattern: "a/#/b", allow: true }]`, /acl\.0\.pattern/],
    ['client certificates without a CA', `listeners: [{ port: 1, tls: { cert: a, key: b, clientCerts: required } }]`, /need the CA/],
    ['a limit out of range', `listeners: [{ port: 1 }]\nlimits: { maxPacketBytes: 999999999999 }`, /limits\.maxPacketBytes/],
    ['an unknown limit', `listeners: [{ port: 1 }]\nlimits: { maxPackets: 1 }`, /is not a limit/],
    ['a bad port', `listeners: [{ port: 70000 }]`, /listeners\.0\.port/],
  ];
  for (const [what, text, message] of refused) {
    it(`refuses ${what}`, () => {
      const parsed = parse(text);
      assert.equal(parsed.ok, false);
      if (!parsed.ok) assert.match(parsed.reasons.map((r) => `${r.path}: ${r.message}`).join('\n'), message);
    });
  }
  it('refuses text that is not a mapping, with a reason', () => {
    assert.equal(parseConfigText('- a\n- b').ok, false);
    assert.equal(parseConfigText('{ unclosed').ok, false);
  });
  it('knows loopback addresses', () => {
    assert.deepEqual(['127.0.0.1', '127.1.2.3', '::1', 'localhost', '0.0.0.0', '::', '10.0.0.1'].map(isLoopback), [true, true, true, true, false, false, false]);
  });
});
