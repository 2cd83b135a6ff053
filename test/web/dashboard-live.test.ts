/**
 * The dashboard against the real daemon only: its alerting (an `alerts:`
 * section with a webhook to a receiver the test owns), its history (an hour
 * of a `db` check written into the SQLite file before the daemon starts, by
 * the store's own module) and its analysis. Nothing is stood in.
 */
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import type { Locator } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Silence } from '../../src/alerts/silences.js';
import type { Daemon } from '../../src/daemon.js';
import { formatDuration, formatMs } from '../../web/src/format.js';
import { foreignRequests, missingRoute, openBrowser, unexpectedConsoleErrors, type Expected, type RecordingBrowser } from './helpers/browser.js';
import { runDaemon, tempDir, until } from './helpers/daemon.js';
import { seedHistory, type Seeded } from './helpers/history-seed.js';

const TOKEN = 'dashboard-e2e-token-0123456789';
/** The db service's SLO and its seeded outage (minutes 40–44 of the seeded hour). */
const OBJECTIVE = 90;
const OUTAGE = { services: ['db'], first: 40, last: 45 };
const PER_MINUTE = 60;
/** db's latency climbs over the seeded hour (20 → 315 ms, timeout 500 ms), so its score falls: a degrading trend. */
const dbLatency = (i: number, k: number): number => 20 + i * 5 + (k % 5);

/** A TCP target the test starts and stops (the api service's checks connect to it). */
async function tcpTarget(port = 0): Promise<Server> {
  const server = createServer((s) => s.end());
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return server;
}

/** The webhook receiver of the `ops` notifier: every body it was sent. */
async function hookReceiver(): Promise<{ server: HttpServer; bodies: Array<{ items: Array<{ alertId: string; event: string }> }> }> {
  const bodies: Array<{ items: Array<{ alertId: string; event: string }> }> = [];
  const server = createHttpServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      bodies.push(JSON.parse(body));
      res.end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, bodies };
}

function config(dbPath: string, tcpPort: number, httpPort: number, hookPort: number): string {
  return `
server: { token: ${TOKEN} }
storage: { path: "${dbPath}", flush_interval: 200ms }
defaults: { interval: 250ms, timeout: 500ms, rise: 1, fall: 1 }
alerts:
  defaults: { notify: [ops], group_wait: 1s }
  notifiers:
    ops: { kind: webhook, url: "http://127.0.0.1:${hookPort}/hook" }
  rules:
    - { name: api-down, scope: service, match: { service: api }, when: { kind: status, is: UNHEALTHY }, level: critical }
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
  db:
    critical: false
    slo: { objective: ${OBJECTIVE}, window: 3d }
    instances: [{ id: d1, address: "127.0.0.1:${httpPort}", zone: z1 }]
    checks: [{ kind: tcp, name: port, interval: 2s }]
`;
}

const port = (s: Server | HttpServer): number => (s.address() as { port: number }).port;
/** Visible text of the first match, once it exists. */
async function text(locator: Locator): Promise<string> {
  await locator.first().waitFor();
  return ((await locator.first().textContent()) ?? '').trim();
}

interface ApiAlert {
  id: string;
  rule: string;
  state: string;
  summary: string;
  timeline: Array<{ type: string; notifier?: string }>;
}

