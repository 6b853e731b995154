// The editor as a technician meets it, in a real headless Chromium (Debian's,
// driven by playwright-core) against a Node-RED this test starts with the
// pack and an empty flow: the palette, every node dragged in and opened, the
// mapping table with its transforms builder and Try it, the catalog picker
// before any deploy, each node's help, and every example imported from the
// menu and deployed. Screenshots are kept in the folder the test prints.
import { after, before, describe, it } from 'mocha';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { I18N_KEY, LAYOUT_PROBLEMS, artifactDir, collapse, launchBrowser, openEditor } from '../support/browser';
import { type NodeRedProcess, freePort, repoRoot, startNodeRed } from '../support/node-red-process';

const REGULAR = ['cdm-map', 'cdm-validate', 'policy-gate', 'bus-publish', 'bus-subscribe'] as const;
const CONFIG = ['tectonic-bus', 'cdm-catalog', 'tectonic-policy'] as const;
const PALETTE_LABELS: Record<string, string> = { 'cdm-map': 'cdm map', 'cdm-validate': 'cdm validate', 'policy-gate': 'policy gate', 'bus-publish': 'bus publish', 'bus-subscribe': 'bus subscribe' };
const EXAMPLES = readdirSync(join(repoRoot, 'examples')).filter((f) => f.endsWith('.json')).sort();

/** The first paragraph of a node's help, as plain text, to find in the help sidebar. */
function helpLead(type: string): string {
  const html = readFileSync(join(repoRoot, 'nodes', 'locales', 'en-US', `${type}.html`), 'utf8');
  const paragraph = /<p>([\s\S]*?)<\/p>/.exec(html)?.[1] ?? '';
  return collapse(paragraph.replace(/<[^>]+>/g, '').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&amp;/g, '&')).slice(0, 60);
}

/** A value of the page's RED, read as JSON (a string, so the TypeScript loader adds no helpers to it). */
async function inPage<T>(page: Page, expression: string): Promise<T> {
  return page.evaluate<T>(`(() => { ${expression} })()`);
}

