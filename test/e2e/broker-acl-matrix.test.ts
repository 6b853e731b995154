// Issue 20, "Must show": the ACL matrix over real connections. MQTT.js
// clients against `tectonic broker --config FILE` in a child process and
// against the embedded broker (startEmbeddedBroker, as tectonic-bus runs it),
// both from the same config file: a plain listener, a TLS listener with
// optional client certificates and one that requires them, all with a CA the
// test makes with openssl. Each case is printed as a row, pass or fail.
import { after, afterEach, before, describe, it } from 'mocha';
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { IClientOptions, MqttClient } from 'mqtt';
import { parseBrokerConfig, parseConfigText } from '../../lib/broker/broker-config';
import { hashPassword } from '../../lib/broker/password-hash';
import { type EmbeddedBroker, startEmbeddedBroker } from '../../lib/bus/embedded-broker';
import { type BrokerCli, startBrokerCli } from '../support/broker-cli';
import { attempt, closesWithin, connected, pause, subscribeGranted } from '../support/broker-mqtt';
import { tempDir } from '../support/node-red-process';
import { type TestCa, createTestCa } from '../support/test-ca';

const PASSWORDS: Record<string, string> = { central: 'central-pw-1', 'site-fra': 'fra-pw-1', 'site-muc': 'muc-pw-1', 'hub-eu': 'hub-pw-1' };
const QUIET_MS = 600;

interface Target {
  plain: string;
  tlsOptional: string;
  tlsRequired: string;
  configFile: string;
  log(): string;
}

const rows: string[] = [];

function configText(ca: TestCa, hashes: Record<string, string>, withMuc = true): string {
  const tls = (clientCerts: string): string => `{ cert: "${ca.server.cert}", key: "${ca.server.key}", ca: "${ca.ca}", clientCerts: ${clientCerts} }`;
  return `listeners:
  - { host: 127.0.0.1, port: 0 }
  - { host: 127.0.0.1, port: 0, tls: ${tls('optional')} }
  - { host: 127.0.0.1, port: 0, tls: ${tls('required')} }
users:
  - { name: central, role: central, passwordHash: "${hashes.central}" }
  - { name: site-fra, role: site, site: fra, passwordHash: "${hashes['site-fra']}" }
${withMuc ? `  - { name: site-muc, role: site, site: muc, passwordHash: "${hashes['site-muc']}" }\n` : ''}  - { name: hub-eu, role: hub, sites: [fra, muc], passwordHash: "${hashes['hub-eu']}" }
  - { name: site-ber, role: site, site: ber }
acl: []
`;
}

const as = (user: string, id = `${user}_t${Math.random().toString(16).slice(2, 8)}`): IClientOptions => ({ username: user, password: PASSWORDS[user], clientId: id });

function received(client: MqttClient): { topic: string; payload: string; retain: boolean }[] {
  const list: { topic: string; payload: string; retain: boolean }[] = [];
  client.on('message', (topic, payload, packet) => list.push({ topic, payload: payload.toString(), retain: packet.retain }));
  return list;
}

