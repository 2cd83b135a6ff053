/**
 * Rollup figures of one check, instance or service over one bucket,
 * computed from the raw rows of the bucket. Shared by backends that
 * aggregate in JS (SQLite); a SQL backend must produce the same numbers
 * (PostgreSQL: `percentile_disc(0.95)` is the same nearest-rank definition).
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
  /** Lowest score 0–100, or null when no row carried one. */
  minScore: number | null;
  /** Sum of the scores averaged (avg = sumScore / scoreCount). */
  sumScore: number;
  scoreCount: number;
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

/** Lowest, sum and count of scores (0–100). */
export class ScoreAccumulator {
  min: number | null = null;
  sum = 0;
  count = 0;

  /** Add a score; NaN or null (none) is skipped. */
  add(score: number | null): void {
    if (score === null || Number.isNaN(score)) return;
    if (this.min === null || score < this.min) this.min = score;
    this.sum += score;
    this.count++;
  }

  /** The mean, or null when nothing was added. */
  avg(): number | null {
    return this.count ? this.sum / this.count : null;
  }
}

/** The raw rows of one check (or group) in one bucket, kept sorted once collected. */
export class BucketAccumulator {
  private durations: number[] = [];
  readonly counts: [number, number, number, number] = [0, 0, 0, 0];
  readonly score = new ScoreAccumulator();

  /** Add one row: status code 0..3, duration in µs and the score it carried (NaN/null: none). */
  add(statusCode: number, durationUs: number, score: number | null = null): void {
    this.durations.push(durationUs);
    const c = (statusCode >= 0 && statusCode <= 3 ? statusCode : 3) as 0 | 1 | 2 | 3;
    this.counts[c]++;
    this.score.add(score);
  }

  get size(): number {
    return this.durations.length;
  }

  /** The durations sorted ascending (collected ones are released; call once). */
  sorted(): Float64Array {
    const d = Float64Array.from(this.durations).sort();
    this.durations = [];
    return d;
  }

  /** The figures; sorts the collected durations (call once). */
  figures(): BucketFigures {
    return figuresOf(this.sorted(), this.counts, this.score);
  }
}

/** Figures of a bucket from its sorted durations, status counts and scores. */
export function figuresOf(d: Float64Array, counts: readonly number[], score: { min: number | null; sum: number; count: number }): BucketFigures {
  let sum = 0;
  for (let i = 0; i < d.length; i++) sum += d[i]!;
  return {
    count: d.length,
    failures: d.length - (counts[0] ?? 0),
    minUs: d.length ? d[0]! : 0,
    sumUs: sum,
    p95Us: d.length ? nearestRank(d, 0.95) : 0,
    maxUs: d.length ? d[d.length - 1]! : 0,
    statusCounts: [counts[0] ?? 0, counts[1] ?? 0, counts[2] ?? 0, counts[3] ?? 0],
    minScore: score.min,
    sumScore: score.sum,
    scoreCount: score.count,
  };
}

/** The values of several ascending arrays as one ascending array. */
export function mergeSorted(arrays: readonly Float64Array[]): Float64Array {
  if (arrays.length === 1) return arrays[0]!;
  let n = 0;
  for (const a of arrays) n += a.length;
  const out = new Float64Array(n);
  let at = 0;
  for (const a of arrays) {
    out.set(a, at);
    at += a.length;
  }
  return out.sort();
}
