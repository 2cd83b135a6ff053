import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Daemon } from '../../src/daemon.js';
import { openBrowser, unexpectedConsoleErrors } from './helpers/browser.js';
import { runDaemon, tempDir, until } from './helpers/daemon.js';

const YAML = (db: string) => `
storage: { path: "${db}" }
defaults: { rise: 1, fall: 1 }
services:
  db:
    instances: [{ id: d1, address: "127.0.0.1:9" }]
    checks: [{ kind: ttl, ttl: 1h, interval: 30m }]
  api:
    depends_on: [db]
    instances: [{ id: a1, address: "127.0.0.1:9" }, { id: a2, address: "127.0.0.1:9" }]
    checks: [{ kind: ttl, ttl: 1h, interval: 30m }]
  web:
    instances: [{ id: w1, address: "127.0.0.1:9" }]
    checks: [{ kind: ttl, ttl: 1h, interval: 30m }]
`;

/** Relative luminance of a CSS rgb() colour (WCAG). */
function luminance(rgb: string): number {
  const [r, g, b] = rgb
    .match(/\d+/g)!
    .slice(0, 3)
    .map((v) => {
      const c = Number(v) / 255;
      return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    }) as [number, number, number];
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

const contrast = (a: string, b: string): number => {
  const [x, y] = [luminance(a), luminance(b)].sort((p, q) => q - p) as [number, number];
  return (x + 0.05) / (y + 0.05);
};

describe('the dashboard for keyboards, screen readers, dark themes and phones', () => {
  let daemon: Daemon;
  let base: string;

  beforeAll(async () => {
    ({ daemon, base } = await runDaemon(YAML(join(tempDir(), 'hm.db'))));
    daemon.engine.heartbeat('db/d1/ttl', 'pass');
    daemon.engine.heartbeat('api/a1/ttl', 'pass');
    daemon.engine.heartbeat('api/a2/ttl', 'warn');
    daemon.engine.heartbeat('web/w1/ttl', 'fail');
    await until(() => daemon.rollup.service('web') === 'UNHEALTHY' && daemon.rollup.service('api') === 'DEGRADED', 5000, 'the mesh to settle');
  }, 30_000);

  afterAll(async () => {
    await daemon?.stop();
  });

  it('is navigable by keyboard: skip link first, filters, then each service; Enter opens it and focus lands on its heading', async () => {
    const b = await openBrowser();
    try {
      const { page } = b;
      await page.goto(`${base}/`);
      await page.locator('tr[data-service="web"]').waitFor();
      const focused: string[] = [];
      for (let i = 0; i < 12; i++) {
        await page.keyboard.press('Tab');
        focused.push(
          await page.evaluate(() => {
            const el = document.activeElement as HTMLElement;
            return `${el.tagName.toLowerCase()}:${el.getAttribute('name') ?? el.textContent?.trim().slice(0, 20) ?? ''}`;
          }),
        );
      }
      expect(focused[0]).toBe('a:Skip to content');
      expect(focused).toContain('input:q');
      expect(focused).toContain('select:status');
      expect(focused).toContain('select:zone');
      const first = focused.indexOf('a:web');
      expect(first).toBeGreaterThan(focused.indexOf('select:zone'));
      // Tab to the worst service and open it with Enter.
      while ((await page.evaluate(() => document.activeElement?.textContent)) !== 'web') await page.keyboard.press('Tab');
      await page.keyboard.press('Enter');
      await page.locator('tr[data-instance="w1"]').waitFor();
      expect(await page.evaluate(() => document.activeElement?.tagName)).toBe('H1');
      expect(unexpectedConsoleErrors(b.console)).toEqual([]);
    } finally {
      await b.close();
    }
  }, 60_000);

  it('never carries status by colour alone: every status shows its word (or a hidden one) and a shape of its own', async () => {
    const b = await openBrowser();
    try {
      const { page } = b;
      await page.goto(`${base}/`);
      await page.locator('tr[data-service="web"]').waitFor();
      const cells = await page
        .locator('tr[data-service] .st')
        .evaluateAll((els) =>
          els.map((el) => ({ status: el.getAttribute('data-status'), text: el.textContent?.trim(), shape: el.querySelector('svg')!.innerHTML })),
        );
      expect(cells.map((c) => [c.status, c.text])).toEqual([
        ['UNHEALTHY', 'Unhealthy'],
        ['DEGRADED', 'Degraded'],
        ['HEALTHY', 'Healthy'],
      ]);
      expect(new Set(cells.map((c) => c.shape)).size).toBe(3);
      // Instance counts say their status in words to screen readers.
      expect(await page.locator('tr[data-service="api"] .counts').textContent()).toMatch(/1\s*degraded.*1\s*healthy/);
      // Sparklines and icons are named or hidden.
      for (const svg of await page.locator('svg').all()) {
        const named = (await svg.getAttribute('aria-label')) || (await svg.getAttribute('aria-hidden')) === 'true';
        expect(named).toBeTruthy();
      }
    } finally {
      await b.close();
    }
  }, 60_000);

  it('follows a dark system theme with readable contrast', async () => {
    const b = await openBrowser({ colorScheme: 'dark' });
    try {
      const { page } = b;
      await page.goto(`${base}/`);
      await page.locator('tr[data-service="web"]').waitFor();
      const colors = await page.evaluate(() => {
        const cs = (sel: string) => getComputedStyle(document.querySelector(sel)!);
        return {
          bg: cs('body').backgroundColor,
          fg: cs('body').color,
          bad: cs('tr[data-service="web"] .st').color,
          link: cs('tr[data-service="web"] a').color,
        };
      });
      expect(luminance(colors.bg)).toBeLessThan(0.05);
      expect(contrast(colors.fg, colors.bg)).toBeGreaterThan(7);
      expect(contrast(colors.bad, colors.bg)).toBeGreaterThan(4.5);
      expect(contrast(colors.link, colors.bg)).toBeGreaterThan(4.5);
      await b.screenshot('mesh-dark');
    } finally {
      await b.close();
    }
    const light = await openBrowser({ colorScheme: 'light' });
    try {
      await light.page.goto(`${base}/`);
      await light.page.locator('tr[data-service="web"]').waitFor();
      const colors = await light.page.evaluate(() => ({
        bg: getComputedStyle(document.body).backgroundColor,
        bad: getComputedStyle(document.querySelector('tr[data-service="web"] .st')!).color,
      }));
      expect(luminance(colors.bg)).toBeGreaterThan(0.9);
      expect(contrast(colors.bad, colors.bg)).toBeGreaterThan(4.5);
    } finally {
      await light.close();
    }
  }, 60_000);

  it('fits a phone: no sideways scrolling of the page, the table keeps status, name, score and instances', async () => {
    const b = await openBrowser({ viewport: { width: 390, height: 844 } });
    try {
      const { page } = b;
      await page.goto(`${base}/`);
      await page.locator('tr[data-service="web"]').waitFor();
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      expect(overflow).toBeLessThanOrEqual(0);
      const visible = await page
        .locator('.mesh-table thead th')
        .evaluateAll((ths) => ths.filter((th) => (th as HTMLElement).offsetParent !== null).map((th) => th.textContent?.trim()));
      expect(visible).toEqual(['Status', 'Service', 'Score', 'Instances']);
      await b.screenshot('mesh-phone');
      await page.goto(`${base}/#/service/api`);
      await page.locator('tr[data-instance="a1"]').waitFor();
      expect(await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth)).toBeLessThanOrEqual(0);
    } finally {
      await b.close();
    }
  }, 60_000);
});
