/**
 * The figures of each report equal those computed here, independently, from
 * the fixture's raw rows and scripted timelines, including ranges that cut
 * through an incident and through rollup (hour) boundaries.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Downsampler } from '../../src/analysis/stats/downsampler.js';
import { trendOf } from '../../src/analysis/trend.js';
import type { HealthStatus } from '../../src/core/status.js';
import type { OpenedSource } from '../../src/reports/sqlite-source.js';
import type { ReportDocument, Table } from '../../src/reports/types.js';
import { ALERTS, DAY, END, HOUR, INSTANCE_TIMELINES, MIN, SERVICE_TIMELINES, statusAt, T0, writeFixture, type Fixture, type Timeline } from './fixture.js';
import { fixtureSource, render, request } from './helpers.js';

let fixture: Fixture;
let opened: OpenedSource;

beforeAll(async () => {
  fixture = await writeFixture();
  opened = await fixtureSource(fixture);
}, 60_000);
afterAll(async () => {
  await opened?.close();
  await fixture?.close();
});

async function build(over: Parameters<typeof request>[0]): Promise<ReportDocument> {
  return (await render(opened.source, request(over), 'json')).doc;
}

/** Rows of a table as records by column key. */
function records(doc: ReportDocument, id: string): Array<Record<string, string | number | null>> {
  const t: Table = doc.tables.find((x) => x.id === id)!;
  return t.rows.map((r) => Object.fromEntries(t.columns.map((c, i) => [c.key, r[i]!])));
}

/** Time per status of a scripted timeline over [from, to), maintenance intervals left out. */
function msPerStatus(timeline: Timeline, from: number, to: number, maintenance: Array<[number, number]> = []): Record<HealthStatus, number> {
  const ms: Record<HealthStatus, number> = { HEALTHY: 0, DEGRADED: 0, UNHEALTHY: 0, UNKNOWN: 0 };
  // One-second steps: slow but obviously right, and every scripted change is on a second.
  for (let t = from; t < to; t += 1000) {
    if (maintenance.some(([a, b]) => t >= a && t < b)) continue;
    ms[statusAt(timeline, t).status] += Math.min(1000, to - t);
  }
  return ms;
}

/** Incidents of a timeline: [start, end|null] (UNKNOWN inside does not end one). */
function incidents(timeline: Timeline): Array<[number, number | null]> {
  const out: Array<[number, number | null]> = [];
  let open: number | null = null;
  for (const [at, s] of timeline) {
    if (s === 'UNHEALTHY' && open === null) open = at;
    else if ((s === 'HEALTHY' || s === 'DEGRADED') && open !== null) {
      out.push([open, at]);
      open = null;
    }
  }
  if (open !== null) out.push([open, null]);
  return out;
}

function nearestRank(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length - 1e-9))) - 1]!;
}
const r3 = (x: number): number => Math.round(x * 1000) / 1000;

