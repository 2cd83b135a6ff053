import { Ajv2020 } from 'ajv/dist/2020.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ResultRecord, TransitionRecord } from '../../src/store/types.js';
import { T0 } from '../store/contract.js';
import { DOWN, startHistoryDaemon, type HistoryDaemon } from '../store/history-harness.js';

const MIN = 60_000;
const root = mkdtempSync(join(tmpdir(), 'healthmesh-history-routes-'));
/** Twelve minutes before the hour T0, so the hour before T0 is complete after 14 minutes. */
const START = T0 - 12 * MIN;
let d: HistoryDaemon;
let downAt = 0;
let upAt = 0;

beforeAll(async () => {
  d = await startHistoryDaemon(join(root, 'history.db'), START);
  await d.run(3 * MIN);
  d.outcomes['api/a1/tcp'] = DOWN;
  await d.run(2 * MIN);
  delete d.outcomes['api/a1/tcp'];
  await d.run(9 * MIN);
  await d.writer.flush();
  await d.store.maintain(d.clock.now(), { lateMs: 0 });
  const a1 = (await d.store.queryTransitions({ service: 'api', instance: 'a1', levels: ['instance'] })).items;
  downAt = a1.find((t) => t.to === 'UNHEALTHY')!.at;
  upAt = a1.find((t) => t.from === 'UNHEALTHY')!.at;
}, 60_000);
afterAll(async () => {
  await d.stop();
  rmSync(root, { recursive: true, force: true });
});

const get = async (url: string) => {
  const res = await d.app.inject(url);
  return { status: res.statusCode, body: res.json() };
};

