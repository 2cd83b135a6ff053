import type { Random } from '../core/random.js';

/**
 * How long a breaker stays open. `level` is the number of trips in a row
 * (1 on the first open, 2 when a half-open trial fails, ...); the breaker
 * brings it back to 0 after `resetAfterSuccesses` successes in a row while
 * closed. Kept apart from the state machine and from the trip strategy.
 */
export interface Backoff {
  /** Open duration in ms for the given trip level (integer ≥ 1). */
  durationMs(level: number): number;
  /** Successes in a row, while closed, after which the level returns to 0 (integer ≥ 1). */
  readonly resetAfterSuccesses: number;
}

/** Options of {@link exponentialBackoff}. */
export interface ExponentialBackoffOptions {
  /** Open duration of the first trip, ms. */
  baseMs: number;
  /** Upper bound of the open duration, ms (also applied after jitter). */
  maxMs: number;
  /** Growth per extra trip in a row. Default 2. */
  factor?: number;
  /**
   * Spread as a fraction of the duration: the duration is multiplied by a
   * uniform factor in [1 − jitter, 1 + jitter). 0 (default) means none;
   * must be in [0, 1]. Needs `random`.
   */
  jitter?: number;
  /** Source of the jitter, injected so tests are repeatable. */
  random?: Random;
  /** Successes in a row while closed that reset the level. Default 5. */
  resetAfterSuccesses?: number;
}

/** base × factor^(level − 1), jittered, capped at maxMs. */
export function exponentialBackoff(opts: ExponentialBackoffOptions): Backoff {
  const factor = opts.factor ?? 2;
  const jitter = opts.jitter ?? 0;
  const resetAfterSuccesses = opts.resetAfterSuccesses ?? 5;
  if (!(opts.baseMs >= 0)) throw new RangeError(`backoff.baseMs: ${opts.baseMs} must be ≥ 0`);
  if (!(opts.maxMs >= opts.baseMs)) throw new RangeError(`backoff.maxMs: ${opts.maxMs} must be ≥ baseMs (${opts.baseMs})`);
  if (!(factor >= 1)) throw new RangeError(`backoff.factor: ${factor} must be ≥ 1`);
  if (!(jitter >= 0 && jitter <= 1)) throw new RangeError(`backoff.jitter: ${jitter} is not in [0, 1]`);
  if (jitter > 0 && !opts.random) throw new RangeError('backoff.jitter needs backoff.random');
  if (!Number.isInteger(resetAfterSuccesses) || resetAfterSuccesses < 1) {
    throw new RangeError(`backoff.resetAfterSuccesses: ${resetAfterSuccesses} is not an integer ≥ 1`);
  }
  return {
    resetAfterSuccesses,
    durationMs: (level) => {
      const exp = Math.max(0, level - 1);
      let ms = Math.min(opts.maxMs, opts.baseMs * factor ** exp);
      if (jitter > 0 && opts.random) ms *= 1 - jitter + 2 * jitter * opts.random();
      return Math.min(opts.maxMs, ms);
    },
  };
}

/** Always the same open duration; the level is ignored. */
export function constantBackoff(ms: number, resetAfterSuccesses = 1): Backoff {
  return { durationMs: () => ms, resetAfterSuccesses };
}