describe('summary', () => {
  const ranges: Array<[string, number, number]> = [
    ['the whole history', T0, END],
    ['a range cutting both a1 incidents, off the hour and day boundaries', T0 + 11 * HOUR + 17 * MIN + 13_000, T0 + 30 * HOUR + 10 * MIN],
    ['a range inside one day, inside an incident', T0 + 10 * HOUR + 30 * MIN, T0 + 12 * HOUR],
  ];
  it.each(ranges)('uptime, unknown, maintenance and incidents over %s equal the scripted timelines', async (_name, from, to) => {
    const doc = await build({ from, to });
    const maintenance: Array<[number, number]> = [[T0 + 44 * HOUR, T0 + 46 * HOUR]];
    const check = (row: Record<string, string | number | null>, timeline: Timeline, inMaintenance: boolean): void => {
      const windows = inMaintenance ? maintenance : [];
      const ms = msPerStatus(timeline, from, to, windows);
      const maint = windows.reduce((n, [a, b]) => n + Math.max(0, Math.min(b, to) - Math.max(a, from)), 0);
      expect(row.healthy_ms).toBe(ms.HEALTHY);
      expect(row.degraded_ms).toBe(ms.DEGRADED);
      expect(row.unhealthy_ms).toBe(ms.UNHEALTHY);
      expect(row.unknown_ms).toBe(ms.UNKNOWN);
      expect(row.maintenance_ms).toBe(maint);
      const known = ms.HEALTHY + ms.DEGRADED + ms.UNHEALTHY;
      expect(row.uptime_percent).toBeCloseTo(((ms.HEALTHY + ms.DEGRADED) / known) * 100, 4);
      const all = incidents(timeline);
      expect(row.incidents).toBe(all.filter(([a]) => a >= from && a < to).length);
      const ended = all.filter(([, b]) => b !== null && b >= from && b < to);
      expect(row.mttr_ms).toBe(ended.length ? Math.round(ended.reduce((n, [a, b]) => n + (b! - a), 0) / ended.length) : null);
      const inside = all.map(([a, b]) => Math.max(0, Math.min(b ?? to, to) - Math.max(a, from)));
      expect(row.longest_incident_ms).toBe(Math.max(0, ...inside));
      expect(row.status).toBe(statusAt(timeline, to - 1).status);
    };
    for (const row of records(doc, 'instances')) check(row, INSTANCE_TIMELINES[`${row.service}/${row.instance}`]!, row.service === 'web');
    for (const row of records(doc, 'services')) check(row, SERVICE_TIMELINES[row.service as string]!, row.service === 'web');
    expect(doc.notes.some((n) => n.startsWith('Uptime % = (HEALTHY + DEGRADED time)') && n.includes('UNKNOWN time') && n.includes('maintenance'))).toBe(true);
  });

  it('counts the a1 incident once although it passes through UNKNOWN', async () => {
    const doc = await build({ from: T0 + DAY, to: END });
    const a1 = records(doc, 'instances').find((r) => r.instance === 'a1')!;
    expect(a1.incidents).toBe(1);
    expect(a1.longest_incident_ms).toBe(HOUR);
  });

  it('has an error budget from the objective and the known time', async () => {
    const doc = await build({ sloObjective: 0.99 });
    const a1 = records(doc, 'instances').find((r) => r.instance === 'a1')!;
    const ms = msPerStatus(INSTANCE_TIMELINES['api/a1']!, T0, END);
    const budget = 0.01 * (ms.HEALTHY + ms.DEGRADED + ms.UNHEALTHY);
    expect(a1.budget_ms).toBe(Math.round(budget));
    expect(a1.budget_remaining_percent).toBeCloseTo((1 - ms.UNHEALTHY / budget) * 100, 2);
  });

  it('filters by tag, zone and service; an unknown service is an error naming the field', async () => {
    const blue = await build({ tags: ['blue'] });
    expect(records(blue, 'instances').map((r) => `${r.service}/${r.instance}`)).toEqual(['api/a1', 'web/w1']);
    expect(blue.notes.some((n) => n.includes('Tags or zones narrow'))).toBe(true);
    // A narrowed service row adds up its selected instances: api is a1 alone.
    const apiRow = records(blue, 'services').find((r) => r.service === 'api')!;
    expect(apiRow.unhealthy_ms).toBe(msPerStatus(INSTANCE_TIMELINES['api/a1']!, T0, END).UNHEALTHY);
    const eu2 = await build({ zones: ['eu-2'] });
    expect(records(eu2, 'instances').map((r) => r.instance)).toEqual(['a2', 'w1']);
    const web = await build({ services: ['web'] });
    expect(records(web, 'services').map((r) => r.service)).toEqual(['web']);
    await expect(build({ services: ['nope'] })).rejects.toThrow(/^service: no history of service "nope".*api, web/);
  });
});

