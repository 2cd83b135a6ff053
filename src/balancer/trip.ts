import type { Clock } from '../core/clock.js';
import { SlidingCounts } from '../core/sliding-counts.js';

/** One call outcome as seen by a trip strategy. */
export interface CallOutcome {
  /** Whether the call counted as a success (the breaker turns slow calls into failures first). */
  ok: boolean;
}

/**
 * Decides when a closed breaker should open. Kept apart from the breaker's
 * state machine (breaker.ts) and from how long it stays open (backoff.ts).
 * The breaker feeds it outcomes only while closed and resets it whenever it
 * closes or opens.
 */
export interface TripStrategy {
  /** Record one outcome observed while closed. */
  record(outcome: CallOutcome): void;
  /** True when the recorded outcomes say the breaker should open now. */
  shouldTrip(): boolean;
  /** Forget everything (called on every open and close). */
  reset(): void;
  /** Current figures for explanations and metrics (counts, ratios in 0..1). */
  figures(): Record<string, number>;
}

/** Options of {@link consecutiveFailures}. */
export interface ConsecutiveFailuresOptions {
  /** Failures in a row that open the breaker (integer ≥ 1). */
  threshold: number;
}

/** Trips after `threshold` failures in a row; any success resets the count. */
export function consecutiveFailures(opts: ConsecutiveFailuresOptions): TripStrategy {
  if (!Number.isInteger(opts.threshold) || opts.threshold < 1) {
    throw new RangeError(`consecutiveFailures.threshold: ${opts.threshold} is not an integer ≥ 1`);
  }
  let run = 0;
  return {
    record: ({ ok }) => {
      run = ok ? 0 : run + 1;
    },
    shouldTrip: () => run >= opts.threshold,
    reset: () => {
      run = 0;
    },
    figures: () => ({ consecutiveFailures: run, threshold: opts.threshold }),
  };
}

/** Options of {@link failureRatio}. */
export interface FailureRatioOptions {
  clock: Clock;
  /** Length of the sliding window in ms. */
  windowMs: number;
  /** Number of buckets the window is split into (resolution = windowMs / buckets). Default 10. */
  buckets?: number;
  /** Failure ratio in (0, 1] at or above which the breaker opens. */
  threshold: number;
  /** Calls needed in the window before the ratio is trusted (integer ≥ 1). */
  minRequests: number;
}

export function failureRatio(opts: FailureRatioOptions): TripStrategy {
  const n = opts.buckets ?? 10;
  if (!(opts.windowMs > 0)) throw new RangeError(`failureRatio.windowMs: ${opts.windowMs} must be > 0`);
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`failureRatio.buckets: ${n} is not an integer ≥ 1`);
  if (!(opts.threshold > 0 && opts.threshold <= 1)) {
    throw new RangeError(`failureRatio.threshold: ${opts.threshold} is not in (0, 1]`);
  }
  if (!Number.isInteger(opts.minRequests) || opts.minRequests < 1) {
    throw new RangeError(`failureRatio.minRequests: ${opts.minRequests} is not an integer ≥ 1`);
  }
  const window = new SlidingCounts(opts.clock, opts.windowMs, n, 2);
  const totals = (): { ok: number; failed: number } => ({ ok: window.sum(OK), failed: window.sum(FAILED) });

  return {
    record: ({ ok }) => window.add(ok ? OK : FAILED),
    shouldTrip: () => {
      const { ok, failed } = totals();
      const total = ok + failed;
      return total >= opts.minRequests && failed / total >= opts.threshold;
    },
    reset: () => window.reset(),
    figures: () => {
      const { ok, failed } = totals();
      const total = ok + failed;
      return {
        requests: total,
        failures: failed,
        failureRatio: total === 0 ? 0 : failed / total,
        threshold: opts.threshold,
        minRequests: opts.minRequests,
      };
    },
  };
}

const OK = 0;
const FAILED = 1;
