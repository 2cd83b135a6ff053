/**
 * The HistoryStore contract: every backend runs these tests (SQLite in
 * test/store/sqlite.test.ts, PostgreSQL later). A backend passes a factory
 * that returns a fresh, empty store per call, and a `reopen` that closes
 * nothing itself but opens the same storage again after the test closed it.
 */
import { describe, expect, it } from 'vitest';
import { historyContract } from './contract-history.js';
import type { HealthStatus } from '../../src/core/status.js';
import type { HistoryStore, MaintainOptions, Page, RangeQuery, Registration, ResultRecord, TransitionRecord } from '../../src/store/types.js';

export interface ContractOptions {
  /** Open the storage of `closed` (already closed by the test) again. */
  reopen?: (closed: HistoryStore) => Promise<HistoryStore>;
}

/** An hour boundary near 2023-11-14, so minute and hour buckets line up with T0. */
export const T0 = 472_222 * 3_600_000;
const MIN = 60_000;
const HOUR = 3_600_000;

/** A result with defaults; service and instance follow the check id service/instance/name. */
export function result(checkId: string, observedAt: number, over: Partial<ResultRecord> = {}): ResultRecord {
  const [service = 'svc', instance = 'i1'] = checkId.split('/');
  return {
    checkId,
    service,
    instance,
    kind: 'tcp',
    status: 'HEALTHY',
    reason: 'ok',
    durationMs: 1,
    observedAt,
    attempts: 1,
    output: 'ok',
    metrics: null,
    ...over,
  };
}

export function transition(checkId: string, at: number, from: HealthStatus, to: HealthStatus, over: Partial<TransitionRecord> = {}): TransitionRecord {
  const [service = 'svc', instance = 'i1'] = checkId.split('/');
  return { checkId, service, instance, from, to, reason: to === 'HEALTHY' ? 'ok' : 'timeout', output: `${from}->${to}`, at, ...over };
}

/** A transition of an instance ("service/instance") or a service ("service"), as the rollup reports it. */
export function aggregate(subject: string, at: number, from: HealthStatus, to: HealthStatus, over: Partial<TransitionRecord> = {}): TransitionRecord {
  const [service = 'svc', instance = ''] = subject.split('/');
  return { level: instance ? 'instance' : 'service', checkId: '', service, instance, from, to, reason: 'rollup', output: 'cause', at, ...over };
}

/** A transition as a query returns it: with its id (any number unless it was written with one) and its level. */
export function stored(t: TransitionRecord): TransitionRecord {
  return { level: 'check', ...t, id: t.id ?? expect.any(Number) };
}

function registration(id: string, over: Partial<Registration> = {}): Registration {
  return {
    id,
    service: 'api',
    address: `10.0.0.${id.length}:8080`,
    tags: ['blue'],
    weight: 1,
    metadata: { team: 'core' },
    checks: [{ kind: 'http', path: '/health', interval: '5s' }],
    registeredAt: T0,
    ...over,
  };
}

/** Every page of a query, following cursors. */
export async function allPages<T>(fetch: (cursor: string | null) => Promise<Page<T>>): Promise<T[]> {
  const out: T[] = [];
  let cursor: string | null = null;
  for (let i = 0; i < 10_000; i++) {
    const page = await fetch(cursor);
    out.push(...page.items);
    if (!page.nextCursor) return out;
    cursor = page.nextCursor;
  }
  throw new Error('cursor never ended');
}

const NO_LATE: MaintainOptions = { lateMs: 0 };

