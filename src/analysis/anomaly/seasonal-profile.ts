/**
 * The shape of one period (a day, a week) of a series at a coarse resolution:
 * per phase bucket, a running mean of the values seen there (10 bytes a
 * bucket: a Float32 level, a visit count and the level one period ago). The seasonal offset at a time is the interpolated bucket level
 * minus the mean of all buckets, so a level that moves over weeks does not
 * leak into it.
 *
 * Assumes the shape repeats with the period; it is worth using only once two
 * periods were seen (`periodsSeen`) and the shape explains part of the
 * variance (`strength`).
 */
export class SeasonalProfile {
  private readonly levels: Float32Array;
  private readonly visits: Uint16Array;
  private sum = 0;
  private first = Number.NaN;
  private lastBucket = -1;
  /** The levels as they were when the last whole period ended (for `consistency`). */
  private readonly previous: Float32Array;
  private lastPeriod = 0;
  private lastConsistency = 0;
  /** The bucket of the last point: its time range and the whole periods seen then. */
  private bucketStart = 0;
  private bucketEnd = 0;
  private periods = 1;

  /** `periodMs` > 0; `buckets` ≥ 2 per period. */
  constructor(
    readonly periodMs: number,
    readonly buckets: number,
  ) {
    this.levels = new Float32Array(buckets);
    this.visits = new Uint16Array(buckets);
    this.previous = new Float32Array(buckets);
  }

  /** Whole periods since the first point. */
  periodsSeen(t: number): number {
    return Number.isNaN(this.first) ? 0 : Math.floor((t - this.first) / this.periodMs);
  }

  /**
   * Learn value x at t: a bucket's level is the mean of its visits over the
   * first two periods, then an exponential mean over about two periods of
   * visits, so the profile follows a shape that changes slowly. Returns true
   * when t entered a new bucket.
   */
  learn(t: number, x: number): boolean {
    if (Number.isNaN(this.first)) this.first = t;
    // Most points fall in the bucket of the point before: reuse its index and weight (a division and a modulo saved).
    const entered = !(t >= this.bucketStart && t < this.bucketEnd);
    if (entered) {
      const period = this.periodsSeen(t);
      if (period !== this.lastPeriod) {
        // A period ended: compare its shape with the one before, then keep it for the next comparison.
        this.lastConsistency = this.lastPeriod >= 1 ? this.correlationWithPrevious() : 0;
        this.previous.set(this.levels);
        this.lastPeriod = period;
      }
      const b = this.bucketOf(t);
      const width = this.periodMs / this.buckets;
      this.bucketStart = Math.floor(t / width) * width;
      this.bucketEnd = this.bucketStart + width;
      this.periods = Math.max(1, period);
      this.lastBucket = b;
    }
    const b = this.lastBucket;
    const visits = this.visits[b]!;
    const perPeriod = Math.ceil((visits + 1) / this.periods);
    const w = 1 / Math.min(visits + 1, Math.max(4, 2 * perPeriod));
    const old = this.levels[b]!;
    const next = old + w * (x - old);
    if (visits < 65_535) this.visits[b] = visits + 1;
    this.levels[b] = next;
    this.sum += next - old;
    return entered;
  }

  /** Seasonal offset at t, value units (interpolated between bucket middles). */
  offset(t: number): number {
    const pos = this.phase(t) * this.buckets - 0.5;
    const i0 = Math.floor(pos);
    const f = pos - i0;
    const a = this.levels[(i0 + this.buckets) % this.buckets]!;
    const b = this.levels[(i0 + 1) % this.buckets]!;
    return a + f * (b - a) - this.sum / this.buckets;
  }

  /**
   * Correlation, in [−1, 1], between the shape at the end of the last whole
   * period and at the end of the one before: a shape that repeats keeps it
   * high; a one-off (a shift that lasted half a day) makes one period's shape
   * unlike the other's. 0 until two periods have ended.
   */
  consistency(): number {
    return this.lastConsistency;
  }

  private correlationWithPrevious(): number {
    const n = this.buckets;
    let ma = 0;
    let mb = 0;
    for (let i = 0; i < n; i++) {
      ma += this.levels[i]!;
      mb += this.previous[i]!;
    }
    ma /= n;
    mb /= n;
    let sab = 0;
    let saa = 0;
    let sbb = 0;
    for (let i = 0; i < n; i++) {
      const a = this.levels[i]! - ma;
      const b = this.previous[i]! - mb;
      sab += a * b;
      saa += a * a;
      sbb += b * b;
    }
    return saa > 0 && sbb > 0 ? sab / Math.sqrt(saa * sbb) : 0;
  }

  /** Variance of the bucket levels around their mean, value units²: how much the shape moves the series. */
  shapeVariance(): number {
    const mean = this.sum / this.buckets;
    let v = 0;
    for (let i = 0; i < this.buckets; i++) v += (this.levels[i]! - mean) ** 2;
    return v / this.buckets;
  }

  private phase(t: number): number {
    const r = (t % this.periodMs) / this.periodMs;
    return r < 0 ? r + 1 : r;
  }

  /** Bucket of t, from whole milliseconds (a fraction of the period times the bucket count can land a hair below a boundary). */
  private bucketOf(t: number): number {
    const width = this.periodMs / this.buckets;
    const inPeriod = ((t % this.periodMs) + this.periodMs) % this.periodMs;
    return Math.min(this.buckets - 1, Math.floor(inPeriod / width));
  }
}
