/**
 * A tour of every view on a small realistic mesh, screenshotted. In CI the
 * screenshots are artifacts (test-artifacts/web/tour-*.png); with
 * HM_DOCS_SCREENSHOTS=1 they are written to docs/ for the README:
 *
 *   HM_DOCS_SCREENSHOTS=1 npx vitest run test/web/tour.test.ts
 *
 * Everything comes from the real daemon: an hour of every check's results
 * (and 30 days of service incidents) is written into its SQLite file before
 * it starts (helpers/history-seed.ts), so rollups, transitions, uptime, the
 * SLO and the trend are the store's and the analysis' own answers; alerts
 * fire from real rules on the mesh as it is (and on a target the tour stops
 * and starts again), delivered to a webhook receiver the tour owns.
 */
import { mkdirSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer, type Server } from 'node:net';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Daemon } from '../../src/daemon.js';
import { ARTIFACTS, openBrowser, unexpectedConsoleErrors, type RecordingBrowser } from './helpers/browser.js';
import { runDaemon, tempDir, until } from './helpers/daemon.js';
import { defaultLatency, seedHistory, type SeedCheck } from './helpers/history-seed.js';

const TOKEN = 'tour-token-0123456789abcdef';
const DOCS = process.env.HM_DOCS_SCREENSHOTS === '1';
const OUT = DOCS ? resolve(import.meta.dirname, '../../docs/screenshots') : ARTIFACTS;

const HOUR = 3_600_000;
/** Services and instance counts of the tour's mesh (every instance has one tcp check, `port`). */
const MESH: Record<string, number> = {
  web: 4,
  checkout: 3,
  payments: 3,
  orders: 2,
  search: 3,
  catalog: 2,
  auth: 2,
  inventory: 2,
  recommendations: 2,
  postgres: 2,
  redis: 1,
  kafka: 3,
};
const CHECKS: SeedCheck[] = Object.entries(MESH).flatMap(([service, n]) =>
  Array.from({ length: n }, (_, i) => ({ service, instance: `${service}-${i + 1}`, name: 'port', kind: 'tcp' })),
);

function yaml(db: string, up: number, down: number, flaky: number, hook: number): string {
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
    `alerts:\n` +
    `  defaults: { notify: [ops], group_wait: 1s }\n` +
    `  notifiers: { ops: { kind: webhook, url: "http://127.0.0.1:${hook}/hook" } }\n` +
    `  rules:\n` +
    `    - { name: service-down, scope: service, when: { kind: status, is: UNHEALTHY }, level: critical }\n` +
    `    - { name: instance-down, scope: instance, when: { kind: status, is: UNHEALTHY }, level: warning }\n` +
    `status_pages:\n  public: { title: "Example Shop status", description: "Storefront, checkout and search.", services: [web, checkout, search] }\n` +
    `services:\n` +
    svc('web', MESH.web!, { deps: ['checkout', 'search', 'auth'], tags: ['frontend'] }) +
    svc('checkout', MESH.checkout!, { deps: ['payments', 'orders'], tags: ['core'] }) +
    // Kept ejected while its port check passes, so the screenshot shows the balancer's explanation.
    svc('payments', MESH.payments!, {
      deps: ['postgres'],
      tags: ['core', 'pci'],
      addr: (i) => (i === 2 ? down : up),
      extra: '    balancer: { outlier: { uneject_on_active_healthy: false, max_ejection_percent: 50 } }\n' + '    slo: { objective: 95, window: 30d }\n',
    }) +
    svc('orders', MESH.orders!, { deps: ['postgres', 'kafka'], tags: ['core'], addr: () => down }) +
    svc('search', MESH.search!, { deps: ['catalog'], tags: ['frontend'] }) +
    svc('catalog', MESH.catalog!, { deps: ['postgres'] }) +
    svc('auth', MESH.auth!, { deps: ['redis'], tags: ['core'] }) +
    svc('inventory', MESH.inventory!, { deps: ['postgres'] }) +
    svc('recommendations', MESH.recommendations!, { deps: ['catalog'], critical: false, tags: ['ml'], addr: () => flaky }) +
    svc('postgres', MESH.postgres!, { tags: ['data'], zone: () => 'eu-1' }) +
    svc('redis', MESH.redis!, { tags: ['data'] }) +
    svc('kafka', MESH.kafka!, { tags: ['data'] })
  );
}

