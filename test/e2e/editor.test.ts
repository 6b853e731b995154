// What a pilot sees after `npm start`, in a real headless Chromium (Debian's,
// driven by playwright-core): scripts/start.mjs runs the demo (in a temporary
// user folder, on free ports), the editor shows the "tectonic" palette
// category, the demo's two sites publishing (each on its own connection to
// the centre's embedded broker) and the centre receiving, the rejects and
// their reasons in the debug sidebar and under the nodes, the fleet sidebar
// tab listing both sites, the bus-publish form and help, and the tectonic-bus
// form switching between external and embedded mode; every tab laid out for
// 1,600 px; then Ctrl-C stops it all. A failing step leaves a screenshot in
// os.tmpdir() and says where. test/e2e/demo.test.ts checks the same demo
// from the bus and the admin API, with a third site started and killed.
import { after, before, describe, it } from 'mocha';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { I18N_KEY, LAYOUT_PROBLEMS, collapse, launchBrowser } from '../support/browser';
import { freePort, repoRoot, tempDir, waitFor } from '../support/node-red-process';

const DEMO_PUBLISH = 'site-a-publish';

/** The first paragraph of a node's help, as plain text, to find in the help sidebar. */
function helpLead(nodeName: string): string {
  const file = join(repoRoot, 'dist', 'nodes', 'locales', 'en-US', `${nodeName}.html`);
  const html = readFileSync(file, 'utf8');
  const paragraph = /<p>([\s\S]*?)<\/p>/.exec(html)?.[1] ?? html.replace(/<script[^>]*>|<\/script>/g, '');
  const text = paragraph
    .replace(/<[^>]+>/g, '')
    .replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ')
    .trim();
  assert.ok(text.length > 0, `${file} has no help text`);
  return text.slice(0, 80);
}


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

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

