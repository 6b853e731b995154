// Debian's Chromium driven by playwright-core, for the editor tests: kept off
// the network, one browser per test file, screenshots kept in a folder the
// test prints.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { repoRoot } from './node-red-process';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
// The sandbox has no network: without these Chromium tries to reach its
// services, and its connections (even to loopback) can be refused.
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** Where the editor tests keep their screenshots (git-ignored), emptied for this run; TECTONIC_EDITOR_ARTIFACTS overrides it. */
export function artifactDir(suite: string): string {
  const dir = join(process.env.TECTONIC_EDITOR_ARTIFACTS ?? join(repoRoot, 'test-artifacts', 'editor'), suite);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  return dir;
}

export async function launchBrowser(): Promise<Browser> {
  assert.ok(existsSync(CHROMIUM), `Chromium is not installed at ${CHROMIUM}: install Debian's chromium (apt-get install chromium) or set CHROMIUM_PATH; this test does not skip`);
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
}

/** Opens the editor at 1,600 × 1,000 and waits until it has drawn the pack's palette. */
export async function openEditor(browser: Browser, url: string, errors: string[]): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
  page.on('pageerror', (err) => errors.push(err.message));
  // Only the editor's own server: anything else would be the network.
  await page.route((u) => !u.href.startsWith(url), (route) => route.abort());
  await page.goto(`${url}/`, { waitUntil: 'domcontentloaded' });
  await page.locator('.red-ui-palette-node[data-palette-type="bus-publish"]').waitFor({ state: 'attached', timeout: 60_000 });
  return page;
}

/** Untranslated labels show as their keys ("bus-publish.label.qos"). */
export const I18N_KEY = /\b(?:tectonic-bus|tectonic-policy|bus-publish|bus-subscribe|cdm-map|cdm-validate|cdm-catalog|policy-gate)\.[A-Za-z]+\.[A-Za-z]+/;

export const collapse = (text: string): string => text.replace(/\s+/g, ' ').trim();

/**
 * What a person at 1,600 px cannot read on the active flow tab: two nodes
 * (or a node and another node's status text) drawn over each other, and a
 * node or status past the right or bottom edge of the workspace. Run in the
 * page; a string, so the TypeScript loader adds no helpers to it.
 */
export const LAYOUT_PROBLEMS = `(() => {
  const chart = document.querySelector('#red-ui-workspace-chart').getBoundingClientRect();
  const right = chart.left + document.querySelector('#red-ui-workspace-chart').clientWidth;
  const bottom = chart.top + document.querySelector('#red-ui-workspace-chart').clientHeight;
  const boxes = [];
  for (const g of document.querySelectorAll('#red-ui-workspace-chart g.red-ui-flow-node-group')) {
    const rect = g.querySelector('rect.red-ui-flow-node');
    if (!rect) continue;
    const name = (g.querySelector('.red-ui-flow-node-label')?.textContent || g.id).trim();
    boxes.push({ owner: g.id, what: 'node "' + name + '"', r: rect.getBoundingClientRect() });
    const status = g.querySelector('.red-ui-flow-node-status-group');
    const text = status?.querySelector('.red-ui-flow-node-status-label')?.textContent || '';
    if (status && text.trim() !== '' && getComputedStyle(status).display !== 'none') boxes.push({ owner: g.id, what: 'status "' + text.trim() + '" of "' + name + '"', r: status.getBoundingClientRect() });
  }
  const problems = [];
  const meet = (a, b) => a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1 && b.top < a.bottom - 1;
  for (let i = 0; i < boxes.length; i++) {
    const a = boxes[i];
    if (a.r.right > right + 1 || a.r.bottom > bottom + 1) problems.push(a.what + ' is off screen (right ' + Math.round(a.r.right) + ' of ' + Math.round(right) + ')');
    for (let j = i + 1; j < boxes.length; j++) {
      const b = boxes[j];
      if (a.owner !== b.owner && meet(a.r, b.r)) problems.push(a.what + ' overlaps ' + b.what);
    }
  }
  return problems;
})()`;
