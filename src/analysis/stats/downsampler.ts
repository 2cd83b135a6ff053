/**
 * A whole series of unknown length reduced to at most `capacity` evenly spaced
 * bucket means in fixed memory: buckets start one millisecond wide from the
 * first point and double (neighbours merge pairwise) whenever a point falls
 * beyond the last one. After n points spanning T ms, the buckets are between
 * T / capacity and 2T / capacity wide, so at least half of them are in use.
 * The offline CLI reads a file's trend and forecast through it.
 */
export class Downsampler {
  private readonly sums: Float64Array;
  private readonly counts: Float64Array;
  private origin = Number.NaN;
  private width = 1;
  private used = 0;

  /** `capacity` ≥ 2 buckets, even. */
  constructor(readonly capacity = 256) {
    if (!(Number.isInteger(capacity) && capacity >= 2 && capacity % 2 === 0))
      throw new RangeError(`Downsampler: capacity must be an even integer ≥ 2, got ${capacity}`);
    this.sums = new Float64Array(capacity);
    this.counts = new Float64Array(capacity);
  }

  /** Add a point; `t` (epoch ms) never below the first point's. */
  add(t: number, y: number): void {
    if (Number.isNaN(this.origin)) this.origin = t;
    let k = Math.floor((t - this.origin) / this.width);
    while (k >= this.capacity) {
      this.compact();
      k = Math.floor((t - this.origin) / this.width);
    }
    this.sums[k]! += y;
    this.counts[k]! += 1;
    if (k + 1 > this.used) this.used = k + 1;
  }

  /** Bucket width now, ms. */
  get bucketMs(): number {
    return this.width;
  }

  /** Non-empty buckets, oldest first: middle time (epoch ms) and mean. */
  buckets(): { t: Float64Array; y: Float64Array } {
    let n = 0;
    for (let i = 0; i < this.used; i++) if (this.counts[i]! > 0) n++;
    const t = new Float64Array(n);
    const y = new Float64Array(n);
    let j = 0;
    for (let i = 0; i < this.used; i++) {
      if (this.counts[i]! === 0) continue;
      t[j] = this.origin + (i + 0.5) * this.width;
      y[j++] = this.sums[i]! / this.counts[i]!;
    }
    return { t, y };
  }

  private compact(): void {
    const half = this.capacity / 2;
    for (let i = 0; i < half; i++) {
      this.sums[i] = this.sums[2 * i]! + this.sums[2 * i + 1]!;
      this.counts[i] = this.counts[2 * i]! + this.counts[2 * i + 1]!;
    }
    this.sums.fill(0, half);
    this.counts.fill(0, half);
    this.width *= 2;
    this.used = Math.ceil(this.used / 2);
  }
}
