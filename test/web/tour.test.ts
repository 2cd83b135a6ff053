/**
 * A tour of every view on a small realistic mesh, screenshotted. In CI the
 * screenshots are artifacts (test-artifacts/web/tour-*.png); with
 * HM_DOCS_SCREENSHOTS=1 they are written to docs/ for the README:
 *
 *   HM_DOCS_SCREENSHOTS=1 npx vitest run test/web/tour.test.ts
 *
 * Alerts, the SLO and the check's rollups and transitions come from
 * stand-ins of the routes being built (helpers/future-api.ts), in the
 * shapes web/src/api.ts assumes.
 */
import { mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Daemon } from '../../src/daemon.js';
import { ARTIFACTS, FUTURE_ROUTES, missingRoute, openBrowser, unexpectedConsoleErrors, type RecordingBrowser } from './helpers/browser.js';
import { runDaemon, tempDir, until } from './helpers/daemon.js';
import { standInFutureRoutes, standInHistoryRoutes } from './helpers/future-api.js';

const TOKEN = 'tour-token-0123456789abcdef';
const DOCS = process.env.HM_DOCS_SCREENSHOTS === '1';
const OUT = DOCS ? resolve(import.meta.dirname, '../../docs/screenshots') : ARTIFACTS;

function yaml(db: string, up: number, down: number): string {
  const svc = (
    name: string,
    n: number,
    opts: { deps?: string[]; zone?: (i: number) => string; tags?: string[]; addr?: (i: number) => number; critical?: boolean; extra?: string } = {},
  ) =>
    `  ${name}:\n` +
    (opts.extra ?? '') +
    (opts.deps ? `    depends_on: [${opts.deps.join(', ')}]\n` : '') +
    (opts.critical === false ? '    critical: false\n' : '') +
    `    instances:\n` +
    Array.from(
      { length: n },
      (_, i) =>
        `      - { id: ${name}-${i + 1}, address: "127.0.0.1:${(opts.addr ?? (() => up))(i)}", zone: ${(opts.zone ?? ((j) => `eu-${(j % 2) + 1}`))(i)}, tags: [${(opts.tags ?? []).join(', ')}] }\n`,
    ).join('') +
    `    checks: [{ kind: tcp, name: port }]\n`;
  return (
    `server: { token: ${TOKEN} }\n` +
    `storage: { path: "${db}", flush_interval: 200ms }\n` +
    `defaults: { interval: 500ms, timeout: 500ms, rise: 1, fall: 2 }\n` +
    `status_pages:\n  public: { title: "Example Shop status", description: "Storefront, checkout and search.", services: [web, checkout, search] }\n` +
    `services:\n` +
    svc('web', 4, { deps: ['checkout', 'search', 'auth'], tags: ['frontend'] }) +
    svc('checkout', 3, { deps: ['payments', 'orders'], tags: ['core'] }) +
    // Kept ejected while its port check passes, so the screenshot shows the balancer's explanation.
    svc('payments', 3, {
      deps: ['postgres'],
      tags: ['core', 'pci'],
      addr: (i) => (i === 2 ? down : up),
      extra: '    balancer: { outlier: { uneject_on_active_healthy: false, max_ejection_percent: 50 } }\n',
    }) +
    svc('orders', 2, { deps: ['postgres', 'kafka'], tags: ['core'], addr: () => down }) +
    svc('search', 3, { deps: ['catalog'], tags: ['frontend'] }) +
    svc('catalog', 2, { deps: ['postgres'] }) +
    svc('auth', 2, { deps: ['redis'], tags: ['core'] }) +
    svc('inventory', 2, { deps: ['postgres'] }) +
    svc('recommendations', 2, { deps: ['catalog'], critical: false, tags: ['ml'] }) +
    svc('postgres', 2, { tags: ['data'], zone: () => 'eu-1' }) +
    svc('redis', 1, { tags: ['data'] }) +
    svc('kafka', 3, { tags: ['data'] })
  );
}

