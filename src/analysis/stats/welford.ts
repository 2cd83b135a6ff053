/**
 * Mean and variance of every point seen (Welford's algorithm: numerically
 * stable, O(1) per point, three numbers of state). Mergeable (Chan et al.), so
 * per-instance figures add up to a service's.
 */
export class Welford {
  private n = 0;
  private m = 0;
  private m2 = 0;

  /** Add a finite value. */
  update(x: number): void {
    this.n++;
    const d = x - this.m;
    this.m += d / this.n;
    this.m2 += d * (x - this.m);
  }

  /** Fold another accumulator into this one (as if its points had been added here). */
  merge(other: Welford): void {
    if (other.n === 0) return;
    const n = this.n + other.n;
    const d = other.m - this.m;
    this.m += (d * other.n) / n;
    this.m2 += other.m2 + (d * d * this.n * other.n) / n;
    this.n = n;
  }

  get count(): number {
    return this.n;
  }

  /** Mean (NaN before the first point). */
  get mean(): number {
    return this.n === 0 ? Number.NaN : this.m;
  }

  /** Sample variance, n − 1 in the denominator (NaN under two points). */
  get variance(): number {
    return this.n < 2 ? Number.NaN : this.m2 / (this.n - 1);
  }

  get stddev(): number {
    return Math.sqrt(this.variance);
  }
}
