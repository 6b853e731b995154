// Debian's Chromium driven by playwright-core, for the editor tests: kept off
// the network, one browser per test file, screenshots kept in a folder the
// test prints.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { repoRoot } from './node-red-process';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
// The sandbox has no network: without these Chromium tries to reach its
// services, and its connections (even to loopback) can be refused.
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** Where the editor tests keep their screenshots (git-ignored); TECTONIC_EDITOR_ARTIFACTS overrides it. */
export function artifactDir(suite: string): string {
  const dir = join(process.env.TECTONIC_EDITOR_ARTIFACTS ?? join(repoRoot, 'test-artifacts', 'editor'), suite);
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