describe('broker ACL matrix (issue 20)', function () {
  this.timeout(60_000);
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let ca: TestCa;
  let otherCa: TestCa;
  let hashes: Record<string, string>;
  const clients: MqttClient[] = [];
  const keep = (client: MqttClient): MqttClient => {
    clients.push(client);
    return client;
  };

  before(async () => {
    dir = await tempDir('tectonic-acl-');
    ca = createTestCa(dir.path, 'ca');
    otherCa = createTestCa(dir.path, 'other');
    hashes = Object.fromEntries(await Promise.all(Object.entries(PASSWORDS).map(async ([user, pw]): Promise<[string, string]> => [user, await hashPassword(pw)])));
  });
  afterEach(async function () {
    const test = this.currentTest;
    rows.push(`${test?.state === 'passed' ? 'PASS' : 'FAIL'}  ${test?.parent?.title ?? ''} | ${test?.title ?? ''}`);
    await Promise.all(clients.splice(0).map((c) => c.endAsync(true)));
  });
  after(async () => {
    process.stdout.write(`\n      ACL matrix, one row per case:\n${rows.map((r) => `      ${r}\n`).join('')}\n`);
    await dir.remove();
  });

  const targets: [string, (file: string) => Promise<{ target: Target; stop(): Promise<void> }>][] = [
    [
      'tectonic broker --config (child process)',
      async (file) => {
        const cli: BrokerCli = await startBrokerCli(file, 3);
        const port = (i: number): string => (cli.urls[i] as string).replace(/^\w+:\/\//, '');
        return {
          target: { plain: `mqtt://${port(0)}`, tlsOptional: `mqtts://${port(1)}`, tlsRequired: `mqtts://${port(2)}`, configFile: file, log: () => cli.output() },
          stop: () => cli.stop(),
        };
      },
    ],
    [
      'embedded broker (startEmbeddedBroker)',
      async (file) => {
        const raw = parseConfigText(readFileSync(file, 'utf8'));
        assert.ok(raw.ok);
        const config = parseBrokerConfig(raw.value, dirname(file));
        assert.ok(config.ok);
        const lines: string[] = [];
        const broker: EmbeddedBroker = await startEmbeddedBroker({ host: '127.0.0.1', port: 0, listeners: config.value.listeners, accessFile: file, log: (l) => lines.push(l) });
        const at = (i: number): string => `127.0.0.1:${broker.listeners[i]?.port ?? 0}`;
        return {
          target: { plain: `mqtt://${at(0)}`, tlsOptional: `mqtts://${at(1)}`, tlsRequired: `mqtts://${at(2)}`, configFile: file, log: () => lines.join('\n') },
          stop: () => broker.close(),
        };
      },
    ],
  ];

  for (const [title, start] of targets) {
    describe(title, () => {
      let t: Target;
      let stop: () => Promise<void>;
      before(async () => {
        const file = join(dir.path, `${title.startsWith('tectonic') ? 'cli' : 'embedded'}.yaml`);
        writeFileSync(file, configText(ca, hashes));
        const started = await start(file);
        t = started.target;
        stop = () => started.stop();
        // The centre's retained catalog and policy, which sites must not be able to replace or clear.
        const central = keep(await connected(t.plain, as('central')));
        await central.publishAsync('tectonic/cdm/_catalog', 'catalog-v1', { qos: 1, retain: true });
        await central.publishAsync('tectonic/policy/central-default', 'policy-v7', { qos: 1, retain: true });
      });
      after(async () => stop());

      it('anonymous is refused (CONNACK 5)', async () => {
        const outcome = await attempt(t.plain, { clientId: 'anon-1' });
        assert.deepEqual(outcome.kind === 'refused' && outcome.returnCode, 5);
      });
      it('a wrong password is refused (CONNACK 4)', async () => {
        const outcome = await attempt(t.plain, { username: 'site-fra', password: 'guess', clientId: 'site-fra_x' });
        assert.deepEqual(outcome.kind === 'refused' && outcome.returnCode, 4);
      });
      it('an unknown user is refused (CONNACK 4)', async () => {
        const outcome = await attempt(t.plain, { username: 'site-xyz', password: 'x', clientId: 'site-xyz_1' });
        assert.deepEqual(outcome.kind === 'refused' && outcome.returnCode, 4);
      });
      it("site-fra taking site-muc's client id is refused (CONNACK 2)", async () => {
        const outcome = await attempt(t.plain, { ...as('site-fra'), clientId: 'site-muc_agent' });
        assert.deepEqual(outcome.kind === 'refused' && outcome.returnCode, 2);
      });
      it("site-fra publishing on site-muc's topics is refused (connection closed) and nothing is delivered", async () => {
        const central = keep(await connected(t.plain, as('central')));
        assert.deepEqual(await subscribeGranted(central, ['cdm/#', 'tectonic/health/#', 'tectonic/registry/#']), [1, 1, 1]);
        const got = received(central);
        const fra = keep(await connected(t.plain, as('site-fra')));
        await fra.publishAsync('cdm/shipment/v1/fra', 'own', { qos: 1 });
        fra.publish('cdm/shipment/v1/muc', 'forged', { qos: 0 });
        assert.equal(await closesWithin(fra, 3000), true, 'the broker closes the connection [MQTT-3.3.5-2]');
        for (const topic of ['tectonic/health/muc/state', 'tectonic/registry/orders/muc/i1']) {
          const again = keep(await connected(t.plain, as('site-fra')));
          again.publish(topic, 'forged', { qos: 0, retain: true });
          assert.equal(await closesWithin(again, 3000), true);
        }
        await pause(QUIET_MS);
        assert.deepEqual(got.map((m) => m.payload), ['own'], 'only its own record arrived');
      });
      it("site-fra subscribing to site-muc's records gets 0x80 in the SUBACK and receives nothing", async () => {
        const fra = keep(await connected(t.plain, as('site-fra')));
        assert.deepEqual(await subscribeGranted(fra, ['cdm/+/+/muc', 'cdm/#', 'tectonic/health/+/state', 'cdm/+/+/fra']), [128, 128, 1, 1]);
        const got = received(fra);
        const muc = keep(await connected(t.plain, as('site-muc')));
        await muc.publishAsync('cdm/shipment/v1/muc', 'muc-record', { qos: 1 });
        await muc.publishAsync('tectonic/health/muc/heartbeat', 'muc-heartbeat', { qos: 1 });
        await muc.publishAsync('tectonic/health/muc/state', 'online', { qos: 1, retain: true });
        await pause(QUIET_MS);
        assert.deepEqual(got.map((m) => m.payload), ['online'], "only muc's liveness state, which every site may read");
      });
      it('site-fra publishing a catalog is refused and the retained catalog stays', async () => {
        const fra = keep(await connected(t.plain, as('site-fra')));
        fra.publish('tectonic/cdm/_catalog', 'forged-catalog', { qos: 1, retain: true });
        assert.equal(await closesWithin(fra, 3000), true);
        const reader = keep(await connected(t.plain, as('site-fra')));
        const got = received(reader);
        await subscribeGranted(reader, ['tectonic/cdm/#']);
        await pause(QUIET_MS);
        assert.deepEqual(got.map((m) => m.payload), ['catalog-v1']);
      });
      it('site-fra clearing the retained policy (empty retained message) is refused and the policy stays', async () => {
        const fra = keep(await connected(t.plain, as('site-fra')));
        fra.publish('tectonic/policy/central-default', '', { qos: 1, retain: true });
        assert.equal(await closesWithin(fra, 3000), true);
        const reader = keep(await connected(t.plain, as('site-muc')));
        const got = received(reader);
        await subscribeGranted(reader, ['tectonic/policy/#']);
        await pause(QUIET_MS);
        assert.deepEqual(got.map((m) => m.payload), ['policy-v7']);
      });
      it('central publishes a catalog, a site reads it', async () => {
        const fra = keep(await connected(t.plain, as('site-fra')));
        await subscribeGranted(fra, ['tectonic/cdm/#']);
        await pause(200);
        const got = received(fra);
        const central = keep(await connected(t.plain, as('central')));
        await central.publishAsync('tectonic/cdm/shipment/1.1.0', 'schema', { qos: 1, retain: true });
        await pause(QUIET_MS);
        assert.deepEqual(got.map((m) => m.payload), ['schema']);
        await central.publishAsync('tectonic/cdm/shipment/1.1.0', '', { qos: 1, retain: true });
      });
      it('a hub publishes for its sites and is refused for another', async () => {
        const central = keep(await connected(t.plain, as('central')));
        await subscribeGranted(central, ['cdm/#']);
        const got = received(central);
        const hub = keep(await connected(t.plain, as('hub-eu')));
        await hub.publishAsync('cdm/shipment/v1/fra', 'hub-fra', { qos: 1 });
        await hub.publishAsync('cdm/shipment/v1/muc', 'hub-muc', { qos: 1 });
        hub.publish('cdm/shipment/v1/ber', 'hub-ber', { qos: 0 });
        assert.equal(await closesWithin(hub, 3000), true);
        await pause(QUIET_MS);
        assert.deepEqual(got.map((m) => m.payload).sort(), ['hub-fra', 'hub-muc']);
      });
      it("session hijack replayed: connecting as the central subscriber's <id>-in with clean: false is refused, and the subscriber gets all 10", async () => {
        const id = 'central_5f1c0a2b9d3e4f60-in';
        const subscriber = keep(await connected(t.plain, { ...as('central', id), clean: false }));
        await subscribeGranted(subscriber, ['cdm/+/+/+']);
        await subscriber.endAsync();
        const fra = keep(await connected(t.plain, as('site-fra')));
        for (let i = 0; i < 10; i++) await fra.publishAsync('cdm/shipment/v1/fra', `r${i}`, { qos: 1 });
        const anonymous = await attempt(t.plain, { clientId: id, clean: false });
        assert.equal(anonymous.kind === 'refused' && anonymous.returnCode, 5, 'anonymous');
        const otherUser = await attempt(t.plain, { ...as('site-muc'), clientId: id, clean: false });
        assert.equal(otherUser.kind === 'refused' && otherUser.returnCode, 2, 'another user');
        let got: { payload: string }[] = [];
        keep(await connected(t.plain, { ...as('central', id), clean: false }, (client) => (got = received(client))));
        await pause(QUIET_MS * 2);
        assert.deepEqual(got.map((m) => m.payload), Array.from({ length: 10 }, (_, i) => `r${i}`));
      });
      it('TLS: site-fra connects with its password over TLS, trusting the test CA', async () => {
        const fra = keep(await connected(t.tlsOptional, { ...as('site-fra'), ca: readFileSync(ca.ca) }));
        assert.deepEqual(await subscribeGranted(fra, ['tectonic/cdm/#']), [1]);
        const wrong = await attempt(t.tlsOptional, { username: 'site-fra', password: 'guess', clientId: 'site-fra_y', ca: readFileSync(ca.ca) });
        assert.equal(wrong.kind === 'refused' && wrong.returnCode, 4);
      });
      it('mutual TLS: a client certificate naming site-ber authenticates without a password, with site-ber rights', async () => {
        const cert = ca.client('site-ber');
        const tls = { ca: readFileSync(ca.ca), cert: readFileSync(cert.cert), key: readFileSync(cert.key) };
        const ber = keep(await connected(t.tlsRequired, { clientId: 'site-ber_1', ...tls }));
        assert.deepEqual(await subscribeGranted(ber, ['cdm/+/+/ber', 'cdm/+/+/fra']), [1, 128]);
        await ber.publishAsync('cdm/shipment/v1/ber', 'ber', { qos: 1 });
        const optional = keep(await connected(t.tlsOptional, { clientId: 'site-ber_2', ...tls }));
        assert.equal(optional.connected, true, 'also where client certificates are optional');
      });
      it('mutual TLS required: no certificate, and a certificate from another CA, are refused', async () => {
        const none = await attempt(t.tlsRequired, { ...as('site-fra'), ca: readFileSync(ca.ca) });
        assert.equal(none.kind, 'closed');
        const forged = otherCa.client('site-ber');
        const other = await attempt(t.tlsRequired, { clientId: 'site-ber_3', ca: readFileSync(ca.ca), cert: readFileSync(forged.cert), key: readFileSync(forged.key) });
        assert.equal(other.kind, 'closed');
        const optionalForged = await attempt(t.tlsOptional, { clientId: 'site-ber_4', ca: readFileSync(ca.ca), cert: readFileSync(forged.cert), key: readFileSync(forged.key) });
        assert.equal(optionalForged.kind === 'refused' && optionalForged.returnCode, 5, 'an unverified certificate names no one');
      });
      it('mutual TLS: a certificate naming site-ber with the user name site-fra is refused', async () => {
        const cert = ca.client('site-ber');
        const outcome = await attempt(t.tlsRequired, { ...as('site-fra'), ca: readFileSync(ca.ca), cert: readFileSync(cert.cert), key: readFileSync(cert.key) });
        assert.equal(outcome.kind === 'refused' && outcome.returnCode, 5);
      });
      it('refusals are logged one line each with user, client id and why, never a password', () => {
        const log = t.log();
        assert.match(log, /refused connect: user=anonymous client=anon-1 why=anonymous clients are refused/);
        assert.match(log, /refused connect: user=site-fra client=site-fra_x why=bad user name or password/);
        assert.match(log, /refused publish: user=site-fra client=site-fra_\w+ why=cdm\/shipment\/v1\/muc: no right/);
        assert.match(log, /refused subscribe: user=site-fra client=site-fra_\w+ why=cdm\/\+\/\+\/muc/);
        for (const pw of [...Object.values(PASSWORDS), 'guess']) assert.equal(log.includes(pw), false, `the log holds "${pw}"`);
      });
      it('a user removed from the file loses its session at once and cannot connect again; the file is read without a restart', async () => {
        const muc = keep(await connected(t.plain, as('site-muc')));
        const closed = closesWithin(muc, 8000);
        writeFileSync(`${t.configFile}.new`, configText(ca, hashes, false));
        copyFileSync(`${t.configFile}.new`, t.configFile);
        assert.equal(await closed, true, 'session ended');
        const again = await attempt(t.plain, as('site-muc'));
        assert.equal(again.kind === 'refused' && again.returnCode, 4);
        assert.equal((await attempt(t.plain, as('site-fra'))).kind, 'connected', 'the others stay');
      });
    });
  }
});
