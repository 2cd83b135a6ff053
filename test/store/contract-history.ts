/**
 * The HistoryStore contract, continued: the history a user reaches through
 * the API (transitions of every level with their ids, instance and service
 * rollups with scores, uptime). Declared inside runHistoryStoreContract.
 */
import { expect, it } from 'vitest';
import { seeded } from '../../src/core/random.js';
import type { HealthStatus } from '../../src/core/status.js';
import type { HistoryStore, ResultRecord, TransitionRecord, Uptime } from '../../src/store/types.js';
import { aggregate, allPages, result, stored, T0, transition } from './contract.js';

const MIN = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
const STATUSES: HealthStatus[] = ['HEALTHY', 'DEGRADED', 'UNHEALTHY', 'UNKNOWN'];

type WithStore = (fn: (store: HistoryStore) => Promise<void>) => () => Promise<void>;

/**
 * Uptime computed the slow, obvious way from a subject's transitions (in
 * time order): every segment's overlap with [from, to), every incident
 * followed from the first transition on.
 */
export function referenceUptime(ts: readonly TransitionRecord[], from: number, to: number): Uptime {
  const ms: Record<HealthStatus, number> = { HEALTHY: 0, DEGRADED: 0, UNHEALTHY: 0, UNKNOWN: 0 };
  const overlap = (a: number, b: number) => Math.max(0, Math.min(b, to) - Math.max(a, from));
  ms.UNKNOWN += overlap(-Infinity, ts[0]?.at ?? Infinity);
  let incidentSince: number | null = null;
  let incidents = 0;
  let recoveries = 0;
  let recoveryMs = 0;
  let openAtTo: number | null = null;
  ts.forEach((t, i) => {
    ms[t.to] += overlap(t.at, ts[i + 1]?.at ?? Infinity);
    const inRange = t.at >= from && t.at < to;
    if (t.to === 'UNHEALTHY' && incidentSince === null) {
      incidentSince = t.at;
      if (inRange) incidents++;
    } else if ((t.to === 'HEALTHY' || t.to === 'DEGRADED') && incidentSince !== null) {
      if (inRange) {
        recoveries++;
        recoveryMs += t.at - incidentSince;
      }
      incidentSince = null;
    }
    if (t.at < to) openAtTo = incidentSince;
  });
  const known = ms.HEALTHY + ms.DEGRADED + ms.UNHEALTHY;
  return {
    from,
    to,
    ms,
    uptimePercent: known ? ((ms.HEALTHY + ms.DEGRADED) / known) * 100 : null,
    incidents,
    recoveries,
    mttrMs: recoveries ? recoveryMs / recoveries : null,
    openIncidentSince: openAtTo,
  };
}

/** `n` transitions of one subject from T0, strictly increasing in time, gaps from seconds to two days. */
function randomTimeline(subject: string, n: number, seed: number): TransitionRecord[] {
  const random = seeded(seed);
  const out: TransitionRecord[] = [];
  let at = T0 + 7_777;
  let status: HealthStatus = 'UNKNOWN';
  for (let i = 0; i < n; i++) {
    const r = random();
    at += 1 + Math.floor(r < 0.5 ? random() * MIN : r < 0.9 ? random() * 6 * HOUR : random() * 2 * DAY);
    let to = STATUSES[Math.floor(random() * 4)]!;
    if (to === status) to = STATUSES[(STATUSES.indexOf(to) + 1) % 4]!;
    out.push(aggregate(subject, at, status, to));
    status = to;
  }
  return out;
}

