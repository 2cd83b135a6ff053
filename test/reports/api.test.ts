/**
 * GET /api/v1/reports and the schedule routes: in process over the fixture,
 * and through a real daemon (the extension wired, the OpenAPI document).
 */
import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import Fastify, { type FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfigFile } from '../../src/config/load.js';
import { startDaemon } from '../../src/daemon.js';
import type { OpenedSource } from '../../src/reports/sqlite-source.js';
import { errorHandler } from '../../src/server/errors.js';
import { reportRoutes } from '../../src/server/report-routes.js';
import { END, writeFixture, type Fixture } from './fixture.js';
import { fixtureSource } from './helpers.js';

let fixture: Fixture;
let opened: OpenedSource;
let app: FastifyInstance;
const range = 'from=2026-11-01&to=2026-11-03';

beforeAll(async () => {
  fixture = await writeFixture();
  opened = await fixtureSource(fixture);
  app = Fastify();
  app.setErrorHandler(errorHandler);
  await app.register(async (scope) => reportRoutes(scope, { source: opened.source, now: () => END + 3_600_000 }));
}, 60_000);
afterAll(async () => {
  await app?.close();
  await opened?.close();
  await fixture?.close();
});

describe('GET /api/v1/reports', () => {
  it('streams each format with its content type and a file name', async () => {
    const cases: Array<[string, RegExp, string]> = [
      ['json', /^application\/json/, 'json'],
      ['html', /^text\/html/, 'html'],
      ['csv', /^application\/zip$/, 'zip'],
      ['md', /^text\/markdown/, 'md'],
      ['xlsx', /^application\/vnd\.openxmlformats-officedocument\.spreadsheetml\.sheet$/, 'xlsx'],
    ];
    for (const [format, type, ext] of cases) {
      const res = await app.inject({ method: 'GET', url: `/api/v1/reports?type=summary&format=${format}&${range}` });
      expect(res.statusCode, format).toBe(200);
      expect(res.headers['content-type']).toMatch(type);
      expect(res.headers['content-disposition']).toBe(`attachment; filename="healthmesh-summary-20261101-20261103.${ext}"`);
      if (format === 'xlsx') {
        const wb = new ExcelJS.Workbook();
        await wb.xlsx.load(res.rawPayload as unknown as ArrayBuffer);
        expect(wb.getWorksheet('instances')!.actualRowCount).toBe(4);
      }
    }
  });

  it('applies the filters and a single CSV table', async () => {
    const res = await app.inject({ method: 'GET', url: `/api/v1/reports?type=summary&format=csv&table=instances&tag=blue&${range}` });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/csv/);
    const lines = res.body.trim().split('\r\n');
    expect(lines.slice(1).map((l) => l.split(',').slice(0, 2).join('/'))).toEqual(['api/a1', 'web/w1']);
    const json = await app.inject({ method: 'GET', url: `/api/v1/reports?type=detailed&service=web&${range}` });
    expect(
      new Set(
        json
          .json()
          .tables.find((t: { id: string }) => t.id === 'latency')
          .rows.map((r: unknown[]) => r[1]),
      ),
    ).toEqual(new Set(['web']));
  });

  it('answers 400 naming the parameter, 404 without history, 429 when busy', async () => {
    const bad: Array<[string, RegExp]> = [
      ['type=weekly', /^type: "weekly" is not a report type/],
      ['format=pdf', /^format: "pdf" is not a report format/],
      ['from=soon', /^from: "soon" is not a time/],
      [`${range}&service=nope`, /^service: no history of service "nope"/],
      [`${range}&granularity=week`, /^granularity: "week"/],
      [`${range}&format=csv&table=nope`, /^table: the summary report has no table "nope"/],
    ];
    for (const [query, message] of bad) {
      const res = await app.inject({ method: 'GET', url: `/api/v1/reports?${query}` });
      expect(res.statusCode, query).toBe(400);
      expect(res.json().message, query).toMatch(message);
    }
    const none = Fastify();
    none.setErrorHandler(errorHandler);
    await none.register(async (scope) => reportRoutes(scope, { source: null, now: () => END }));
    expect((await none.inject({ method: 'GET', url: '/api/v1/reports' })).statusCode).toBe(404);
    await none.close();
    const busy = Fastify();
    busy.setErrorHandler(errorHandler);
    await busy.register(async (scope) => reportRoutes(scope, { source: opened.source, now: () => END, maxConcurrent: 0 }));
    const res = await busy.inject({ method: 'GET', url: `/api/v1/reports?${range}` });
    expect(res.statusCode).toBe(429);
    expect(res.headers['retry-after']).toBe('5');
    await busy.close();
  });
});

describe('reports in the daemon', () => {
  it('serves reports and schedules, documented in the OpenAPI document', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hm-reports-daemon-'));
    fixture.store.db.pragma('wal_checkpoint(TRUNCATE)');
    copyFileSync(fixture.path, join(dir, 'history.db'));
    const file = join(dir, 'hm.yaml');
    writeFileSync(
      file,
      `server: { listen: "127.0.0.1:0", token: "a-token-of-16-chars-at-least" }
storage: { path: ${join(dir, 'history.db')} }
reports:
  folder: ${join(dir, 'reports')}
  schedules:
    - { name: daily, cron: "0 6 * * *", type: summary, format: html, range: 1d, keep: 7 }
services:
  api: { instances: [{ id: a1, address: "127.0.0.1:9" }], checks: [{ kind: tcp }] }
`,
    );
    const daemon = await startDaemon({ config: await loadConfigFile(file), configPath: file, logger: pino({ level: 'silent' }) });
    try {
      const base = `http://127.0.0.1:${daemon.address.port}`;
      const res = await fetch(`${base}/api/v1/reports?type=summary&format=html&${range}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-disposition')).toBe('attachment; filename="healthmesh-summary-20261101-20261103.html"');
      expect((await res.text()).startsWith('<!doctype html>')).toBe(true);
      const schedules = (await (await fetch(`${base}/api/v1/reports/schedules`)).json()) as { items: unknown[] };
      expect(schedules.items).toEqual([
        expect.objectContaining({ name: 'daily', cron: '0 6 * * *', lastRunAt: null, lastError: null, nextRunAt: expect.any(Number) }),
      ]);
      const unauth = await fetch(`${base}/api/v1/reports/schedules/daily/run`, { method: 'POST' });
      expect(unauth.status).toBe(401);
      const run = await fetch(`${base}/api/v1/reports/schedules/daily/run`, {
        method: 'POST',
        headers: { authorization: 'Bearer a-token-of-16-chars-at-least' },
      });
      const status = (await run.json()) as { lastFile: string };
      expect(status).toMatchObject({ name: 'daily', lastError: null, files: 1 });
      const kept = await fetch(`${base}/api/v1/reports/files/daily/${status.lastFile}`);
      expect(kept.status).toBe(200);
      expect(kept.headers.get('content-type')).toMatch(/^text\/html/);
      const doc = (await (await fetch(`${base}/api/v1/openapi.json`)).json()) as {
        paths: object;
        components: { schemas: { Report: { properties: { tables: { items: unknown } } } } };
      };
      expect(Object.keys(doc.paths)).toEqual(
        expect.arrayContaining([
          '/api/v1/reports',
          '/api/v1/reports/schedules',
          '/api/v1/reports/schedules/{name}/run',
          '/api/v1/reports/files/{schedule}/{file}',
        ]),
      );
      expect(doc.components.schemas.Report.properties.tables.items).toEqual({ $ref: '#/components/schemas/ReportTable' });
    } finally {
      await daemon.stop();
    }
  }, 60_000);
});
