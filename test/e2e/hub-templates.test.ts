// The three vetted templates together, each from its kit as the central team
// makes them (`tectonic hub new central|regional`, `tectonic site new`) and
// each in a Node-RED of its own, configured only by its kit's variables:
// `tectonic broker --config` with the kits' users lines as the global bus;
// the central hub publishing catalog and policy and watching the fleet; a
// regional hub (north) bridging site fra's regional bus to the global one;
// site lyo straight on the global bus. Records fed at each site's local bus
// reach the centre (through the hub for fra), both sites show online with
// heartbeats and passing canaries on the centre's fleet view, and a SIGKILL
// of the hub shows fra unreachable through it.
import { after, before, describe, it } from 'mocha';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseEnv } from 'node:util';
import mqtt, { type MqttClient } from 'mqtt';
import { type BrokerCli, startBrokerCli } from '../support/broker-cli';
import { type FlowNode, type NodeRedProcess, freePort, startNodeRed, tempDir, waitFor } from '../support/node-red-process';
import { tectonic } from '../support/tectonic-cli';

interface SiteView { site: string; state: string; heartbeat?: unknown; canary?: { ok?: boolean }; alerts: Array<{ kind: string; reason: string; details?: Record<string, unknown> }> }

const kitEnv = (dir: string, file: string): Record<string, string> => parseEnv(readFileSync(join(dir, file), 'utf8')) as Record<string, string>;
const flowsOf = (dir: string): FlowNode[] => JSON.parse(readFileSync(join(dir, 'flows.json'), 'utf8')) as FlowNode[];
const usersLine = (dir: string): string => readFileSync(join(dir, 'identity', 'broker-user.yaml'), 'utf8').split('\n').filter((l) => l.startsWith('- ')).join('\n');

