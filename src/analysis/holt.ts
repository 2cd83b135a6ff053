/**
 * Holt's linear method with an optional damped trend (ETS(A,Ad,N) in Hyndman
 * et al.'s taxonomy), fitted by a grid search over (α, β, φ) on the one-step
 * errors. Prediction variance from the state-space form:
 * Var(h) = σ² (1 + Σ_{j<h} (α + β φ_j)²), φ_j = φ + … + φ^j.
 *
 * Assumes evenly spaced points with additive, homoscedastic Gaussian errors.
 * Parameter uncertainty is not in the variance; the forecast keeps horizons
 * short (at most the history's length) so that it stays small.
 */

/** A fitted model, ready to forecast from the last point. */
export interface HoltModel {
  /** Level smoothing, (0, 1]. */
  alpha: number;
  /** Trend smoothing in error-correction form (β = α β*), ≥ 0. */
  beta: number;
  /** Damping; 1 is Holt's undamped linear trend. */
  phi: number;
  /** Level after the last point, value units. */
  level: number;
  /** Trend after the last point, value units per step. */
  trend: number;
  /** Standard deviation of the one-step errors (SSE / (n − k)), value units. */
  sigma: number;
  /** Points whose errors were counted (all but the starting ones) and parameters estimated. */
  n: number;
  k: number;
  /** Akaike information criterion of the fit. */
  aic: number;
}

/** Points the starting line is fitted to. */
const INIT_POINTS = 10;
const ALPHAS = [0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.85, 1];
/** β* = β / α. */
const BETA_STARS = [0.005, 0.02, 0.05, 0.1, 0.2, 0.4];
const DAMPINGS = [0.98, 0.95, 0.9, 0.8];

/**
 * Fit to y (≥ 4 points, finite): the best undamped model, and the best damped
 * one when its AIC is lower (the data asks for damping).
 */
export function fitHolt(y: ArrayLike<number>): HoltModel {
  const n = y.length;
  if (n < 4) throw new RangeError(`fitHolt: at least 4 points needed, got ${n}`);
  const [level0, trend0] = initialState(y);
  // The first points' errors are small because the starting line was fitted to them: they would understate σ.
  const burnIn = Math.min(INIT_POINTS, n >> 2);
  let best: HoltModel | undefined;
  for (const phi of [1, ...DAMPINGS]) {
    const k = phi === 1 ? 4 : 5;
    for (const alpha of ALPHAS) {
      for (const betaStar of BETA_STARS) {
        const beta = alpha * betaStar;
        let level = level0;
        let trend = trend0;
        let sse = 0;
        for (let i = 0; i < n; i++) {
          const e = y[i]! - (level + phi * trend);
          if (i >= burnIn) sse += e * e;
          level = level + phi * trend + alpha * e;
          trend = phi * trend + beta * e;
        }
        const m = n - burnIn;
        const aic = m * Math.log(Math.max(sse, 1e-300) / m) + 2 * k;
        if (!best || aic < best.aic) {
          best = { alpha, beta, phi, level, trend, sigma: Math.sqrt(sse / Math.max(1, m - k)), n: m, k, aic };
        }
      }
    }
  }
  return best!;
}

/** Point forecast h ≥ 1 steps after the last point. */
export function holtMean(model: HoltModel, h: number): number {
  return model.level + dampedSum(model.phi, h) * model.trend;
}

/** Forecast variance h ≥ 1 steps ahead, value units². */
export function holtVariance(model: HoltModel, h: number): number {
  let sum = 1;
  let phiJ = 0;
  let power = 1;
  for (let j = 1; j < h; j++) {
    power *= model.phi;
    phiJ += power;
    const c = model.alpha + model.beta * phiJ;
    sum += c * c;
  }
  return model.sigma * model.sigma * sum;
}

/** φ + φ² + … + φ^h (h when φ = 1). */
function dampedSum(phi: number, h: number): number {
  if (phi === 1) return h;
  return (phi * (1 - phi ** h)) / (1 - phi);
}

/** Level and trend before the first point: a least-squares line through the first ten points. */
function initialState(y: ArrayLike<number>): [number, number] {
  const m = Math.min(INIT_POINTS, y.length);
  let sx = 0;
  let sy = 0;
  let sxx = 0;
  let sxy = 0;
  for (let i = 0; i < m; i++) {
    sx += i;
    sy += y[i]!;
    sxx += i * i;
    sxy += i * y[i]!;
  }
  const slope = (m * sxy - sx * sy) / (m * sxx - sx * sx);
  const intercept = (sy - slope * sx) / m;
  // The state one step before point 0, so that its one-step forecast is the line's value there.
  return [intercept - slope, slope];
}
