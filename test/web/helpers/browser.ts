import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { BrowserContext, ConsoleMessage, Page, Request } from 'playwright-core';
import { launchChromium } from '../../../bench/lib/chromium.js';

/** Where screenshots go (git-ignored; kept as CI artifacts). */
export const ARTIFACTS = resolve(import.meta.dirname, '../../../test-artifacts/web');

/** A headless Chromium with a fresh profile that records every request, console message and page error. */
export interface RecordingBrowser {
  context: BrowserContext;
  page: Page;
  requests: Request[];
  console: ConsoleMessage[];
  pageErrors: Error[];
  screenshot(name: string): Promise<string>;
  close(): Promise<void>;
}

export async function openBrowser(options: { colorScheme?: 'light' | 'dark'; viewport?: { width: number; height: number } } = {}): Promise<RecordingBrowser> {
  const { context, close } = await launchChromium(options);
  const page = context.pages()[0] ?? (await context.newPage());
  const requests: Request[] = [];
  const consoleMessages: ConsoleMessage[] = [];
  const pageErrors: Error[] = [];
  context.on('request', (r) => requests.push(r));
  context.on('console', (m) => consoleMessages.push(m));
  page.on('pageerror', (e) => pageErrors.push(e));
  mkdirSync(ARTIFACTS, { recursive: true });
  return {
    context,
    page,
    requests,
    console: consoleMessages,
    pageErrors,
    async screenshot(name) {
      const path = join(ARTIFACTS, `${name}.png`);
      await page.screenshot({ path, fullPage: true });
      return path;
    },
    close,
  };
}

/** A console message the test expects (and says why). */
export type Expected = (m: ConsoleMessage, index: number) => boolean;

/**
 * Chromium logs "Failed to load resource" for every failed fetch: a 404 the
 * test expects (a route the daemon genuinely lacks in its config, or an item
 * the test removed) is passed with the paths it may come from.
 */
export const missingRoute =
  (routes: RegExp[]): Expected =>
  (m) =>
    m.text().includes('status of 404') && routes.some((re) => re.test(new URL(m.location().url).pathname));

/** Console errors and warnings not expected by any of `expected`. */
export function unexpectedConsoleErrors(messages: ConsoleMessage[], ...expected: Expected[]): string[] {
  return messages
    .map((m, i) => [m, i] as const)
    .filter(([m]) => m.type() === 'error' || m.type() === 'warning')
    .filter(([m, i]) => !expected.some((e) => e(m, i)))
    .map(([m]) => `${m.type()}: ${m.text()} (${m.location().url})`);
}

/** Requests to anywhere but `origin` (the daemon). */
export function foreignRequests(requests: Request[], origin: string): string[] {
  return requests.map((r) => r.url()).filter((u) => new URL(u).origin !== origin);
}
