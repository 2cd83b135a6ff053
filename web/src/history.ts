/**
 * Turning history into what the charts draw: rollups into latency points,
 * and — on a daemon without the rollup and transition routes — raw results
 * into the same points and into status periods, so the check view still
 * shows a chart and a timeline, labelled as coming from raw results.
 */
import { getCheckResults, type ResultRecord, type Rollup, type Status } from './api';
import type { LatencyPoint } from './components/latency-chart';

/** A period of one status over [from, to), epoch ms. */
export interface Segment {
  from: number;
  to: number;
  status: Status;
}

/**
 * Periods from status changes (any order) over [from, to): before the first
 * change, its `from` status; after the last, until `to`. With no change in
 * the range, the whole range is `current`.
 */
export function segmentsFrom(changes: Array<{ at: number; from: Status; to: Status }>, from: number, to: number, current: Status): Segment[] {
  const sorted = changes.filter((c) => c.at >= from && c.at < to).sort((a, b) => a.at - b.at);
  if (sorted.length === 0) return [{ from, to, status: current }];
  const out: Segment[] = [{ from, to: sorted[0]!.at, status: sorted[0]!.from }];
  sorted.forEach((c, i) => {
    out.push({ from: c.at, to: sorted[i + 1]?.at ?? to, status: c.to });
  });
  return out.filter((s) => s.to > s.from);
}

/** Raw results read at most, newest first (pages of 1,000). */
export const MAX_RAW_RESULTS = 5_000;

export function pointsFromRollups(rollups: Rollup[]): LatencyPoint[] {
  return rollups
    .filter((r) => r.count > 0)
    .map((r) => ({ t: r.bucketStart, minMs: r.minMs, avgMs: r.avgMs, p95Ms: r.p95Ms, maxMs: r.maxMs, count: r.count }))
    .sort((a, b) => a.t - b.t);
}

/** Worst status of a rollup bucket (the timeline's fallback when only rollups exist). */
export function worstOf(counts: Record<Status, number>): Status {
  return counts.UNHEALTHY ? 'UNHEALTHY' : counts.UNKNOWN ? 'UNKNOWN' : counts.DEGRADED ? 'DEGRADED' : 'HEALTHY';
}

/** Newest-first results in [from, to), up to MAX_RAW_RESULTS; `truncated` when more exist. */
export async function loadRawResults(checkId: string, from: number, to: number): Promise<{ results: ResultRecord[]; truncated: boolean }> {
  const results: ResultRecord[] = [];
  let cursor: string | null = null;
  do {
    const page = await getCheckResults(checkId, { from, to, limit: 1000, cursor });
    results.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor && results.length < MAX_RAW_RESULTS);
  return { results, truncated: cursor !== null };
}

/** Results bucketed by `stepMs`: min, mean, nearest-rank p95 and max of each bucket, oldest first. */
export function pointsFromResults(results: ResultRecord[], stepMs: number): LatencyPoint[] {
  const buckets = new Map<number, number[]>();
  for (const r of results) {
    const t = Math.floor(r.observedAt / stepMs) * stepMs;
    let list = buckets.get(t);
    if (!list) {
      list = [];
      buckets.set(t, list);
    }
    list.push(r.durationMs);
  }
  return [...buckets]
    .sort((a, b) => a[0] - b[0])
    .map(([t, list]) => {
      list.sort((a, b) => a - b);
      const sum = list.reduce((s, v) => s + v, 0);
      return {
        t,
        minMs: list[0]!,
        avgMs: sum / list.length,
        p95Ms: list[Math.max(0, Math.ceil(0.95 * list.length) - 1)]!,
        maxMs: list[list.length - 1]!,
        count: list.length,
      };
    });
}

/** Periods of equal raw status, oldest first, over [from, to). */
export function segmentsFromResults(results: ResultRecord[], from: number, to: number): Segment[] {
  const sorted = [...results].sort((a, b) => a.observedAt - b.observedAt);
  const out: Segment[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last && last.status === r.status) continue;
    if (last) last.to = r.observedAt;
    out.push({ from: Math.max(from, r.observedAt), to, status: r.status });
  }
  return out;
}

/** Periods from rollup buckets, each bucket its worst status. */
export function segmentsFromRollups(rollups: Rollup[], stepMs: number): Segment[] {
  const out: Segment[] = [];
  for (const r of [...rollups].sort((a, b) => a.bucketStart - b.bucketStart)) {
    const status = worstOf(r.statusCounts);
    const last = out[out.length - 1];
    if (last && last.status === status && last.to === r.bucketStart) last.to = r.bucketStart + stepMs;
    else out.push({ from: r.bucketStart, to: r.bucketStart + stepMs, status });
  }
  return out;
}
