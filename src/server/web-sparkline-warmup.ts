/**
 * The mesh view's last hour after a daemon restart, read back from the
 * store; without it every sparkline starts empty and fills over an hour.
 * Per service and minute:
 * - latency (sum, count, max) from the service's minute rollup: exact;
 * - the score from the rollup's avgScore, the service score's mean over the
 *   minute (live minutes keep their lowest: close, not the same);
 * - the worst status from the service's stored transitions: exact.
 * Minutes without a rollup stay empty, as they were before the restart; the
 * newest minute or so may not be rolled up yet. Minutes seen live win.
 */
import type { HealthStatus } from '../core/status.js';
import { severity } from '../core/status.js';
import type { Page, RangeQuery, Rollup, RollupQuery, TransitionRecord } from '../store/types.js';
import { SPARK_MINUTES, type Sparklines } from './web-sparklines.js';

const MINUTE_MS = 60_000;
/** Services read at once: the warm-up shares the store with the daemon starting up. */
const CONCURRENCY = 4;

/** What the warm-up reads. */
export interface SparklineHistory {
  queryRollups(query: RollupQuery): Promise<Rollup[]>;
  queryTransitions(query: RangeQuery): Promise<Page<TransitionRecord>>;
}

/** Fill the sparklines of `services` with the stored minutes of the hour before `now`. */
export async function warmSparklines(sparklines: Sparklines, store: SparklineHistory, services: readonly string[], now: number): Promise<void> {
  const queue = [...services];
  const worker = async (): Promise<void> => {
    for (let service = queue.shift(); service !== undefined; service = queue.shift()) await warmService(sparklines, store, service, now);
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, queue.length) }, worker));
}

async function warmService(sparklines: Sparklines, store: SparklineHistory, service: string, now: number): Promise<void> {
  const from = (Math.floor(now / MINUTE_MS) - SPARK_MINUTES + 1) * MINUTE_MS;
  const rollups = await store.queryRollups({ service, resolution: 'minute', from, to: now });
  if (rollups.length === 0) return;
  const statusAt = await serviceStatuses(store, service, from, now);
  for (const r of rollups) {
    if (r.level !== 'service' || r.avgScore === null) continue;
    sparklines.warm(service, r.bucketStart, now, {
      score: r.avgScore,
      worst: statusAt(r.bucketStart, r.bucketStart + MINUTE_MS),
      latencySum: r.avgMs * r.count,
      latencyCount: r.count,
      latencyMax: r.maxMs,
    });
  }
}

/** The worst status a service had within [start, end), from its transitions (UNKNOWN before the first). */
async function serviceStatuses(store: SparklineHistory, service: string, from: number, now: number): Promise<(start: number, end: number) => HealthStatus> {
  const before = await store.queryTransitions({ service, levels: ['service'], to: from, order: 'desc', limit: 1 });
  const during = await store.queryTransitions({ service, levels: ['service'], from, to: now + 1, order: 'asc', limit: 1000 });
  const changes = during.items;
  const initial: HealthStatus = before.items[0]?.to ?? changes[0]?.from ?? 'UNKNOWN';
  return (start, end) => {
    let status = initial;
    let worst = status;
    for (const t of changes) {
      if (t.at >= end) break;
      status = t.to;
      // A change at the minute's first ms is the status it starts with, not one it passed through.
      if (t.at <= start) worst = status;
      else if (severity(status) > severity(worst)) worst = status;
    }
    return worst;
  };
}
