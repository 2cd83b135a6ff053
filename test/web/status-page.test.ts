import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Daemon } from '../../src/daemon.js';
import { foreignRequests, openBrowser, unexpectedConsoleErrors, type Expected, type RecordingBrowser } from './helpers/browser.js';
import { runDaemon, tempDir, until } from './helpers/daemon.js';

const TOKEN = 'status-page-server-token-0123';
const PAGE_TOKEN = 'status-page-own-token-0123456';

/** Reads are protected: only what status pages and badges open is readable without the token. */
const yaml = (db: string, up: number, down: number) => `
server: { token: ${TOKEN}, protect_reads: true }
storage: { path: "${db}", flush_interval: 200ms }
defaults: { interval: 250ms, timeout: 500ms, rise: 1, fall: 1 }
status_pages:
  public:
    title: Example Shop status
    description: Our storefront and its API.
    services: [storefront, api]
  partners:
    title: Partner API
    public: false
    token: ${PAGE_TOKEN}
    services: [api]
services:
  api:
    instances: [{ id: a1, address: "127.0.0.1:${up}" }]
    checks: [{ kind: tcp }]
  storefront:
    depends_on: [secret-ledger]
    instances: [{ id: s1, address: "127.0.0.1:${up}" }]
    checks: [{ kind: tcp }]
  secret-ledger:
    instances: [{ id: l1, address: "127.0.0.1:${down}" }]
    checks: [{ kind: tcp }]
`;

