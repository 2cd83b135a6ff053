/**
 * When will a series cross a threshold? Holt's linear method (damped when the
 * data asks) on evenly spaced points, a prediction interval from its
 * state-space variance, and a refusal with a reason whenever the data does not
 * support a forecast.
 *
 * Assumes: points evenly spaced (the analyzer's bucket means, the CLI's
 * downsampled file; a gap is closed up), additive Gaussian noise, a trend that
 * goes on as it went. Refuses: fewer than `minPoints` points; a constant
 * series; no significant trend (forecast-gate.ts: random walks without drift,
 * flat noise). Never forecasts further than the history is long.
 */
import { trendGate, type GateResult } from './forecast-gate.js';
import { fitHolt, holtMean, holtVariance, type HoltModel } from './holt.js';
import { median, studentQuantile } from './math.js';

export interface ForecastOptions {
  /** The value whose crossing is asked for (optional: without it, only the interval at the horizon). */
  threshold?: number;
  /** Coverage of the prediction interval, in (0, 1) (default 0.9). */
  coverage?: number;
  /** Fewest points for an answer (default 20). */
  minPoints?: number;
  /** Steps ahead reported in `interval` (default: a quarter of the history, at least 1). */
  horizonSteps?: number;
}

/** Value and prediction interval some time after the last point. */
export interface IntervalAt {
  /** Epoch ms. */
  at: number;
  value: number;
  lower: number;
  upper: number;
}

/** When the threshold is crossed, epoch ms; null: not within the forecast's reach. */
export interface Crossing {
  threshold: number;
  /** The level is already past the threshold in the trend's direction. */
  already: boolean;
  /** The point forecast crosses here. */
  at: number | null;
  /** The interval's near edge crosses here: the crossing is unlikely (≤ (1 − coverage) / 2) before it. */
  earliest: number | null;
  /** The interval's far edge crosses here: the crossing is likely (≥ (1 + coverage) / 2) by then. */
  latest: number | null;
}

export interface Forecast {
  /** Spacing of the points, ms (median step). */
  stepMs: number;
  /** How far the forecast reaches, ms (the history's span). */
  reachMs: number;
  /** Time of the last point, epoch ms. */
  from: number;
  model: Pick<HoltModel, 'alpha' | 'beta' | 'phi' | 'sigma'> & { damped: boolean };
  /** Level after the last point and trend, value units and value units per second. */
  level: number;
  slopePerSecond: number;
  coverage: number;
  interval: IntervalAt;
  crossing: Crossing | null;
  gate: GateResult;
}

export type ForecastRefusal = 'too_few_points' | 'constant' | 'no_significant_trend';

export type ForecastAnswer = { ok: true; forecast: Forecast } | { ok: false; reason: ForecastRefusal; detail: string; n: number };

/** Forecast from points t (epoch ms, ascending) and y (finite). */
export function forecastOf(t: ArrayLike<number>, y: ArrayLike<number>, options: ForecastOptions = {}): ForecastAnswer {
  const n = Math.min(t.length, y.length);
  const minPoints = Math.max(8, options.minPoints ?? 20);
  if (n < minPoints) return { ok: false, reason: 'too_few_points', detail: `${n} point${n === 1 ? '' : 's'}, at least ${minPoints} needed`, n };
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < n; i++) {
    min = Math.min(min, y[i]!);
    max = Math.max(max, y[i]!);
  }
  if (min === max) return { ok: false, reason: 'constant', detail: `every value is ${min}: nothing moves, nothing will cross`, n };
  const values = Float64Array.from({ length: n }, (_, i) => y[i]!);
  const gate = trendGate(values);
  if (!gate.trending) {
    const why = gate.kind === 'random_walk' ? 'the series wanders like a random walk without a significant drift' : 'the series has no significant trend';
    return { ok: false, reason: 'no_significant_trend', detail: `${why} (p = ${gate.pValue.toPrecision(2)}); a crossing date would be a guess`, n };
  }

  const steps = new Float64Array(n - 1);
  for (let i = 1; i < n; i++) steps[i - 1] = t[i]! - t[i - 1]!;
  const stepMs = median(steps) || 1;
  const model = fitHolt(values);
  const coverage = options.coverage ?? 0.9;
  const q = studentQuantile(1 - (1 - coverage) / 2, Math.max(1, model.n - model.k));
  const from = t[n - 1]!;
  const maxSteps = n;
  const horizon = Math.min(maxSteps, Math.max(1, Math.round(options.horizonSteps ?? n / 4)));
  const at = (h: number): IntervalAt => {
    const mean = holtMean(model, h);
    // Holt's variance leaves out that the trend itself is estimated; add the trend's own error, grown over h steps.
    const half = q * Math.sqrt(holtVariance(model, h) + (h * gate.slopeStdError) ** 2);
    return { at: from + h * stepMs, value: mean, lower: mean - half, upper: mean + half };
  };
  const forecast: Forecast = {
    stepMs,
    reachMs: maxSteps * stepMs,
    from,
    model: { alpha: model.alpha, beta: model.beta, phi: model.phi, sigma: model.sigma, damped: model.phi < 1 },
    level: model.level,
    slopePerSecond: (model.trend / stepMs) * 1000,
    coverage,
    interval: at(horizon),
    crossing: options.threshold === undefined ? null : crossingOf(options.threshold, model, maxSteps, at),
    gate,
  };
  return { ok: true, forecast };
}

function crossingOf(threshold: number, model: HoltModel, maxSteps: number, at: (h: number) => IntervalAt): Crossing {
  // The series crosses the way its trend goes; a level already past the threshold that way has crossed.
  const upward = model.trend > 0;
  const beyond = (v: number): boolean => (upward ? v >= threshold : v <= threshold);
  const crossing: Crossing = { threshold, already: beyond(model.level), at: null, earliest: null, latest: null };
  if (crossing.already) return crossing;
  for (let h = 1; h <= maxSteps; h++) {
    const p = at(h);
    const near = upward ? p.upper : p.lower;
    const far = upward ? p.lower : p.upper;
    if (crossing.earliest === null && beyond(near)) crossing.earliest = p.at;
    if (crossing.at === null && beyond(p.value)) crossing.at = p.at;
    if (crossing.latest === null && beyond(far)) {
      crossing.latest = p.at;
      break;
    }
  }
  return crossing;
}