/** The webhook receiver of the `ops` notifier: the alert ids it was sent. */
async function hookReceiver(): Promise<{ server: HttpServer; alerts: Set<string> }> {
  const alerts = new Set<string>();
  const server = createHttpServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      for (const item of (JSON.parse(body) as { items: Array<{ alertId: string }> }).items) alerts.add(item.alertId);
      res.end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, alerts };
}

const listen = async (server: Server, port = 0): Promise<number> => {
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return (server.address() as { port: number }).port;
};

describe('a tour of the dashboard', () => {
  let up: Server;
  let flaky: Server;
  let hook: Awaited<ReturnType<typeof hookReceiver>>;
  let daemon: Daemon;
  let base: string;
  let browser: RecordingBrowser;
  const shot = async (b: RecordingBrowser, name: string): Promise<void> => {
    mkdirSync(OUT, { recursive: true });
    await b.page.screenshot({ path: join(OUT, `${DOCS ? '' : 'tour-'}${name}.png`), fullPage: true });
  };
  const alerts = async (): Promise<Array<{ id: string; rule: string; state: string; labels: Record<string, string> }>> =>
    ((await (await fetch(`${base}/api/v1/alerts`)).json()) as { items: Array<{ id: string; rule: string; state: string; labels: Record<string, string> }> })
      .items;

  beforeAll(async () => {
    up = createServer((s) => s.end());
    const upPort = await listen(up);
    const down = createServer();
    const downPort = await listen(down);
    await new Promise<void>((r) => down.close(() => r()));
    flaky = createServer((s) => s.end());
    const flakyPort = await listen(flaky);
    hook = await hookReceiver();
    const db = join(tempDir(), 'hm.db');
    // An hour of every check; payments slowing down (a degrading trend) with a 2-minute outage; incidents on earlier days.
    await seedHistory(db, CHECKS, {
      outage: { services: ['payments'], first: 41, last: 43 },
      latency: (i, k, c) => (c.service === 'payments' ? 40 + i * 3 + ((k * 7) % 11) : defaultLatency(i, k)),
      knownForDays: 30,
      pastIncidents: [
        { service: 'payments', daysAgo: 3, atMs: 14 * HOUR, lengthMs: 20 * 60_000 },
        { service: 'payments', daysAgo: 11, atMs: 2 * HOUR, lengthMs: 2 * HOUR },
        { service: 'payments', daysAgo: 19, atMs: 9 * HOUR, lengthMs: 5 * 60_000 },
        { service: 'checkout', daysAgo: 6, atMs: 18 * HOUR, lengthMs: 45 * 60_000 },
        { service: 'search', daysAgo: 15, atMs: 7 * HOUR, lengthMs: 10 * 60_000 },
        { service: 'web', daysAgo: 22, atMs: 12 * HOUR, lengthMs: 3 * HOUR },
      ],
    });
    ({ daemon, base } = await runDaemon(yaml(db, upPort, downPort, flakyPort, (hook.server.address() as { port: number }).port)));
    await until(() => daemon.rollup.service('orders') === 'UNHEALTHY' && daemon.rollup.service('web') === 'HEALTHY', 20_000, 'the mesh to settle');
    // Real traffic reported by a client: payments-2 fails five times in a row and is ejected.
    const reports = Array.from({ length: 6 }, () => ({ instance: 'payments-2', ok: false, latency_ms: 1200, status: 503 }));
    const res = await fetch(`${base}/api/v1/services/payments/balancer/reports`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify({ reports }),
    });
    expect(res.status).toBe(202);
    // recommendations goes down and comes back: its alerts fire and resolve.
    await new Promise<void>((r) => flaky.close(() => r()));
    await until(
      async () => (await alerts()).some((a) => a.rule === 'service-down' && a.labels.service === 'recommendations'),
      10_000,
      'recommendations to alert',
    );
    flaky = createServer((s) => s.end());
    await listen(flaky, flakyPort);
    await until(
      async () => (await alerts()).filter((a) => a.labels.service === 'recommendations').every((a) => a.state === 'resolved'),
      10_000,
      'the recommendations alerts to resolve',
    );
    browser = await openBrowser();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await daemon?.stop();
    up?.close();
    flaky?.close();
    hook?.server.close();
  });

  it('mesh, service, check, alerts, status page and the dark theme', async () => {
    const { page } = browser;

    await page.goto(`${base}/`);
    await page.locator('tr[data-service="orders"][data-status="UNHEALTHY"]').waitFor();
    await page.locator('tr[data-service="checkout"][data-status="DEGRADED"]').waitFor();
    await shot(browser, 'mesh');

    await page.goto(`${base}/#/service/payments`);
    await page.locator('tr[data-instance="payments-3"][data-status="UNHEALTHY"]').waitFor();
    await page.locator('.explain', { hasText: 'ejected' }).waitFor({ timeout: 10_000 });
    await page.locator('meter').waitFor();
    await page.locator('.uptime-bars').waitFor();
    await shot(browser, 'service');

    await page.goto(`${base}/#/check/payments/payments-1/port?range=1h`);
    await page.locator('.chart-box canvas').waitFor();
    await page.locator('table.results tbody tr').first().waitFor();
    // The seeded outage is in the stored transitions.
    await page.locator('.timeline .seg.st-unhealthy').first().waitFor();
    await shot(browser, 'check');

    // The orders service alert, delivered to the webhook: its timeline shows it.
    const ordersDown = (await alerts()).find((a) => a.rule === 'service-down' && a.labels.service === 'orders')!;
    await until(() => hook.alerts.has(ordersDown.id), 10_000, 'the orders alert to be delivered');
    // A silence, created through the real route as an operator would.
    const silence = await fetch(`${base}/api/v1/silences`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify({ matchers: { service: 'recommendations' }, duration: '4h', comment: 'retraining the model', created_by: 'ana' }),
    });
    expect(silence.status).toBe(201);
    await page.goto(`${base}/#/alerts`);
    const item = page.locator(`li[data-alert="${ordersDown.id}"]`);
    await item.waitFor();
    await page.locator('li.state-resolved').first().waitFor();
    await page.locator('li[data-silence]').waitFor();
    await item.locator('button[aria-controls]').click();
    await item.locator('.alert-timeline li', { hasText: 'delivered' }).waitFor();
    await shot(browser, 'alerts');

    await page.goto(`${base}/status/public`);
    await page.locator('li[data-service="checkout"]').waitFor();
    expect(await page.locator('body').textContent()).not.toContain('orders');
    await shot(browser, 'status-page');

    expect(browser.pageErrors).toEqual([]);
    // Every route the views ask exists on this daemon: no 404 is expected.
    expect(unexpectedConsoleErrors(browser.console)).toEqual([]);

    const dark = await openBrowser({ colorScheme: 'dark' });
    try {
      await dark.page.goto(`${base}/#/service/checkout`);
      await dark.page.locator('tr[data-instance="checkout-1"]').waitFor();
      await dark.page.locator('.dep-graph').waitFor();
      await dark.page.locator('.uptime-bars').waitFor();
      await shot(dark, 'dark-service');
      await dark.page.goto(`${base}/`);
      await dark.page.locator('tr[data-service="orders"]').waitFor();
      await shot(dark, 'dark-mesh');
    } finally {
      await dark.close();
    }
  }, 120_000);
});
