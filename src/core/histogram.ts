/**
 * Fixed-memory latency histogram with log-spaced buckets (about 4% relative
 * error), for quantiles of scheduler lag and probe times without keeping samples.
 * Values in milliseconds, from 1 µs to about 1 hour.
 */
export class LatencyHistogram {
  private static readonly MIN = 0.001;
  private static readonly GROWTH = 1.04;
  private static readonly LOG_GROWTH = Math.log(LatencyHistogram.GROWTH);
  private readonly counts: Uint32Array;
  private total = 0;
  private sum = 0;
  private maxValue = 0;

  constructor(private readonly bucketCount = 560) {
    this.counts = new Uint32Array(bucketCount);
  }

  record(ms: number): void {
    const v = ms > LatencyHistogram.MIN ? ms : LatencyHistogram.MIN;
    let i = Math.ceil(Math.log(v / LatencyHistogram.MIN) / LatencyHistogram.LOG_GROWTH);
    if (i >= this.bucketCount) i = this.bucketCount - 1;
    this.counts[i]!++;
    this.total++;
    this.sum += ms;
    if (ms > this.maxValue) this.maxValue = ms;
  }

  get count(): number {
    return this.total;
  }

  get max(): number {
    return this.maxValue;
  }

  get mean(): number {
    return this.total ? this.sum / this.total : 0;
  }

  /** Upper bound of the bucket holding quantile q (0..1); 0 when empty. */
  quantile(q: number): number {
    if (!this.total) return 0;
    const rank = Math.ceil(q * this.total);
    let seen = 0;
    for (let i = 0; i < this.bucketCount; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return Math.min(LatencyHistogram.MIN * LatencyHistogram.GROWTH ** i, this.maxValue);
    }
    return this.maxValue;
  }

  reset(): void {
    this.counts.fill(0);
    this.total = 0;
    this.sum = 0;
    this.maxValue = 0;
  }
}
