import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { traceMainThread } from '../../bench/lib/chromium.js';
import { allHealthy, drive, meshYaml, serviceName, type MeshShape } from '../../bench/lib/dashboard-mesh.js';
import type { Daemon } from '../../src/daemon.js';
import { foreignRequests, openBrowser, unexpectedConsoleErrors, type RecordingBrowser } from './helpers/browser.js';
import { runDaemon, tempDir, until } from './helpers/daemon.js';

const SHAPE: MeshShape = { services: 1000, instances: 10 };
/** The mesh view's page size: the DOM never holds more service rows. */
const PAGE_SIZE = 50;

/**
 * Bounds in the page's main-thread CPU time, which other processes on this
 * shared 2-core machine do not inflate (its wall time grew 4–7× under a load
 * average of 15): loose enough for noise, tight enough to fail if the page
 * rendered per event or put every row in the DOM. bench/dashboard measures
 * against the targets (first render < 1 s, < 100 ms of main thread a second).
 */
const FIRST_RENDER_CPU_BOUND_MS = 1500;
const FIRST_RENDER_WALL_BOUND_MS = 15_000;
const FILTER_BOUND_MS = 1000;
const MAIN_THREAD_CPU_BOUND_MS_PER_S = 150;

describe('the mesh view with 1,000 services × 10 instances on the real daemon', () => {
  let daemon: Daemon;
  let base: string;
  let browser: RecordingBrowser;

  beforeAll(async () => {
    ({ daemon, base } = await runDaemon(meshYaml(SHAPE, join(tempDir(), 'hm.db'))));
    await allHealthy(daemon, SHAPE);
    // One service down (every instance failing), one degraded (one instance of ten failing).
    for (let i = 0; i < SHAPE.instances; i++) daemon.engine.heartbeat(`${serviceName(42)}/i${i}/beat`, 'fail');
    daemon.engine.heartbeat(`${serviceName(7)}/i0/beat`, 'fail');
    await until(
      () => daemon.rollup.service(serviceName(42)) === 'UNHEALTHY' && daemon.rollup.service(serviceName(7)) === 'DEGRADED',
      10_000,
      'two services to fail',
    );
    browser = await openBrowser();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await daemon?.stop();
  });

  it('answers the whole mesh in one compressed request', async () => {
    const { request } = await import('node:http');
    const res = await new Promise<{ encoding: string | undefined; bytes: number }>((resolve, reject) => {
      const req = request(`${base}/api/v1/web/summary`, { headers: { 'accept-encoding': 'gzip' } }, (r) => {
        let bytes = 0;
        r.on('data', (d: Buffer) => (bytes += d.length));
        r.on('end', () => resolve({ encoding: r.headers['content-encoding'], bytes }));
      });
      req.on('error', reject);
      req.end();
    });
    const plain = await (await fetch(`${base}/api/v1/web/summary`)).text();
    expect(JSON.parse(plain).services).toHaveLength(SHAPE.services);
    expect(res.encoding).toBe('gzip');
    expect(res.bytes).toBeLessThan(plain.length / 10);
  });

  it('renders worst first within the bound, with one page of rows in the DOM', async () => {
    const { page, context } = browser;
    const loading = await traceMainThread(context, page, async () => {
      await page.goto(`${base}/`);
      await page.locator('tr[data-service]').first().waitFor({ timeout: 30_000 });
    });
    const firstRender = await page.evaluate(() => performance.getEntriesByName('hm-first-render')[0]?.startTime ?? -1);
    expect(firstRender).toBeGreaterThan(0);
    expect(firstRender).toBeLessThan(FIRST_RENDER_WALL_BOUND_MS);
    expect(loading.cpuMs).toBeGreaterThan(0);
    expect(loading.cpuMs).toBeLessThan(FIRST_RENDER_CPU_BOUND_MS);
    expect(await page.locator('tr[data-service]').count()).toBe(PAGE_SIZE);
    expect(await page.locator('tr').count()).toBeLessThanOrEqual(PAGE_SIZE + 1);
    const order = await page
      .locator('tr[data-service]')
      .evaluateAll((rows) => rows.slice(0, 3).map((r) => [r.getAttribute('data-service'), r.getAttribute('data-status')]));
    expect(order[0]).toEqual([serviceName(42), 'UNHEALTHY']);
    expect(order[1]).toEqual([serviceName(7), 'DEGRADED']);
    expect(await page.locator('[data-testid="match-count"]').textContent()).toContain('Showing all 1000 services');
    expect(await page.locator('.summary-line').textContent()).toContain('1000 services, 10000 instances');
    await browser.screenshot('scale-mesh');
  }, 60_000);

  it('filters by search, status, tag and zone within the bound', async () => {
    const { page } = browser;
    const matchCount = page.locator('[data-testid="match-count"]');
    await page.getByLabel('Search').fill(serviceName(999));
    await page.locator(`tr[data-service="${serviceName(999)}"]`).waitFor();
    expect(await page.locator('tr[data-service]').count()).toBe(1);
    const filterMs = await page.evaluate(() => performance.getEntriesByName('hm-filter').at(-1)?.duration ?? -1);
    expect(filterMs).toBeGreaterThanOrEqual(0);
    expect(filterMs).toBeLessThan(FILTER_BOUND_MS);
    await page.getByLabel('Search').fill('');

    await page.getByLabel('Status').selectOption('UNHEALTHY');
    await until(async () => (await matchCount.textContent())?.includes('1 of 1000') ?? false, 5000, 'the status filter');
    expect(await page.locator('tr[data-service]').getAttribute('data-service')).toBe(serviceName(42));
    await page.getByLabel('Status').selectOption('');

    await page.getByLabel('Tag').selectOption('team-3');
    await until(async () => (await matchCount.textContent())?.includes('100 of 1000') ?? false, 5000, 'the tag filter');
    const shown = await page.locator('tr[data-service]').evaluateAll((rows) => rows.map((r) => Number(r.getAttribute('data-service')!.slice(4))));
    expect(shown.every((n) => n % 10 === 3)).toBe(true);
    await page.getByLabel('Tag').selectOption('');

    await page.getByLabel('Zone').selectOption('z1');
    await until(async () => (await matchCount.textContent())?.includes('Showing all 1000') ?? false, 5000, 'the zone filter');
    await page.getByLabel('Zone').selectOption('');
    // The filters live in the URL, so a filtered view can be linked.
    await page.getByLabel('Tag').selectOption('team-5');
    expect(new URL(page.url()).hash).toBe('#/?tag=team-5');
    await page.getByLabel('Tag').selectOption('');
  }, 60_000);

  it('follows 100 transitions a second with bounded main-thread time, and ends in the daemon state', async () => {
    const { page, context } = browser;
    const received = async (): Promise<number> => Number(await page.locator('body').getAttribute('data-received'));
    const receivedBefore = await received();
    let sent = 0;
    const live = await traceMainThread(context, page, async () => {
      sent = await drive(daemon, SHAPE, 100, 5);
      // The last events are shown within a second; wait until the page has them all.
      await until(async () => (await received()) - receivedBefore >= sent, 10_000, 'every transition to reach the page');
    });
    expect(sent).toBe(500);
    expect((await received()) - receivedBefore).toBe(sent);
    const cpuPerSecond = live.cpuMs / (live.elapsedMs / 1000);
    expect(cpuPerSecond).toBeGreaterThan(0);
    expect(cpuPerSecond).toBeLessThan(MAIN_THREAD_CPU_BOUND_MS_PER_S);

    // What the page shows is what the daemon says.
    await page.waitForTimeout(1200);
    const rows = await page.locator('tr[data-service]').evaluateAll((rs) => rs.map((r) => [r.getAttribute('data-service')!, r.getAttribute('data-status')!]));
    expect(rows).toHaveLength(PAGE_SIZE);
    for (const [name, status] of rows) expect([name, status]).toEqual([name, daemon.rollup.service(name!)]);
    const unhealthy = [...Array(SHAPE.services).keys()].filter((i) => daemon.rollup.service(serviceName(i)) === 'UNHEALTHY').length;
    expect(await page.locator('.summary-line').textContent()).toContain(`${unhealthy} unhealthy`);

    expect(browser.pageErrors.map((e) => e.message)).toEqual([]);
    expect(unexpectedConsoleErrors(browser.console)).toEqual([]);
    expect(foreignRequests(browser.requests, base)).toEqual([]);
  }, 90_000);
});
