/**
 * Exponentially weighted mean and variance (West's incremental form), O(1)
 * per point and three numbers of state. The weight of a point halves every
 * `halfLife` points; there is no notion of time, so feed it evenly spaced
 * points (or bucket means) when time matters.
 */
export class Ewma {
  /** Weight of the newest point, in (0, 1]. */
  readonly alpha: number;
  private m = 0;
  private v = 0;
  private n = 0;

  /** `halfLife` in points, > 0. */
  constructor(halfLife: number) {
    if (!(halfLife > 0)) throw new RangeError(`Ewma: halfLife must be > 0 points, got ${halfLife}`);
    this.alpha = 1 - 0.5 ** (1 / halfLife);
  }

  /** Add a finite value. */
  update(x: number): void {
    if (this.n++ === 0) {
      this.m = x;
      return;
    }
    const diff = x - this.m;
    const incr = this.alpha * diff;
    this.m += incr;
    this.v = (1 - this.alpha) * (this.v + diff * incr);
  }

  /** Points seen. */
  get count(): number {
    return this.n;
  }

  /** Weighted mean (NaN before the first point). */
  get mean(): number {
    return this.n === 0 ? Number.NaN : this.m;
  }

  /** Weighted variance (0 after one point, NaN before). */
  get variance(): number {
    return this.n === 0 ? Number.NaN : this.v;
  }

  get stddev(): number {
    return Math.sqrt(this.variance);
  }

  reset(): void {
    this.m = 0;
    this.v = 0;
    this.n = 0;
  }
}
