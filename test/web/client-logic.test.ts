import { describe, expect, it } from 'vitest';
import { expandRuns, type ResultRecord, type ServiceSummary, type Status } from '../../web/src/api.js';
import { runLengths } from '../../src/server/web-mesh.js';
import { pointsFromResults, segmentsFrom, segmentsFromResults, segmentsFromRollups, worstOf } from '../../web/src/history.js';
import { compareWorstFirst, matches } from '../../web/src/mesh-filter.js';

const svc = (name: string, status: Status, score: number, extra: Partial<ServiceSummary> = {}): ServiceSummary => ({
  name,
  status,
  score,
  cause: null,
  counts: { HEALTHY: 0, DEGRADED: 0, UNHEALTHY: 0, UNKNOWN: 0 },
  tags: [],
  zones: [],
  dependsOn: [],
  critical: true,
  spark: [],
  ...extra,
});

const result = (observedAt: number, durationMs: number, status: Status = 'HEALTHY'): ResultRecord => ({
  checkId: 'a/1/x',
  status,
  reason: 'ok',
  durationMs,
  observedAt,
  attempts: 1,
  output: '',
});

describe('the mesh view order and filters', () => {
  it('sorts worst first (UNHEALTHY, UNKNOWN, DEGRADED, HEALTHY), then by score, then by name', () => {
    const rows = [
      svc('b', 'HEALTHY', 100),
      svc('a', 'HEALTHY', 100),
      svc('c', 'DEGRADED', 80),
      svc('d', 'UNKNOWN', 50),
      svc('e', 'UNHEALTHY', 10),
      svc('f', 'DEGRADED', 60),
    ];
    expect(rows.sort(compareWorstFirst).map((r) => r.name)).toEqual(['e', 'd', 'f', 'c', 'a', 'b']);
  });

  it('filters by status, a tag or zone of any instance, and a name part in any case', () => {
    const row = svc('Payments-API', 'DEGRADED', 70, { tags: ['core', 'eu'], zones: ['z1'] });
    const none = { q: '', status: '' as const, tag: '', zone: '' };
    expect(matches(row, none)).toBe(true);
    expect(matches(row, { ...none, status: 'DEGRADED' })).toBe(true);
    expect(matches(row, { ...none, status: 'HEALTHY' })).toBe(false);
    expect(matches(row, { ...none, tag: 'eu' })).toBe(true);
    expect(matches(row, { ...none, tag: 'us' })).toBe(false);
    expect(matches(row, { ...none, zone: 'z2' })).toBe(false);
    expect(matches(row, { ...none, q: 'ments-a' })).toBe(true);
    expect(matches(row, { ...none, q: 'billing' })).toBe(false);
  });
});

describe('sparklines on the wire', () => {
  it('run-length encodes on the server and expands in the page to the same 60 values', () => {
    const minutes = [...Array(50).fill(null), 100, 100, 40, 40, 40, 100, 100, 100, 100, 100] as Array<number | null>;
    const runs = runLengths(minutes);
    expect(runs).toEqual([null, 50, 100, 2, 40, 3, 100, 5]);
    expect(expandRuns(runs)).toEqual(minutes);
    expect(runLengths(Array(60).fill(100))).toEqual([100, 60]);
    expect(expandRuns(runLengths([]))).toEqual([]);
  });
});

describe('history for the charts', () => {
  it('buckets raw results with min, mean, nearest-rank p95 and max', () => {
    const results = Array.from({ length: 20 }, (_, i) => result(60_000 + i, i + 1)); // 1..20 ms in one minute
    results.push(result(120_000, 7));
    const points = pointsFromResults(results, 60_000);
    expect(points).toEqual([
      { t: 60_000, minMs: 1, avgMs: 10.5, p95Ms: 19, maxMs: 20, count: 20 },
      { t: 120_000, minMs: 7, avgMs: 7, p95Ms: 7, maxMs: 7, count: 1 },
    ]);
  });

  it('turns transitions into periods over the range, and says the current status when nothing changed', () => {
    expect(segmentsFrom([], 0, 100, 'DEGRADED')).toEqual([{ from: 0, to: 100, status: 'DEGRADED' }]);
    const changes = [
      { at: 60, from: 'UNHEALTHY' as const, to: 'HEALTHY' as const },
      { at: 20, from: 'HEALTHY' as const, to: 'UNHEALTHY' as const },
      { at: 500, from: 'HEALTHY' as const, to: 'UNKNOWN' as const },
    ];
    expect(segmentsFrom(changes, 0, 100, 'HEALTHY')).toEqual([
      { from: 0, to: 20, status: 'HEALTHY' },
      { from: 20, to: 60, status: 'UNHEALTHY' },
      { from: 60, to: 100, status: 'HEALTHY' },
    ]);
  });

  it('merges raw results of one status into one period', () => {
    const results = [result(30, 1, 'UNHEALTHY'), result(10, 1), result(20, 1), result(40, 1, 'UNHEALTHY'), result(50, 1)];
    expect(segmentsFromResults(results, 0, 100)).toEqual([
      { from: 10, to: 30, status: 'HEALTHY' },
      { from: 30, to: 50, status: 'UNHEALTHY' },
      { from: 50, to: 100, status: 'HEALTHY' },
    ]);
  });

  it('gives each rollup bucket its worst status and joins neighbours', () => {
    const c = (u: number, d: number) => ({ HEALTHY: 5, DEGRADED: d, UNHEALTHY: u, UNKNOWN: 0 });
    const r = (bucketStart: number, u: number, d = 0) => ({
      bucketStart,
      count: 5 + u + d,
      failures: u + d,
      minMs: 1,
      avgMs: 1,
      p95Ms: 1,
      maxMs: 1,
      statusCounts: c(u, d),
      minScore: null,
      avgScore: null,
    });
    expect(worstOf(c(0, 1))).toBe('DEGRADED');
    expect(segmentsFromRollups([r(0, 0), r(60, 0), r(120, 1), r(240, 0)], 60)).toEqual([
      { from: 0, to: 120, status: 'HEALTHY' },
      { from: 120, to: 180, status: 'UNHEALTHY' },
      { from: 240, to: 300, status: 'HEALTHY' },
    ]);
  });
});
