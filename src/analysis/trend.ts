/**
 * Trend of a window of points: Theil–Sen slope (the median of pairwise slopes,
 * robust to up to 29 % outliers) with the Mann–Kendall test for its
 * significance, corrected for lag-1 autocorrelation, and a direction read
 * through the series' polarity (is a rising value good or bad?).
 *
 * Assumes: the points are one series in time order; noise around a monotonic
 * trend. Refuses (ok: false) with fewer than `minPoints` points, or a window
 * with no time span.
 */
import { MAD_TO_SIGMA, median, normalTwoSided } from './math.js';

/** Whether a rising value is good (a health score) or bad (latency, failure rate). */
export type Polarity = 'higher_is_better' | 'lower_is_better';

/** Where a series is heading, for the people who watch it. */
export type TrendDirection = 'improving' | 'stable' | 'degrading' | 'volatile';

/** How trends are read; every field has a default. */
export interface TrendOptions {
  polarity: Polarity;
  /** Fewest points for an answer (default 10). */
  minPoints?: number;
  /** Confidence (1 − p) needed to claim a direction (default 0.95). */
  confidence?: number;
  /**
   * Smallest change over the window worth a direction, as a fraction of the
   * window's median level (default 0.05): a significant but tiny drift is `stable`.
   */
  minChange?: number;
  /**
   * Robust spread of the residuals, as a fraction of the median level, above
   * which a series without a clear direction is `volatile` (default 0.25).
   */
  volatileCv?: number;
}

/** A trend that was computed. */
export interface Trend {
  direction: TrendDirection;
  /** Theil–Sen slope, value units per second. */
  slopePerSecond: number;
  /** Fitted value at the newest point, value units. */
  level: number;
  /** Fitted change over the window (slope × span), value units. */
  change: number;
  /** Share of the variance the fitted line explains, in [0, 1]. */
  r2: number;
  /**
   * How sure the series moves in the slope's direction: 1 − p of the
   * Mann–Kendall test. Directions are claimed only above `confidence`; a
   * `stable` or `volatile` answer carries the same (then low) figure.
   */
  confidence: number;
  /** Two-sided p-value of the Mann–Kendall test. */
  pValue: number;
  /** Points used. */
  n: number;
  /** Time from the oldest to the newest point, ms. */
  spanMs: number;
  /** Median of the values, value units (the scale for `minChange` and `volatileCv`). */
  median: number;
  /** Robust spread of the residuals around the line (1.4826 × MAD), value units. */
  residualSigma: number;
  /** Lag-1 autocorrelation of the residuals (used to widen the test's variance). */
  autocorrelation: number;
  /** Mann–Kendall S and its (corrected) variance: what combineTrends adds up. */
  kendallS: number;
  kendallVariance: number;
}

/** Why no trend was given. */
export type TrendRefusal = 'too_few_points' | 'no_time_span';

export type TrendAnswer = { ok: true; trend: Trend } | { ok: false; reason: TrendRefusal; detail: string; n: number };

export const TREND_DEFAULTS = { minPoints: 10, confidence: 0.95, minChange: 0.05, volatileCv: 0.25 } as const;

/**
 * The trend of points (t[i] epoch ms ascending, y[i] finite). O(n²) in time
 * and n² / 2 numbers of memory for the pairwise slopes: meant for windows of
 * up to a few hundred points (the analyzer's buckets, the CLI's downsampled file).
 */