describe('the dashboard against the real daemon, in headless Chromium', () => {
  let tcp: Server;
  let http: HttpServer;
  let hook: Awaited<ReturnType<typeof hookReceiver>>;
  let daemon: Daemon;
  let base: string;
  let browser: RecordingBrowser;
  let seeded: Seeded;
  const dir = tempDir();
  let yaml: string;
  let tcpPort: number;
  const api = async <T>(path: string): Promise<T> => {
    const res = await fetch(`${base}${path}`);
    expect(res.status, path).toBe(200);
    return (await res.json()) as T;
  };
  const apiDownAlert = async (): Promise<ApiAlert | undefined> => {
    const { items } = await api<{ items: ApiAlert[] }>('/api/v1/alerts?rule=api-down');
    return items[0] && api<ApiAlert>(`/api/v1/alerts/${items[0].id}`);
  };

  beforeAll(async () => {
    tcp = await tcpTarget();
    http = createHttpServer((_req, res) => res.end('ok'));
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    hook = await hookReceiver();
    tcpPort = port(tcp);
    const dbPath = join(dir, 'hm.db');
    seeded = await seedHistory(dbPath, [{ service: 'db', instance: 'd1', name: 'port', kind: 'tcp' }], {
      perMinute: PER_MINUTE,
      outage: OUTAGE,
      latency: dbLatency,
    });
    yaml = config(dbPath, tcpPort, port(http), port(hook.server));
    ({ daemon, base } = await runDaemon(yaml));
    browser = await openBrowser();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await daemon?.stop();
    tcp?.close();
    http?.close();
    hook?.server.close();
  });

  it('shows the mesh, turns a service red over SSE without a reload, fires a real alert, follows it into its views, and recovers after a daemon restart', async () => {
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
    await page.getByText('No SLO: no slo: in services.api of the config').waitFor(); // the real analysis: api has no slo:
    await browser.screenshot('service');

    // Instance → check: recent results carry the reason and output.
    await page.click('a[href="#/instance/api/a1"]');
    await page.locator('tr[data-check="api/a1/port"]').waitFor();
    await page.click('a[href="#/check/api/a1/port"]');
    await page.locator('table.results td code', { hasText: 'connect_refused' }).first().waitFor({ timeout: 10_000 });
    expect(await text(page.locator('table.results .output'))).toContain('ECONNREFUSED');
    // The timeline comes from the stored transitions and the chart from rollups: no fallback to raw results.
    await page.locator('[aria-label="Status of api/a1/port over the range"]').waitFor({ timeout: 10_000 });
    expect(await page.locator('[data-unavailable]').count()).toBe(0);
    await browser.screenshot('check');

    // The rule fired a real alert, and the webhook receiver got it (after group_wait).
    await until(async () => (await apiDownAlert())?.timeline.some((e) => e.type === 'delivered') ?? false, 10_000, 'the alert to be delivered');
    const firing = (await apiDownAlert())!;
    expect(firing).toMatchObject({ state: 'firing', summary: 'api is UNHEALTHY' });
    expect(hook.bodies.flatMap((b) => b.items)).toContainEqual(expect.objectContaining({ alertId: firing.id, event: 'firing' }));
    await page.click('nav a[href="#/alerts"]');
    const item = page.locator(`li[data-alert="${firing.id}"]`);
    await item.waitFor();
    expect(await item.getAttribute('class')).toContain('state-firing');
    expect(await text(item)).toContain('api is UNHEALTHY');
    expect(await text(page.locator('h2', { hasText: 'Firing and pending' }))).toBe('Firing and pending (1)');
    await item.locator('button[aria-controls]').click();
    await item
      .locator('.alert-timeline li')
      .nth(firing.timeline.length - 1)
      .waitFor();
    // The page shows the real timeline, entry for entry.
    const entries = await item.locator('.alert-timeline li strong').allTextContents();
    expect(entries).toEqual(firing.timeline.map((e) => e.type));
    expect(await text(item.locator('.alert-timeline li', { hasText: 'delivered' }))).toContain('via ops');
    expect(await page.locator('[data-unavailable]').count()).toBe(0);
    await browser.screenshot('alerts-firing');

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
    // While the daemon is down, the browser logs each refused reconnection of the stream, and nothing else (no 404: every route exists).
    const refusedWhileDown: Expected = (m, i) =>
      i >= downFrom && i < downTo && m.text().includes('net::ERR_CONNECTION_REFUSED') && m.location().url.endsWith('/api/v1/web/events');
    expect(unexpectedConsoleErrors(browser.console, refusedWhileDown)).toEqual([]);
    expect(foreignRequests(browser.requests, base)).toEqual([]);
  }, 120_000);

  it('lists the resolved alert with its timeline, and creates and expires a real silence with the token it asks for and keeps in memory only', async () => {
    // After the test above: its alert fired, and the restarted daemon sees api healthy again, so the alert resolves.
    await until(async () => (await apiDownAlert())?.state === 'resolved', 15_000, 'the api-down alert to resolve');
    const resolved = (await apiDownAlert())!;
    expect(resolved.timeline.map((e) => e.type)).toEqual(expect.arrayContaining(['pending', 'firing', 'delivered', 'resolved']));
    const other = await openBrowser();
    try {
      const { page } = other;
      await page.goto(`${base}/#/alerts`);
      const item = page.locator(`li[data-alert="${resolved.id}"]`);
      await item.waitFor();
      expect(await item.getAttribute('class')).toContain('state-resolved');
      expect(await text(page.locator('h2', { hasText: 'Firing and pending' }))).toBe('Firing and pending (0)');
      expect(await text(page.locator('h2', { hasText: 'Recently resolved' }))).toBe('Recently resolved (1)');
      await item.locator('button[aria-controls]').click();
      await item
        .locator('.alert-timeline li')
        .nth(resolved.timeline.length - 1)
        .waitFor();
      expect(await item.locator('.alert-timeline li strong').allTextContents()).toEqual(resolved.timeline.map((e) => e.type));

      await page.getByLabel('Value (* wildcards)').fill('api');
      await page.getByLabel('Comment').fill('deploying api');
      await page.getByLabel('Your name').fill('tester');
      await page.getByRole('button', { name: 'Create silence' }).click();
      // The page asks for the token before the write.
      const dialog = page.locator('dialog.token-dialog');
      await dialog.waitFor({ state: 'visible' });
      await other.screenshot('alerts-token');
      await dialog.getByLabel('Token').fill(TOKEN);
      await dialog.getByRole('button', { name: 'Use token' }).click();
      const listed = page.locator('li[data-silence]');
      // Created, or refused with the daemon's reason (shown in the form).
      await page.locator('li[data-silence], .silence-form [role="alert"]').first().waitFor();
      expect(await page.locator('.silence-form [role="alert"]').allTextContents()).toEqual([]);
      const id = (await listed.getAttribute('data-silence'))!;
      const posts = other.requests.filter((r) => r.method() === 'POST' && new URL(r.url()).pathname === '/api/v1/silences');
      expect(posts).toHaveLength(1);
      expect((await posts[0]!.allHeaders()).authorization).toBe(`Bearer ${TOKEN}`);
      expect(await (await posts[0]!.response())?.status()).toBe(201);
      // The daemon has it, as the page asked: 1 h from the daemon's own now.
      const { items: silences } = await api<{ items: Silence[] }>('/api/v1/silences');
      expect(silences).toHaveLength(1);
      expect(silences[0]).toMatchObject({ id, matchers: { service: ['api'] }, comment: 'deploying api', createdBy: 'tester', source: 'api', start: null });
      expect(silences[0]!.end - silences[0]!.createdAt).toBeGreaterThan(3_600_000 - 1000);
      expect(silences[0]!.end - silences[0]!.createdAt).toBeLessThanOrEqual(3_600_000);
      expect(await text(listed)).toContain('service=api');
      await other.screenshot('alerts');

      // Expiring uses the token already in memory: no second question.
      await listed.getByRole('button', { name: 'Expire' }).click();
      await page.locator(`li[data-silence="${id}"]`).waitFor({ state: 'detached' });
      expect(await dialog.isVisible()).toBe(false);
      const del = other.requests.find((r) => r.method() === 'DELETE' && new URL(r.url()).pathname === `/api/v1/silences/${id}`);
      expect((await del?.allHeaders())?.authorization).toBe(`Bearer ${TOKEN}`);
      expect((await api<{ items: Silence[] }>('/api/v1/silences')).items).toEqual([]);

      // A silence expired elsewhere meanwhile: the daemon answers 404 for it, and the page says so and reads the list again.
      await page.getByLabel('Value (* wildcards)').fill('db');
      await page.getByLabel('Comment').fill('gone soon');
      await page.getByLabel('Your name').fill('tester');
      await page.getByRole('button', { name: 'Create silence' }).click();
      await listed.waitFor();
      const gone = (await listed.getAttribute('data-silence'))!;
      const elsewhere = await fetch(`${base}/api/v1/silences/${gone}`, { method: 'DELETE', headers: { authorization: `Bearer ${TOKEN}` } });
      expect(elsewhere.status).toBe(204);
      await listed.getByRole('button', { name: 'Expire' }).click();
      await page.locator(`li[data-silence="${gone}"]`).waitFor({ state: 'detached' });
      expect(await text(page.locator('[role="alert"]', { hasText: 'Not expired' }))).toBe(`Not expired: no silence "${gone}"`);
      expect(await dialog.isVisible()).toBe(false);

      // Memory only: nothing in storage or cookies, and a reload forgets it.
      const stored = await page.evaluate(() => ({ local: localStorage.length, session: sessionStorage.length, cookie: document.cookie }));
      expect(stored).toEqual({ local: 0, session: 0, cookie: '' });
      const silencePosts = () => other.requests.filter((r) => r.method() === 'POST' && new URL(r.url()).pathname === '/api/v1/silences').length;
      const postsBefore = silencePosts();
      await page.reload();
      await page.locator('.silence-form').waitFor();
      await page.getByLabel('Value (* wildcards)').fill('web');
      await page.getByLabel('Comment').fill('again');
      await page.getByLabel('Your name').fill('tester');
      await page.getByRole('button', { name: 'Create silence' }).click();
      await dialog.waitFor({ state: 'visible' });
      await dialog.getByRole('button', { name: 'Cancel' }).click();
      expect(await text(page.locator('.silence-form [role="alert"]'))).toContain('A token is needed to create a silence');
      expect(silencePosts()).toBe(postsBefore);
      expect((await api<{ items: Silence[] }>('/api/v1/silences')).items).toEqual([]);

      expect(other.pageErrors.map((e) => e.message)).toEqual([]);
      // The one 404 is the silence expired elsewhere: not a missing route, the point of that step.
      expect(unexpectedConsoleErrors(other.console, missingRoute([new RegExp(`^/api/v1/silences/${gone}$`)]))).toEqual([]);
      expect(foreignRequests(other.requests, base)).toEqual([]);
    } finally {
      await other.close();
    }
  }, 60_000);

  it('draws the check view from the stored rollups and transitions, and the SLO and trend from the analysis of that history', async () => {
    const other = await openBrowser();
    try {
      const { page } = other;
      const results = seeded.of('db/d1/port');
      const durations = results.map((r) => r.durationMs);
      const mean = durations.reduce((s, d) => s + d, 0) / durations.length;
      const p95s = Array.from({ length: seeded.minutes }, (_, i) => {
        const minute = durations.slice(i * PER_MINUTE, (i + 1) * PER_MINUTE).sort((a, b) => a - b);
        return minute[Math.ceil(0.95 * minute.length) - 1]!;
      });
      // Exactly the seeded hour: what the daemon ran live since is outside it.
      await page.goto(`${base}/#/check/db/d1/port?range=custom&from=${seeded.from}&to=${seeded.to}`);
      await page.locator('.chart-box canvas').waitFor({ timeout: 10_000 });
      expect(await page.locator('[data-unavailable]').count()).toBe(0);
      expect(await text(page.locator('.latency-chart figcaption'))).toBe(
        `${seeded.minutes} buckets, ${results.length} results. Mean ${formatMs(mean)}, highest p95 ${formatMs(Math.max(...p95s))}, max ${formatMs(Math.max(...durations))}. Bands: min–max (light), mean–p95 (dark).`,
      );
      // Three periods from the stored transitions: healthy, the 5-minute outage, healthy again.
      const outage = seeded.outage!;
      expect(await page.locator('.timeline .seg').count()).toBe(3);
      const periods = await page
        .locator('.timeline tbody tr')
        .evaluateAll((rows) => rows.map((r) => [...r.querySelectorAll('td')].map((td) => td.textContent?.trim())));
      const lasted = (from: number, to: number): string => formatDuration(to - from);
      const start = outage.from + 137; // the first failing result of the outage (helpers/history-seed.ts)
      const end = outage.to + 137;
      expect(periods.map((p) => [p[0], p[3]])).toEqual([
        ['Healthy', lasted(end, seeded.to)],
        ['Unhealthy', lasted(start, end)],
        ['Healthy', lasted(seeded.from, start)],
      ]);
      await other.screenshot('check-history');

      // The SLO over the stored rollups (and the few live results since the daemon started, which all pass).
      const seededTotal = results.length;
      const bad = (OUTAGE.last - OUTAGE.first) * PER_MINUTE;
      const analysis = await api<{ slo: { good: number; total: number }; trend: { direction: string } | null }>('/api/v1/services/db/analysis');
      expect(analysis.slo.total - analysis.slo.good).toBe(bad);
      expect(analysis.slo.total).toBeGreaterThanOrEqual(seededTotal);
      const live = 100; // at most this many live results (one each 2 s) before the page reads it
      const budget = (total: number): number => 1 - bad / ((1 - OBJECTIVE / 100) * total);
      await page.goto(`${base}/#/service/db`);
      await page.locator('meter').waitFor();
      const body = await text(page.locator('main section'));
      const shownBudget = Number(/Error budget left\s*(-?\d+)%/.exec(body)?.[1]);
      expect(shownBudget).toBeGreaterThanOrEqual(Math.round(budget(seededTotal) * 100));
      expect(shownBudget).toBeLessThanOrEqual(Math.round(budget(seededTotal + live) * 100));
      const attained = Number(/Attained\s*([\d.]+)%/.exec(body)?.[1]);
      expect(attained).toBeGreaterThanOrEqual(Math.floor(((seededTotal - bad) / seededTotal) * 100_000) / 1000);
      expect(attained).toBeLessThanOrEqual(((seededTotal + live - bad) / (seededTotal + live)) * 100);
      expect(body).toContain(`${OBJECTIVE}.000% of results passing over 3 d`);
      // The score fell over the seeded hour (latency climbing towards the timeout, then the outage): the trend says so.
      const trend = /Trend: (\w+) \(confidence (\d+)%\)/.exec(body);
      expect(trend?.[1]).toBe('degrading');
      expect(Number(trend?.[2])).toBeGreaterThanOrEqual(95);
      // Uptime per day from the stored service transitions: today holds the outage.
      await page.locator('.uptime-bars').waitFor();
      await other.screenshot('service-slo');

      expect(other.pageErrors.map((e) => e.message)).toEqual([]);
      expect(unexpectedConsoleErrors(other.console)).toEqual([]);
      expect(foreignRequests(other.requests, base)).toEqual([]);
    } finally {
      await other.close();
    }
  }, 60_000);
});

