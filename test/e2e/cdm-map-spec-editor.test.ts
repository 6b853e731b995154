// cdm-map's Spec row in the editor, in a real headless Chromium (Debian's,
// driven by playwright-core): examples 09-11 are drawn with every node known
// and valid; a cdm-map on its own rules shows its table, and choosing a file
// hides the table and shows the path field; a cdm-map whose spec comes from a
// file is valid with an empty table and opens with the table hidden.
import { after, before, describe, it } from 'mocha';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { type FlowNode, type NodeRedProcess, freePort, repoRoot, startNodeRed } from '../support/node-red-process';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const EXAMPLES = ['09 Masking personal data.json', '10 Dead-letter replay.json', '11 Edge aggregation.json'];

describe('cdm-map spec source in the editor, in a headless browser', function () {
  this.timeout(120_000);
  let nodeRed: NodeRedProcess;
  let browser: Browser | undefined;
  let page: Page;
  const pageErrors: string[] = [];

  before(async () => {
    assert.ok(existsSync(CHROMIUM), `Chromium is not installed at ${CHROMIUM}: install Debian's chromium or set CHROMIUM_PATH; this test does not skip`);
    const byId = new Map<string, FlowNode>();
    for (const file of EXAMPLES) for (const n of JSON.parse(readFileSync(join(repoRoot, 'examples', file), 'utf8')) as FlowNode[]) byId.set(n.id, n);
    const fromFile: FlowNode = {
      id: 'spec-from-file', type: 'cdm-map', z: 'example-masking', name: 'spec from a file', catalog: '', specSource: 'file', specFrom: 'TECTONIC_MAPPING_SPEC', specFromType: 'env',
      specRefresh: '', entity: '', version: '', site: 'site-a', siteType: 'str', source: '', idFrom: '', rules: [], x: 800, y: 460, wires: [[], []],
    };
    byId.set(fromFile.id, fromFile);
    nodeRed = await startNodeRed({ flows: [...byId.values()], env: { TECTONIC_BUS_PORT: String(await freePort()), TECTONIC_MAPPING_SPEC: join(repoRoot, 'test', 'fixtures', 'no-such-spec.json') } });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
    page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
    page.on('pageerror', (err) => pageErrors.push(err.message));
    await page.goto(nodeRed.url, { waitUntil: 'domcontentloaded' });
    await page.waitForFunction('typeof RED !== "undefined" && RED.nodes && RED.nodes.node("ex09-map") !== null', undefined, { timeout: 30_000 });
  });

  after(async () => {
    await browser?.close().catch(() => undefined);
    await nodeRed?.stop();
  });

  it('draws examples 09 to 11 with every node known and valid', async () => {
    assert.equal(await page.locator('.red-ui-flow-node-unknown').count(), 0);
    const invalid = await page.evaluate<string[]>(`(() => {
      const found = [];
      const check = (n) => { if (n.valid === false) found.push(n.type + ' ' + n.id + ' (' + (n.validationErrors || []).join(', ') + ')'); };
      RED.nodes.eachNode(check);
      RED.nodes.eachConfig(check);
      return found;
    })()`);
    assert.deepEqual(invalid, []);
    assert.deepEqual(pageErrors, []);
  });

  it('the Spec row: the rules show the table, a file hides it and shows the path', async () => {
    await page.locator('g.red-ui-flow-node-group[id="ex09-map"] rect.red-ui-flow-node').dblclick();
    const kind = page.locator('#node-input-specSource');
    await kind.waitFor({ state: 'visible', timeout: 10_000 });
    assert.equal(await kind.inputValue(), 'rules');
    assert.ok(await page.locator('.node-input-rules-row').isVisible(), 'the table shows for the node\'s rules');
    assert.ok(!(await page.locator('.cdm-map-spec-where').isVisible()), 'no path field for the node\'s rules');
    await kind.selectOption('file');
    assert.ok(!(await page.locator('.node-input-rules-row').isVisible()), 'the table is hidden for a file');
    assert.ok(await page.locator('.cdm-map-spec-where').isVisible(), 'the path field shows for a file');
    await page.locator('#node-dialog-cancel').click();

    await page.locator('#node-dialog-cancel').waitFor({ state: 'detached', timeout: 10_000 });
    await page.locator('g.red-ui-flow-node-group[id="spec-from-file"] rect.red-ui-flow-node').dblclick();
    await kind.waitFor({ state: 'visible', timeout: 10_000 });
    assert.equal(await kind.inputValue(), 'file');
    assert.equal(await page.locator('#node-input-specFrom').inputValue(), 'TECTONIC_MAPPING_SPEC');
    assert.ok(!(await page.locator('.node-input-rules-row').isVisible()));
    await page.locator('#node-dialog-cancel').click();
    assert.deepEqual(pageErrors, []);
  });
});
