import type { Clock } from '../core/clock.js';

/**
 * A retry budget, as Envoy's `retry_budget` and Finagle's RetryBudget: a
 * retry is allowed while, counting it, the retries of the last `windowMs`
 * stay within
 *
 *     budgetPercent / 100 × requests in the window + minPerSecond × windowMs / 1000
 *
 * so retries add at most a fixed share of load (a retry storm cannot multiply
 * an outage) while a quiet service still gets a few retries a second.
 * Requests are original requests only; retries do not earn more retries.
 *
 * The window slides in {@link BUCKETS} steps (1 s for a 10 s window): counts
 * live in a ring of buckets, so recording is O(1) and memory is constant
 * whatever the rate. A bucket leaves the window whole, so the window is
 * between `windowMs × (1 − 1/BUCKETS)` and `windowMs` long.
 */
export interface RetryBudgetOptions {
  clock: Clock;
  /** Share of requests that may be retried, 0..100 (percent). */
  budgetPercent: number;
  /** Retries allowed per second of window regardless of traffic (retries/s). */
  minPerSecond: number;
  /** Sliding window length, ms; default 10 000 (Finagle's default TTL). */
  windowMs?: number;
}

/** Buckets in the window ring. */
export const BUCKETS = 10;

/** One budget, usually per service. */
export class RetryBudget {
  private readonly clock: Clock;
  private readonly ratio: number;
  private readonly reserve: number;
  private readonly bucketMs: number;
  private readonly requests = new Float64Array(BUCKETS);
  private readonly retries = new Float64Array(BUCKETS);
  /** Index (time / bucketMs, floored) of the newest bucket written. */
  private head = -1;
  private requestSum = 0;
  private retrySum = 0;

  constructor(options: RetryBudgetOptions) {
    const windowMs = options.windowMs ?? 10_000;
    if (!(windowMs > 0)) throw new RangeError(`retry budget window must be > 0 ms, got ${windowMs}`);
    this.clock = options.clock;
    this.ratio = options.budgetPercent / 100;
    this.reserve = options.minPerSecond * (windowMs / 1000);
    this.bucketMs = windowMs / BUCKETS;
  }

  /** Count one original request (call once per request, before any retry of it). */
  recordRequest(): void {
    const i = this.advance();
    this.requests[i]!++;
    this.requestSum++;
  }

  /** Whether one more retry fits now, without taking it. */
  allows(): boolean {
    this.advance();
    return this.retrySum + 1 <= this.ratio * this.requestSum + this.reserve;
  }

  /**
   * Take one retry from the budget: true (and counted) when it fits, false
   * when the budget is exhausted (nothing counted).
   */
  tryRetry(): boolean {
    const i = this.advance();
    if (this.retrySum + 1 > this.ratio * this.requestSum + this.reserve) return false;
    this.retries[i]!++;
    this.retrySum++;
    return true;
  }

  /** Requests and retries in the window now (for stats and tests). */
  window(): { requests: number; retries: number } {
    this.advance();
    return { requests: this.requestSum, retries: this.retrySum };
  }

  /** Move the ring to now, zeroing buckets that left the window; returns the current slot. */
  private advance(): number {
    const now = Math.floor(this.clock.now() / this.bucketMs);
    if (now !== this.head) {
      if (now < this.head) {
        // The clock went back (should not happen with a monotonic source): keep counting in the newest bucket.
        return ((this.head % BUCKETS) + BUCKETS) % BUCKETS;
      }
      const steps = this.head < 0 ? BUCKETS : Math.min(now - this.head, BUCKETS);
      for (let s = 1; s <= steps; s++) {
        const j = (((this.head + s) % BUCKETS) + BUCKETS) % BUCKETS;
        this.requestSum -= this.requests[j]!;
        this.retrySum -= this.retries[j]!;
        this.requests[j] = 0;
        this.retries[j] = 0;
      }
      this.head = now;
    }
    return ((now % BUCKETS) + BUCKETS) % BUCKETS;
  }
}
