// `npm start` is the multi-site demo (issue 21, item 5), run as a pilot runs
// it: scripts/start.mjs in a temporary user folder on free loopback ports,
// then `npm run demo:site` (scripts/demo-site.mjs) beside it as a third site.
// Evidence from three places: the bus itself (an MQTT client of the test's
// own on the demo's broker), the centre's admin endpoints (fleet data,
// registry snapshot, node counters) and the two processes' logs.
import { after, before, describe, it } from 'mocha';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { freePort, repoRoot, tempDir, waitFor } from '../support/node-red-process';

interface FleetSite {
  site: string;
  state: string;
  stateSince?: string;
  restarts: number;
  heartbeat?: { seq: number; ageSeconds: number };
  canary?: { ok: boolean; latencyMs?: number; stage?: string; reason?: string };
  alerts: Array<{ kind: string }>;
}
interface SeenRecord { topic: string; site: string; reasons: Array<{ path: string; rule: string; message: string }> }

function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

function exitOf(child: ChildProcess, timeoutMs: number): Promise<{ code: number | null; signal: NodeJS.Signals | null } | undefined> {
  if (exited(child)) return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve) => {
    const timer = setTimeout(() => { child.off('exit', onExit); resolve(undefined); }, timeoutMs);
    const onExit = (code: number | null, signal: NodeJS.Signals | null): void => { clearTimeout(timer); resolve({ code, signal }); };
    child.once('exit', onExit);
  });
}