/** A closed loopback port: connecting to it is refused. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe('status pages and badges', () => {
  let target: Server;
  let daemon: Daemon;
  let base: string;
  let browser: RecordingBrowser;

  beforeAll(async () => {
    target = createServer((s) => s.end());
    await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
    ({ daemon, base } = await runDaemon(yaml(join(tempDir(), 'hm.db'), (target.address() as { port: number }).port, await closedPort())));
    // storefront depends on secret-ledger, which is down: storefront is DEGRADED with a cause naming it.
    await until(() => daemon.rollup.service('storefront') === 'DEGRADED' && daemon.rollup.service('api') === 'HEALTHY', 15_000, 'the mesh to settle');
    browser = await openBrowser();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await daemon?.stop();
    target?.close();
  });

  it('shows its group with 90 days of bars and incidents, and reveals nothing outside it, with reads protected', async () => {
    const { page } = browser;
    const bodies: string[] = [];
    page.on('response', async (r) => {
      if (new URL(r.url()).pathname.startsWith('/api/')) bodies.push(await r.text());
    });
    await page.goto(`${base}/status/public`);
    await page.locator('li[data-service="storefront"]').waitFor();
    expect(await page.locator('h1').textContent()).toBe('Example Shop status');
    expect(await page.locator('.overall').textContent()).toContain('Some systems are degraded');
    expect(await page.locator('.status-services > li').evaluateAll((lis) => lis.map((li) => li.getAttribute('data-service')))).toEqual(['storefront', 'api']);
    expect(await page.locator('li[data-service="api"] .uptime-bars li').count()).toBe(90);
    expect(await page.locator('#current-title').count()).toBe(1);
    const text = (await page.locator('body').textContent()) ?? '';
    expect(text).not.toContain('secret-ledger');
    expect(bodies.length).toBeGreaterThan(0);
    for (const b of bodies) expect(b).not.toContain('secret-ledger');
    await browser.screenshot('status-page');

    const data = (await (await fetch(`${base}/api/v1/status/public`)).json()) as {
      services: Array<{ name: string; days: unknown[] }>;
      incidents: { current: Array<{ service: string }> };
    };
    expect(data.services.map((s) => s.name)).toEqual(['storefront', 'api']);
    expect(data.services[0]!.days).toHaveLength(90);
    expect(data.incidents.current.map((i) => i.service)).toEqual(['storefront']);
    expect(JSON.stringify(data)).not.toContain('secret-ledger');

    expect(browser.pageErrors).toEqual([]);
    expect(unexpectedConsoleErrors(browser.console)).toEqual([]);
    expect(foreignRequests(browser.requests, base)).toEqual([]);
  }, 60_000);

  it('asks for the token of a page that is not public; that token opens that page only', async () => {
    expect((await fetch(`${base}/api/v1/status/partners`)).status).toBe(401);
    expect((await fetch(`${base}/api/v1/status/partners`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(401);
    expect((await fetch(`${base}/api/v1/status/partners`, { headers: { authorization: `Bearer ${PAGE_TOKEN}` } })).status).toBe(200);
    expect((await fetch(`${base}/api/v1/services`, { headers: { authorization: `Bearer ${PAGE_TOKEN}` } })).status).toBe(401);
    expect((await fetch(`${base}/api/v1/status/nope`)).status).toBe(404);

    const other = await openBrowser();
    try {
      const { page } = other;
      const consoleFrom = other.console.length;
      await page.goto(`${base}/status/partners`);
      const dialog = page.locator('dialog.token-dialog');
      await dialog.waitFor({ state: 'visible' });
      expect(await dialog.textContent()).toContain('This status page is not public');
      await dialog.getByLabel('Token').fill(PAGE_TOKEN);
      await dialog.getByRole('button', { name: 'Use token' }).click();
      await page.locator('li[data-service="api"]').waitFor();
      expect(await page.locator('.status-services > li').count()).toBe(1);
      // The refused first read is the one console line: the browser logs every 401.
      const refused: Expected = (m, i) => i >= consoleFrom && m.text().includes('status of 401') && m.location().url.endsWith('/api/v1/status/partners');
      expect(unexpectedConsoleErrors(other.console, refused)).toEqual([]);
    } finally {
      await other.close();
    }
  }, 60_000);

  it('has the dashboard ask for the token when reads are protected, and go live with it held in memory', async () => {
    const other = await openBrowser();
    try {
      const { page } = other;
      await page.goto(`${base}/`);
      const dialog = page.locator('dialog.token-dialog');
      await dialog.waitFor({ state: 'visible' });
      expect(await dialog.textContent()).toContain('protects its API');
      await dialog.getByLabel('Token').fill(TOKEN);
      await dialog.getByRole('button', { name: 'Use token' }).click();
      await page.locator('tr[data-service="secret-ledger"][data-status="UNHEALTHY"]').waitFor();
      await page.locator('body[data-live="live"]').waitFor();
      const streams = other.requests.filter((r) => new URL(r.url()).pathname === '/api/v1/web/events');
      expect(streams.length).toBeGreaterThan(0);
      expect((await streams[0]!.allHeaders()).authorization).toBe(`Bearer ${TOKEN}`);
      expect(await page.evaluate(() => ({ local: localStorage.length, session: sessionStorage.length, cookie: document.cookie }))).toEqual({
        local: 0,
        session: 0,
        cookie: '',
      });
      // The first, refused read of the mesh is the one console line (the browser logs every 401).
      const refused: Expected = (m) => m.text().includes('status of 401') && m.location().url.endsWith('/api/v1/web/summary');
      expect(unexpectedConsoleErrors(other.console, refused)).toEqual([]);
      expect(other.pageErrors).toEqual([]);
      expect(foreignRequests(other.requests, base)).toEqual([]);
    } finally {
      await other.close();
    }
  }, 60_000);

  it('serves valid, cacheable SVG badges for services on a public page, and none for others without the token', async () => {
    const { page } = browser;
    const kinds = [
      ['status', /^api: healthy$/],
      ['uptime', /^uptime 30d: (n\/a|\d+(\.\d+)?%)$/],
      ['latency', /^latency: \d+(\.\d)? ms$/],
    ] as const;
    for (const [kind, label] of kinds) {
      const res = await fetch(`${base}/badge/api/${kind}.svg${kind === 'uptime' ? '?period=30d' : ''}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('image/svg+xml; charset=utf-8');
      expect(res.headers.get('cache-control')).toMatch(/^public, max-age=\d+, s-maxage=\d+$/);
      const svg = await res.text();
      // Parsed by the browser's XML parser: a document with an <svg> root in the SVG namespace, and no parser error.
      const parsed = await page.evaluate((text) => {
        const doc = new DOMParser().parseFromString(text, 'image/svg+xml');
        const root = doc.documentElement;
        return {
          error: doc.getElementsByTagName('parsererror').length,
          root: root.localName,
          ns: root.namespaceURI,
          label: root.getAttribute('aria-label'),
          title: root.querySelector('title')?.textContent,
        };
      }, svg);
      expect(parsed).toMatchObject({ error: 0, root: 'svg', ns: 'http://www.w3.org/2000/svg' });
      expect(parsed.label).toMatch(label);
      expect(parsed.title).toBe(parsed.label);
    }
    // secret-ledger is on no public page: reads are protected, so its badge needs the token.
    const hidden = await fetch(`${base}/badge/secret-ledger/status.svg`);
    expect(hidden.status).toBe(401);
    expect(await hidden.text()).toContain('aria-label="secret-ledger: token needed"');
    const withToken = await fetch(`${base}/badge/secret-ledger/status.svg`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(await withToken.text()).toContain('aria-label="secret-ledger: down"');
    expect((await fetch(`${base}/badge/api/uptime.svg?period=1y`)).status).toBe(400);

    // And as images, drawn by the browser.
    await page.goto(`${base}/status/public`);
    const sizes = await page.evaluate(async (origin) => {
      const load = (src: string) =>
        new Promise<number>((resolve) => {
          const img = new Image();
          img.onload = () => resolve(img.naturalWidth);
          img.onerror = () => resolve(-1);
          img.src = src;
        });
      return Promise.all(['status', 'uptime', 'latency'].map((k) => load(`${origin}/badge/api/${k}.svg`)));
    }, base);
    for (const w of sizes) expect(w).toBeGreaterThan(40);
  }, 60_000);
});
