// The registry nodes in the editor, in a real headless Chromium (Debian's,
// driven by playwright-core): example 07 is drawn with every node known and
// valid, the registry-lookup form offers the four strategies with their
// labels, the registry-announce form shows its typed inputs as the example
// set them, and both helps show.
import { after, before, describe, it } from 'mocha';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { type FlowNode, type NodeRedProcess, freePort, repoRoot, startNodeRed } from '../support/node-red-process';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const I18N_KEY = /\bregistry-(?:announce|lookup)\.[A-Za-z]+\.[A-Za-z]+/;

describe('registry nodes in the editor, in a headless browser', function () {
  this.timeout(120_000);
  let nodeRed: NodeRedProcess;
  let browser: Browser | undefined;
  let page: Page;
  const pageErrors: string[] = [];

  before(async () => {
    assert.ok(existsSync(CHROMIUM), `Chromium is not installed at ${CHROMIUM}: install Debian's chromium or set CHROMIUM_PATH; this test does not skip`);
    const flows = JSON.parse(readFileSync(join(repoRoot, 'examples', '07 Registry failover.json'), 'utf8')) as FlowNode[];
    nodeRed = await startNodeRed({ flows, env: { TECTONIC_BUS_PORT: String(await freePort()) } });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
    page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
    page.on('pageerror', (err) => pageErrors.push(err.message));
    await page.goto(nodeRed.url, { waitUntil: 'domcontentloaded' });
    await page.locator('g.red-ui-flow-node-group[id="ex07-lookup"]').waitFor({ state: 'visible', timeout: 30_000 });
  });

  after(async () => {
    await browser?.close().catch(() => undefined);
    await nodeRed?.stop();
  });

  it('draws example 07 with every node known and valid, and both nodes in the palette', async () => {
    assert.equal(await page.locator('.red-ui-flow-node-unknown').count(), 0);
    const invalid = await page.evaluate<string[]>(`(() => {
      const found = [];
      const check = (n) => { if (n.valid === false) found.push(n.type + ' ' + n.id + ' (' + (n.validationErrors || []).join(', ') + ')'); };
      RED.nodes.eachNode(check);
      RED.nodes.eachConfig(check);
      return found;
    })()`);
    assert.deepEqual(invalid, []);
    for (const type of ['registry-announce', 'registry-lookup']) {
      assert.equal(await page.locator(`#red-ui-palette-container-tectonic .red-ui-palette-node[data-palette-type="${type}"]`).count(), 1, `${type} in the palette`);
    }
    assert.deepEqual(pageErrors, []);
  });

  it('the registry-lookup form offers the strategies and shows its help', async () => {
    await page.locator('g.red-ui-flow-node-group[id="ex07-lookup"] rect.red-ui-flow-node').dblclick();
    const strategy = page.locator('#node-input-strategy');
    await strategy.waitFor({ state: 'visible', timeout: 10_000 });
    assert.equal(await strategy.inputValue(), 'failover');
    assert.deepEqual(await strategy.locator('option').evaluateAll((options) => options.map((o) => (o as HTMLOptionElement).value)), ['failover', 'round-robin', 'same-site', 'same-region']);
    assert.equal(await page.locator('#node-input-retry').isChecked(), true);
    const tray = page.locator('.red-ui-tray').last();
    assert.doesNotMatch(await tray.innerText(), I18N_KEY, 'untranslated labels');
    await tray.locator('.red-ui-tray-footer button:has(i.fa-book)').click();
    await page.waitForFunction(() => Array.from(document.querySelectorAll<HTMLElement>('.red-ui-help'))
      .some((help) => help.offsetParent !== null && (help.textContent ?? '').includes('Resolves a service name to one healthy endpoint')), undefined, { timeout: 10_000 });
    await page.locator('#node-dialog-cancel').click();
    await page.locator('.red-ui-tray').first().waitFor({ state: 'detached', timeout: 10_000 });
  });

  it('the registry-announce form shows the example\'s typed inputs', async () => {
    await page.locator('g.red-ui-flow-node-group[id="ex07-announce-primary"] rect.red-ui-flow-node').dblclick();
    await page.locator('#node-input-serviceType').waitFor({ state: 'attached', timeout: 10_000 });
    await page.locator('.red-ui-tray').last().locator('.red-ui-typedInput-container').first().waitFor({ state: 'visible', timeout: 10_000 });
    const values = await page.evaluate<Record<string, string>>(`(() => {
      const v = (id) => $('#node-input-' + id).typedInput('value') + ':' + $('#node-input-' + id).typedInput('type');
      return { service: v('service'), url: v('url'), weight: v('weight'), healthUrl: v('healthUrl'), metadata: v('metadata') };
    })()`);
    assert.deepEqual(values, { service: 'pricing:str', url: 'PRIMARY_URL:env', weight: '100:num', healthUrl: 'PRIMARY_HEALTH:env', metadata: '{"currency":"EUR"}:json' });
    assert.doesNotMatch(await page.locator('.red-ui-tray').last().innerText(), I18N_KEY, 'untranslated labels');
    await page.locator('#node-dialog-cancel').click();
    assert.deepEqual(pageErrors, []);
  });
});
