/**
 * SLOs of the daemon's services, from stored history: a GoodTotalSource per
 * service over its rollups, read the way evaluateSlo (src/analysis/slo.ts)
 * asks for them, and a cache of each service's status refreshed once a
 * minute for /metrics and alert rules (the API reads afresh).
 *
 * The source reads three layers, none counted twice:
 * - hour rollups for the part of the window older than the slowest
 *   burn-rate window (3 d), so a 30-day window costs ~720 rows, not 43,200;
 * - minute rollups from there to the last minutes;
 * - live minute counts kept here for the last minutes, which the store has
 *   not rolled up yet (a minute is rolled up 30 s after it ends, on the next
 *   maintenance run), so the 5-minute window does not lag by two minutes.
 *
 * availability: good = results that passed (HEALTHY or DEGRADED), of all
 * results of the service's checks. latency: time slices, one per minute
 * with results: good when the minute's p95 was at most latency_threshold
 * (an hour rollup, older than 3 d, counts as 60 slices, all good or all bad
 * by the hour's p95). With exclude_maintenance, buckets that start inside a
 * maintenance window matching `{service}` are left out.
 */
import { evaluateSlo, WORKBOOK_CONDITIONS, type CountBucket, type GoodTotalSource, type SloStatus } from '../analysis/slo.js';
import type { Clock } from '../core/clock.js';
import { sloSpecOf, type SloConfig } from '../config/slo.js';
import type { HistoryStore, Rollup } from '../store/types.js';

const MINUTE = 60_000;
const HOUR = 3_600_000;
/** The slowest burn-rate window: older than this, hour rollups suffice. */
const MINUTE_DETAIL_MS = Math.max(...WORKBOOK_CONDITIONS.map((c) => c.longMs));
/** Live minutes kept per service (the store has rolled them up well before). */
const LIVE_MINUTES = 10;

/** Maintenance time of a subject: merged [start, end) intervals overlapping [from, to). */
export type MaintenanceLookup = (labels: Record<string, string>, from: number, to: number) => Array<[number, number]>;

interface LiveMinute {
  total: number;
  good: number;
  /** Results at most latency_threshold (kind latency). */
  fast: number;
}

/** Counts of the last minutes per service, from live results. */
export class LiveSloCounts {
  private readonly byService = new Map<string, Map<number, LiveMinute>>();

  /** `since`: the start of the first minute seen whole (earlier minutes come from the store). */
  constructor(readonly since: number) {}

  /** One result of a service's check. */
  add(service: string, at: number, passed: boolean, durationMs: number, threshold: number | undefined): void {
    let minutes = this.byService.get(service);
    if (!minutes) {
      minutes = new Map();
      this.byService.set(service, minutes);
    }
    const start = Math.floor(at / MINUTE) * MINUTE;
    let m = minutes.get(start);
    if (!m) {
      m = { total: 0, good: 0, fast: 0 };
      minutes.set(start, m);
      for (const old of minutes.keys()) if (old < start - LIVE_MINUTES * MINUTE) minutes.delete(old);
    }
    m.total++;
    if (passed) m.good++;
    if (threshold !== undefined && durationMs <= threshold) m.fast++;
  }

  /** Live minutes of a service with start in [from, to). */
  minutes(service: string, from: number, to: number): Array<[number, LiveMinute]> {
    const out: Array<[number, LiveMinute]> = [];
    for (const [start, m] of this.byService.get(service) ?? []) if (start >= from && start < to) out.push([start, m]);
    return out;
  }

  /** Where live minutes take over from stored rollups at `now`. */
  from(now: number): number {
    return Math.max(this.since, Math.floor(now / MINUTE) * MINUTE - LIVE_MINUTES * MINUTE + MINUTE);
  }

  drop(service: string): void {
    this.byService.delete(service);
  }
}

/** What the service sources read. */
export interface SloSourceDeps {
  store: Pick<HistoryStore, 'queryRollups'>;
  clock: Clock;
  live: LiveSloCounts;
  maintenance?: MaintenanceLookup;
}

