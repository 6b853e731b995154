// The fleet page as a person reads it: a central Node-RED (adminAuth on) runs
// heartbeat-monitor on a real broker process; three simulated sites (MQTT.js
// clients publishing what a site publishes) are one healthy, one offline (its
// connection dropped, its will fired), one drifting from its template. Headless
// Chromium (Debian's, driven by playwright-core) opens /tectonic/fleet with the
// editor's token where the editor keeps it, and reads the page; the editor's
// fleet sidebar tab shows the same sites. Saves a screenshot and prints its path.
import { after, before, describe, it } from 'mocha';
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { Heartbeat } from '../../lib/fleet/heartbeat-format';
import type { RegistrySnapshot } from '../../lib/fleet/registry-format';
import { type BrokerProcess, startBrokerProcess } from '../support/broker-process';
import { type NodeRedProcess, repoRoot, startNodeRed, waitFor } from '../support/node-red-process';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
// As test/e2e/editor.test.ts: the sandbox has no network.
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const PASSWORD = 'fleet-e2e-not-a-secret';

function heartbeat(site: string, seq: number, fingerprint: string): Heartbeat {
  return {
    format: 1, site, session: 1, seq, sentAt: new Date().toISOString(), intervalMs: 1000, uptimeSeconds: seq,
    stages: { map: { in: seq * 20, out: seq * 19, rejected: { type: seq } }, publish: { in: seq * 19, out: seq * 19, rejected: {} } },
    outboxDepth: 0,
    versions: { pack: '0.1.0', nodeRed: '4.1.15', node: 'v20.20.0', catalog: 'sha256:5d0c81e2' + '0'.repeat(56), policy: 'central-default@7' },
    cdmPublished: ['shipment@1.1.0'],
    flows: { fingerprint, template: { name: 'site-agent', version: '1.0.0' } },
    canary: { ok: true, at: new Date().toISOString(), nonce: `n${seq}`, latencyMs: 40 + seq, stagesMs: { map: 1, validate: 2 } },
  };
}

