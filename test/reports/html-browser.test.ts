/**
 * The HTML report of every type in headless Chromium (Debian's, via
 * playwright-core): it loads with no console error and no request besides
 * the file itself, draws every chart of the document, reads on a phone
 * (no page-wide horizontal scroll) and prints; a screenshot of each is kept
 * under test-artifacts/reports/.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ConsoleMessage, Request } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../../bench/lib/chromium.js';
import type { OpenedSource } from '../../src/reports/sqlite-source.js';
import { REPORT_TYPES } from '../../src/reports/types.js';
import { writeFixture, type Fixture } from './fixture.js';
import { fixtureSource, render, request } from './helpers.js';

const ARTIFACTS = resolve(import.meta.dirname, '../../test-artifacts/reports');

let fixture: Fixture;
let opened: OpenedSource;
let browser: Awaited<ReturnType<typeof launchChromium>>;

beforeAll(async () => {
  fixture = await writeFixture();
  opened = await fixtureSource(fixture);
  browser = await launchChromium({ viewport: { width: 1200, height: 900 } });
  mkdirSync(ARTIFACTS, { recursive: true });
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await opened?.close();
  await fixture?.close();
});

describe.each(REPORT_TYPES)('the %s report as HTML', (type) => {
  it('loads offline with its charts, no console error and no request', async () => {
    const r = await render(opened.source, request({ type }), 'html');
    expect(r.contentType).toBe('text/html; charset=utf-8');
    const file = join(fixture.dir, `${type}.html`);
    writeFileSync(file, r.bytes);
    const page = await browser.context.newPage();
    const requests: Request[] = [];
    const messages: ConsoleMessage[] = [];
    const errors: Error[] = [];
    page.on('request', (q) => requests.push(q));
    page.on('console', (m) => messages.push(m));
    page.on('pageerror', (e) => errors.push(e));
    const url = pathToFileURL(file).href;
    await page.goto(url, { waitUntil: 'load' });
    expect(requests.map((q) => q.url())).toEqual([url]);
    expect(messages.filter((m) => m.type() === 'error' || m.type() === 'warning').map((m) => m.text())).toEqual([]);
    expect(errors).toEqual([]);

    // Every chart of the document is drawn, with shapes in it.
    const charts = await page.$$eval('svg[data-chart]', (els) =>
      els.map((e) => ({
        kind: e.getAttribute('data-chart'),
        shapes: e.querySelectorAll('rect,path,circle,line').length,
        width: e.getBoundingClientRect().width,
      })),
    );
    expect(charts.map((c) => c.kind)).toEqual(r.doc.charts.map((c) => c.kind));
    for (const c of charts) {
      expect(c.shapes).toBeGreaterThan(0);
      expect(c.width).toBeGreaterThan(300);
    }
    // Every table is there with its rows.
    const tableRows = await page.$$eval('section.table', (els) => els.map((e) => e.querySelectorAll('tbody tr').length));
    expect(tableRows).toEqual(r.doc.tables.map((t) => t.rows.length));
    await page.screenshot({ path: join(ARTIFACTS, `${type}.png`), fullPage: true });

    // A phone: the page does not scroll sideways; chart and table boxes fit the screen and scroll inside,
    // charts keeping a readable size (labels no smaller than ~8 px).
    await page.setViewportSize({ width: 390, height: 844 });
    // A string: this project's test type-check has no DOM library.
    const phone = (await page.evaluate(
      '({ page: document.documentElement.scrollWidth, view: window.innerWidth, boxes: Math.max(0, ...[...document.querySelectorAll("figure, .scroll")].map((s) => s.getBoundingClientRect().right)), chart: Math.min(...[...document.querySelectorAll("svg.chart")].map((s) => s.getBoundingClientRect().width)) })',
    )) as { page: number; view: number; boxes: number; chart: number };
    expect(phone.page).toBeLessThanOrEqual(phone.view);
    expect(phone.boxes).toBeLessThanOrEqual(phone.view);
    expect(phone.chart).toBeGreaterThanOrEqual(540);
    await page.screenshot({ path: join(ARTIFACTS, `${type}-phone.png`) });

    // Print: a PDF comes out, and the print rules apply (no sideways scroll boxes).
    await page.emulateMedia({ media: 'print' });
    const overflow = await page.evaluate('document.querySelector(".scroll") ? getComputedStyle(document.querySelector(".scroll")).overflowX : "visible"');
    expect(overflow).toBe('visible');
    const pdf = await page.pdf({ format: 'A4' });
    expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
    await page.close();
  }, 60_000);
});