/** The counts of one service's SLO (see the module comment). */
export function serviceSloSource(service: string, slo: SloConfig, deps: SloSourceDeps): GoodTotalSource {
  const count = (r: Rollup, slices: number): CountBucket => {
    if (slo.kind === 'latency') {
      const good = r.count > 0 && r.p95Ms <= (slo.latency_threshold ?? Infinity);
      return { start: r.bucketStart, good: good ? slices : 0, total: r.count > 0 ? slices : 0 };
    }
    return { start: r.bucketStart, good: r.statusCounts.HEALTHY + r.statusCounts.DEGRADED, total: r.count };
  };
  return {
    bucketMs: MINUTE,
    async buckets(from, to) {
      const now = deps.clock.now();
      const liveFrom = Math.min(to, Math.max(from, deps.live.from(now)));
      const split = Math.min(liveFrom, Math.max(from, Math.floor((now - MINUTE_DETAIL_MS) / HOUR) * HOUR));
      const out: CountBucket[] = [];
      if (split > from) {
        const hours = await deps.store.queryRollups({ service, resolution: 'hour', from: Math.ceil(from / HOUR) * HOUR, to: split });
        for (const r of hours) out.push(count(r, 60));
      }
      if (liveFrom > split) {
        const minutes = await deps.store.queryRollups({ service, resolution: 'minute', from: split, to: liveFrom });
        for (const r of minutes) out.push(count(r, 1));
      }
      for (const [start, m] of deps.live.minutes(service, liveFrom, to)) {
        if (slo.kind === 'latency') {
          // Nearest-rank p95 ≤ threshold ⇔ at least ⌈0.95 n⌉ results were that fast.
          const good = m.fast >= Math.ceil(0.95 * m.total);
          out.push({ start, good: good ? 1 : 0, total: 1 });
        } else out.push({ start, good: m.good, total: m.total });
      }
      if (!slo.exclude_maintenance || !deps.maintenance) return out;
      const windows = deps.maintenance({ service }, from, to);
      if (windows.length === 0) return out;
      return out.filter((b) => !windows.some(([s, e]) => b.start >= s && b.start < e));
    },
  };
}

/** A service's SLO status as the API, metrics and rules see it. */
export interface SloView extends SloStatus {
  kind: SloConfig['kind'];
  /** The objective as configured, percent. */
  objectivePercent: number;
  latencyThresholdMs: number | null;
  excludeMaintenance: boolean;
  /** Epoch ms of the evaluation. */
  at: number;
}

/** Evaluate one service's SLO now. */
export async function evaluateServiceSlo(service: string, slo: SloConfig, deps: SloSourceDeps): Promise<SloView> {
  const status = await evaluateSlo(sloSpecOf(slo), serviceSloSource(service, slo, deps), deps.clock);
  return {
    ...status,
    kind: slo.kind,
    objectivePercent: slo.objective,
    latencyThresholdMs: slo.latency_threshold ?? null,
    excludeMaintenance: slo.exclude_maintenance,
    at: deps.clock.now(),
  };
}

/** Burn rates by window length, as the metrics label them (1h, 5m, 6h, 30m, 3d). */
export function burnByWindow(view: SloStatus): Map<string, number> {
  const out = new Map<string, number>();
  for (const b of view.burns) {
    const [long, short] = b.condition.name.split('/') as [string, string];
    out.set(long, b.longBurn);
    out.set(short, b.shortBurn);
  }
  return out;
}

/**
 * The numbers a burn_rate rule reads, per service: `slo.burn_rate:<name>` is
 * the lower of a condition's two burn rates (the condition holds when it is
 * above the factor), `slo.burn_rate:page` and `:ticket` the highest of that
 * ratio to its factor over the conditions of the severity (holds above 1).
 */
export function burnSamples(view: SloStatus): Array<{ series: string; value: number }> {
  const out: Array<{ series: string; value: number }> = [];
  const worst = { page: 0, ticket: 0 };
  for (const b of view.burns) {
    const both = Math.min(b.longBurn, b.shortBurn);
    out.push({ series: `slo.burn_rate:${b.condition.name}`, value: both });
    worst[b.condition.severity] = Math.max(worst[b.condition.severity], both / b.condition.factor);
  }
  out.push({ series: 'slo.burn_rate:page', value: worst.page }, { series: 'slo.burn_rate:ticket', value: worst.ticket });
  out.push({ series: 'slo.budget_remaining', value: view.budgetRemaining });
  return out;
}