describe('the alerts view on a daemon whose config has no alerts: section', () => {
  let daemon: Daemon;
  let base: string;
  beforeAll(async () => {
    ({ daemon, base } = await runDaemon(`
services:
  api:
    instances: [{ id: a1, address: "127.0.0.1:9" }]
    checks: [{ kind: ttl, ttl: 1h, interval: 30m }]
`));
  }, 30_000);
  afterAll(async () => {
    await daemon?.stop();
  });

  it('says plainly that alerts and silences are not available', async () => {
    const b = await openBrowser();
    try {
      const { page } = b;
      await page.goto(`${base}/#/alerts`);
      await page.locator('[data-unavailable]').nth(1).waitFor();
      expect(await page.locator('[data-unavailable]').allTextContents()).toEqual([
        expect.stringContaining('Alerts (GET /api/v1/alerts) is not available on this daemon'),
        expect.stringContaining('Silences (GET /api/v1/silences) is not available on this daemon'),
      ]);
      expect(await page.locator('.silence-form').count()).toBe(0);
      await b.screenshot('alerts-unavailable');
      expect(b.pageErrors.map((e) => e.message)).toEqual([]);
      // This daemon has no alert routes (no alerts: in its config): their 404s, and only those, are expected.
      expect(unexpectedConsoleErrors(b.console, missingRoute([/^\/api\/v1\/alerts$/, /^\/api\/v1\/silences$/]))).toEqual([]);
    } finally {
      await b.close();
    }
  }, 30_000);
});