describe('npm start: the demo in the editor, in a headless browser', function (this: Mocha.Suite) {
  this.timeout(180_000);
  let demoDir: Awaited<ReturnType<typeof tempDir>> | undefined;
  let demo: ChildProcess | undefined;
  let output = '';
  let uiPort = 0;
  let busPort = 0;
  let browser: Browser | undefined;
  let page: Page | undefined;
  const pageErrors: string[] = [];

  /** Runs a step; on failure saves a screenshot and names it in the error. */
  async function step(name: string, body: (page: Page) => Promise<void>): Promise<void> {
    assert.ok(page, 'no browser page (see the before hook)');
    try {
      await body(page);
    } catch (err) {
      const shot = join(tmpdir(), `tectonic-editor-${name.replace(/\W+/g, '-')}-${Date.now()}.png`);
      await page.screenshot({ path: shot, fullPage: true }).catch(() => undefined);
      const message = err instanceof Error ? err.message : String(err);
      throw new Error(`${message}\n(screenshot: ${shot})`, { cause: err });
    }
  }

  before(async () => {
    demoDir = await tempDir('tectonic-demo-');
    uiPort = await freePort();
    busPort = await freePort();
    const env: NodeJS.ProcessEnv = { ...process.env, TECTONIC_DEMO_DIR: demoDir.path, TECTONIC_UI_PORT: String(uiPort), TECTONIC_BUS_PORT: String(busPort) };
    delete env.NODE_TEST_CONTEXT;
    delete env.NODE_OPTIONS;
    const child = spawn(process.execPath, [join(repoRoot, 'scripts', 'start.mjs')], { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
    demo = child;
    child.stdout?.on('data', (chunk: Buffer) => { output += chunk.toString(); });
    child.stderr?.on('data', (chunk: Buffer) => { output += chunk.toString(); });
    await waitFor(() => {
      if (exited(child)) throw new Error('scripts/start.mjs exited');
      return output.includes('Tectonic demo running');
    }, { timeoutMs: 60_000, message: 'the demo to start' }).catch((err: unknown) => {
      throw new Error(`${err instanceof Error ? err.message : String(err)}\n--- output ---\n${output}`);
    });
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
    page.on('pageerror', (err) => pageErrors.push(err.message));
    await page.goto(`http://127.0.0.1:${uiPort}/`, { waitUntil: 'domcontentloaded' });
    // The editor is ready when it has drawn the palette and the demo's nodes.
    await page.locator('.red-ui-palette-node[data-palette-type="bus-publish"]').waitFor({ state: 'attached', timeout: 30_000 });
    await page.locator(`g.red-ui-flow-node-group[id="${DEMO_PUBLISH}"]`).waitFor({ state: 'visible', timeout: 30_000 });
  });

  after(async () => {
    await browser?.close().catch(() => undefined);
    if (demo?.pid !== undefined && !exited(demo)) {
      process.kill(demo.pid, 'SIGTERM');
      if (!(await exitOf(demo, 25_000)) && !exited(demo)) {
        process.kill(demo.pid, 'SIGKILL');
        await exitOf(demo, 5_000);
      }
    }
    // Should start.mjs have died without stopping its Node-RED, stop that one
    // too, by the pid start.mjs printed.
    // A pid is only ours while its environment names our temporary folder.
    const runtimePid = Number(/demo \(pid (\d+)\)/.exec(output)?.[1] ?? 0);
    if (runtimePid > 0 && demoDir !== undefined) {
      let ours = false;
      try { ours = readFileSync(`/proc/${runtimePid}/environ`, 'utf8').includes(`TECTONIC_DEMO_DIR=${demoDir.path}`); } catch { /* gone, as it should be */ }
      if (ours) process.kill(runtimePid, 'SIGKILL');
    }
    await demoDir?.remove();
  });

  it('the palette has a "tectonic" category with the pack\'s regular nodes', () => step('palette', async (p) => {
    const header = p.locator('#red-ui-palette-header-tectonic');
    await header.waitFor({ state: 'visible', timeout: 10_000 });
    assert.equal(collapse(await header.innerText()).toLowerCase(), 'tectonic');
    const category = p.locator('#red-ui-palette-container-tectonic');
    for (const type of ['bus-publish', 'bus-subscribe']) {
      const entry = category.locator(`.red-ui-palette-node[data-palette-type="${type}"]`);
      assert.equal(await entry.count(), 1, `${type} is not in the tectonic category`);
      assert.ok(await entry.isVisible(), `${type} is not visible in the palette`);
      assert.doesNotMatch(await entry.innerText(), I18N_KEY);
    }
    // A config node is not in the palette, but the editor knows its type.
    assert.equal(await p.locator('.red-ui-palette-node[data-palette-type="tectonic-bus"]').count(), 0);
    const configCategory = await p.evaluate(() => (window as unknown as { RED: { nodes: { getType(t: string): { category?: string } | null } } }).RED.nodes.getType('tectonic-bus')?.category);
    assert.equal(configCategory, 'config');
  }));

  it('the demo flow is drawn with every node known and valid', () => step('demo-flow', async (p) => {
    assert.equal(await p.locator('.red-ui-flow-node-unknown').count(), 0, 'the workspace shows unknown (unregistered) nodes');
    // The editor validates every node of every tab on load; the demo must not
    // greet a pilot with warning triangles.
    // A string, not a function: the TypeScript loader would wrap named
    // functions in a helper that does not exist in the page.
    const invalid = await p.evaluate<string[]>(`(() => {
      const found = [];
      const check = (n) => { if (n.valid === false) found.push(n.type + ' ' + n.id + ' (' + (n.validationErrors || []).join(', ') + ')'); };
      RED.nodes.eachNode(check);
      RED.nodes.eachConfig(check);
      return found;
    })()`);
    assert.deepEqual(invalid, [], 'nodes of the demo flow the editor marks invalid');
    const tabs = await p.locator('#red-ui-workspace-tabs .red-ui-tab').allInnerTexts();
    assert.deepEqual(tabs.map(collapse), ['Site A (simulated)', 'Site B (simulated)', 'Central']);
    // The pilot's settings put the pack's category first.
    const first = await p.locator('.red-ui-palette-category:visible .red-ui-palette-header').first().innerText();
    assert.equal(collapse(first).toLowerCase(), 'tectonic');
  }));

  it('double-clicking the demo\'s bus-publish opens its form, and its help shows', () => step('bus-publish-form', async (p) => {
    await p.locator(`g.red-ui-flow-node-group[id="${DEMO_PUBLISH}"] rect.red-ui-flow-node`).dblclick();
    const tray = p.locator('.red-ui-tray').last();
    await p.locator('#node-input-qos').waitFor({ state: 'visible', timeout: 10_000 });

    // The bus: a config-node select holding the site's own connection, with its edit button.
    const busSelect = p.locator('select#node-input-bus');
    await busSelect.waitFor({ state: 'visible', timeout: 5_000 });
    assert.equal(await busSelect.inputValue(), 'bus-site-a');
    assert.ok(await p.locator('#node-input-btn-bus-edit').isVisible(), 'no edit button beside the bus select');
    assert.equal(await p.locator('#node-input-qos').inputValue(), '1');
    assert.ok(await p.locator('#node-input-wireMode').isVisible(), 'the wire mode field is not shown');
    assert.equal(await p.locator('#node-input-wireMode').inputValue(), 'structured');
    assert.doesNotMatch(await tray.innerText(), I18N_KEY, 'the form shows untranslated labels');

    await tray.locator('.red-ui-tray-footer button:has(i.fa-book)').click();
    const lead = helpLead('bus-publish');
    await p.waitForFunction((text) => Array.from(document.querySelectorAll<HTMLElement>('.red-ui-help'))
      .some((help) => help.offsetParent !== null && (help.textContent ?? '').replace(/\s+/g, ' ').includes(text)), lead, { timeout: 10_000 });
  }));

  it('the tectonic-bus form shows the URL when external, host and port when embedded', () => step('tectonic-bus-form', async (p) => {
    // Site A's connection: a client of the centre's embedded broker, with the site's id (its birth, death and last will).
    await p.locator('#node-input-btn-bus-edit').click();
    const mode = p.locator('#node-config-input-mode');
    await mode.waitFor({ state: 'visible', timeout: 10_000 });
    assert.equal(await mode.inputValue(), 'external');

    const row = (field: string) => p.locator(`.form-row:has(#node-config-input-${field})`);
    const shown = async (field: string) => row(field).isVisible();
    assert.equal(await shown('url'), true, 'external: URL hidden');
    assert.equal(await shown('host'), false, 'external: host shown');
    assert.equal(await shown('port'), false, 'external: port shown');
    assert.equal(await p.locator('#node-config-input-url').inputValue(), '${DEMO_BUS_URL}');
    assert.equal(await p.locator('#node-config-input-siteId').inputValue(), 'site-a');

    await mode.selectOption('embedded');
    assert.equal(await shown('host'), true, 'embedded: host hidden');
    assert.equal(await shown('port'), true, 'embedded: port hidden');
    assert.equal(await shown('url'), false, 'embedded: URL shown');

    await mode.selectOption('external');
    assert.equal(await shown('url'), true, 'external again: URL hidden');
    assert.equal(await shown('host'), false, 'external again: host shown');
    assert.doesNotMatch(await p.locator('.red-ui-tray').last().innerText(), I18N_KEY, 'the form shows untranslated labels');

    // Leave without changing anything: cancel the bus form, then the node's.
    await p.locator('#node-config-dialog-cancel').click();
    await p.locator('#node-dialog-cancel').click();
    await p.locator('.red-ui-tray').first().waitFor({ state: 'detached', timeout: 10_000 });
  }));

  it('the demo\'s cdm-map shows its rules as a table, exports the spec, and tries a record', () => step('cdm-map-form', async (p) => {
    const spec = JSON.parse(readFileSync(join(repoRoot, 'test/fixtures/logistics/fra-wms.spec.json'), 'utf8')) as { rules: Array<{ to: string }> };
    await p.locator('g.red-ui-flow-node-group[id="site-a-map"] rect.red-ui-flow-node').dblclick();
    const rows = p.locator('#node-input-cdm-map-rules .cdm-map-to');
    await rows.first().waitFor({ state: 'visible', timeout: 10_000 });
    assert.deepEqual(await rows.evaluateAll((inputs) => inputs.map((i) => (i as HTMLInputElement).value)), spec.rules.map((r) => r.to));
    assert.equal(await p.locator('#node-input-entity').inputValue(), 'shipment');
    assert.doesNotMatch(await p.locator('.red-ui-tray').last().innerText(), I18N_KEY, 'the form shows untranslated labels');

    await p.locator('#cdm-map-export').click();
    const exported = JSON.parse(await p.locator('#cdm-map-spec-json').inputValue()) as { entity: string; rules: unknown[] };
    assert.equal(exported.entity, 'shipment');
    assert.deepEqual(exported.rules, spec.rules, 'the exported spec is the one the table shows');

    const result = p.locator('#cdm-map-try-result');
    await p.locator('#cdm-map-try-record').fill(JSON.stringify({ Sendung: 'SHP-1', Zeitpunkt: '24.11.2026 08:00', Status: 'ZU', Gewicht: '12,5', Standort: 'FRA1' }));
    await p.locator('#cdm-map-try').click();
    await p.waitForFunction(() => document.querySelector('#cdm-map-try-result')?.classList.contains('cdm-map-ok') === true, undefined, { timeout: 10_000 });
    const mapped = JSON.parse(await result.innerText()) as Record<string, unknown>;
    assert.deepEqual(mapped, { shipmentId: 'SHP-1', occurredAt: '2026-11-24T07:00:00.000Z', status: 'delivered', weightKg: 12.5, siteId: 'hub-fra' });

    await p.locator('#cdm-map-try-record').fill(JSON.stringify({ Sendung: 'SHP-2', Zeitpunkt: '24.11.2026 08:00', Status: 'XX', Gewicht: '1', Standort: 'FRA1' }));
    await p.locator('#cdm-map-try').click();
    await p.waitForFunction(() => document.querySelector('#cdm-map-try-result')?.classList.contains('cdm-map-refused') === true, undefined, { timeout: 10_000 });
    assert.match(await result.innerText(), /status: from "Status": unknown code "XX"/);

    // A row added in the table takes part in the next try, before any deploy.
    await p.locator('.red-ui-editableList', { has: p.locator('#node-input-cdm-map-rules') }).locator('button.red-ui-editableList-addButton').click();
    await rows.last().fill('trackingUrl');
    await p.locator('#node-input-cdm-map-rules .cdm-map-source').last().evaluate((el) => {
      const input = el as HTMLInputElement & { typedInput?: unknown };
      // typedInput is a jQuery widget: set type and value the way the editor does.
      (window as unknown as { $: (e: Element) => { typedInput(m: string, v: string): void } }).$(input).typedInput('type', 'str');
      (window as unknown as { $: (e: Element) => { typedInput(m: string, v: string): void } }).$(input).typedInput('value', 'https://track.example/SHP-1');
    });
    await p.locator('#cdm-map-try-record').fill(JSON.stringify({ Sendung: 'SHP-1', Zeitpunkt: '24.11.2026 08:00', Status: 'ZU', Gewicht: '12,5', Standort: 'FRA1' }));
    await p.locator('#cdm-map-try').click();
    await p.waitForFunction(() => (document.querySelector('#cdm-map-try-result')?.textContent ?? '').includes('track.example'), undefined, { timeout: 10_000 });

    await p.locator('#node-dialog-cancel').click();
    await p.locator('.red-ui-tray').first().waitFor({ state: 'detached', timeout: 10_000 });
  }));

  it('the centre counts in its status what it receives from both sites; the debug sidebar is left to the rejects and their reasons', () => step('debug-sidebar', async (p) => {
    // The centre's bus is the embedded broker every site connects to.
    assert.equal(await p.evaluate(`RED.nodes.node('central-subscribe').bus`), 'tectonic-embedded-bus');
    assert.equal(await p.evaluate(`RED.nodes.node('tectonic-embedded-bus').mode`), 'embedded');
    await p.locator('#red-ui-tab-debug-link-button').click();
    await p.evaluate(`RED.workspaces.show('tab-central')`);
    // Both sites' publishers count what the bus acknowledged, and the centre counts what it received: all grow.
    const count = (id: string): Promise<number> => p.evaluate(`Number((/\\d+/.exec((RED.nodes.node(${JSON.stringify(id)}).status || {}).text || '') || [0])[0])`);
    const before = await count('central-received');
    await waitFor(async () => (await count('central-received')) >= before + 4, { timeoutMs: 15_000, message: 'the centre to count 4 more records' });
    for (const site of ['site-a', 'site-b']) assert.ok((await count(`${site}-published`)) > 0, `${site} has published nothing`);
    // One record in twenty at each site carries an unknown code, and about one in twelve is too heavy for the
    // policy: their reasons reach the sidebar, named for where they come from, and the centre's dead letters.
    await p.locator('.red-ui-debug-msg', { hasText: 'rejects at site-a (reasons)' })
      .filter({ hasText: 'cdm-map refused it: status: from "Status": unknown code "XX"' })
      .first()
      .waitFor({ state: 'visible', timeout: 45_000 });
    await p.locator('.red-ui-debug-msg', { hasText: 'rejects at site-' })
      .filter({ hasText: 'policy-gate refused it: implausible weight' })
      .first()
      .waitFor({ state: 'visible', timeout: 45_000 });
    await p.locator('.red-ui-debug-msg', { hasText: 'dead letters (reasons)' })
      .filter({ hasText: /site-[ab]: (cdm-map|policy-gate) refused it: / })
      .first()
      .waitFor({ state: 'visible', timeout: 45_000 });
    assert.equal(await p.locator('.red-ui-debug-msg', { hasText: 'received at centre' }).count(), 0, 'the centre\'s messages still fill the sidebar');
  }));

  it('the fleet sidebar tab and the fleet page list both sites online', () => step('fleet-sidebar', async (p) => {
    await p.evaluate(`RED.sidebar.show('tectonic-fleet')`);
    const tab = p.locator('.tf-compact');
    for (const site of ['site-a', 'site-b']) await tab.locator(`tr.tf-site[data-site="${site}"]`).waitFor({ timeout: 20_000 });
    await waitFor(async () => /2 sites · 2 online/.test((await tab.locator('.tf-summary').textContent()) ?? ''), { timeoutMs: 20_000, message: 'the fleet summary "2 sites · 2 online"' });
    await p.locator('#red-ui-tab-debug-link-button').click();
    // The same on the fleet page a person opens beside the editor.
    assert.ok(browser, 'no browser');
    const fleetPage = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
    try {
      fleetPage.on('pageerror', (err) => pageErrors.push(`fleet page: ${err.message}`));
      await fleetPage.goto(`http://127.0.0.1:${uiPort}/tectonic/fleet`, { waitUntil: 'domcontentloaded' });
      for (const site of ['site-a', 'site-b']) await fleetPage.locator(`tr.tf-site[data-site="${site}"]`).waitFor({ timeout: 20_000 });
      await waitFor(async () => /2 sites · 2 online/.test((await fleetPage.locator('.tf-summary').textContent()) ?? ''), { timeoutMs: 20_000, message: 'the fleet page\'s summary "2 sites · 2 online"' });
      assert.equal(await fleetPage.locator('#tf-problem').isHidden(), true, 'the fleet page shows a problem');
    } finally {
      await fleetPage.close();
    }
  }));

  it('the demo\'s tabs at 1,600 px: no node over another, no status cut off or over a node, every node on screen', () => step('demo-layout', async (p) => {
    // Every node whose status the demo relies on, by tab: each must have drawn one before the layout is judged.
    const withStatus: Record<string, string[]> = {
      'tab-site-a': ['site-a-map', 'site-a-validate', 'site-a-gate', 'site-a-publish', 'site-a-published', 'site-a-rejected', 'site-a-dead-letters', 'site-a-heartbeat', 'site-a-news', 'site-a-announce'],
      'tab-site-b': ['site-b-map', 'site-b-validate', 'site-b-gate', 'site-b-publish', 'site-b-published', 'site-b-rejected', 'site-b-dead-letters', 'site-b-heartbeat', 'site-b-news', 'site-b-announce'],
      'tab-central': ['central-subscribe', 'central-received', 'central-dead-letters', 'central-rejects', 'central-monitor', 'central-lookup', 'central-answered'],
    };
    for (const [tab, ids] of Object.entries(withStatus)) {
      await p.evaluate(`RED.workspaces.show(${JSON.stringify(tab)})`);
      await p.waitForFunction((id) => (window as unknown as { RED: { workspaces: { active(): string } } }).RED.workspaces.active() === id, tab);
      await p.waitForFunction((list) => list.every((id) => (document.querySelector(`#red-ui-workspace-chart g.red-ui-flow-node-group[id="${id}"] .red-ui-flow-node-status-label`)?.textContent ?? '').trim() !== ''), ids, { timeout: 30_000 })
        .catch((err: unknown) => { throw new Error(`${tab}: not every status drawn (${ids.join(', ')}): ${err instanceof Error ? err.message : String(err)}`); });
      // A status Node-RED shortened ("...") is cut for the reader as much as one past the edge.
      const cut = await p.evaluate<string[]>(`Array.from(document.querySelectorAll('#red-ui-workspace-chart .red-ui-flow-node-status-label')).map((l) => l.textContent || '').filter((t) => /(\\.\\.\\.|…)$/.test(t.trim()))`);
      assert.deepEqual(cut, [], `${tab}: statuses cut short`);
      const problems = await p.evaluate<string[]>(LAYOUT_PROBLEMS);
      await p.screenshot({ path: join(tmpdir(), `tectonic-demo-${tab.replace(/\W+/g, '-')}.png`) });
      assert.deepEqual(problems, [], `${tab}`);
    }
  }));

  it('the editor ran without script errors', () => {
    assert.deepEqual(pageErrors, []);
  });

  it('Ctrl-C (SIGINT) stops Node-RED and the embedded broker cleanly', async () => {
    await browser?.close();
    browser = undefined;
    assert.ok(demo?.pid !== undefined && !exited(demo), `the demo is not running:\n${output}`);
    process.kill(demo.pid, 'SIGINT');
    const end = await exitOf(demo, 25_000);
    assert.ok(end, `the demo did not stop within 25 s after SIGINT:\n${output}`);
    assert.equal(end.code, 0, `the demo exited with ${String(end.code ?? end.signal)}:\n${output}`);
    assert.match(output, /Stopped flows/);
    // Node-RED's child is gone with it: both ports are free again.
    await waitFor(async () => (await canBind(uiPort)) && (await canBind(busPort)), { timeoutMs: 5_000, message: 'the editor and bus ports to be free' });
    assert.ok(!output.includes('[error]'), `errors in the demo's log:\n${output}`);
  });
});