describe('the vetted templates from their kits: site agents, a regional hub and the central hub on a secured bus', function () {
  this.timeout(300_000);
  let work: { path: string; remove(): Promise<void> };
  let broker: BrokerCli | undefined;
  const red: Record<string, NodeRedProcess> = {};
  let centreClient: MqttClient | undefined;
  const atCentre: Array<{ topic: string; id: string }> = [];
  const ports = { global: 0, regional: 0, fra: 0, lyo: 0 };

  /** The centre's fleet view, as the fleet page reads it. */
  const fleet = async (): Promise<SiteView[]> => {
    const res = await fetch(`${red.central!.url}/tectonic/fleet/data`, { headers: { accept: 'application/json' } });
    return res.ok ? ((await res.json()) as { sites: SiteView[] }).sites : [];
  };
  const siteOf = async (name: string): Promise<SiteView | undefined> => (await fleet()).find((s) => s.site === name);

  before(async () => {
    work = await tempDir('tectonic-hub-kits-');
    const dir = (name: string): string => join(work.path, name);
    for (const key of Object.keys(ports) as Array<keyof typeof ports>) ports[key] = await freePort();
    const globalUrl = `mqtt://127.0.0.1:${ports.global}`;
    const run = async (args: string[]): Promise<void> => {
      const done = await tectonic(args);
      assert.equal(done.code, 0, `tectonic ${args.join(' ')}: ${done.stderr}`);
    };
    await run(['policy', 'keygen', '--out', dir('keys')]);
    await run(['policy', 'sign', 'policies/central-default.yaml', '--key', join(dir('keys'), 'policy.key'), '--out', dir('policy.signed.json')]);
    await run(['hub', 'new', 'central', '--bus-url', globalUrl, '--sites', 'fra,lyo', '--policy', dir('policy.signed.json'), '--trust-key', join(dir('keys'), 'policy.pub'), '--out', dir('central')]);
    await run(['hub', 'new', 'regional', 'north', '--bus-url', globalUrl, '--sites', 'fra', '--regional-port', String(ports.regional), '--out', dir('north')]);
    await run(['site', 'new', 'fra', '--bus-url', `mqtt://127.0.0.1:${ports.regional}`, '--trust-key', join(dir('keys'), 'policy.pub'), '--heartbeat', '2', '--out', dir('fra')]);
    await run(['site', 'new', 'lyo', '--bus-url', globalUrl, '--trust-key', join(dir('keys'), 'policy.pub'), '--heartbeat', '2', '--out', dir('lyo')]);

    // The global bus admits exactly the users the kits asked for (fra's line goes to the hub's regional bus, which is loopback-only here).
    const config = dir('broker.yaml');
    writeFileSync(config, `listeners:\n  - { host: 127.0.0.1, port: ${ports.global} }\nusers:\n${[usersLine(dir('central')), usersLine(dir('north')), usersLine(dir('lyo'))].join('\n').replace(/^/gm, '  ')}\n`);
    broker = await startBrokerCli(config, 1);

    const settings = { credentialSecret: false };
    const start = async (name: string, envFile: string, extra: Record<string, string> = {}): Promise<void> => {
      red[name] = await startNodeRed({ flows: flowsOf(dir(name)), seedDir: dir(name), env: { ...kitEnv(dir(name), envFile), ...extra }, settings });
    };
    await start('central', 'hub.env', { TECTONIC_HEARTBEAT_SECONDS: '2' });
    await start('north', 'hub.env');
    await start('fra', 'site.env', { TECTONIC_LOCAL_BUS_PORT: String(ports.fra) });
    await start('lyo', 'site.env', { TECTONIC_LOCAL_BUS_PORT: String(ports.lyo) });

    // A central system reading the records as the central user: who sent each one, and how often.
    const password = readFileSync(join(dir('central'), 'identity', 'password'), 'utf8').trim();
    centreClient = await mqtt.connectAsync(globalUrl, { username: 'central', password, clientId: `central_test${process.pid}`, protocolVersion: 4 });
    centreClient.on('message', (topic, payload) => {
      const id = (JSON.parse(payload.toString()) as { id?: string }).id;
      if (id !== undefined) atCentre.push({ topic, id });
    });
    await centreClient.subscribeAsync('cdm/+/+/+', { qos: 1 });
  });

  after(async () => {
    await centreClient?.endAsync(true);
    await Promise.allSettled(Object.values(red).map((p) => p.stop()));
    await broker?.stop();
    await work?.remove();
  });

  it('records fed at both sites reach the centre once each (fra through the regional hub), after the centre published catalog and policy', async () => {
    const feed = async (site: 'fra' | 'lyo', count: number): Promise<void> => {
      const env = kitEnv(join(work.path, site), 'site.env');
      const fixture = JSON.parse(env.TECTONIC_PROBE_RECORD ?? '{}') as Record<string, unknown>;
      // The local bus listens once the site's flow has started its embedded broker: the local system tries again until it does.
      const local = mqtt.connect(`mqtt://127.0.0.1:${ports[site]}`, { clientId: `local-${site}-${process.pid}`, protocolVersion: 4, reconnectPeriod: 500 });
      await waitFor(() => local.connected, { timeoutMs: 30_000, intervalMs: 100, message: `${site}'s local bus accepting the local system` });
      for (let i = 0; i < count; i += 1) await local.publishAsync(env.TECTONIC_LOCAL_TOPIC ?? '', JSON.stringify({ ...fixture, shipmentId: `${site}-${i}` }), { qos: 1 });
      await local.endAsync();
    };
    // The sites' entries wait for the catalog and the policy the centre publishes (through the hub for fra): records sent meanwhile wait too.
    await Promise.all([feed('fra', 5), feed('lyo', 5)]);
    const bySite = (site: string): string[] => atCentre.filter((r) => r.topic.endsWith(`/${site}`)).map((r) => r.id);
    await waitFor(() => bySite('fra').length >= 5 && bySite('lyo').length >= 5, { timeoutMs: 90_000, message: 'five records of each site at the centre' }).catch((err: Error) => {
      throw new Error(`${err.message}: fra ${bySite('fra').length}, lyo ${bySite('lyo').length}\n--- fra ---\n${red.fra?.logs().slice(-3000)}\n--- north ---\n${red.north?.logs().slice(-3000)}\n--- central ---\n${red.central?.logs().slice(-3000)}`);
    });
    for (const site of ['fra', 'lyo']) assert.equal(new Set(bySite(site)).size, bySite(site).length, `a record of ${site} reached the centre twice`);
    console.log(`      at the centre: fra ${bySite('fra').length} records (via hub north), lyo ${bySite('lyo').length}`);
  });

  it("the centre's fleet view shows both sites online with heartbeats and passing canaries", async () => {
    const healthy = async (name: string): Promise<boolean> => {
      const view = await siteOf(name);
      return view?.state === 'online' && view.heartbeat !== undefined && view.canary?.ok === true;
    };
    await waitFor(async () => (await healthy('fra')) && (await healthy('lyo')), { timeoutMs: 60_000, intervalMs: 500, message: 'fra and lyo online with heartbeats and passing canaries' }).catch(async (err: Error) => {
      throw new Error(`${err.message}: ${JSON.stringify(await fleet()).slice(0, 3000)}`);
    });
  });

  it('none of the four logged an error while it ran as configured', () => {
    for (const [name, proc] of Object.entries(red)) {
      const errors = proc.logs().split('\n').filter((line) => /\[error\]/.test(line));
      assert.deepEqual(errors, [], `${name} logged errors`);
    }
  });

  it("the hub SIGKILLed: the centre shows fra unreachable through it, lyo still online", async () => {
    await red.north!.kill();
    await waitFor(async () => {
      const fra = await siteOf('fra');
      return fra?.alerts.some((a) => a.kind === 'offline' && a.details?.hub === 'north') === true;
    }, { timeoutMs: 60_000, intervalMs: 500, message: 'fra offline through hub north at the centre' }).catch(async (err: Error) => {
      throw new Error(`${err.message}: ${JSON.stringify((await fleet()).map((s) => ({ site: s.site, state: s.state, alerts: s.alerts })))}`);
    });
    const lyo = await siteOf('lyo');
    assert.equal(lyo?.state, 'online');
    assert.deepEqual(lyo?.alerts.filter((a) => a.kind === 'offline'), [], 'lyo is not behind the hub');
  });
});