describe('fleet page in headless Chromium', function () {
  this.timeout(180_000);
  let broker: BrokerProcess;
  let centre: NodeRedProcess;
  let browser: Browser;
  let page: Page;
  const clients: MqttClient[] = [];
  let beating: NodeJS.Timeout | undefined;
  let token = '';

  before(async () => {
    broker = await startBrokerProcess({ persistence: 'memory' });
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const bcrypt = require(join(repoRoot, 'node_modules', 'bcryptjs')) as { hashSync(text: string, rounds: number): string };
    centre = await startNodeRed({
      settings: {
        // Anonymous may read /settings only (the test support's readiness probe); the fleet data needs flows.read.
        adminAuth: { type: 'credentials', users: [{ username: 'admin', password: bcrypt.hashSync(PASSWORD, 8), permissions: '*' }], default: { permissions: ['settings.read'] } },
      },
      flows: [
        { id: 'c-tab', type: 'tab', label: 'centre' },
        { id: 'c-bus', type: 'tectonic-bus', mode: 'external', url: broker.url, protocolVersion: '4', keepalive: '10', session: 'clean' },
        { id: 'c-mon', type: 'heartbeat-monitor', z: 'c-tab', bus: 'c-bus', checkPeriod: '0.5', missingAfter: '5', alertSites: true, wires: [[]] },
      ],
    });
    const login = await centre.api('/auth/token', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client_id: 'node-red-editor', grant_type: 'password', scope: '*', username: 'admin', password: PASSWORD }),
    });
    assert.equal(login.status, 200, 'the editor login works');
    token = ((await login.json()) as { access_token: string }).access_token;

    const url = broker.url;
    const connect = async (site: string): Promise<MqttClient> => {
      const will = { topic: `tectonic/health/${site}/state`, payload: Buffer.from(JSON.stringify({ state: 'offline', session: 1, since: new Date().toISOString(), reason: 'connection-lost' })), qos: 1 as const, retain: true };
      const client = await mqtt.connectAsync(url, { clientId: `page-${site}`, protocolVersion: 4, reconnectPeriod: 0, will });
      clients.push(client);
      await client.publishAsync(`tectonic/health/${site}/state`, JSON.stringify({ state: 'online', session: 1, since: new Date().toISOString() }), { qos: 1, retain: true });
      return client;
    };
    const template = 'c'.repeat(64);
    const alpha = await connect('alpha');
    const bravo = await connect('bravo');
    const charlie = await connect('charlie');
    await alpha.publishAsync('tectonic/templates/site-agent', JSON.stringify({ name: 'site-agent', version: '1.0.0', fingerprint: template }), { qos: 1, retain: true });
    let seq = 0;
    const beat = async (): Promise<void> => {
      seq += 1;
      await alpha.publishAsync('tectonic/health/alpha/heartbeat', JSON.stringify(heartbeat('alpha', seq, template)), { qos: 1, retain: true });
      await charlie.publishAsync('tectonic/health/charlie/heartbeat', JSON.stringify(heartbeat('charlie', seq, 'd'.repeat(64))), { qos: 1, retain: true });
    };
    await bravo.publishAsync('tectonic/health/bravo/heartbeat', JSON.stringify(heartbeat('bravo', 0, template)), { qos: 1, retain: true });
    await beat();
    beating = setInterval(() => void beat().catch(() => undefined), 1000);
    // bravo's connection drops: the broker publishes its will.
    bravo.stream.destroy();

    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
    page = await browser.newPage({ viewport: { width: 1700, height: 900 } });
  });

  after(async () => {
    clearInterval(beating);
    await browser?.close().catch(() => undefined);
    for (const c of clients) await c.endAsync(true).catch(() => undefined);
    await centre?.stop();
    await broker?.stop();
  });

  it('the data needs the editor\'s token; the page itself holds none and is served to anyone', async () => {
    assert.equal((await centre.api('/tectonic/fleet/data')).status, 401);
    assert.equal((await centre.api('/tectonic/fleet/data', { headers: { authorization: `Bearer ${token}` } })).status, 200);
    const shell = await centre.api('/tectonic/fleet', { headers: { accept: 'text/html' } });
    assert.equal(shell.status, 200);
    assert.doesNotMatch(await shell.text(), /alpha|bravo|charlie/);
  });

  it('without a login the page says to log in to the editor', async () => {
    await page.goto(`${centre.url}/tectonic/fleet`, { waitUntil: 'domcontentloaded' });
    await page.locator('#tf-problem').filter({ hasText: 'Log in to the Node-RED editor' }).waitFor({ timeout: 15_000 });
  });

  it('with the editor\'s token: three sites, one offline, one drifting, with what a person reads there; a screenshot', async () => {
    // Where the editor keeps its token at the admin root "/" (RED.settings, key "auth-tokens").
    await page.evaluate((t) => localStorage.setItem('auth-tokens', JSON.stringify({ access_token: t, expires_in: 604800, token_type: 'Bearer' })), token);
    await page.reload({ waitUntil: 'domcontentloaded' });
    await page.locator('tr.tf-site').nth(2).waitFor({ timeout: 15_000 });
    await waitFor(async () => /3 sites · 2 online · 1 offline · 1 drifting/.test((await page.locator('.tf-summary').textContent()) ?? ''), { timeoutMs: 15_000, message: 'the summary line' });
    const row = (site: string) => page.locator(`tr.tf-site[data-site="${site}"]`);
    const text = async (site: string, cell: string): Promise<string> => ((await row(site).locator(`td.tf-${cell}`).textContent()) ?? '').trim();

    assert.match(await text('bravo', 'state'), /offline.*connection-lost/s);
    assert.match(await text('bravo', 'health'), /^60/);
    assert.match(await text('bravo', 'health'), /−40 liveness: offline: connection lost/);
    assert.match(await text('bravo', 'alerts'), /offline: connection lost/);

    assert.match(await text('charlie', 'drift'), /drifted from site-agent@1\.0\.0/);
    assert.match(await text('charlie', 'health'), /−10 drift: flows differ from template site-agent@1\.0\.0/);
    assert.match(await text('charlie', 'state'), /online/);

    assert.match(await text('alpha', 'drift'), /matches site-agent@1\.0\.0/);
    assert.match(await text('alpha', 'canary'), /ok \d+ ms/);
    assert.match(await text('alpha', 'versions'), /pack 0\.1\.0, Node-RED 4\.1\.15/);
    assert.match(await text('alpha', 'versions'), /catalog 5d0c81e2/);
    assert.match(await text('alpha', 'versions'), /policy central-default@7/);
    assert.match(await text('alpha', 'heartbeat'), /s ago/);
    assert.match(await text('alpha', 'restarts'), /0 restarts, 0 gaps/);
    assert.match(await text('alpha', 'rejects'), /type \d+/);
    assert.match(await text('alpha', 'outbox'), /^0$/);

    // The rate chart draws a line once two beats have come.
    // Attached, not visible: a flat line (equal rates) has no height, and Playwright counts that as hidden.
    await row('alpha').locator('td.tf-rates svg.tf-chart path').waitFor({ state: 'attached', timeout: 10_000 });
    assert.match(await text('alpha', 'rates'), /\/s out/);
    // The bill of materials counts the sites per version.
    assert.match((await page.locator('table.tf-bom').textContent()) ?? '', /nodeRed4\.1\.15 \(3\)/);
    // No service in the registry here: the section stays hidden.
    assert.equal(await page.locator('#tf-registry').isHidden(), true);

    // Live: the page updates by itself.
    const first = await page.locator('body').getAttribute('data-updated');
    await waitFor(async () => (await page.locator('body').getAttribute('data-updated')) !== first, { timeoutMs: 5_000, message: 'a live update' });

    const shot = join(tmpdir(), 'tectonic-fleet-page.png');
    await page.screenshot({ path: shot, fullPage: true });
    console.log(`      screenshot: ${shot}`);
  });

  it('a Registry section when GET /tectonic/fleet/registry answers (here the browser answers for the registry, which another part serves)', async () => {
    const snapshot: RegistrySnapshot = {
      services: [{ service: 'erp-gateway', endpoints: [{ site: 'alpha', instance: 'a1', url: 'http://10.0.0.5:8080', weight: 1, state: 'up', expiresAt: new Date(Date.now() + 60_000).toISOString() }, { site: 'bravo', instance: 'b1', url: 'http://10.0.1.5:8080', weight: 1, state: 'offline', expiresAt: new Date().toISOString() }] }],
    };
    await page.route('**/tectonic/fleet/registry', (route) => route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify(snapshot) }));
    await page.reload({ waitUntil: 'domcontentloaded' });
    await page.locator('#tf-registry tr.tf-endpoint').nth(1).waitFor({ timeout: 10_000 });
    assert.equal(await page.locator('#tf-registry').isVisible(), true);
    assert.match((await page.locator('#tf-registry tr.tf-state-offline').textContent()) ?? '', /erp-gatewaybravob1http:\/\/10\.0\.1\.5:8080offline/);
    await page.unroute('**/tectonic/fleet/registry');
  });

  it('the editor\'s fleet sidebar tab shows the same sites', async () => {
    await page.goto(`${centre.url}/`, { waitUntil: 'domcontentloaded' });
    await page.locator('.red-ui-palette-node[data-palette-type="heartbeat-monitor"]').waitFor({ state: 'attached', timeout: 30_000 });
    await page.evaluate(() => (window as unknown as { RED: { sidebar: { show(id: string): void } } }).RED.sidebar.show('tectonic-fleet'));
    const tab = page.locator('.tf-compact');
    await tab.locator('tr.tf-site[data-site="bravo"]').waitFor({ timeout: 15_000 });
    assert.match((await tab.locator('.tf-summary').textContent()) ?? '', /3 sites · 2 online · 1 offline · 1 drifting/);
    const shot = join(tmpdir(), 'tectonic-fleet-sidebar.png');
    await page.screenshot({ path: shot });
    console.log(`      screenshot: ${shot}`);
  });
});