describe('detailed', () => {
  const from = T0 + 10 * HOUR + 30 * MIN + 5_000; // cuts an hour (and a minute) and starts inside an incident
  const to = T0 + 13 * HOUR + 1_000;
  let doc: ReportDocument;
  beforeAll(async () => {
    doc = await build({ type: 'detailed', from, to, granularity: 'hour' });
  });

  it('reads a minute whose rowid range is long (a late row) in slices, to the same figures', async () => {
    // The late 11:00:30 row makes that minute's range span the file: slices of 500 rows walk it.
    const sliced = await fixtureSource(fixture, true, 500);
    try {
      const again = (await render(sliced.source, request({ type: 'detailed', from, to, granularity: 'hour' }), 'json')).doc;
      expect(again.tables).toEqual(doc.tables);
      const late = records(again, 'latency').find((r) => r.period === T0 + 11 * HOUR && r.check === 'tcp' && r.instance === 'a1')!;
      expect(late.results).toBe(61);
      expect(late.max_ms).toBe(977.5);
    } finally {
      await sliced.close();
    }
  });

  it('gives exact nearest-rank percentiles per check and hour, the cut hours included', async () => {
    const rows = records(doc, 'latency');
    const expected: typeof rows = [];
    for (let h = T0 + 10 * HOUR; h < to; h += HOUR) {
      const a = Math.max(h, from);
      const b = Math.min(h + HOUR, to);
      for (const checkId of ['api/a1/http', 'api/a1/tcp', 'api/a2/tcp', 'web/w1/http']) {
        const mine = fixture.results.filter((r) => r.checkId === checkId && r.observedAt >= a && r.observedAt < b);
        if (mine.length === 0) continue;
        const d = mine.map((r) => r.durationMs).sort((x, y) => x - y);
        const [service, instance, check] = checkId.split('/');
        expected.push({
          period: a,
          service: service!,
          instance: instance!,
          check: check!,
          results: d.length,
          failures: mine.filter((r) => r.status !== 'HEALTHY').length,
          p50_ms: r3(nearestRank(d, 0.5)),
          p95_ms: r3(nearestRank(d, 0.95)),
          p99_ms: r3(nearestRank(d, 0.99)),
          min_ms: r3(d[0]!),
          avg_ms: r3(d.reduce((s, x) => s + x, 0) / d.length),
          max_ms: r3(d[d.length - 1]!),
        });
      }
    }
    const key = (r: (typeof rows)[number]): string => `${r.period}/${r.service}/${r.instance}/${r.check}`;
    expect([...rows].sort((x, y) => (key(x) < key(y) ? -1 : 1))).toEqual([...expected].sort((x, y) => (key(x) < key(y) ? -1 : 1)));
    expect(rows[0]!.period).toBe(from);
  });

  it('ranks failure reasons with counts from the raw rows', () => {
    const rows = records(doc, 'failure_reasons');
    const failed = fixture.results.filter((r) => r.observedAt >= from && r.observedAt < to && r.status !== 'HEALTHY');
    expect(rows.reduce((n, r) => n + (r.count as number), 0)).toBe(failed.length);
    const a1http = rows.filter((r) => r.instance === 'a1' && r.check === 'http');
    expect(a1http).toEqual([
      {
        service: 'api',
        instance: 'a1',
        check: 'http',
        rank: 1,
        reason: 'timeout',
        count: failed.filter((r) => r.checkId === 'api/a1/http').length,
        share_percent: 100,
      },
    ]);
  });

  it('lists every check and instance transition of the range with reason and output', () => {
    const rows = records(doc, 'transitions');
    // a1 went HEALTHY at 12:30: its two checks and the instance, each with its reason and output.
    const got = rows.map((r) => `${r.at}|${r.level}|${r.service}/${r.instance}/${r.check ?? ''}|${r.from}>${r.to}|${r.reason}|${r.output}`).sort();
    const at = T0 + 12.5 * HOUR;
    expect(got).toEqual(
      [
        `${at}|instance|api/a1/|UNHEALTHY>HEALTHY|rollup|api/a1 is HEALTHY`,
        `${at}|check|api/a1/http|UNHEALTHY>HEALTHY|ok|api/a1/http ok`,
        `${at}|check|api/a1/tcp|UNHEALTHY>HEALTHY|ok|api/a1/tcp ok`,
      ].sort(),
    );
  });
});

