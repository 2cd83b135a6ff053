import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Daemon } from '../../src/daemon.js';
import type { Locator } from 'playwright-core';
import {
  ARTIFACTS,
  FUTURE_ROUTES,
  foreignRequests,
  missingRoute,
  openBrowser,
  unexpectedConsoleErrors,
  type Expected,
  type RecordingBrowser,
} from './helpers/browser.js';
import { runDaemon, tempDir } from './helpers/daemon.js';
import { standInFutureRoutes, standInHistoryRoutes } from './helpers/future-api.js';

const TOKEN = 'dashboard-e2e-token-0123456789';

/** A TCP target the test starts and stops (the api service's checks connect to it). */
async function tcpTarget(port = 0): Promise<Server> {
  const server = createServer((s) => s.end());
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return server;
}

function config(dbPath: string, tcpPort: number, httpPort: number): string {
  return `
server: { token: ${TOKEN} }
storage: { path: "${dbPath}", flush_interval: 200ms }
defaults: { interval: 250ms, timeout: 500ms, rise: 1, fall: 1 }
services:
  api:
    instances:
      - { id: a1, address: "127.0.0.1:${tcpPort}", zone: z1, tags: [core] }
      - { id: a2, address: "127.0.0.1:${tcpPort}", zone: z2, tags: [core] }
    checks: [{ kind: tcp, name: port }]
  web:
    depends_on: [api]
    instances: [{ id: w1, address: "127.0.0.1:${httpPort}", zone: z1 }]
    checks: [{ kind: http, name: health, path: /health }]
`;
}

const port = (s: Server | HttpServer): number => (s.address() as { port: number }).port;
/** Visible text of the first match, once it exists. */
async function text(locator: Locator): Promise<string> {
  await locator.first().waitFor();
  return ((await locator.first().textContent()) ?? '').trim();
}

