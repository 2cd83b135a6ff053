/**
 * A series averaged into fixed time buckets, the last `capacity` of them kept
 * (a ring of means; NaN marks a bucket with no point, i.e. a gap). O(1) per
 * point, 8 bytes a bucket. The trend and the forecast read it: bucket means
 * are evenly spaced whatever the sampling, and a window of them covers
 * `capacity × bucketMs` of history in fixed memory.
 */
export class BucketRing {
  private readonly means: Float64Array;
  /** Absolute bucket number (floor(t / bucketMs)) of the bucket in progress; -Infinity before the first point. */
  private current = Number.NEGATIVE_INFINITY;
  private sum = 0;
  private count = 0;
  /** Closed buckets stored (≤ capacity). */
  private stored = 0;

  /** `bucketMs` > 0; `capacity` ≥ 2 buckets. */
  constructor(
    readonly bucketMs: number,
    readonly capacity: number,
  ) {
    if (!(bucketMs > 0)) throw new RangeError(`BucketRing: bucketMs must be > 0, got ${bucketMs}`);
    if (!(Number.isInteger(capacity) && capacity >= 2)) throw new RangeError(`BucketRing: capacity must be an integer ≥ 2, got ${capacity}`);
    this.means = new Float64Array(capacity);
  }

  /**
   * Add a point at `t` (epoch ms). Returns false, and ignores the point, when
   * it falls in a bucket already closed (late points do not rewrite history).
   */
  add(t: number, y: number): boolean {
    const b = Math.floor(t / this.bucketMs);
    if (b === this.current) {
      this.sum += y;
      this.count++;
      return true;
    }
    if (b < this.current) return false;
    if (this.count > 0) {
      this.close(this.sum / this.count);
      // Buckets with no point between the closed one and b are gaps.
      const gaps = Math.min(b - this.current - 1, this.capacity);
      for (let i = 0; i < gaps; i++) this.close(Number.NaN);
    }
    this.current = b;
    this.sum = y;
    this.count = 1;
    return true;
  }

  /**
   * The closed buckets, oldest first, without gaps: times are bucket middles
   * (epoch ms). The bucket in progress is left out until it closes.
   */
  closed(): { t: Float64Array; y: Float64Array } {
    const n = this.stored;
    let filled = 0;
    for (let i = 0; i < n; i++) if (!Number.isNaN(this.means[this.slot(i)]!)) filled++;
    const t = new Float64Array(filled);
    const y = new Float64Array(filled);
    let j = 0;
    for (let i = 0; i < n; i++) {
      const v = this.means[this.slot(i)]!;
      if (Number.isNaN(v)) continue;
      // Closed bucket i (0 = oldest) is number current − n + i.
      t[j] = (this.current - n + i + 0.5) * this.bucketMs;
      y[j++] = v;
    }
    return { t, y };
  }

  /** Closed buckets held, gaps included. */
  get length(): number {
    return this.stored;
  }

  private close(mean: number): void {
    // The ring's slot for the closed bucket: buckets are written in order, so a running index suffices.
    this.means[this.writeIndex] = mean;
    this.writeIndex = (this.writeIndex + 1) % this.capacity;
    if (this.stored < this.capacity) this.stored++;
  }

  private writeIndex = 0;

  /** Ring slot of the i-th stored bucket, 0 = oldest. */
  private slot(i: number): number {
    return (this.writeIndex - this.stored + i + this.capacity) % this.capacity;
  }
}