describe('a tour of the dashboard', () => {
  let up: Server;
  let daemon: Daemon;
  let base: string;
  let browser: RecordingBrowser;
  const shot = async (b: RecordingBrowser, name: string): Promise<void> => {
    mkdirSync(OUT, { recursive: true });
    await b.page.screenshot({ path: join(OUT, `${DOCS ? '' : 'tour-'}${name}.png`), fullPage: true });
  };

  beforeAll(async () => {
    up = createServer((s) => s.end());
    await new Promise<void>((r) => up.listen(0, '127.0.0.1', r));
    const down = createServer();
    await new Promise<void>((r) => down.listen(0, '127.0.0.1', r));
    const downPort = (down.address() as { port: number }).port;
    await new Promise<void>((r) => down.close(() => r()));
    ({ daemon, base } = await runDaemon(yaml(join(tempDir(), 'hm.db'), (up.address() as { port: number }).port, downPort)));
    await until(() => daemon.rollup.service('orders') === 'UNHEALTHY' && daemon.rollup.service('web') === 'HEALTHY', 20_000, 'the mesh to settle');
    // Real traffic reported by a client: payments-2 fails five times in a row and is ejected.
    const reports = Array.from({ length: 6 }, () => ({ instance: 'payments-2', ok: false, latency_ms: 1200, status: 503 }));
    const res = await fetch(`${base}/api/v1/services/payments/balancer/reports`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify({ reports }),
    });
    expect(res.status).toBe(202);
    browser = await openBrowser();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await daemon?.stop();
    up?.close();
  });

  it('mesh, service, check, alerts, status page and the dark theme', async () => {
    const { page } = browser;
    await standInHistoryRoutes(page);
    await standInFutureRoutes(page, TOKEN);

    await page.goto(`${base}/`);
    await page.locator('tr[data-service="orders"][data-status="UNHEALTHY"]').waitFor();
    await page.locator('tr[data-service="checkout"][data-status="DEGRADED"]').waitFor();
    await shot(browser, 'mesh');

    await page.goto(`${base}/#/service/payments`);
    await page.locator('tr[data-instance="payments-3"][data-status="UNHEALTHY"]').waitFor();
    await page.locator('.explain', { hasText: 'ejected' }).waitFor({ timeout: 10_000 });
    await page.locator('meter').waitFor();
    await shot(browser, 'service');

    await page.goto(`${base}/#/check/payments/payments-1/port?range=1h`);
    await page.locator('.chart-box canvas').waitFor();
    await page.locator('table.results tbody tr').first().waitFor();
    await shot(browser, 'check');

    await page.goto(`${base}/#/alerts`);
    await page.locator('li[data-alert="a-1"]').waitFor();
    await page.click('li[data-alert="a-1"] button[aria-controls]');
    await page.locator('.alert-timeline li').first().waitFor();
    await shot(browser, 'alerts');

    await page.goto(`${base}/status/public`);
    await page.locator('li[data-service="checkout"]').waitFor();
    expect(await page.locator('body').textContent()).not.toContain('orders');
    await shot(browser, 'status-page');

    expect(browser.pageErrors).toEqual([]);
    expect(unexpectedConsoleErrors(browser.console, missingRoute(FUTURE_ROUTES))).toEqual([]);

    const dark = await openBrowser({ colorScheme: 'dark' });
    try {
      await dark.page.goto(`${base}/#/service/checkout`);
      await dark.page.locator('tr[data-instance="checkout-1"]').waitFor();
      await dark.page.locator('.dep-graph').waitFor();
      await shot(dark, 'dark-service');
      await dark.page.goto(`${base}/`);
      await dark.page.locator('tr[data-service="orders"]').waitFor();
      await shot(dark, 'dark-mesh');
    } finally {
      await dark.close();
    }
  }, 120_000);
});