describe('metrics', () => {
  it('per hour: counts, failures, min/avg/max and the exact p95 of each service hour (the rollup)', async () => {
    const from = T0 + 9 * HOUR;
    const to = T0 + 14 * HOUR;
    const doc = await build({ type: 'metrics', from, to, granularity: 'hour' });
    const rows = records(doc, 'services');
    expect(rows.length).toBe(10);
    for (const row of rows) {
      const t = row.period as number;
      const mine = fixture.results.filter((r) => r.service === row.service && r.observedAt >= t && r.observedAt < t + HOUR);
      const d = mine.map((r) => r.durationMs).sort((x, y) => x - y);
      expect(row.results).toBe(d.length);
      expect(row.failures).toBe(mine.filter((r) => r.status !== 'HEALTHY').length);
      expect(row.min_ms).toBe(r3(d[0]!));
      expect(row.max_ms).toBe(r3(d[d.length - 1]!));
      expect(row.avg_ms as number).toBeCloseTo(d.reduce((s, x) => s + x, 0) / d.length, 2);
      expect(row.p95_ms).toBe(r3(nearestRank(d, 0.95)));
    }
  });

  it('per day in a time zone: periods start at local midnight, counts exact across hour rollups', async () => {
    const doc = await build({ type: 'metrics', granularity: 'day', timeZone: 'Europe/Paris' });
    const rows = records(doc, 'instances').filter((r) => r.instance === 'a2');
    // Paris is UTC+1 in November: days begin at 23:00 UTC; the range's first day is cut at T0.
    expect(rows.map((r) => r.period)).toEqual([T0, T0 + 23 * HOUR, T0 + 47 * HOUR]);
    for (const [i, [a, b]] of [
      [T0, T0 + 23 * HOUR],
      [T0 + 23 * HOUR, T0 + 47 * HOUR],
      [T0 + 47 * HOUR, END],
    ].entries()) {
      const mine = fixture.results.filter((r) => r.instance === 'a2' && r.observedAt >= a! && r.observedAt < b!);
      expect(rows[i]!.results).toBe(mine.length);
      // The period p95 shown is the highest hourly p95: never below the true p95.
      const d = mine.map((r) => r.durationMs).sort((x, y) => x - y);
      expect(rows[i]!.p95_ms as number).toBeGreaterThanOrEqual(r3(nearestRank(d, 0.95))!);
    }
  });
});

describe('alerts', () => {
  it('fired, resolved, time to resolve, deliveries per notifier and suppressions, over a range cutting an alert', async () => {
    const from = T0 + 11 * HOUR;
    const to = T0 + 41 * HOUR;
    const doc = await build({ type: 'alerts', from, to });
    const rules = records(doc, 'rules');
    const down = rules.find((r) => r.rule === 'instance_down')!;
    expect(down.fired).toBe(2); // a1 at 30:01, w1 at 40:01 (a1's 10:02 firing is before the range)
    expect(down.resolved).toBe(2); // 12:31 and 31:01
    const ttr = [T0 + 12.5 * HOUR + MIN - (T0 + 10 * HOUR + 2 * MIN), HOUR];
    expect(down.mean_time_to_resolve_ms).toBe(Math.round((ttr[0]! + ttr[1]!) / 2));
    expect(down.longest_time_to_resolve_ms).toBe(ttr[0]);
    expect(rules[0]!.rule).toBe('instance_down'); // noisiest first
    const notifiers = records(doc, 'notifiers');
    const inRange = (notifier: string, type: string): number =>
      ALERTS.flatMap((a) => a.timeline).filter((e) => e.notifier === notifier && e.type === type && e.at >= from && e.at < to).length;
    expect(notifiers.find((n) => n.notifier === 'ops-mail')!.delivered).toBe(inRange('ops-mail', 'delivered'));
    // hook's one failed try was at 10:02, before the range: it has nothing to show.
    expect(notifiers.find((n) => n.notifier === 'hook')?.failed_tries ?? 0).toBe(inRange('hook', 'delivery_failed'));
    const whole = records(await build({ type: 'alerts' }), 'notifiers');
    expect(whole.find((n) => n.notifier === 'hook')).toMatchObject({ delivered: 0, failed_tries: 1 });
    expect(records(doc, 'suppressed')).toEqual([
      { at: T0 + 40 * HOUR + 2 * MIN, rule: 'latency_high', service: 'web', instance: null, detail: 'folded into w1-down' },
    ]);
  });

  it('says there is no alert data instead of inventing figures when the store has none', async () => {
    const bare = await writeFixture({ alerts: false });
    const src = await fixtureSource(bare, false);
    try {
      const doc = (await render(src.source, request({ type: 'alerts' }), 'json')).doc;
      expect(doc.notes[0]).toMatch(/^No alert data: this store holds no alert records/);
      expect(doc.tables.every((t) => t.rows.length === 0)).toBe(true);
    } finally {
      await src.close();
      await bare.close();
    }
  }, 60_000);
});

