/**
 * Rollup figures of one check over one bucket, computed from the raw rows of
 * the bucket. Shared by backends that aggregate in JS (SQLite); a SQL backend
 * must produce the same numbers (PostgreSQL: `percentile_disc(0.95)` is the
 * same nearest-rank definition).
 */

/** Figures of one bucket, latencies in µs (integers) as stored. */
export interface BucketFigures {
  count: number;
  /** Results that were not HEALTHY (status code ≠ 0). */
  failures: number;
  minUs: number;
  /** Sum of durations, µs; avg = sumUs / count (kept as a sum so buckets merge exactly). */
  sumUs: number;
  p95Us: number;
  maxUs: number;
  /** Counts per status code 0..3 (HEALTHY, DEGRADED, UNHEALTHY, UNKNOWN). */
  statusCounts: [number, number, number, number];
}

/**
 * Nearest-rank percentile of ascending `sorted`: the value at 1-based rank
 * ⌈q·n⌉ (for q = 0.95 and 20 values, the 19th). Always a value that occurred;
 * NaN for an empty list.
 */
export function nearestRank(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const rank = Math.min(n, Math.max(1, Math.ceil(q * n - 1e-9)));
  return sorted[rank - 1]!;
}

/** Collects the raw rows of one check in one bucket. */
export class BucketAccumulator {
  private durations: number[] = [];
  private readonly counts: [number, number, number, number] = [0, 0, 0, 0];

  /** Add one row: status code 0..3 and duration in µs. */
  add(statusCode: number, durationUs: number): void {
    this.durations.push(durationUs);
    const c = (statusCode >= 0 && statusCode <= 3 ? statusCode : 3) as 0 | 1 | 2 | 3;
    this.counts[c]++;
  }

  get size(): number {
    return this.durations.length;
  }

  /** The figures; sorts the collected durations in place (call once). */
  figures(): BucketFigures {
    const d = Float64Array.from(this.durations).sort();
    this.durations = [];
    let sum = 0;
    for (let i = 0; i < d.length; i++) sum += d[i]!;
    return {
      count: d.length,
      failures: d.length - this.counts[0],
      minUs: d.length ? d[0]! : 0,
      sumUs: sum,
      p95Us: d.length ? nearestRank(d, 0.95) : 0,
      maxUs: d.length ? d[d.length - 1]! : 0,
      statusCounts: [...this.counts],
    };
  }
}
