/**
 * Does a window of points support a trend forecast at all? A random walk
 * wanders far from where it was, so its least-squares slope looks significant
 * when it is not (the spurious-regression trap); a trend-stationary series
 * with autocorrelated noise likewise. The gate first asks which of the two the
 * series is (Dickey–Fuller on the detrended residuals), then tests the trend
 * the way that kind of series needs:
 * - stationary around a line: the least-squares slope, its standard error
 *   widened for the residuals' lag-1 autocorrelation;
 * - a random walk: the mean step (the drift) against the steps' spread.
 * A trend passes at the 1 % level (two-sided).
 */
import { normalTwoSided } from './math.js';

/** Dickey–Fuller τ critical value at 1 % for residuals of a regression on a constant and a trend (large samples). */
const DF_TREND_1PC = -3.96;
/** Two-sided significance the trend must reach. */
export const TREND_SIGNIFICANCE = 0.01;

export interface GateResult {
  /** True when a trend is shown. */
  trending: boolean;
  /** How the series was read. */
  kind: 'trend_stationary' | 'random_walk';
  /** The trend's test statistic and two-sided p-value. */
  statistic: number;
  pValue: number;
  /** Least-squares slope (trend-stationary) or mean step (random walk), value units per step. */
  slopePerStep: number;
  /** Standard error of slopePerStep: how far the trend itself may be off, value units per step. */
  slopeStdError: number;
}

/** Test y (evenly spaced, ≥ 8 finite points, not constant). */
export function trendGate(y: ArrayLike<number>): GateResult {
  const n = y.length;
  // Least squares on the step index.
  const xm = (n - 1) / 2;
  let ym = 0;
  for (let i = 0; i < n; i++) ym += y[i]!;
  ym /= n;
  let sxx = 0;
  let sxy = 0;
  for (let i = 0; i < n; i++) {
    sxx += (i - xm) ** 2;
    sxy += (i - xm) * (y[i]! - ym);
  }
  const b = sxy / sxx;
  const u = new Float64Array(n);
  for (let i = 0; i < n; i++) u[i] = y[i]! - ym - b * (i - xm);

  // Dickey–Fuller: Δu_t = γ u_{t−1} + ε; a clearly negative γ means the residuals pull back to the line.
  let suu = 0;
  let sdu = 0;
  for (let i = 1; i < n; i++) {
    suu += u[i - 1]! * u[i - 1]!;
    sdu += u[i - 1]! * (u[i]! - u[i - 1]!);
  }
  const gamma = suu > 0 ? sdu / suu : 0;
  let sse = 0;
  for (let i = 1; i < n; i++) sse += (u[i]! - u[i - 1]! - gamma * u[i - 1]!) ** 2;
  const tau = suu > 0 && sse > 0 ? gamma / Math.sqrt(sse / (n - 2) / suu) : Number.NEGATIVE_INFINITY;

  if (tau < DF_TREND_1PC) {
    let ssr = 0;
    let lag = 0;
    for (let i = 0; i < n; i++) {
      ssr += u[i]! * u[i]!;
      if (i > 0) lag += u[i]! * u[i - 1]!;
    }
    const rho = ssr > 0 ? Math.min(0.9, Math.max(0, lag / ssr)) : 0;
    const se = Math.sqrt((ssr / (n - 2) / sxx) * ((1 + rho) / (1 - rho)));
    const statistic = se > 0 ? b / se : b === 0 ? 0 : Number.POSITIVE_INFINITY * Math.sign(b);
    const pValue = normalTwoSided(statistic);
    return { trending: pValue < TREND_SIGNIFICANCE, kind: 'trend_stationary', statistic, pValue, slopePerStep: b, slopeStdError: se };
  }
  let dm = 0;
  for (let i = 1; i < n; i++) dm += y[i]! - y[i - 1]!;
  dm /= n - 1;
  let dv = 0;
  for (let i = 1; i < n; i++) dv += (y[i]! - y[i - 1]! - dm) ** 2;
  dv /= n - 2;
  const se = Math.sqrt(dv / (n - 1));
  const statistic = se > 0 ? dm / se : 0;
  const pValue = normalTwoSided(statistic);
  return { trending: pValue < TREND_SIGNIFICANCE, kind: 'random_walk', statistic, pValue, slopePerStep: dm, slopeStdError: se };
}
