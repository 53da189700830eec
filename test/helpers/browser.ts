import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import type { Test } from 'tap';
import { ROOT } from './system.js';

/** Debian's Chromium (.ci/run installs it with apt), driven by playwright-core. */
const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = join(ROOT, 'test-artifacts');

/** Skipped without Chromium on a developer's machine; under CI (which installs it) a missing browser fails. */
export const skipWithoutChromium: string | false = existsSync(CHROMIUM) || process.env.CI ? false : `no ${CHROMIUM}: apt-get install chromium`;

/**
 * A headless Chromium closed when the test ends, one context and page, and the page's script
 * errors. `ignoreHTTPSErrors` for pages served with the tests' throwaway certificate.
 */
export async function launchChromium(t: Test, viewport: { width: number; height: number }, { ignoreHTTPSErrors = false } = {}): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  t.teardown(() => browser.close());
  const context = await browser.newContext({ viewport, ignoreHTTPSErrors });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  return { context, page, errors };
}

/** Keeps a screenshot of the whole page in test-artifacts/. */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, name), fullPage: true });
}