/** A script of this checkout, its output collected; the environment names the test's folders and ports. */
function runScript(script: string, env: Record<string, string>): { child: ChildProcess; output: () => string } {
  const full: NodeJS.ProcessEnv = { ...process.env, ...env };
  delete full.NODE_TEST_CONTEXT;
  delete full.NODE_OPTIONS;
  const child = spawn(process.execPath, [join(repoRoot, 'scripts', script)], { cwd: repoRoot, env: full, stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  child.stdout?.on('data', (chunk: Buffer) => { text += chunk.toString(); });
  child.stderr?.on('data', (chunk: Buffer) => { text += chunk.toString(); });
  return { child, output: () => text };
}

/** Stops a script and the Node-RED it printed the pid of, each by its pid, and only while it is still ours. */
async function stopScript(run: { child: ChildProcess; output: () => string } | undefined, folder: string | undefined): Promise<void> {
  if (run === undefined) return;
  const { child } = run;
  if (child.pid !== undefined && !exited(child)) {
    process.kill(child.pid, 'SIGINT');
    if (!(await exitOf(child, 25_000)) && !exited(child)) {
      process.kill(child.pid, 'SIGKILL');
      await exitOf(child, 5_000);
    }
  }
  const runtimePid = Number(/\(pid (\d+)\)/.exec(run.output())?.[1] ?? 0);
  if (runtimePid > 0 && folder !== undefined) {
    let ours = false;
    try { ours = readFileSync(`/proc/${runtimePid}/cmdline`, 'utf8').includes(folder); } catch { /* gone, as it should be */ }
    if (ours) process.kill(runtimePid, 'SIGKILL');
  }
}

/** The log lines Node-RED and the scripts print as errors. */
function errorLines(text: string): string[] {
  return text.split('\n').filter((line) => /\[error\]|Error:|exited \(/.test(line));
}

describe('npm start: the multi-site demo, and a third site from npm run demo:site', function (this: Mocha.Suite) {
  this.timeout(240_000);
  let demoDir: Awaited<ReturnType<typeof tempDir>> | undefined;
  let siteDir: Awaited<ReturnType<typeof tempDir>> | undefined;
  let demo: ReturnType<typeof runScript> | undefined;
  let third: ReturnType<typeof runScript> | undefined;
  let observer: MqttClient | undefined;
  let ui = '';
  let busPort = 0;
  const records: SeenRecord[] = [];
  const deadLetters: SeenRecord[] = [];
  /** Each site's last state on the bus, with the reason an offline one gives (a clean shutdown, or the will's connection-lost). */
  const states = new Map<string, string>();

  const fleet = async (): Promise<Map<string, FleetSite>> => {
    const res = await fetch(`${ui}/tectonic/fleet/data`, { headers: { accept: 'application/json' } });
    assert.equal(res.status, 200, 'GET /tectonic/fleet/data');
    const body = (await res.json()) as { sites: FleetSite[] };
    return new Map(body.sites.map((s) => [s.site, s]));
  };
  const stats = async (id: string): Promise<Record<string, number>> => {
    const res = await fetch(`${ui}/tectonic/stats/${id}`, { headers: { accept: 'application/json' } });
    assert.equal(res.status, 200, `GET /tectonic/stats/${id}`);
    return (await res.json()) as Record<string, number>;
  };

  before(async () => {
    demoDir = await tempDir('tectonic-demo-');
    const uiPort = await freePort();
    busPort = await freePort();
    ui = `http://127.0.0.1:${uiPort}`;
    demo = runScript('start.mjs', { TECTONIC_DEMO_DIR: demoDir.path, TECTONIC_UI_PORT: String(uiPort), TECTONIC_BUS_PORT: String(busPort) });
    const started = demo;
    await waitFor(() => {
      if (exited(started.child)) throw new Error('scripts/start.mjs exited');
      return started.output().includes('Tectonic demo running');
    }, { timeoutMs: 90_000, message: 'the demo to start' }).catch((err: unknown) => {
      throw new Error(`${err instanceof Error ? err.message : String(err)}\n--- output ---\n${started.output()}`);
    });
    // The test's own view of the bus, beside the centre's.
    const client = mqtt.connect(`mqtt://127.0.0.1:${busPort}`, { clientId: `demo-test-${process.pid}`, reconnectPeriod: 500, clean: true });
    observer = client;
    client.on('message', (topic, payload) => {
      const level = topic.split('/');
      if (level[0] === 'tectonic' && level[1] === 'health' && level[3] === 'state') {
        const { state, reason } = JSON.parse(payload.toString()) as { state?: string; reason?: string };
        if (typeof state === 'string') states.set(level[2] ?? '', reason === undefined ? state : `${state} (${reason})`);
        return;
      }
      if (level[0] === 'cdm') records.push({ topic, site: level[3] ?? '', reasons: [] });
      // A dead letter is one JSON document with the reasons at its top (docs/message-contract.md).
      else deadLetters.push({ topic, site: level[2] ?? '', reasons: (JSON.parse(payload.toString()) as { reasons?: SeenRecord['reasons'] }).reasons ?? [] });
    });
    await waitFor(() => client.connected, { timeoutMs: 15_000, message: 'the test\'s MQTT client to connect to the demo\'s bus' });
    await client.subscribeAsync(['cdm/+/+/+', 'tectonic/dlq/#', 'tectonic/health/+/state'], { qos: 1 });
  });

  after(async () => {
    observer?.end(true);
    await stopScript(third, siteDir?.path);
    await stopScript(demo, demoDir?.path);
    await siteDir?.remove();
    await demoDir?.remove();
  });

  it('records of both sites, each in its own format, arrive at the centre', async () => {
    await waitFor(() => ['site-a', 'site-b'].every((site) => records.filter((r) => r.site === site).length >= 3), { timeoutMs: 30_000, message: 'three records of each site on cdm/+/+/{site}' });
    assert.deepEqual([...new Set(records.map((r) => r.topic))].sort(), ['cdm/shipment/v1/site-a', 'cdm/shipment/v1/site-b']);
    // The centre's bus-subscribe took them in too (its counter, the one its status shows).
    const received = await waitFor(async () => { const s = await stats('central-subscribe'); return (s.received ?? 0) >= 6 && s; }, { timeoutMs: 10_000, message: 'the centre to count 6 records' });
    assert.ok((received.received ?? 0) >= 6, JSON.stringify(received));
  });

  it('refused records leave each site as dead letters with their reasons, and the centre receives them', async () => {
    // One record in twenty maps to nothing and about one in twelve is denied by the policy: give both sites time for one.
    await waitFor(() => ['site-a', 'site-b'].every((site) => deadLetters.some((d) => d.site === site)), { timeoutMs: 60_000, message: 'a dead letter from each site' });
    for (const letter of deadLetters) {
      assert.match(letter.topic, /^tectonic\/dlq\/site-[ab]\/(cdm-map|cdm-validate|policy-gate)$/);
      assert.ok(letter.reasons.length > 0 && letter.reasons.every((r) => r.message !== ''), `a dead letter without reasons: ${JSON.stringify(letter)}`);
    }
    const messages = deadLetters.flatMap((d) => d.reasons.map((r) => r.message)).join('\n');
    assert.match(messages, /unknown code|implausible weight/);
    const centre = await stats('central-dead-letters');
    assert.ok((centre.received ?? 0) >= 1, `the centre's dead-letter subscription counted nothing: ${JSON.stringify(centre)}`);
  });

  it('the fleet lists both sites online, beating, their synthetic transactions back', async () => {
    const sites = await waitFor(async () => {
      const now = await fleet();
      return ['site-a', 'site-b'].every((s) => now.get(s)?.state === 'online' && (now.get(s)?.heartbeat?.seq ?? -1) >= 1 && now.get(s)?.canary?.ok === true) && now;
    }, { timeoutMs: 45_000, intervalMs: 500, message: 'site-a and site-b online with a heartbeat and a passed canary on /tectonic/fleet/data' });
    for (const name of ['site-a', 'site-b']) {
      const site = sites.get(name);
      assert.ok(site, name);
      assert.deepEqual(site.alerts.map((a) => a.kind), [], `${name} has alerts`);
      assert.ok((site.heartbeat?.ageSeconds ?? 99) < 15, `${name}'s last heartbeat is ${site.heartbeat?.ageSeconds} s old`);
    }
    const beats = await stats('site-a-heartbeat');
    assert.ok((beats.canaryPassed ?? 0) >= 1 && (beats.canaryFailed ?? 0) === 0, `site-a's canaries: ${JSON.stringify(beats)}`);
  });

  it('the centre finds the tracking service in the registry (Site A first) and it answers', async () => {
    const snapshot = await waitFor(async () => {
      const res = await fetch(`${ui}/tectonic/fleet/registry`, { headers: { accept: 'application/json' } });
      const body = (await res.json()) as { services: Array<{ service: string; endpoints: Array<{ site: string; url: string; state: string }> }> };
      const endpoints = body.services.find((s) => s.service === 'tracking')?.endpoints ?? [];
      return endpoints.filter((e) => e.state === 'up').length === 2 && endpoints;
    }, { timeoutMs: 30_000, message: 'both sites\' tracking endpoints up in the registry' });
    assert.deepEqual(snapshot.map((e) => e.site), ['site-a', 'site-b'], 'heaviest first: site-a (100), then site-b (50)');
    const lookup = await waitFor(async () => { const s = await stats('central-lookup'); return (s.resolved ?? 0) >= 1 && s; }, { timeoutMs: 15_000, message: 'the centre\'s lookup to resolve' });
    assert.equal(lookup.unresolved, 0, JSON.stringify(lookup));
    const answer = await fetch(snapshot[0]?.url ?? '');
    assert.deepEqual(await answer.json(), { answeredBy: 'site-a' });
  });

  /** `npm run demo:site` beside the demo, in the test's folder, on free ports; resolves with its Node-RED's pid once the fleet shows site-c online. */
  async function startThirdSite(): Promise<{ run: ReturnType<typeof runScript>; pid: number }> {
    siteDir ??= await tempDir('tectonic-demo-site-');
    const run = runScript('demo-site.mjs', { TECTONIC_SITE_DIR: siteDir.path, TECTONIC_BUS_PORT: String(busPort), TECTONIC_SITE_UI_PORT: String(await freePort()), TECTONIC_SITE_BUS_PORT: String(await freePort()) });
    third = run;
    const since = Date.now();
    await waitFor(() => {
      if (exited(run.child)) throw new Error('scripts/demo-site.mjs exited');
      return run.output().includes('Tectonic demo site site-c running');
    }, { timeoutMs: 60_000, message: 'the third site to start' }).catch((err: unknown) => {
      throw new Error(`${err instanceof Error ? err.message : String(err)}\n--- output ---\n${run.output()}`);
    });
    const pid = Number(/Node-RED site-c \(pid (\d+)\)/.exec(run.output())?.[1] ?? 0);
    assert.ok(pid > 0, `no pid in the output:\n${run.output()}`);
    await waitFor(async () => {
      const site = (await fleet()).get('site-c');
      return site?.state === 'online' && Date.parse(site.stateSince ?? '') >= since - 1000 && (site.heartbeat?.seq ?? -1) >= 0 && site.canary?.ok === true;
    }, { timeoutMs: 60_000, intervalMs: 500, message: 'site-c online (since it started) with a heartbeat and a passed canary on /tectonic/fleet/data' }).catch((err: unknown) => {
      throw new Error(`${err instanceof Error ? err.message : String(err)}\n--- site-c output ---\n${run.output()}`);
    });
    return { run, pid };
  }

  it('npm run demo:site starts a third site the fleet shows online, with its records and dead letters; Ctrl-C shows it offline at once', async () => {
    const { run } = await startThirdSite();
    // Its depot's records, mapped by its own spec, and its refusals with reasons.
    await waitFor(() => records.some((r) => r.topic === 'cdm/shipment/v1/site-c'), { timeoutMs: 20_000, message: 'a record of site-c at the centre' });
    await waitFor(() => deadLetters.some((d) => d.site === 'site-c' && d.reasons.length > 0), { timeoutMs: 30_000, message: 'a dead letter of site-c with its reasons' });
    assert.equal(states.get('site-c'), 'online');

    assert.ok(run.child.pid !== undefined);
    process.kill(run.child.pid, 'SIGINT');
    // A clean stop: the site's connection says offline itself before it closes.
    await waitFor(async () => (await fleet()).get('site-c')?.state === 'offline', { timeoutMs: 5_000, intervalMs: 100, message: 'site-c offline on /tectonic/fleet/data within 5 s of Ctrl-C' });
    await waitFor(() => states.get('site-c') === 'offline (shutdown)', { timeoutMs: 5_000, message: 'a clean offline (reason shutdown) on tectonic/health/site-c/state' });
    const end = await exitOf(run.child, 25_000);
    assert.deepEqual(end, { code: 0, signal: null }, run.output());
    assert.match(run.output(), /site-c stopped/);
    assert.deepEqual(errorLines(run.output()), [], 'errors in the third site\'s log');
  });

  it('started again it comes back as a restart; SIGKILL of its Node-RED shows it offline through its last will', async () => {
    const { run, pid } = await startThirdSite();
    const back = (await fleet()).get('site-c');
    assert.ok((back?.restarts ?? 0) >= 1, `no restart counted: ${JSON.stringify(back)}`);
    assert.equal(states.get('site-c'), 'online');
    assert.deepEqual(errorLines(run.output()), [], 'errors in the third site\'s log');

    process.kill(pid, 'SIGKILL');
    // No clean stop: the broker publishes the site's last will when the connection drops.
    await waitFor(async () => (await fleet()).get('site-c')?.state === 'offline', { timeoutMs: 15_000, intervalMs: 250, message: 'site-c offline on /tectonic/fleet/data after SIGKILL' });
    await waitFor(() => states.get('site-c') === 'offline (connection-lost)', { timeoutMs: 5_000, message: 'the will (reason connection-lost) on tectonic/health/site-c/state' });
    const sites = await fleet();
    assert.ok(sites.get('site-c')?.alerts.some((a) => a.kind === 'offline'), `no offline alert for site-c: ${JSON.stringify(sites.get('site-c'))}`);
    for (const name of ['site-a', 'site-b']) assert.equal(sites.get(name)?.state, 'online', `${name} went with it`);
    // The script notices and ends too, saying how its Node-RED ended.
    const end = await exitOf(run.child, 10_000);
    assert.ok(end, 'scripts/demo-site.mjs still runs after its Node-RED was killed');
    assert.match(run.output(), /site-c's Node-RED exited \(SIGKILL\)/);
  });

  it('the demo logged no error', () => {
    assert.ok(demo, 'the demo did not start');
    assert.deepEqual(errorLines(demo.output()), [], `errors in the demo's log:\n${demo.output()}`);
  });
});