/** Declare the contract tests for one backend. */
export function runHistoryStoreContract(name: string, makeStore: () => Promise<HistoryStore>, options: ContractOptions = {}): void {
  /** Run a test body with a fresh store, closing it afterwards even on failure. */
  const withStore = (fn: (store: HistoryStore) => Promise<void>) => async () => {
    const store = await makeStore();
    try {
      await fn(store);
    } finally {
      await store.close();
    }
  };

  describe(`HistoryStore contract: ${name}`, () => {
    describe('results', () => {
      it(
        'round-trips every field (duration at 1 µs, time floored to 1 ms, metrics as JSON)',
        withStore(async (store) => {
          const r = result('api/a1/http', T0 + 1234.9, {
            kind: 'http',
            status: 'DEGRADED',
            reason: 'slow',
            durationMs: 12.3456,
            attempts: 3,
            output: 'HTTP 200 in 812 ms — slow',
            metrics: { status: 200, bytes: 5120.5 },
            checkScore: 64,
            instanceScore: 41,
          });
          const unscored = result('api/a1/http', T0 + 2000, { kind: 'http' });
          await store.write({ results: [r, unscored], transitions: [] });
          const page = await store.queryResults({ checkId: 'api/a1/http' });
          expect(page.items).toEqual([
            { ...r, observedAt: T0 + 1234, durationMs: 12.346 },
            { ...unscored, checkScore: null, instanceScore: null },
          ]);
          expect(page.nextCursor).toBeNull();
        }),
      );

      it(
        'truncates output to 1 KiB of UTF-8 without splitting a character',
        withStore(async (store) => {
          await store.write({
            results: [
              result('s/i/ascii', T0, { output: 'a'.repeat(5000) }),
              result('s/i/accents', T0, { output: 'é'.repeat(1000) }), // 2 bytes each
              result('s/i/emoji', T0, { output: `x${'😀'.repeat(400)}` }), // 1 + 4 bytes each
            ],
            transitions: [transition('s/i/ascii', T0, 'UNKNOWN', 'UNHEALTHY', { output: 'b'.repeat(3000) })],
          });
          const out = async (id: string) => (await store.queryResults({ checkId: id })).items[0]!.output;
          expect(await out('s/i/ascii')).toBe('a'.repeat(1024));
          expect(await out('s/i/accents')).toBe('é'.repeat(512));
          expect(await out('s/i/emoji')).toBe(`x${'😀'.repeat(255)}`);
          const t = await store.queryTransitions({ checkId: 's/i/ascii' });
          expect(t.items[0]!.output).toBe('b'.repeat(1024));
        }),
      );

      it(
        'orders by observedAt, ties by insertion order, in both directions',
        withStore(async (store) => {
          const rows = [
            result('s/i/c', T0 + 3000, { output: 'c' }),
            result('s/i/c', T0 + 1000, { output: 'a' }),
            result('s/i/c', T0 + 2000, { output: 'b1' }),
            result('s/i/c', T0 + 2000, { output: 'b2' }),
          ];
          await store.write({ results: rows.slice(0, 3), transitions: [] });
          await store.write({ results: rows.slice(3), transitions: [] });
          const asc = await store.queryResults({ checkId: 's/i/c' });
          expect(asc.items.map((r) => r.output)).toEqual(['a', 'b1', 'b2', 'c']);
          const desc = await store.queryResults({ checkId: 's/i/c', order: 'desc' });
          expect(desc.items.map((r) => r.output)).toEqual(['c', 'b2', 'b1', 'a']);
        }),
      );

      it(
        'takes from as inclusive and to as exclusive',
        withStore(async (store) => {
          await store.write({
            results: [0, 1000, 2000, 3000].map((d) => result('s/i/c', T0 + d, { output: String(d) })),
            transitions: [],
          });
          const outputs = async (q: Partial<RangeQuery>) => (await store.queryResults({ checkId: 's/i/c', ...q })).items.map((r) => r.output);
          expect(await outputs({ from: T0 + 1000, to: T0 + 3000 })).toEqual(['1000', '2000']);
          expect(await outputs({ from: T0 + 1000, to: T0 + 3000, order: 'desc' })).toEqual(['2000', '1000']);
          expect(await outputs({ from: T0 + 3000 })).toEqual(['3000']);
          expect(await outputs({ to: T0 })).toEqual([]);
          expect(await outputs({ to: T0 + 1 })).toEqual(['0']);
        }),
      );

      it(
        'filters by check id, by service, by service and instance, and by instance across services',
        withStore(async (store) => {
          const ids = ['api/a1/http', 'api/a1/tcp', 'api/a2/http', 'web/a1/http', 'web/w9/http'];
          await store.write({ results: ids.map((id, i) => result(id, T0 + i * 1000, { output: id })), transitions: [] });
          const ids$ = async (q: RangeQuery) => (await store.queryResults(q)).items.map((r) => r.output);
          expect(await ids$({ checkId: 'api/a1/tcp' })).toEqual(['api/a1/tcp']);
          expect(await ids$({ service: 'api' })).toEqual(['api/a1/http', 'api/a1/tcp', 'api/a2/http']);
          expect(await ids$({ service: 'api', instance: 'a1' })).toEqual(['api/a1/http', 'api/a1/tcp']);
          expect(await ids$({ instance: 'a1' })).toEqual(['api/a1/http', 'api/a1/tcp', 'web/a1/http']);
          expect(await ids$({ instance: 'a1', order: 'desc' })).toEqual(['web/a1/http', 'api/a1/tcp', 'api/a1/http']);
          expect(await ids$({ checkId: 'nope/x/y' })).toEqual([]);
          expect(await ids$({ service: 'nope' })).toEqual([]);
          expect(await ids$({ service: 'web', instance: 'a2' })).toEqual([]);
          const r = (await store.queryResults({ checkId: 'web/w9/http' })).items[0]!;
          expect([r.service, r.instance]).toEqual(['web', 'w9']);
        }),
      );

      it(
        'rejects a query without a selector, a bad limit and a foreign cursor',
        withStore(async (store) => {
          await store.write({ results: [1, 2, 3].map((i) => result('s/i/c', T0 + i)), transitions: [] });
          await expect(store.queryResults({})).rejects.toThrow(/checkId, service or instance/);
          await expect(store.queryResults({ checkId: 's/i/c', service: 's' })).rejects.toThrow(/checkId alone/);
          await expect(store.queryResults({ checkId: 's/i/c', limit: 0 })).rejects.toThrow(/limit/);
          await expect(store.queryResults({ checkId: 's/i/c', from: NaN })).rejects.toThrow(/from/);
          await expect(store.queryRollups({ checkId: 's/i/c', resolution: 'day' as 'hour' })).rejects.toThrow(/resolution/);
          await expect(store.queryResults({ checkId: 's/i/c', cursor: 'garbage!' })).rejects.toThrow(/cursor/);
          const page = await store.queryResults({ checkId: 's/i/c', limit: 1 });
          await expect(store.queryResults({ checkId: 's/i/c', cursor: page.nextCursor, order: 'desc' })).rejects.toThrow(/cursor/);
        }),
      );

      for (const order of ['asc', 'desc'] as const) {
        for (const selector of [{ checkId: 'api/a1/http' }, { service: 'api' }, { instance: 'a1' }] as RangeQuery[]) {
          it(
            `pages ${order} by ${Object.keys(selector)[0]} without gaps or duplicates while new rows arrive`,
            withStore(async (store) => {
              let n = 0;
              const row = (checkId: string, at: number) => result(checkId, at, { output: `r${n++}` });
              // 3 checks that all match the selectors above except where noted; equal times force tie-breaks.
              const initial: ResultRecord[] = [];
              for (let i = 0; i < 120; i++) {
                const at = T0 + Math.floor(i / 2) * 1000; // two rows per timestamp
                initial.push(row(i % 3 === 2 ? 'api/a1/tcp' : 'api/a1/http', at));
              }
              await store.write({ results: initial, transitions: [] });
              const matching = (await allPages((cursor) => store.queryResults({ ...selector, cursor, limit: 1000 }))).map((r) => r.output);
              const seen: string[] = [];
              let lastAt = order === 'asc' ? -Infinity : Infinity;
              let cursor: string | null = null;
              for (let pageNo = 0; pageNo < 100; pageNo++) {
                const page: Page<ResultRecord> = await store.queryResults({ ...selector, order, cursor, limit: 7 });
                for (const r of page.items) {
                  if (order === 'asc') expect(r.observedAt).toBeGreaterThanOrEqual(lastAt);
                  else expect(r.observedAt).toBeLessThanOrEqual(lastAt);
                  lastAt = r.observedAt;
                  seen.push(r.output);
                }
                // New rows: before, inside and after the part already read, at existing timestamps too.
                await store.write({
                  results: [row('api/a1/http', T0), row('api/a1/tcp', T0 + 30_000), row('api/a1/http', T0 + 59_000), row('api/a1/http', T0 + 999_000)],
                  transitions: [],
                });
                if (!page.nextCursor) break;
                cursor = page.nextCursor;
              }
              expect(new Set(seen).size).toBe(seen.length);
              for (const out of matching) expect(seen).toContain(out);
            }),
          );
        }
      }

      it(
        'latestResults returns the newest result of each known check in one call',
        withStore(async (store) => {
          await store.write({
            results: [
              result('s/a/c', T0 + 5000, { output: 'a-newest' }),
              result('s/a/c', T0 + 1000, { output: 'a-old' }),
              result('s/b/c', T0 + 2000, { output: 'b-first' }),
              result('s/b/c', T0 + 2000, { output: 'b-tie-later' }),
              result('s/c/c', T0, { output: 'c-only' }),
            ],
            transitions: [],
          });
          await store.write({ results: [result('s/a/c', T0 + 3000, { output: 'a-late-arrival' })], transitions: [] });
          const latest = await store.latestResults(['s/a/c', 's/b/c', 'unknown/x/y']);
          expect([...latest.keys()].sort()).toEqual(['s/a/c', 's/b/c']);
          expect(latest.get('s/a/c')!.output).toBe('a-newest');
          expect(latest.get('s/b/c')!.output).toBe('b-tie-later');
          expect((await store.latestResults([])).size).toBe(0);
        }),
      );

      it(
        'latestResults finds a check silent for hours while others write, and a late row minutes back does not replace its newest',
        withStore(async (store) => {
          await store.write({ results: [result('s/quiet/c', T0 + 30_000, { output: 'quiet-last' })], transitions: [] });
          for (let m = 1; m <= 180; m += 30) {
            const rows = Array.from({ length: 30 }, (_, k) => result('s/busy/c', T0 + (m + k) * MIN, { output: `busy ${m + k}` }));
            await store.write({ results: rows, transitions: [] });
          }
          await store.write({ results: [result('s/busy/c', T0 + 5 * MIN, { output: 'busy late' })], transitions: [] });
          const latest = await store.latestResults(['s/quiet/c', 's/busy/c']);
          expect(latest.get('s/quiet/c')!.output).toBe('quiet-last');
          expect(latest.get('s/busy/c')!.output).toBe('busy 180');
        }),
      );
    });

    describe('transitions', () => {
      it(
        'stores transitions and pages them by check, service and instance',
        withStore(async (store) => {
          const ts = [
            transition('api/a1/http', T0 + 1000, 'UNKNOWN', 'HEALTHY'),
            transition('api/a1/http', T0 + 5000, 'HEALTHY', 'UNHEALTHY', { reason: 'connect_refused', output: 'refused' }),
            transition('api/a2/http', T0 + 3000, 'UNKNOWN', 'DEGRADED', { reason: 'slow' }),
            transition('web/a1/tcp', T0 + 4000, 'UNKNOWN', 'HEALTHY'),
          ];
          await store.write({ results: [], transitions: ts });
          const byCheck = await store.queryTransitions({ checkId: 'api/a1/http' });
          expect(byCheck.items).toEqual([stored(ts[0]!), stored(ts[1]!)]);
          const byService = await allPages((cursor) => store.queryTransitions({ service: 'api', cursor, limit: 1 }));
          expect(byService).toEqual([ts[0], ts[2], ts[1]].map((t) => stored(t!)));
          const byInstance = await store.queryTransitions({ instance: 'a1', order: 'desc' });
          expect(byInstance.items).toEqual([ts[1], ts[3], ts[0]].map((t) => stored(t!)));
          const ranged = await store.queryTransitions({ service: 'api', from: T0 + 3000, to: T0 + 5000 });
          expect(ranged.items).toEqual([stored(ts[2]!)]);
        }),
      );
    });

    describe('rollups', () => {
      /**
       * Check A: minute T0+1m holds durations 1..20 ms (17 HEALTHY, 1 each
       * DEGRADED/UNHEALTHY/UNKNOWN); minute T0+2m holds 5, 7, 100 ms.
       * Nearest-rank p95: ⌈0.95·20⌉ = 19th → 19; ⌈0.95·3⌉ = 3rd → 100;
       * the hour (23 values) ⌈21.85⌉ = 22nd of 1..20,5,7,100 sorted → 20.
       */
      const dataSet = (): ResultRecord[] => {
        const rows: ResultRecord[] = [];
        const odd: Record<number, HealthStatus> = { 3: 'DEGRADED', 8: 'UNHEALTHY', 13: 'UNKNOWN' };
        for (let d = 1; d <= 20; d++) {
          rows.push(result('s/i/a', T0 + MIN + (20 - d) * 2000, { durationMs: d, status: odd[d] ?? 'HEALTHY' }));
        }
        rows.push(result('s/i/a', T0 + 2 * MIN, { durationMs: 7 }));
        rows.push(result('s/i/a', T0 + 2 * MIN + 59_999, { durationMs: 100, status: 'UNHEALTHY' }));
        rows.push(result('s/i/a', T0 + 2 * MIN + 30_000, { durationMs: 5 }));
        rows.push(result('s/i/b', T0 + 2 * MIN + 1, { durationMs: 0.25 }));
        return rows;
      };

      it(
        'rolls complete minutes and hours up with exact count, failures, min/avg/p95/max and status counts',
        withStore(async (store) => {
          await store.write({ results: dataSet(), transitions: [] });
          // Not complete at `now`: stays raw and is not rolled up.
          await store.write({ results: [result('s/i/a', T0 + 2 * HOUR + 10 * MIN, { durationMs: 3 })], transitions: [] });
          const report = await store.maintain(T0 + 2 * HOUR + 10 * MIN + 30_000, NO_LATE);
          expect(report.bucketsRolledUp).toEqual({ minute: 2, hour: 1 });

          const minutes = await store.queryRollups({ checkId: 's/i/a', resolution: 'minute' });
          expect(minutes).toEqual(
            [
              {
                level: 'check',
                id: 's/i/a',
                resolution: 'minute',
                bucketStart: T0 + MIN,
                count: 20,
                failures: 3,
                minMs: 1,
                avgMs: 10.5,
                p95Ms: 19,
                maxMs: 20,
                statusCounts: { HEALTHY: 17, DEGRADED: 1, UNHEALTHY: 1, UNKNOWN: 1 },
                minScore: null,
                avgScore: null,
              },
              {
                level: 'check',
                id: 's/i/a',
                resolution: 'minute',
                bucketStart: T0 + 2 * MIN,
                count: 3,
                failures: 1,
                minMs: 5,
                avgMs: 112 / 3,
                p95Ms: 100,
                maxMs: 100,
                statusCounts: { HEALTHY: 2, DEGRADED: 0, UNHEALTHY: 1, UNKNOWN: 0 },
                minScore: null,
                avgScore: null,
              },
            ].map((r) => ({ ...r, avgMs: expect.closeTo(r.avgMs, 9) })),
          );
          const hours = await store.queryRollups({ checkId: 's/i/a', resolution: 'hour' });
          expect(hours).toHaveLength(1);
          expect(hours[0]).toMatchObject({ bucketStart: T0, count: 23, failures: 4, minMs: 1, p95Ms: 20, maxMs: 100 });
          expect(hours[0]!.avgMs).toBeCloseTo(322 / 23, 9);
          expect(hours[0]!.statusCounts).toEqual({ HEALTHY: 19, DEGRADED: 1, UNHEALTHY: 2, UNKNOWN: 1 });

          const b = await store.queryRollups({ checkId: 's/i/b', resolution: 'minute' });
          expect(b.map((r) => [r.bucketStart, r.count, r.minMs, r.p95Ms])).toEqual([[T0 + 2 * MIN, 1, 0.25, 0.25]]);
          expect(await store.queryRollups({ checkId: 's/i/a', resolution: 'minute', from: T0 + 2 * MIN })).toHaveLength(1);
          expect(await store.queryRollups({ checkId: 's/i/a', resolution: 'minute', to: T0 + 2 * MIN })).toHaveLength(1);
          expect(await store.queryRollups({ checkId: 'none/x/y', resolution: 'hour' })).toEqual([]);

          // Nothing new: a second run rolls nothing up again.
          const again = await store.maintain(T0 + 2 * HOUR + 10 * MIN + 30_000, NO_LATE);
          expect(again.bucketsRolledUp).toEqual({ minute: 0, hour: 0 });
        }),
      );

      it(
        'waits lateMs after a bucket ends, and rolls a bucket up again when late rows arrive',
        withStore(async (store) => {
          await store.write({ results: dataSet(), transitions: [] });
          const early = await store.maintain(T0 + 3 * MIN + 5000, { lateMs: 10_000 });
          expect(early.bucketsRolledUp.minute).toBe(1); // T0+1m is due, T0+2m ends 5 s ago
          await store.maintain(T0 + 2 * HOUR, NO_LATE);
          await store.write({ results: [result('s/i/a', T0 + MIN + 1, { durationMs: 1000, status: 'UNHEALTHY' })], transitions: [] });
          const report = await store.maintain(T0 + 2 * HOUR, NO_LATE);
          expect(report.bucketsRolledUp).toEqual({ minute: 1, hour: 1 });
          const [m] = await store.queryRollups({ checkId: 's/i/a', resolution: 'minute', from: T0 + MIN, to: T0 + 2 * MIN });
          expect(m).toMatchObject({ count: 21, failures: 4, maxMs: 1000, p95Ms: 20 });
          const [h] = await store.queryRollups({ checkId: 's/i/a', resolution: 'hour' });
          expect(h).toMatchObject({ count: 24, failures: 5, maxMs: 1000, p95Ms: 100 });
          expect((await store.stats()).rollups).toEqual({ minute: 3, hour: 2 });
        }),
      );

      it(
        'gives the same figures when maintain works in tiny chunks',
        withStore(async (store) => {
          await store.write({ results: dataSet(), transitions: [] });
          const report = await store.maintain(T0 + 2 * HOUR, { lateMs: 0, chunkRows: 2 });
          expect(report.chunks).toBeGreaterThan(10);
          const [m1, m2] = await store.queryRollups({ checkId: 's/i/a', resolution: 'minute' });
          expect([m1!.count, m1!.p95Ms, m2!.count, m2!.p95Ms]).toEqual([20, 19, 3, 100]);
          const [h] = await store.queryRollups({ checkId: 's/i/a', resolution: 'hour' });
          expect([h!.count, h!.p95Ms]).toEqual([23, 20]);
        }),
      );
    });

    describe('retention', () => {
      it(
        'deletes results, rollups and transitions beyond their retention, and nothing else',
        withStore(async (store) => {
          // One result every 5 minutes over 3.5 h, one transition every 30 minutes.
          const results = Array.from({ length: 42 }, (_, i) => result('s/i/c', T0 + i * 5 * MIN, { output: `r${i}` }));
          const transitions = Array.from({ length: 7 }, (_, i) =>
            transition('s/i/c', T0 + i * 30 * MIN, i % 2 ? 'HEALTHY' : 'UNHEALTHY', i % 2 ? 'UNHEALTHY' : 'HEALTHY'),
          );
          await store.write({ results, transitions });
          const now = T0 + 3 * HOUR + 30 * MIN;
          const report = await store.maintain(now, {
            lateMs: 0,
            chunkRows: 5,
            retention: { resultsMs: HOUR, minuteRollupsMs: 2 * HOUR, hourRollupsMs: 3 * HOUR, transitionsMs: 90 * MIN },
          });
          // results: observedAt < now - 1 h = T0 + 2h30m go
          const kept = await allPages((cursor) => store.queryResults({ checkId: 's/i/c', cursor }));
          expect(kept.map((r) => r.output)).toEqual(results.slice(30).map((r) => r.output));
          expect(report.deleted.results).toBe(30);
          // minute rollups: bucket < T0 + 1h30m go (buckets at 0, 5, …, 85 min: 18 of 42)
          const minutes = await store.queryRollups({ checkId: 's/i/c', resolution: 'minute' });
          expect(minutes.map((r) => r.bucketStart)).toEqual(results.slice(18).map((r) => r.observedAt));
          expect(report.deleted.minuteRollups).toBe(18);
          // hour rollups: bucket < T0 + 30m go (T0); T0+1h, T0+2h stay; T0+3h is not complete.
          const hours = await store.queryRollups({ checkId: 's/i/c', resolution: 'hour' });
          expect(hours.map((r) => r.bucketStart)).toEqual([T0 + HOUR, T0 + 2 * HOUR]);
          // transitions: at < T0 + 2h go
          const ts = await store.queryTransitions({ checkId: 's/i/c' });
          expect(ts.items.map((t) => t.at)).toEqual([T0 + 2 * HOUR, T0 + 2.5 * HOUR, T0 + 3 * HOUR]);
          const stats = await store.stats();
          expect(stats).toMatchObject({ results: 12, transitions: 3, rollups: { minute: 24, hour: 2 } });
          // Figures of rollups kept are those of the raw data, even though the raw rows are gone.
          expect(hours[0]!.count).toBe(12);
        }),
      );

      it(
        'keeps raw rows until their buckets are rolled up',
        withStore(async (store) => {
          await store.write({ results: [result('s/i/c', T0), result('s/i/c', T0 + 10 * MIN)], transitions: [] });
          // lateMs keeps every bucket from being due, so nothing may be deleted yet.
          const report = await store.maintain(T0 + 30 * MIN, { lateMs: 2 * HOUR, retention: { resultsMs: MIN } });
          expect(report.deleted.results).toBe(0);
          expect((await store.queryResults({ checkId: 's/i/c' })).items).toHaveLength(2);
          const later = await store.maintain(T0 + 3 * HOUR, { lateMs: 0, retention: { resultsMs: MIN } });
          expect(later.deleted.results).toBe(2);
          expect(await store.queryRollups({ checkId: 's/i/c', resolution: 'hour' })).toHaveLength(1);
        }),
      );

      it(
        'does not spoil rollups with rows older than raw retention that arrive late',
        withStore(async (store) => {
          await store.write({ results: [result('s/i/c', T0 + 1000, { durationMs: 10 }), result('s/i/c', T0 + 2000, { durationMs: 20 })], transitions: [] });
          await store.maintain(T0 + 5 * HOUR, { lateMs: 0, retention: { resultsMs: HOUR } });
          await store.write({ results: [result('s/i/c', T0 + 3000, { durationMs: 999 })], transitions: [] });
          await store.maintain(T0 + 5 * HOUR, { lateMs: 0, retention: { resultsMs: HOUR } });
          const [m] = await store.queryRollups({ checkId: 's/i/c', resolution: 'minute' });
          expect([m!.count, m!.maxMs]).toEqual([2, 20]);
          expect((await store.queryResults({ checkId: 's/i/c' })).items).toEqual([]);
        }),
      );
    });

    describe('history', () => historyContract(withStore));

    describe('registrations', () => {
      it(
        'puts, overwrites, deletes and lists registrations',
        withStore(async (store) => {
          const a = registration('a1', { zone: 'eu-1' });
          const b = registration('b1', { tags: [], metadata: {}, checks: [] });
          await store.putRegistration(b);
          await store.putRegistration(a);
          expect(await store.listRegistrations()).toEqual([a, b]);
          const a2 = registration('a1', { address: '10.9.9.9:1', weight: 0.5, tags: ['green', 'canary'], checks: [{ kind: 'tcp' }] });
          await store.putRegistration(a2);
          const listed = await store.listRegistrations();
          expect(listed).toEqual([a2, b]);
          expect('zone' in listed[0]!).toBe(false);
          expect(await store.deleteRegistration('b1')).toBe(true);
          expect(await store.deleteRegistration('b1')).toBe(false);
          expect(await store.listRegistrations()).toEqual([a2]);
          expect((await store.stats()).registrations).toBe(1);
        }),
      );
    });

    describe('durability', () => {
      it.skipIf(!options.reopen)('keeps everything across close and reopen', async () => {
        let store = await makeStore();
        try {
          const results = Array.from({ length: 50 }, (_, i) => result(`s/i${i % 5}/c`, T0 + i * 1000, { output: `r${i}`, metrics: i % 2 ? { n: i } : null }));
          const transitions = [transition('s/i0/c', T0, 'UNKNOWN', 'HEALTHY')];
          await store.write({ results, transitions });
          await store.putRegistration(registration('r1'));
          await store.maintain(T0 + HOUR + MIN, NO_LATE);
          const before = {
            results: await allPages((cursor) => store.queryResults({ service: 's', cursor })),
            transitions: await store.queryTransitions({ service: 's' }),
            rollups: await store.queryRollups({ checkId: 's/i0/c', resolution: 'minute' }),
            latest: await store.latestResults(['s/i1/c', 's/i2/c']),
            registrations: await store.listRegistrations(),
            stats: await store.stats(),
          };
          await store.close();
          store = await options.reopen!(store);
          expect(await allPages((cursor) => store.queryResults({ service: 's', cursor }))).toEqual(before.results);
          expect(await store.queryTransitions({ service: 's' })).toEqual(before.transitions);
          expect(await store.queryRollups({ checkId: 's/i0/c', resolution: 'minute' })).toEqual(before.rollups);
          expect(await store.latestResults(['s/i1/c', 's/i2/c'])).toEqual(before.latest);
          expect(await store.listRegistrations()).toEqual(before.registrations);
          const { bytes: _b, ...stats } = await store.stats();
          const { bytes: _a, ...statsBefore } = before.stats;
          expect(stats).toEqual(statsBefore);
          // Writing after reopen continues where it stopped (names stay interned).
          await store.write({ results: [result('s/i0/c', T0 + 99_000, { output: 'after' })], transitions: [] });
          expect((await store.latestResults(['s/i0/c'])).get('s/i0/c')!.output).toBe('after');
        } finally {
          await store.close();
        }
      });

      it.skipIf(!options.reopen)('loses no acknowledged registration, even with writes in between', async () => {
        let store = await makeStore();
        try {
          const acked: string[] = [];
          await Promise.all(
            Array.from({ length: 40 }, async (_, i) => {
              if (i % 4 === 0) await store.write({ results: [result('s/i/c', T0 + i)], transitions: [] });
              await store.putRegistration(registration(`reg-${String(i).padStart(2, '0')}`));
              acked.push(`reg-${String(i).padStart(2, '0')}`);
            }),
          );
          await store.close();
          store = await options.reopen!(store);
          expect((await store.listRegistrations()).map((r) => r.id)).toEqual(acked.sort());
        } finally {
          await store.close();
        }
      });
    });

    it(
      'reports row counts',
      withStore(async (store) => {
        await store.write({
          results: [result('a/b/c', T0), result('a/b/d', T0), result('a/b/c', T0 + 1)],
          transitions: [transition('a/b/c', T0, 'UNKNOWN', 'HEALTHY')],
        });
        await store.putRegistration(registration('x'));
        const stats = await store.stats();
        expect(stats).toMatchObject({ backend: store.backend, results: 3, transitions: 1, registrations: 1, checks: 2, rollups: { minute: 0, hour: 0 } });
        await store.maintain(T0 + HOUR, NO_LATE);
        expect((await store.stats()).rollups).toEqual({ minute: 2, hour: 2 });
      }),
    );
  });
}