describe('the editor as a technician meets it (headless Chromium)', function (this: Mocha.Suite) {
  this.timeout(120_000);
  const shots = artifactDir('nodes');
  let red: NodeRedProcess | undefined;
  let browser: Browser | undefined;
  let page: Page | undefined;
  const pageErrors: string[] = [];
  let shot = 0;

  /** Runs a step, keeps a screenshot of how it ended, and names it in a failure. */
  async function step(name: string, body: (page: Page) => Promise<void>): Promise<void> {
    assert.ok(page, 'no browser page (see the before hook)');
    const file = join(shots, `${String(++shot).padStart(2, '0')}-${name}.png`);
    try {
      await body(page);
      await page.screenshot({ path: file });
    } catch (err) {
      await page.screenshot({ path: file.replace(/\.png$/, '-FAILED.png'), fullPage: true }).catch(() => undefined);
      const log = red?.logs().slice(-2000) ?? '';
      throw new Error(`${err instanceof Error ? err.message : String(err)}\n(screenshot: ${file.replace(/\.png$/, '-FAILED.png')})\n--- Node-RED's last output ---\n${log}`, { cause: err });
    }
  }

  /** Cancels the node's edit dialog and waits until the tray has gone. */
  async function cancelDialog(p: Page): Promise<void> {
    await p.locator('#node-dialog-cancel').click();
    await p.locator('.red-ui-tray').first().waitFor({ state: 'detached', timeout: 10_000 });
  }

  /** Drags a palette entry onto the workspace and returns the new node's id. */
  async function dragIn(p: Page, type: string, x: number, y: number): Promise<string> {
    const before = await inPage<string[]>(p, `return RED.nodes.filterNodes({ type: ${JSON.stringify(type)} }).map((n) => n.id);`);
    const entry = p.locator(`#red-ui-palette-container-tectonic .red-ui-palette-node[data-palette-type="${type}"]`);
    await entry.scrollIntoViewIfNeeded();
    const from = await entry.boundingBox();
    const chart = await p.locator('#red-ui-workspace-chart').boundingBox();
    assert.ok(from && chart, `${type}: palette entry or workspace not on screen`);
    await p.mouse.move(from.x + from.width / 2, from.y + from.height / 2);
    await p.mouse.down();
    await p.mouse.move(chart.x + x, chart.y + y, { steps: 12 });
    await p.mouse.up();
    return p.waitForFunction(
      ([t, known]) => (window as unknown as { RED: { nodes: { filterNodes(q: object): Array<{ id: string }> } } }).RED.nodes.filterNodes({ type: t }).map((n) => n.id).find((id) => !known.includes(id)),
      [type, before] as const,
      { timeout: 10_000 },
    ).then((h) => h.jsonValue() as Promise<string>);
  }

  async function openDialog(p: Page, id: string): Promise<void> {
    await p.locator(`g.red-ui-flow-node-group[id="${id}"] rect.red-ui-flow-node`).dblclick();
    await p.locator('.red-ui-tray #dialog-form').waitFor({ state: 'visible', timeout: 15_000 });
  }

  /** Clicks Deploy and returns the runtime's answer to the POST /flows it makes. */
  async function deploy(p: Page): Promise<import('playwright-core').Response> {
    const answer = p.waitForResponse((r) => new URL(r.url()).pathname === '/flows' && r.request().method() === 'POST', { timeout: 30_000 });
    await p.locator('#red-ui-header-button-deploy').click();
    return answer;
  }

  /** Removes every flow and config node in the editor and deploys that, so the next import starts from nothing. */
  async function clearAll(p: Page): Promise<void> {
    // A step that failed may have left a dialog open.
    if ((await p.locator('.red-ui-tray').count()) > 0) await cancelDialog(p);
    const left = await inPage<number>(p, 'let n = 0; RED.nodes.eachNode(() => { n++; }); RED.nodes.eachConfig(() => { n++; }); return n;');
    if (left === 0) return;
    await inPage<void>(p, `
      const ids = []; RED.nodes.eachNode((n) => ids.push(n.id)); RED.nodes.eachConfig((n) => ids.push(n.id));
      ids.forEach((id) => RED.nodes.remove(id));
      const tabs = []; RED.nodes.eachWorkspace((w) => tabs.push(w)); tabs.slice(1).forEach((w) => RED.workspaces.delete(w));
      RED.nodes.dirty(true); RED.view.redraw(true);`);
    assert.equal((await deploy(p)).status(), 200);
  }

  before(async () => {
    red = await startNodeRed({ env: { SITE_ID: 'site-x', MQTT_URL: `mqtt://127.0.0.1:${await freePort()}` } });
    browser = await launchBrowser();
    page = await openEditor(browser, red.url, pageErrors);
    console.log(`      screenshots: ${shots}`);
  });

  after(async () => {
    await browser?.close().catch(() => undefined);
    await red?.stop();
  });

  it('the palette shows the "tectonic" category with every node, its label and its own icon', () => step('palette', async (p) => {
    const header = p.locator('#red-ui-palette-header-tectonic');
    await header.waitFor({ state: 'visible', timeout: 10_000 });
    assert.equal(collapse(await header.innerText()).toLowerCase(), 'tectonic');
    const icons = new Set<string>();
    for (const type of REGULAR) {
      const entry = p.locator(`#red-ui-palette-container-tectonic .red-ui-palette-node[data-palette-type="${type}"]`);
      assert.equal(await entry.count(), 1, `${type} is not in the tectonic category`);
      assert.equal(collapse(await entry.innerText()), PALETTE_LABELS[type]);
      const icon = await entry.locator('.red-ui-palette-icon').evaluate((el) => getComputedStyle(el).backgroundImage);
      const url = /url\("?([^")]+)"?\)/.exec(icon)?.[1];
      assert.ok(url !== undefined && url.endsWith(`/${type}.svg`), `${type}'s palette icon is ${icon}`);
      const res = await p.request.get(url);
      assert.equal(res.status(), 200, `${url}`);
      assert.match(res.headers()['content-type'] ?? '', /svg/);
      icons.add(await res.text());
    }
    assert.equal(icons.size, REGULAR.length, 'two nodes share one icon');
    const labels = await inPage<string[]>(p, `return ${JSON.stringify(CONFIG)}.map((t) => { const d = RED.nodes.getType(t); return d.category + ':' + (typeof d.paletteLabel === 'function' ? d.paletteLabel() : d.paletteLabel); });`);
    assert.deepEqual(labels, ['config:tectonic bus', 'config:cdm catalog', 'config:tectonic policy']);
  }));

  it('each node dragged onto the workspace opens its dialog, in words, with its required fields flagged', () => step('dragged-nodes', async (p) => {
    let y = 80;
    for (const type of REGULAR) {
      const id = await dragIn(p, type, 300, y);
      y += 70;
      await openDialog(p, id);
      const tray = p.locator('.red-ui-tray').last();
      assert.doesNotMatch(await tray.innerText(), I18N_KEY, `${type}'s form shows untranslated labels`);
      assert.ok(await p.locator('#node-input-name').isVisible(), `${type}: no name field`);
      await p.screenshot({ path: join(shots, `dialog-${type}.png`) });
      await cancelDialog(p);
      const labels = await inPage<{ inputs: number; outputs: string[] }>(p, `const n = RED.nodes.node(${JSON.stringify(id)}); const d = n._def; const out = []; for (let i = 0; i < n.outputs; i++) out.push(typeof d.outputLabels === 'function' ? d.outputLabels.call(n, i) : (d.outputLabels || [])[i]); return { inputs: n.inputs || 0, outputs: out };`);
      for (const label of labels.outputs) assert.ok(typeof label === 'string' && label.length > 3 && !I18N_KEY.test(label), `${type}: output label ${String(label)}`);
    }
    // A new cdm-map has no rules and no entity yet: the editor flags it before any deploy.
    const flagged = await inPage<string[]>(p, `return RED.nodes.filterNodes({ type: 'cdm-map' }).filter((n) => n.valid === false).map((n) => n.type);`);
    assert.deepEqual(flagged, ['cdm-map']);
  }));

  it('the catalog picker lists a drafted catalog\'s entities and versions before any deploy', () => step('catalog-picker', async (p) => {
    const id = await inPage<string>(p, `return RED.nodes.filterNodes({ type: 'cdm-map' })[0].id;`);
    await openDialog(p, id);
    await p.locator('#node-input-btn-catalog-add').click();
    await p.locator('#node-config-input-source').waitFor({ state: 'visible', timeout: 10_000 });
    assert.equal(await p.locator('#node-config-input-source').inputValue(), 'bundled');
    await p.locator('#node-config-dialog-ok').click();
    await p.locator('#node-config-input-source').waitFor({ state: 'detached', timeout: 10_000 });
    await p.waitForFunction(() => document.querySelectorAll('#cdm-map-pick-entity option[value="shipment"]').length === 1, undefined, { timeout: 15_000 });
    assert.match(await p.locator('#cdm-map-pick-status').innerText(), /entities from the bundled sample catalog/);
    await p.locator('#cdm-map-pick-entity').selectOption('shipment');
    const versions = await p.locator('#cdm-map-pick-version option').allTextContents();
    assert.ok(versions.includes('1.0.0'), `shipment versions: ${versions.join(', ')}`);
    assert.equal(await p.locator('#node-input-entity').inputValue(), 'shipment');
    assert.equal(await p.locator('#node-input-version').inputValue(), versions[0]);
    await p.locator('#cdm-map-pick-version').selectOption('1.0.0');
    assert.equal(await p.locator('#node-input-version').inputValue(), '1.0.0');
    const deployed = await (await red!.api('/flows')).json() as unknown[];
    assert.deepEqual(deployed, [], 'the catalog was listed from the draft, not from a deployed flow');
  }));

  it('the mapping table adds, edits through the builder and reorders rules; Try it maps its own sample', () => step('mapping-table', async (p) => {
    const rows = p.locator('#node-input-cdm-map-rules > li');
    const add = p.locator('.red-ui-editableList', { has: p.locator('#node-input-cdm-map-rules') }).locator('.red-ui-editableList-addButton');
    async function addRule(to: string, from: string): Promise<ReturnType<Page['locator']>> {
      await add.click();
      const row = rows.nth((await rows.count()) - 1);
      await row.locator('.cdm-map-to').fill(to);
      await row.locator('.red-ui-typedInput-input-wrap input').fill(from);
      return row;
    }
    async function addTransform(row: ReturnType<Page['locator']>, type: string, fields: Record<string, string>): Promise<void> {
      await row.locator('.cdm-map-chain-add').click();
      const form = row.locator('.cdm-map-chain-form');
      await form.locator('.cdm-map-chain-type').selectOption(type);
      for (const [name, value] of Object.entries(fields)) {
        const input = form.locator(`[name="${name}"]`);
        if ((await input.evaluate((el) => el.tagName)) === 'SELECT') await input.selectOption(value);
        else await input.fill(value);
      }
      await form.locator('.cdm-map-chain-apply').click();
      await form.waitFor({ state: 'hidden', timeout: 5_000 });
    }
    const id = await addRule('shipmentId', 'shp_no');
    const weight = await addRule('weightKg', 'wt');
    await addTransform(weight, 'number', { decimal: ',' });
    await addTransform(weight, 'round', { decimals: '1' });
    const status = await addRule('status', 'stat');
    await addTransform(status, 'lookup', { table: 'DLV = delivered\nTRN = in_transit' });
    assert.deepEqual(await weight.locator('.cdm-map-chip-text').allTextContents(), ['number 12,5', 'round 1']);
    assert.deepEqual(await status.locator('.cdm-map-chip-text').allTextContents(), ['lookup DLV→delivered, TRN→in_transit']);
    assert.ok(await id.locator('.cdm-map-chain-none').isVisible());

    // Edit a chip: the round becomes 2 decimals, in place.
    await weight.locator('.cdm-map-chip').nth(1).click();
    await weight.locator('.cdm-map-chain-form [name="decimals"]').fill('2');
    await weight.locator('.cdm-map-chain-apply').click();
    assert.deepEqual(await weight.locator('.cdm-map-chip-text').allTextContents(), ['number 12,5', 'round 2']);
    // The expert's view is the same chain as JSON.
    await weight.locator('.cdm-map-chain-json').click();
    assert.deepEqual(JSON.parse(await weight.locator('.cdm-map-transforms').inputValue()), [{ number: { decimal: ',' } }, { round: 2 }]);
    await weight.locator('.cdm-map-chain-json').click();

    // Reorder: drag "status" by its handle above "shipmentId".
    await id.scrollIntoViewIfNeeded();
    const handle = await status.locator('.red-ui-editableList-item-handle').boundingBox();
    const first = await id.boundingBox();
    assert.ok(handle && first);
    await p.mouse.move(handle.x + handle.width / 2, handle.y + handle.height / 2);
    await p.mouse.down();
    await p.mouse.move(handle.x + handle.width / 2, handle.y - 5, { steps: 3 });
    await p.mouse.move(handle.x + handle.width / 2, first.y + 2, { steps: 15 });
    await p.mouse.up();
    await p.waitForFunction(() => Array.from(document.querySelectorAll<HTMLInputElement>('#node-input-cdm-map-rules .cdm-map-to')).map((i) => i.value).join() === 'status,shipmentId,weightKg', undefined, { timeout: 5_000 });

    // Try it: the sample from the rules' own source fields maps to a canonical record.
    await p.locator('#cdm-map-try-sample').click();
    assert.deepEqual(JSON.parse(await p.locator('#cdm-map-try-record').inputValue()), { stat: 'DLV', shp_no: 'shp_no-1', wt: '42,5' });
    await p.locator('#cdm-map-try').click();
    await p.waitForFunction(() => document.querySelector('#cdm-map-try-result')?.classList.contains('cdm-map-ok') === true, undefined, { timeout: 10_000 });
    assert.deepEqual(JSON.parse(await p.locator('#cdm-map-try-result').innerText()), { status: 'delivered', shipmentId: 'shp_no-1', weightKg: 42.5 });
    // An empty box says what to do, not a JSON parse error.
    await p.locator('#cdm-map-try-record').fill('');
    await p.locator('#cdm-map-try').click();
    await p.waitForFunction(() => (document.querySelector('#cdm-map-try-result')?.textContent ?? '').includes('Nothing to map'), undefined, { timeout: 5_000 });
    assert.doesNotMatch(await p.locator('#cdm-map-try-result').innerText(), /Unexpected|SyntaxError|not valid JSON/);
    await p.screenshot({ path: join(shots, 'mapping-table.png') });

    await p.locator('#node-dialog-ok').click();
    await p.locator('.red-ui-tray').first().waitFor({ state: 'detached', timeout: 10_000 });
    const saved = await inPage<{ rules: unknown; valid: boolean }>(p, `const n = RED.nodes.filterNodes({ type: 'cdm-map' })[0]; return { rules: n.rules, valid: n.valid };`);
    assert.deepEqual(saved.rules, [
      { to: 'status', from: 'stat', transforms: [{ lookup: { table: { DLV: 'delivered', TRN: 'in_transit' } } }] },
      { to: 'shipmentId', from: 'shp_no' },
      { to: 'weightKg', from: 'wt', transforms: [{ number: { decimal: ',' } }, { round: 2 }] },
    ]);
    assert.equal(saved.valid, true, 'the cdm-map is still flagged invalid with a target and rules');
  }));

  it('cdm-validate\'s picker lists the same catalog and fills its typed inputs', () => step('validate-picker', async (p) => {
    const ids = await inPage<{ validate: string; catalog: string }>(p, `return { validate: RED.nodes.filterNodes({ type: 'cdm-validate' })[0].id, catalog: RED.nodes.filterNodes({ type: 'cdm-map' })[0].catalog };`);
    await openDialog(p, ids.validate);
    await p.locator('select#node-input-catalog').selectOption(ids.catalog);
    await p.waitForFunction(() => document.querySelectorAll('#cdm-validate-pick-entity option[value="lab-result"]').length === 1, undefined, { timeout: 15_000 });
    await p.locator('#cdm-validate-pick-entity').selectOption('lab-result');
    assert.equal(await p.locator('#node-input-entity').inputValue(), 'lab-result');
    assert.equal(await p.locator('#node-input-entityType').inputValue(), 'str');
    assert.match(await p.locator('#node-input-version').inputValue(), /^\d+\.\d+\.\d+$/);
    await cancelDialog(p);
  }));

  it('the help sidebar shows each node\'s help in the Inputs / Outputs / Details form', () => step('help', async (p) => {
    for (const type of [...REGULAR, ...CONFIG]) {
      await inPage<void>(p, `RED.sidebar.help.show(${JSON.stringify(type)});`);
      const lead = helpLead(type);
      assert.ok(lead.length > 10, `${type} has no help paragraph`);
      const help = p.locator('.red-ui-help:visible').first();
      await p.waitForFunction((text) => Array.from(document.querySelectorAll<HTMLElement>('.red-ui-help'))
        .some((h) => h.offsetParent !== null && (h.textContent ?? '').replace(/\s+/g, ' ').includes(text)), lead, { timeout: 10_000 });
      const headings = (await help.locator('h3').allTextContents()).map(collapse);
      const expected = (CONFIG as readonly string[]).includes(type) ? ['Details'] : type === 'bus-subscribe' ? ['Outputs', 'Details'] : ['Inputs', 'Outputs', 'Details'];
      for (const h of expected) assert.ok(headings.includes(h), `${type}'s help has no "${h}" section: ${headings.join(', ')}`);
      assert.ok(headings.includes('Example'), `${type}'s help has no worked example: ${headings.join(', ')}`);
    }
  }));

  /** Import > Examples from the main menu, put down, deployed: the runtime's answer is checked, its log must show no error. */
  async function importExample(p: Page, example: string): Promise<void> {
    await clearAll(p);
    await p.locator('#red-ui-header-button-sidemenu').click();
    await p.locator('#menu-item-import').click();
    const dialog = p.locator('#red-ui-clipboard-dialog');
    await dialog.waitFor({ state: 'visible', timeout: 10_000 });
    await dialog.locator('.red-ui-tab', { hasText: 'Examples' }).click();
    const tree = dialog.locator('#red-ui-clipboard-dialog-import-tab-examples');
    await tree.locator('.red-ui-treeList-label', { hasText: '@tectonic/node-red-hybrid' }).first().click();
    await tree.locator('.red-ui-treeList-label', { hasText: example.replace(/\.json$/, '') }).first().click();
    await p.locator('#red-ui-clipboard-dialog-ok').click();
    await dialog.waitFor({ state: 'hidden', timeout: 10_000 });
    // The imported nodes follow the mouse until a click puts them down.
    const chart = await p.locator('#red-ui-workspace-chart').boundingBox();
    assert.ok(chart);
    await p.mouse.move(chart.x + 200, chart.y + 200, { steps: 2 });
    await p.mouse.move(chart.x + 40, chart.y + 40, { steps: 4 });
    await p.mouse.click(chart.x + 40, chart.y + 40);
    // Where an example's nodes meet ones already in the workspace, the editor asks; this suite keeps one copy.
    const conflict = p.locator('#red-ui-clipboard-dialog-import-conflict:visible');
    assert.equal(await conflict.count(), 0, 'the import asked about conflicting nodes');
    const shipped = (JSON.parse(readFileSync(join(repoRoot, 'examples', example), 'utf8')) as Array<{ type: string }>).filter((n) => n.type !== 'tab').length;
    const imported = await inPage<number>(p, 'let n = 0; RED.nodes.eachNode(() => { n++; }); RED.nodes.eachConfig(() => { n++; }); return n;');
    assert.equal(imported, shipped, `${example}: ${shipped} nodes in the file, ${imported} in the editor`);
    // The examples' embedded broker binds 1883, which another test on this machine may hold.
    await inPage<void>(p, `RED.nodes.eachConfig((n) => { if (n.type === 'tectonic-bus' && n.mode === 'embedded') { n.port = '${await freePort()}'; n.changed = true; } });`);
    const invalid = await inPage<string[]>(p, 'const bad = []; RED.nodes.eachNode((n) => { if (n.valid === false) bad.push(n.type + " " + n.id); }); return bad;');
    assert.deepEqual(invalid, [], 'nodes the editor marks invalid after the import');
    assert.deepEqual(await p.evaluate<string[]>(LAYOUT_PROBLEMS), [], `${example}: its layout at 1,600 px`);
    const logFrom = red!.logs().length;
    const answer = await deploy(p);
    assert.equal(answer.status(), 200, `deploying ${example}: ${await answer.text()}`);
    await red!.waitForLog(/Started (modified )?flows/, 20_000, logFrom);
    const errors = red!.logs().slice(logFrom).split('\n').filter((l) => l.includes('[error]'));
    assert.deepEqual(errors, [], `errors logged deploying ${example}`);
  }

  for (const example of EXAMPLES) {
    it(`Import > Examples: "${example}" imports from the menu and deploys`, () => step(`example-${example.replace(/\W+/g, '-')}`, (p) => importExample(p, example)));
  }

  it('a deployed cdm-map opens on its first rule, and Try it starts with the last record it received', () => step('last-record', async (p) => {
    await importExample(p, '05 Map local records.json');
    const ids = await inPage<{ map: string; inject: string; payload: string }>(p, `
      const map = RED.nodes.filterNodes({ type: 'cdm-map' })[0];
      const inject = RED.nodes.filterNodes({ type: 'inject' }).find((n) => n.name === 'warehouse record');
      return { map: map.id, inject: inject.id, payload: inject.props.find((q) => q.p === 'payload').v };`);
    await p.locator(`g.red-ui-flow-node-group[id="${ids.inject}"] .red-ui-flow-node-button`).click();
    await p.waitForFunction(async (id) => Object.keys((await (await fetch(`tectonic/map/${id}/last-record`)).json()) as object).length > 0, ids.map, { timeout: 10_000, polling: 200 });
    await openDialog(p, ids.map);
    await p.waitForFunction(() => (document.querySelector('#cdm-map-try-origin')?.textContent ?? '').includes('last record'), undefined, { timeout: 10_000 });
    assert.deepEqual(JSON.parse(await p.locator('#cdm-map-try-record').inputValue()), JSON.parse(ids.payload));
    // The first rule is in view, not scrolled past.
    const list = await p.locator('.red-ui-editableList-container', { has: p.locator('#node-input-cdm-map-rules') }).boundingBox();
    const first = await p.locator('#node-input-cdm-map-rules > li').first().boundingBox();
    assert.ok(list && first);
    assert.ok(first.y >= list.y - 1 && first.y + first.height <= list.y + list.height + 1, `the first rule (y ${first.y}) is outside the table (y ${list.y} to ${list.y + list.height})`);
    assert.equal(await p.locator('#node-input-cdm-map-rules > li').first().locator('.cdm-map-to').inputValue(), 'shipmentId');
    await p.locator('#cdm-map-try').click();
    await p.waitForFunction(() => document.querySelector('#cdm-map-try-result')?.classList.contains('cdm-map-ok') === true, undefined, { timeout: 10_000 });
    assert.equal((JSON.parse(await p.locator('#cdm-map-try-result').innerText()) as { shipmentId: string }).shipmentId, 'SHP-1001');
    await cancelDialog(p);
  }));

  it('the editor ran without script errors', () => {
    assert.deepEqual(pageErrors, []);
  });
});
