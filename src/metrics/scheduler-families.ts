/**
 * The scheduler's and the history store's figures, computed on scrape from
 * Engine.schedulerStats() and the store's stats callback. Each is read once
 * per scrape, however many families use it.
 */
import type { Engine } from '../engine.js';
import type { SchedulerStats } from '../scheduler/scheduler.js';
import { FAMILIES, SCHEDULER_LAG_QUANTILES, type FamilySpec } from './names.js';
import { perScrape, type Registrar } from './registrar.js';

/**
 * What the history store reports about its writes, read on every scrape.
 * All counts are since the store opened and never decrease (they become
 * Prometheus counters); durations are in milliseconds.
 */
export interface StoreStats {
  /** Duration of the most recent flush, ms; null before the first flush. */
  lastFlushMs: number | null;
  /** Rows written. */
  rows: number;
  /** Rows dropped (queue full, write failed). */
  dropped: number;
  /** Flushes done; with `flushMsTotal` it gives the mean flush time over any window. */
  flushes?: number;
  /** Time spent flushing, summed over all flushes, ms. */
  flushMsTotal?: number;
}

/**
 * Called on every scrape; must be cheap and synchronous (return counters kept
 * in memory, never query the database). Undefined while the store is not open.
 */
export type StoreStatsSource = () => StoreStats | undefined;

/** Milliseconds to seconds, the Prometheus unit. */
const seconds = (ms: number): number => ms / 1000;

const LAG_QUANTILES = Object.entries(SCHEDULER_LAG_QUANTILES).map(([field, quantile]) => ({
  field: field as keyof typeof SCHEDULER_LAG_QUANTILES,
  quantile,
}));

/** Register the scheduler families. */
export function registerSchedulerFamilies(r: Registrar, engine: Pick<Engine, 'schedulerStats'>): void {
  const stats = perScrape((): SchedulerStats => engine.schedulerStats());
  const gauge = (spec: FamilySpec, read: (s: SchedulerStats) => number): void => r.gauge(spec, (set) => set({}, read(stats())));
  const counter = (spec: FamilySpec, read: (s: SchedulerStats) => number): void => r.counter(spec, (set) => set({}, read(stats())));
  gauge(FAMILIES.schedulerChecks, (s) => s.checks);
  gauge(FAMILIES.checksInFlight, (s) => s.running);
  gauge(FAMILIES.schedulerWaiting, (s) => s.waiting);
  gauge(FAMILIES.schedulerLingering, (s) => s.lingering);
  counter(FAMILIES.schedulerRuns, (s) => s.runs);
  counter(FAMILIES.schedulerTimeouts, (s) => s.timeouts);
  // Quantiles over the scheduler's sliding window (a start-up burst fades out
  // within a minute); _sum and _count since start, as a summary's must be.
  const lag = FAMILIES.schedulerLag.name;
  r.computedSummary(FAMILIES.schedulerLag, (out) => {
    const { lag: total, recentLag } = stats();
    for (const { field, quantile } of LAG_QUANTILES) out.push({ value: seconds(recentLag[field]), labels: { quantile } });
    out.push({ value: seconds(total.mean * total.count), labels: {}, metricName: `${lag}_sum` });
    out.push({ value: total.count, labels: {}, metricName: `${lag}_count` });
  });
  gauge(FAMILIES.schedulerLagMax, (s) => seconds(s.lag.max));
}

/** Register the history store families; each is empty while the callback has nothing (or throws). */
export function registerStoreFamilies(r: Registrar, storeStats: StoreStatsSource): void {
  const store = perScrape((): StoreStats | undefined => {
    try {
      return storeStats();
    } catch (err) {
      r.onError(err, 'storeStats');
      return undefined;
    }
  });
  r.gauge(FAMILIES.storeLastFlush, (set) => {
    const s = store();
    if (s && s.lastFlushMs !== null) set({}, seconds(s.lastFlushMs));
  });
  const flush = FAMILIES.storeFlushDuration.name;
  r.computedSummary(FAMILIES.storeFlushDuration, (out) => {
    const s = store();
    if (s?.flushes === undefined || s.flushMsTotal === undefined) return;
    out.push({ value: seconds(s.flushMsTotal), labels: {}, metricName: `${flush}_sum` });
    out.push({ value: s.flushes, labels: {}, metricName: `${flush}_count` });
  });
  r.counter(FAMILIES.storeRows, (set) => {
    const s = store();
    if (s) set({}, s.rows);
  });
  r.counter(FAMILIES.storeDropped, (set) => {
    const s = store();
    if (s) set({}, s.dropped);
  });
}