describe('trends', () => {
  it("runs the analyze CLI's trend code over the service rollup series", async () => {
    const doc = await build({ type: 'trends' });
    const rows = records(doc, 'trends');
    expect(rows.map((r) => `${r.service}:${r.series}`)).toEqual([
      'api:latency_ms',
      'api:failure_rate_percent',
      'api:score',
      'web:latency_ms',
      'web:failure_rate_percent',
      'web:score',
    ]);
    const rollups = await fixture.store.queryRollups({ service: 'web', resolution: 'minute', from: T0, to: END });
    const down = new Downsampler(256);
    for (const r of rollups) down.add(r.bucketStart, r.avgMs);
    const { t, y } = down.buckets();
    const expected = trendOf(t, y, { polarity: 'lower_is_better' });
    const web = rows.find((r) => r.service === 'web' && r.series === 'latency_ms')!;
    expect(expected.ok).toBe(true);
    if (expected.ok) {
      expect(web.direction).toBe(expected.trend.direction);
      expect(web.slope_per_hour).toBeCloseTo(expected.trend.slopePerSecond * 3600, 5);
    }
    expect(web.points).toBe(rollups.length);
    // w1 goes from ~30 ms to ~950 ms at 16:00 on day 2: the detector flags it.
    expect(web.anomalies as number).toBeGreaterThan(0);
  });
});

describe('request checks', () => {
  it('refuse a reversed range, a bad zone and a too fine granularity, naming the field', async () => {
    await expect(build({ from: END, to: T0 })).rejects.toThrow(/^from: .* is not before to/);
    await expect(build({ timeZone: 'Mars/Olympus' })).rejects.toThrow(/^tz: "Mars\/Olympus" is not a time zone/);
    await expect(build({ from: T0 - 400 * DAY, granularity: 'minute' })).rejects.toThrow(/^granularity: minute cuts the range into more than/);
  });
});

describe('metrics: system values', () => {
  it('gives min/mean/p95/max of each system metric per period from the raw results', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { openSqliteStore } = await import('../../src/store/sqlite.js');
    const { sqliteReportSource } = await import('../../src/reports/sqlite-source.js');
    const dir = mkdtempSync(join(tmpdir(), 'hm-sys-'));
    const store = await openSqliteStore({ path: join(dir, 'h.db'), checkpoints: 'inline' });
    const rows = Array.from({ length: 120 }, (_, k) => ({
      checkId: 'host/h1/system',
      service: 'host',
      instance: 'h1',
      kind: 'system',
      status: 'HEALTHY' as const,
      reason: 'ok',
      durationMs: 1,
      observedAt: T0 + k * MIN + 500,
      attempts: 1,
      output: 'ok',
      metrics: { cpu_busy: (k * 37) % 100, load1: k / 10 },
    }));
    await store.write({ results: rows, transitions: [] });
    const src = await sqliteReportSource(store);
    try {
      const doc = (await render(src.source, request({ type: 'metrics', from: T0, to: T0 + 2 * HOUR, granularity: 'hour' }), 'json')).doc;
      const got = records(doc, 'system');
      expect(got.map((r) => `${r.period}|${r.metric}`)).toEqual([`${T0}|cpu_busy`, `${T0}|load1`, `${T0 + HOUR}|cpu_busy`, `${T0 + HOUR}|load1`]);
      for (const r of got) {
        const values = rows
          .filter((x) => x.observedAt >= (r.period as number) && x.observedAt < (r.period as number) + HOUR)
          .map((x) => x.metrics[r.metric as 'cpu_busy' | 'load1'])
          .sort((a, b) => a - b);
        expect(r.samples).toBe(values.length);
        expect(r.min).toBe(values[0]);
        expect(r.max).toBe(values[values.length - 1]);
        expect(r.p95).toBe(nearestRank(values, 0.95));
        expect(r.avg as number).toBeCloseTo(values.reduce((s, x) => s + x, 0) / values.length, 4);
      }
      expect(doc.notes.some((n) => n.startsWith('System values'))).toBe(true);
    } finally {
      await src.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