export function trendOf(t: ArrayLike<number>, y: ArrayLike<number>, options: TrendOptions): TrendAnswer {
  const n = Math.min(t.length, y.length);
  const minPoints = options.minPoints ?? TREND_DEFAULTS.minPoints;
  if (n < minPoints) return { ok: false, reason: 'too_few_points', detail: `${n} point${n === 1 ? '' : 's'}, at least ${minPoints} needed`, n };
  const t0 = t[0]!;
  const spanMs = t[n - 1]! - t0;
  if (!(spanMs > 0)) return { ok: false, reason: 'no_time_span', detail: 'every point has the same time', n };

  const slopes = new Float64Array((n * (n - 1)) / 2);
  let m = 0;
  let s = 0;
  for (let i = 0; i < n; i++) {
    const ti = t[i]!;
    const yi = y[i]!;
    for (let j = i + 1; j < n; j++) {
      const dy = y[j]! - yi;
      s += dy > 0 ? 1 : dy < 0 ? -1 : 0;
      const dt = t[j]! - ti;
      if (dt > 0) slopes[m++] = dy / dt;
    }
  }
  const slopePerMs = median(slopes, m);
  const residuals = new Float64Array(n);
  for (let i = 0; i < n; i++) residuals[i] = y[i]! - slopePerMs * (t[i]! - t0);
  const intercept = median(residuals);
  for (let i = 0; i < n; i++) residuals[i]! -= intercept;

  const mid = median(y, n);
  const residualSigma = MAD_TO_SIGMA * median(residuals.map(Math.abs));
  const r2 = rSquared(y, residuals, n);
  const rho = lag1(residuals);
  const variance = kendallVariance(y, n) * autocorrelationFactor(rho);
  const z = variance > 0 ? (s - Math.sign(s)) / Math.sqrt(variance) : 0;
  const pValue = normalTwoSided(z);
  const trend: Trend = {
    direction: 'stable',
    slopePerSecond: slopePerMs * 1000,
    level: intercept + slopePerMs * spanMs,
    change: slopePerMs * spanMs,
    r2,
    confidence: 1 - pValue,
    pValue,
    n,
    spanMs,
    median: mid,
    residualSigma,
    autocorrelation: rho,
    kendallS: s,
    kendallVariance: variance,
  };
  trend.direction = classify(trend, options);
  return { ok: true, trend };
}

/**
 * The direction of a computed trend: a claimed direction needs the confidence
 * and a change of at least `minChange` of the level; otherwise `volatile` when
 * the residuals swing widely, `stable` when they do not.
 */
export function classify(trend: Pick<Trend, 'confidence' | 'change' | 'median' | 'residualSigma'>, options: TrendOptions): TrendDirection {
  const needed = options.confidence ?? TREND_DEFAULTS.confidence;
  const minChange = options.minChange ?? TREND_DEFAULTS.minChange;
  const volatileCv = options.volatileCv ?? TREND_DEFAULTS.volatileCv;
  const scale = Math.abs(trend.median);
  const relevant = Math.abs(trend.change) >= minChange * scale && trend.change !== 0;
  if (trend.confidence >= needed && relevant) {
    const rising = trend.change > 0;
    return rising === (options.polarity === 'higher_is_better') ? 'improving' : 'degrading';
  }
  return trend.residualSigma > volatileCv * scale ? 'volatile' : 'stable';
}

/** Variance of Mann–Kendall's S under no trend, with the correction for tied values. */
function kendallVariance(y: ArrayLike<number>, n: number): number {
  const sorted = Float64Array.from({ length: n }, (_, i) => y[i]!).sort();
  let ties = 0;
  let run = 1;
  for (let i = 1; i <= n; i++) {
    if (i < n && sorted[i] === sorted[i - 1]) {
      run++;
      continue;
    }
    if (run > 1) ties += run * (run - 1) * (2 * run + 5);
    run = 1;
  }
  return (n * (n - 1) * (2 * n + 5) - ties) / 18;
}

/**
 * Positive autocorrelation makes S swing more than the test assumes; widen its
 * variance by the AR(1) factor (1 + ρ) / (1 − ρ), ρ capped at 0.9 (a random
 * walk's residuals would otherwise make it unbounded).
 */
function autocorrelationFactor(rho: number): number {
  if (!(rho > 0)) return 1;
  const r = Math.min(rho, 0.9);
  return (1 + r) / (1 - r);
}

function lag1(r: Float64Array): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < r.length; i++) {
    den += r[i]! * r[i]!;
    if (i > 0) num += r[i]! * r[i - 1]!;
  }
  return den > 0 ? num / den : 0;
}

function rSquared(y: ArrayLike<number>, residuals: Float64Array, n: number): number {
  let mean = 0;
  for (let i = 0; i < n; i++) mean += y[i]!;
  mean /= n;
  let tot = 0;
  let res = 0;
  for (let i = 0; i < n; i++) {
    tot += (y[i]! - mean) ** 2;
    res += residuals[i]! ** 2;
  }
  if (tot === 0) return 0;
  return Math.min(1, Math.max(0, 1 - res / tot));
}
