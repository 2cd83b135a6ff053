import type { Clock } from '../core/clock.js';
import { SlidingCounts } from '../core/sliding-counts.js';

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
 * The window slides in {@link BUCKETS} steps (1 s for a 10 s window; see
 * core/sliding-counts.ts).
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
  private readonly ratio: number;
  private readonly reserve: number;
  private readonly counts: SlidingCounts;

  constructor(options: RetryBudgetOptions) {
    const windowMs = options.windowMs ?? 10_000;
    if (!(windowMs > 0)) throw new RangeError(`retry budget window must be > 0 ms, got ${windowMs}`);
    this.ratio = options.budgetPercent / 100;
    this.reserve = options.minPerSecond * (windowMs / 1000);
    this.counts = new SlidingCounts(options.clock, windowMs, BUCKETS, 2);
  }

  /** Count one original request (call once per request, before any retry of it). */
  recordRequest(): void {
    this.counts.add(REQUESTS);
  }

  /** Whether one more retry fits now, without taking it. */
  allows(): boolean {
    return this.counts.sum(RETRIES) + 1 <= this.ratio * this.counts.sum(REQUESTS) + this.reserve;
  }

  /**
   * Take one retry from the budget: true (and counted) when it fits, false
   * when the budget is exhausted (nothing counted).
   */
  tryRetry(): boolean {
    if (!this.allows()) return false;
    this.counts.add(RETRIES);
    return true;
  }

  /** Requests and retries in the window now (for stats and tests). */
  window(): { requests: number; retries: number } {
    return { requests: this.counts.sum(REQUESTS), retries: this.counts.sum(RETRIES) };
  }
}

const REQUESTS = 0;
const RETRIES = 1;