/** Every raw result of a selector in [from, to). */
async function raw(q: { checkId?: string; service?: string; instance?: string }, from: number, to: number): Promise<ResultRecord[]> {
  const out: ResultRecord[] = [];
  let cursor: string | null = null;
  do {
    const page = await d.store.queryResults({ ...q, from, to, cursor, limit: 10_000 });
    out.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return out;
}

describe('GET …/rollups', () => {
  it("gives a check's minute rollups, its id as path segments or URL-encoded, times as epoch ms, ISO 8601 or a duration back", async () => {
    const from = START;
    const to = START + 10 * MIN;
    const byEpoch = await get(`/api/v1/checks/api/a1/tcp/rollups?step=1m&from=${from}&to=${to}`);
    expect(byEpoch.status).toBe(200);
    expect(byEpoch.body).toMatchObject({ id: 'api/a1/tcp', step: '1m', from, to });
    const rows = await raw({ checkId: 'api/a1/tcp' }, from, to);
    expect(byEpoch.body.items.map((r: { bucketStart: number }) => r.bucketStart)).toEqual([...new Set(rows.map((r) => r.observedAt - (r.observedAt % MIN)))]);
    for (const bucket of byEpoch.body.items) {
      const inBucket = rows.filter((r) => r.observedAt - (r.observedAt % MIN) === bucket.bucketStart);
      expect(bucket.count).toBe(inBucket.length);
      expect(bucket.failures).toBe(inBucket.filter((r) => r.status !== 'HEALTHY').length);
      expect(bucket.minScore).toBe(Math.min(...inBucket.map((r) => r.checkScore!)));
    }
    expect(byEpoch.body.items.some((b: { failures: number }) => b.failures > 0)).toBe(true);
    const iso = (t: number) => new Date(t).toISOString();
    expect((await get(`/api/v1/checks/api%2Fa1%2Ftcp/rollups?from=${iso(from)}&to=${iso(to)}`)).body).toEqual(byEpoch.body);
    const back = await get(`/api/v1/checks/api/a1/tcp/rollups?from=${(d.clock.now() - from) / 1000}s&to=${to}`);
    expect(back.body).toEqual(byEpoch.body);
  });

  it("gives an instance's and a service's rollups from all their checks' results, minute and hour", async () => {
    const from = START;
    const to = T0;
    const minutes = (await get(`/api/v1/instances/api/a1/rollups?from=${from}&to=${to}`)).body;
    expect(minutes.id).toBe('api/a1');
    expect((await get(`/api/v1/instances/a1/rollups?from=${from}&to=${to}`)).body).toEqual(minutes);
    const rows = await raw({ service: 'api', instance: 'a1' }, from, to);
    expect(minutes.items.reduce((n: number, b: { count: number }) => n + b.count, 0)).toBe(rows.length);
    const hour = (await get(`/api/v1/services/api/rollups?step=1h&from=${T0 - 3_600_000}&to=${T0}`)).body;
    expect(hour.items).toHaveLength(1);
    const serviceRows = await raw({ service: 'api' }, T0 - 3_600_000, T0);
    expect(hour.items[0]).toMatchObject({ bucketStart: T0 - 3_600_000, count: serviceRows.length });
    expect(hour.items[0].statusCounts.UNHEALTHY).toBe(serviceRows.filter((r) => r.status === 'UNHEALTHY').length);
  });

  it('answers 400 naming the parameter for a bad step or time, and 404 for an unknown instance', async () => {
    const cases: [string, RegExp][] = [
      ['/api/v1/checks/api/a1/tcp/rollups?step=5m', /^step: "5m" is not one of 1m, 1h/],
      ['/api/v1/checks/api/a1/tcp/rollups?from=yesterday', /^from: "yesterday" is not a time/],
      ['/api/v1/services/api/rollups?to=2024-13-45T00:00:00Z', /^to: "2024-13-45T00:00:00Z" is not a time/],
      [`/api/v1/services/api/rollups?from=${T0}&to=${T0}`, /^from: .* is not before to/],
      [`/api/v1/services/api/rollups?from=30d`, /^from: .*more than 10080 buckets.*use step=1h/],
      ['/api/v1/instances/nope/uptime', /no instance "nope"/],
    ];
    for (const [url, message] of cases) {
      const res = await get(url);
      expect(res.status, url).toBe(url.includes('nope') ? 404 : 400);
      expect(res.body.message, url).toMatch(message);
    }
  });
});

describe('GET /api/v1/transitions', () => {
  /** The stored transitions matching `keep`, newest first. */
  const expected = async (keep: (t: TransitionRecord) => boolean) =>
    (await d.store.transitionsAfter(0, 10_000))
      .filter(keep)
      .sort((a, b) => b.at - a.at || b.id! - a.id!)
      .map((t) => t.id);
  const pages = async (query: string) => {
    const ids: number[] = [];
    let cursor = '';
    for (let i = 0; i < 100; i++) {
      const { status, body } = await get(`/api/v1/transitions?limit=3&${query}${cursor}`);
      expect(status).toBe(200);
      ids.push(...body.items.map((t: { id: number }) => t.id));
      if (!body.nextCursor) return ids;
      cursor = `&cursor=${body.nextCursor}`;
    }
    throw new Error('no last page');
  };

  it('pages newest first, filtered by service, instance, check, level and time', async () => {
    expect(await pages('')).toEqual(await expected(() => true));
    expect(await pages('service=api')).toEqual(await expected((t) => t.service === 'api'));
    expect(await pages('instance=api/a1')).toEqual(await expected((t) => t.service === 'api' && t.instance === 'a1'));
    expect(await pages('check=api/a1/tcp')).toEqual(await expected((t) => t.checkId === 'api/a1/tcp'));
    expect(await pages('service=api&level=instance,service')).toEqual(await expected((t) => t.service === 'api' && t.level !== 'check'));
    const iso = new Date(downAt).toISOString();
    expect(await pages(`from=${iso}&to=${upAt}`)).toEqual(await expected((t) => t.at >= downAt && t.at < upAt));
    const { body } = await get('/api/v1/transitions?instance=api/a1&level=instance&limit=1');
    expect(body.items[0]).toEqual({
      id: expect.any(Number),
      level: 'instance',
      check: null,
      service: 'api',
      instance: 'a1',
      from: 'UNHEALTHY',
      to: 'HEALTHY',
      reason: 'rollup',
      output: 'api/a1/tcp',
      at: upAt,
    });
  });

  it('answers 400 naming the parameter', async () => {
    for (const [query, message] of [
      ['limit=0', /^limit: /],
      ['level=mesh', /^level: "mesh"/],
      ['check=api/a1/tcp&service=api', /^check: /],
      ['cursor=nonsense', /^cursor: /],
      ['from=soon', /^from: /],
      ['instance=web/a1&service=api', /^instance: /],
    ] as const) {
      const res = await get(`/api/v1/transitions?${query}`);
      expect(res.status, query).toBe(400);
      expect(res.body.message, query).toMatch(message);
    }
  });
});

describe('GET …/uptime', () => {
  it("gives an instance's and a service's uptime over the range, ending now at the latest", async () => {
    const now = d.clock.now();
    const instance = (await get(`/api/v1/instances/api/a1/uptime?from=${START}&to=${now + 3_600_000}`)).body;
    expect(instance).toMatchObject({
      service: 'api',
      instance: 'a1',
      from: START,
      to: now,
      incidents: 1,
      recoveries: 1,
      mttrMs: upAt - downAt,
      openIncidentSince: null,
    });
    expect(instance.ms.UNHEALTHY).toBe(upAt - downAt);
    expect(instance.knownMs + instance.unknownMs).toBe(now - START);
    expect(instance.uptimePercent).toBeCloseTo(((instance.knownMs - (upAt - downAt)) / instance.knownMs) * 100, 9);
    expect((await get(`/api/v1/instances/a1/uptime?from=${START}`)).body).toEqual(instance);
    const service = (await get('/api/v1/services/web/uptime?from=1h')).body;
    expect(service).toMatchObject({ service: 'web', instance: null, from: now - 3_600_000, to: now, uptimePercent: 100, incidents: 0, mttrMs: null });
  });
});

describe('OpenAPI', () => {
  it('documents the history routes with response schemas the answers match', async () => {
    const doc = (await get('/api/v1/openapi.json')).body;
    const ajv = new Ajv2020({ strict: false });
    const routes: Array<[string, string]> = [
      ['/api/v1/checks/{id}/rollups', `/api/v1/checks/api/a1/tcp/rollups?from=${START}`],
      ['/api/v1/instances/{id}/rollups', `/api/v1/instances/api/a1/rollups?from=${START}`],
      ['/api/v1/services/{service}/rollups', `/api/v1/services/api/rollups?from=${START}`],
      ['/api/v1/transitions', '/api/v1/transitions'],
      ['/api/v1/services/{service}/uptime', '/api/v1/services/api/uptime'],
      ['/api/v1/instances/{id}/uptime', '/api/v1/instances/api/a2/uptime'],
    ];
    for (const [path, url] of routes) {
      const ref: string = doc.paths[path].get.responses['200'].content['application/json'].schema.$ref;
      const schema = doc.components.schemas[ref.replace('#/components/schemas/', '')];
      const validate = ajv.compile(schema);
      const { body } = await get(url);
      expect(validate(body), `${path}: ${JSON.stringify(validate.errors)}`).toBe(true);
    }
    expect(doc.paths['/api/v1/services/{service}/instances']).toBeDefined(); // the rest of the document is still there
  });
});