export function historyContract(withStore: WithStore): void {
  it(
    'stores transitions of every level with their ids, and filters by check, instance, service, level and time, newest first',
    withStore(async (store) => {
      const ts = [
        transition('api/a1/http', T0 + 1000, 'UNKNOWN', 'UNHEALTHY', { id: 101 }),
        aggregate('api/a1', T0 + 1000, 'UNKNOWN', 'UNHEALTHY', { id: 102 }),
        aggregate('api', T0 + 1000, 'UNKNOWN', 'UNHEALTHY', { id: 103 }),
        transition('api/a2/http', T0 + 2000, 'UNKNOWN', 'HEALTHY', { id: 104 }),
        aggregate('api/a2', T0 + 2000, 'UNKNOWN', 'HEALTHY', { id: 105 }),
        transition('web/a1/tcp', T0 + 3000, 'UNKNOWN', 'HEALTHY', { id: 106 }),
        aggregate('web/a1', T0 + 3000, 'UNKNOWN', 'HEALTHY', { id: 107 }),
        aggregate('web', T0 + 3000, 'UNKNOWN', 'HEALTHY', { id: 108 }),
        transition('api/a1/http', T0 + 4000, 'UNHEALTHY', 'HEALTHY', { id: 109 }),
        aggregate('api/a1', T0 + 4000, 'UNHEALTHY', 'HEALTHY', { id: 110 }),
        aggregate('api', T0 + 4000, 'UNHEALTHY', 'DEGRADED', { id: 111 }),
      ];
      await store.write({ results: [], transitions: ts });
      const ids = async (q: Parameters<HistoryStore['queryTransitions']>[0]) =>
        (await allPages((cursor) => store.queryTransitions({ order: 'desc', limit: 2, ...q, cursor }))).map((t) => t.id);
      expect(await ids({})).toEqual([111, 110, 109, 108, 107, 106, 105, 104, 103, 102, 101]);
      expect(await ids({ service: 'api' })).toEqual([111, 110, 109, 105, 104, 103, 102, 101]);
      expect(await ids({ service: 'api', instance: 'a1' })).toEqual([110, 109, 102, 101]);
      expect(await ids({ instance: 'a1' })).toEqual([110, 109, 107, 106, 102, 101]);
      expect(await ids({ checkId: 'api/a1/http' })).toEqual([109, 101]);
      expect(await ids({ levels: ['service'] })).toEqual([111, 108, 103]);
      expect(await ids({ service: 'api', levels: ['instance', 'service'], from: T0 + 2000, to: T0 + 4000 })).toEqual([105]);
      expect(await ids({ service: 'api', levels: [] })).toEqual([]);
      expect(await ids({ service: 'nope' })).toEqual([]);
      const all = await store.queryTransitions({ limit: 100 });
      expect(all.items).toEqual(ts.map(stored));
      await expect(store.queryTransitions({ levels: ['mesh' as 'service'] })).rejects.toThrow(/levels: "mesh"/);
    }),
  );

  it(
    'numbers transitions written without an id after the highest ever stored, and pages them by id from any id',
    withStore(async (store) => {
      await store.write({ results: [], transitions: [transition('s/i/c', T0, 'UNKNOWN', 'HEALTHY', { id: 500 })] });
      await store.write({ results: [], transitions: [transition('s/i/c', T0 + 1, 'HEALTHY', 'UNHEALTHY'), aggregate('s/i', T0 + 1, 'HEALTHY', 'UNHEALTHY')] });
      // An id a row already has is not reused: the row gets the next one.
      await store.write({ results: [], transitions: [transition('s/i/c', T0 + 2, 'UNHEALTHY', 'HEALTHY', { id: 501 })] });
      const after = await store.transitionsAfter(0, 100);
      expect(after.map((t) => [t.id, t.level, t.at])).toEqual([
        [500, 'check', T0],
        [501, 'check', T0 + 1],
        [502, 'instance', T0 + 1],
        [503, 'check', T0 + 2],
      ]);
      expect((await store.transitionsAfter(501, 1)).map((t) => t.id)).toEqual([502]);
      expect(await store.transitionIds()).toEqual({ last: 503, horizon: 0 });
      await expect(store.transitionsAfter(0, 0)).rejects.toThrow(/limit/);
    }),
  );

  it(
    'keeps check transitions for their retention and instance and service transitions for uptime retention; the id horizon follows',
    withStore(async (store) => {
      await store.write({
        results: [],
        transitions: [
          transition('s/i/c', T0, 'UNKNOWN', 'UNHEALTHY', { id: 1 }),
          aggregate('s/i', T0, 'UNKNOWN', 'UNHEALTHY', { id: 2 }),
          transition('s/i/c', T0 + 2 * DAY, 'UNHEALTHY', 'HEALTHY', { id: 3 }),
          aggregate('s/i', T0 + 2 * DAY, 'UNHEALTHY', 'HEALTHY', { id: 4 }),
        ],
      });
      const report = await store.maintain(T0 + 3 * DAY, { lateMs: 0, retention: { transitionsMs: 2 * DAY, uptimeMs: 10 * DAY } });
      expect(report.deleted.transitions).toBe(1);
      expect((await store.transitionsAfter(0, 10)).map((t) => t.id)).toEqual([2, 3, 4]);
      expect(await store.transitionIds()).toEqual({ last: 4, horizon: 1 });
      await store.maintain(T0 + 20 * DAY, { lateMs: 0, retention: { transitionsMs: 2 * DAY, uptimeMs: 10 * DAY } });
      expect(await store.transitionIds()).toEqual({ last: 4, horizon: 3 });
      expect(await store.transitionsAfter(0, 10)).toEqual([]);
      // Uptime older than its retention (from the first whole UTC day kept) is unknown; the status since the
      // last transition is still known.
      const firstKept = Math.ceil((T0 + 10 * DAY) / DAY) * DAY;
      const up = await store.queryUptime({ service: 's', instance: 'i', from: T0, to: T0 + 20 * DAY });
      expect(up.ms).toEqual({ HEALTHY: T0 + 20 * DAY - firstKept, DEGRADED: 0, UNHEALTHY: 0, UNKNOWN: firstKept - T0 });
    }),
  );

  it(
    "rolls instances and services up from all their checks' raw rows (p95 of the results, not of the checks' p95s), with scores",
    withStore(async (store) => {
      const rows: ResultRecord[] = [];
      const at = (k: number) => T0 + MIN + k * 1000;
      for (let d = 1; d <= 19; d++) rows.push(result('g/i1/a', at(d), { durationMs: d, checkScore: d === 7 ? 50 : 90, instanceScore: d === 7 ? 40 : 70 }));
      rows.push(result('g/i1/b', at(30), { durationMs: 100, checkScore: 80, instanceScore: 70, status: 'DEGRADED' }));
      rows.push(result('g/i1/b', at(31), { durationMs: 200, checkScore: 80, instanceScore: 70 }));
      rows.push(result('g/i2/a', at(32), { durationMs: 1000, checkScore: 100, instanceScore: 100, status: 'UNHEALTHY' }));
      rows.push(result('g/i2/x', at(33), { durationMs: 5 })); // no scores
      await store.write({ results: rows, transitions: [] });
      await store.maintain(T0 + 2 * HOUR, { lateMs: 0 });

      const [a] = await store.queryRollups({ checkId: 'g/i1/a', resolution: 'minute' });
      expect(a).toMatchObject({ level: 'check', id: 'g/i1/a', count: 19, p95Ms: 19, minScore: 50 });
      expect(a!.avgScore).toBeCloseTo((18 * 90 + 50) / 19, 9);
      const [x] = await store.queryRollups({ checkId: 'g/i2/x', resolution: 'minute' });
      expect([x!.minScore, x!.avgScore]).toEqual([null, null]);

      // i1: 1..19, 100, 200 → 21 values, rank ⌈19.95⌉ = 20 → 100 (its checks' p95s are 19 and 200).
      const i1Avg = (20 * 70 + 40) / 21;
      for (const resolution of ['minute', 'hour'] as const) {
        const [i1] = await store.queryRollups({ service: 'g', instance: 'i1', resolution });
        expect(i1).toMatchObject({ level: 'instance', id: 'g/i1', count: 21, failures: 1, minMs: 1, p95Ms: 100, maxMs: 200, minScore: 40 });
        expect(i1!.statusCounts).toEqual({ HEALTHY: 20, DEGRADED: 1, UNHEALTHY: 0, UNKNOWN: 0 });
        expect(i1!.avgMs).toBeCloseTo((190 + 300) / 21, 9);
        expect(i1!.avgScore).toBeCloseTo(i1Avg, 9);
        // Service: 23 values (1..19, 5, 100, 200, 1000), rank ⌈21.85⌉ = 22 → 200 (its checks' p95s: 19, 200, 1000, 5);
        // its score the mean of its instances' (i2: 100).
        const [g] = await store.queryRollups({ service: 'g', resolution });
        expect(g).toMatchObject({ level: 'service', id: 'g', count: 23, failures: 2, minMs: 1, p95Ms: 200, maxMs: 1000, minScore: 40 });
        expect(g!.avgScore).toBeCloseTo((i1Avg + 100) / 2, 9);
      }
      expect(await store.queryRollups({ service: 'g', instance: 'nope', resolution: 'minute' })).toEqual([]);
      await expect(store.queryRollups({ resolution: 'minute' })).rejects.toThrow(/checkId, or service/);
      const stats = await store.stats();
      expect(stats.rollups).toEqual({ minute: 4, hour: 4 });
      expect(stats.groupRollups).toEqual({ minute: 3, hour: 3 });
      // Retention takes instance and service rollups with the check rollups.
      await store.maintain(T0 + 40 * DAY, { lateMs: 0, retention: { minuteRollupsMs: DAY, hourRollupsMs: DAY } });
      expect(await store.queryRollups({ service: 'g', resolution: 'hour' })).toEqual([]);
      expect((await store.stats()).groupRollups).toEqual({ minute: 0, hour: 0 });
    }),
  );

  it(
    'answers uptime exactly for any range: time per status, incidents, recoveries and MTTR, as computed from the transitions',
    withStore(async (store) => {
      const instance = randomTimeline('u/i1', 160, 11);
      const service = randomTimeline('u', 60, 12);
      // Written in batches, some out of time order (a retried flush): the store must replay, not miscount.
      const batches: TransitionRecord[][] = [];
      for (let i = 0; i < instance.length; i += 20) batches.push(instance.slice(i, i + 20));
      batches.push(service);
      for (const order of [
        [0, 2, 1, 3, 5, 4],
        [6, 8, 7],
      ])
        for (const b of order) await store.write({ results: [], transitions: batches[b]! });
      const last = instance[instance.length - 1]!.at;
      const random = seeded(5);
      const ranges: [number, number][] = [
        [T0, last + DAY],
        [T0 - DAY, T0],
        [last + 1, last + 3 * DAY],
        [Math.floor(T0 / DAY) * DAY + 3 * DAY, Math.floor(T0 / DAY) * DAY + 5 * DAY],
      ];
      for (let i = 0; i < 150; i++) {
        const a = T0 + Math.floor(random() * (last - T0 + DAY));
        ranges.push([a, a + 1 + Math.floor(random() * (random() < 0.5 ? HOUR : 20 * DAY))]);
      }
      for (const [subject, ts, q] of [
        ['instance', instance, { service: 'u', instance: 'i1' }],
        ['service', service, { service: 'u' }],
      ] as const) {
        for (const [from, to] of ranges) {
          const got = await store.queryUptime({ ...q, from, to });
          const want = referenceUptime(ts, from, to);
          expect({ ...got, mttrMs: null, uptimePercent: null }, `${subject} [${from}, ${to})`).toEqual({ ...want, mttrMs: null, uptimePercent: null });
          expect(got.mttrMs === null ? null : Math.round(got.mttrMs * 1000)).toBe(want.mttrMs === null ? null : Math.round(want.mttrMs * 1000));
          expect(got.uptimePercent === null ? null : got.uptimePercent.toFixed(9)).toBe(want.uptimePercent === null ? null : want.uptimePercent.toFixed(9));
        }
      }
      const none = await store.queryUptime({ service: 'nope', from: T0, to: T0 + DAY });
      expect(none).toMatchObject({ uptimePercent: null, incidents: 0, ms: { UNKNOWN: DAY, HEALTHY: 0 } });
      await expect(store.queryUptime({ service: 'u', from: T0 + 1, to: T0 })).rejects.toThrow(/from: .* is after to/);
    }),
  );
}
