import type { Clock } from './clock.js';

/**
 * A few counts over a sliding time window, as a ring of buckets keyed by time
 * slot: adding is O(1), the sums are kept up to date, memory is constant
 * whatever the rate, and old counts fall out without a timer. A bucket leaves
 * the window whole, so the window is between `windowMs × (1 − 1/buckets)` and
 * `windowMs` long. Used by the breaker's failure-ratio trip and the proxy's
 * retry budget.
 */
export class SlidingCounts {
  private readonly bucketMs: number;
  /** counts[kind][bucket] */
  private readonly counts: Float64Array[];
  private readonly sums: Float64Array;
  /** Time slot (time / bucketMs, floored) of the newest bucket written; -Infinity before the first. */
  private head = -Infinity;

  /** `windowMs` > 0 and `buckets` an integer ≥ 1 (the callers check and name them). */
  constructor(
    private readonly clock: Clock,
    windowMs: number,
    private readonly buckets: number,
    kinds: number,
  ) {
    this.bucketMs = windowMs / buckets;
    this.counts = Array.from({ length: kinds }, () => new Float64Array(buckets));
    this.sums = new Float64Array(kinds);
  }

  /** Count `n` of `kind` now. */
  add(kind: number, n = 1): void {
    const i = this.advance();
    this.counts[kind]![i]! += n;
    this.sums[kind]! += n;
  }

  /** The count of `kind` in the window now. */
  sum(kind: number): number {
    this.advance();
    return this.sums[kind]!;
  }

  /** Forget everything. */
  reset(): void {
    for (const c of this.counts) c.fill(0);
    this.sums.fill(0);
    this.head = -Infinity;
  }

  /** Move the ring to now, zeroing buckets that left the window; returns the current bucket. */
  private advance(): number {
    const n = this.buckets;
    const now = Math.floor(this.clock.now() / this.bucketMs);
    // The clock going back (not with a monotonic source) keeps counting in the newest bucket.
    const slot = now < this.head ? this.head : now;
    if (slot !== this.head) {
      // Buckets between the newest written and now left the window (none before the first write: all are zero).
      const steps = this.head === -Infinity ? 0 : Math.min(slot - this.head, n);
      for (let s = 1; s <= steps; s++) {
        const j = (((this.head + s) % n) + n) % n;
        for (let k = 0; k < this.counts.length; k++) {
          this.sums[k]! -= this.counts[k]![j]!;
          this.counts[k]![j] = 0;
        }
      }
      this.head = slot;
    }
    return ((slot % n) + n) % n;
  }
}