describe('the dashboard against the real daemon, in headless Chromium', () => {
  let tcp: Server;
  let http: HttpServer;
  let daemon: Daemon;
  let base: string;
  let browser: RecordingBrowser;
  const dir = tempDir();
  let yaml: string;
  let tcpPort: number;

  beforeAll(async () => {
    tcp = await tcpTarget();
    http = createHttpServer((_req, res) => res.end('ok'));
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    tcpPort = port(tcp);
    yaml = config(join(dir, 'hm.db'), tcpPort, port(http));
    ({ daemon, base } = await runDaemon(yaml));
    browser = await openBrowser();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await daemon?.stop();
    tcp?.close();
    http?.close();
  });

  it('shows the mesh, turns a service red over SSE without a reload, follows it into its views, and recovers after a daemon restart', async () => {
    const { page } = browser;
    await page.goto(`${base}/`);
    await page.locator('tr[data-service="api"][data-status="HEALTHY"]').waitFor({ timeout: 15_000 });
    await page.locator('tr[data-service="web"][data-status="HEALTHY"]').waitFor({ timeout: 15_000 });
    await page.locator('body[data-live="live"]').waitFor();
    // A marker that a reload would wipe.
    await page.evaluate(() => ((window as unknown as { marker: number }).marker = 42));
    await browser.screenshot('mesh-healthy');

    // Stop the target: the daemon sees it, the page hears it over SSE.
    await new Promise<void>((r) => tcp.close(() => r()));
    const row = page.locator('tr[data-service="api"]');
    await page.locator('tr[data-service="api"][data-status="UNHEALTHY"]').waitFor({ timeout: 10_000 });
    expect(await text(row.locator('.st'))).toBe('Unhealthy');
    // Its dependent is capped at DEGRADED, and says why.
    await page.locator('tr[data-service="web"][data-status="DEGRADED"]').waitFor({ timeout: 10_000 });
    expect(await text(page.locator('tr[data-service="web"] .note'))).toBe('dependency api is UNHEALTHY');
    // Worst first: api is the first row now.
    expect(await page.locator('tbody tr').first().getAttribute('data-service')).toBe('api');
    expect(await page.evaluate(() => (window as unknown as { marker?: number }).marker)).toBe(42);
    const summaries = browser.requests.filter((r) => new URL(r.url()).pathname === '/api/v1/web/summary');
    expect(summaries).toHaveLength(1); // no reload, no polling: one read, then the stream
    await browser.screenshot('mesh-red');

    // Into the service: instances red, the balancer's view of each, the dependency graph.
    await page.click('a[href="#/service/api"]');
    await page.locator('tr[data-instance="a1"][data-status="UNHEALTHY"]').waitFor();
    expect(await text(page.locator('h1'))).toContain('api');
    await page.locator('.dep-graph a[aria-label="web: Degraded"]').waitFor();
    await page.getByText('No SLO: no slo: in services.api of the config').waitFor(); // the analysis: no slo: in this config
    await browser.screenshot('service');

    // Instance → check: recent results carry the reason and output.
    await page.click('a[href="#/instance/api/a1"]');
    await page.locator('tr[data-check="api/a1/port"]').waitFor();
    await page.click('a[href="#/check/api/a1/port"]');
    await page.locator('table.results td code', { hasText: 'connect_refused' }).first().waitFor({ timeout: 10_000 });
    expect(await text(page.locator('table.results .output'))).toContain('ECONNREFUSED');
    // The timeline comes from the stored transitions and the chart from rollups: no stand-in from raw results.
    await page.locator('[aria-label="Status of api/a1/port over the range"]').waitFor({ timeout: 10_000 });
    expect(await page.locator('[data-unavailable]').count()).toBe(0);
    await browser.screenshot('check');

    // Alerts: this daemon has no alerting yet.
    await page.click('nav a[href="#/alerts"]');
    await page.locator('[data-unavailable]').nth(1).waitFor();
    expect(await page.locator('[data-unavailable]').allTextContents()).toEqual([
      expect.stringContaining('Alerts (GET /api/v1/alerts) is not available on this daemon yet'),
      expect.stringContaining('Silences (GET /api/v1/silences) is not available on this daemon yet'),
    ]);
    expect(await page.locator('.silence-form').count()).toBe(0);
    await browser.screenshot('alerts-unavailable');

    // Restart the target, then the daemon on the same port: the page reconnects with Last-Event-ID and recovers.
    tcp = await tcpTarget(tcpPort);
    await page.click('nav a[href="#/"]');
    const streamsBefore = browser.requests.filter((r) => new URL(r.url()).pathname === '/api/v1/web/events').length;
    const daemonPort = daemon.address.port;
    const downFrom = browser.console.length;
    await daemon.stop();
    await page.locator('body[data-live="reconnecting"]').waitFor({ timeout: 10_000 });
    await browser.screenshot('mesh-reconnecting');
    ({ daemon } = await runDaemon(yaml, daemonPort));
    await page.locator('body[data-live="live"]').waitFor({ timeout: 20_000 });
    const downTo = browser.console.length;
    await page.locator('tr[data-service="api"][data-status="HEALTHY"]').waitFor({ timeout: 15_000 });
    const resumed = browser.requests.filter((r) => new URL(r.url()).pathname === '/api/v1/web/events').slice(streamsBefore);
    expect(resumed.length).toBeGreaterThan(0);
    const headers = await Promise.all(resumed.map((r) => r.allHeaders()));
    // The page resumed with the id it last saw; the new run cannot replay it from memory, so it answered reset and the page read the mesh again.
    expect(headers.some((h) => /^\d+$/.test(h['last-event-id'] ?? ''))).toBe(true);
    expect(browser.requests.filter((r) => new URL(r.url()).pathname === '/api/v1/web/summary').length).toBe(2);
    expect(await page.evaluate(() => (window as unknown as { marker?: number }).marker)).toBe(42);

    expect(browser.pageErrors.map((e) => e.message)).toEqual([]);
    // While the daemon is down, the browser logs each refused reconnection of the stream, and nothing else.
    const refusedWhileDown: Expected = (m, i) =>
      i >= downFrom && i < downTo && m.text().includes('net::ERR_CONNECTION_REFUSED') && m.location().url.endsWith('/api/v1/web/events');
    expect(unexpectedConsoleErrors(browser.console, missingRoute(FUTURE_ROUTES), refusedWhileDown)).toEqual([]);
    expect(foreignRequests(browser.requests, base)).toEqual([]);
  }, 120_000);

  it('creates and expires a silence with the token it asks for and keeps in memory only (alerting routes stood in)', async () => {
    const other = await openBrowser();
    try {
      const { page } = other;
      const future = await standInFutureRoutes(page, TOKEN);
      await page.goto(`${base}/#/alerts`);
      await page.locator('li[data-alert="a-1"]').waitFor();
      expect(await text(page.locator('li[data-alert="a-1"]'))).toContain('api is UNHEALTHY');
      await page.click('li[data-alert="a-1"] button[aria-controls]');
      await page.locator('.alert-timeline li').nth(2).waitFor();
      expect(await page.locator('.alert-timeline li').count()).toBe(3);

      await page.getByLabel('Value (* wildcards)').fill('api');
      await page.getByLabel('Comment').fill('deploying api');
      await page.getByLabel('Your name').fill('tester');
      await page.getByRole('button', { name: 'Create silence' }).click();
      // The page asks for the token before the write.
      const dialog = page.locator('dialog.token-dialog');
      await dialog.waitFor({ state: 'visible' });
      await page.screenshot({ path: join(ARTIFACTS, 'alerts-token.png') });
      await dialog.getByLabel('Token').fill(TOKEN);
      await dialog.getByRole('button', { name: 'Use token' }).click();
      await page.locator('li[data-silence="s-1"]').waitFor();
      const post = future.calls.find((c) => c.method === 'POST');
      expect(post?.authorization).toBe(`Bearer ${TOKEN}`);
      expect(post?.body).toMatchObject({ matchers: { service: ['api'] }, comment: 'deploying api', createdBy: 'tester', start: null });
      await other.screenshot('alerts');

      // Expiring uses the token already in memory: no second question.
      await page.click('li[data-silence="s-1"] button');
      await page.locator('li[data-silence="s-1"]').waitFor({ state: 'detached' });
      expect(await dialog.isVisible()).toBe(false);
      expect(future.calls.find((c) => c.method === 'DELETE')?.authorization).toBe(`Bearer ${TOKEN}`);

      // Memory only: nothing in storage or cookies, and a reload forgets it.
      const stored = await page.evaluate(() => ({ local: localStorage.length, session: sessionStorage.length, cookie: document.cookie }));
      expect(stored).toEqual({ local: 0, session: 0, cookie: '' });
      await page.reload();
      await page.locator('.silence-form').waitFor();
      await page.getByLabel('Value (* wildcards)').fill('web');
      await page.getByLabel('Comment').fill('again');
      await page.getByLabel('Your name').fill('tester');
      await page.getByRole('button', { name: 'Create silence' }).click();
      await dialog.waitFor({ state: 'visible' });
      await dialog.getByRole('button', { name: 'Cancel' }).click();
      expect(await text(page.locator('.silence-form [role="alert"]'))).toContain('A token is needed to create a silence');
      expect(future.calls.filter((c) => c.method === 'POST')).toHaveLength(1);

      expect(other.pageErrors.map((e) => e.message)).toEqual([]);
      expect(unexpectedConsoleErrors(other.console)).toEqual([]);
      expect(foreignRequests(other.requests, base)).toEqual([]);
    } finally {
      await other.close();
    }
  }, 60_000);

  it('draws the check view from rollups and transitions, and the SLO from the analysis, when the daemon has those routes (stood in)', async () => {
    const other = await openBrowser();
    try {
      const { page } = other;
      await standInHistoryRoutes(page);
      await standInFutureRoutes(page, TOKEN);
      await page.goto(`${base}/#/check/api/a1/port?range=1h`);
      await page.locator('.chart-box canvas').waitFor({ timeout: 10_000 });
      expect(await page.locator('[data-unavailable]').count()).toBe(0);
      expect(await text(page.locator('.latency-chart figcaption'))).toContain('60 buckets, 360 results');
      // Three periods: healthy, the 5-minute outage, healthy again.
      expect(await page.locator('.timeline .seg').count()).toBe(3);
      await other.screenshot('check');

      await page.goto(`${base}/#/service/api`);
      await page.locator('meter').waitFor();
      const body = await text(page.locator('main section'));
      expect(body).toMatch(/Error budget left\s*50%/);
      expect(body).toContain('Trend: degrading (confidence 97%)');

      expect(other.pageErrors.map((e) => e.message)).toEqual([]);
      // Only the routes not stood in here (uptime of an instance) may answer 404.
      expect(unexpectedConsoleErrors(other.console, missingRoute(FUTURE_ROUTES))).toEqual([]);
      expect(foreignRequests(other.requests, base)).toEqual([]);
    } finally {
      await other.close();
    }
  }, 60_000);
});
