/**
 * The sample series through which the daemon's analysis (src/wiring/analysis.ts)
 * tells alert rules what it found, one number per sample (AlertInput.sample),
 * and the scope rules of the analysis condition kinds. The names are the
 * contract between the two sides: the analysis publishes them, the
 * condition files (trend, forecast, anomaly, burn-rate) listen to them.
 */
import type { TrendDirection } from '../../analysis/trend.js';
import { scopeOfSubject } from './threshold.js';
import type { Scope } from './types.js';
import type { Subject } from '../input.js';

/** A trend direction as a sample value. */
export const DIRECTION_CODE: Readonly<Record<TrendDirection, number>> = { improving: 1, stable: 0, degrading: -1, volatile: 2 };

/** `trend:<series>`: the direction code of the series' trend, each minute (none while the trend is refused). */
export function trendSample(series: string): string {
  return `trend:${series}`;
}

/** Which side of the forecast's interval dates a crossing: the point forecast, or the near or far edge of the 90 % interval. */
export type ForecastEdge = 'at' | 'earliest' | 'latest';

/**
 * `forecast:<series>:<threshold>:<edge>`: ms from now until the forecast
 * crosses the threshold (0 when already past it), +Infinity when there is
 * no forecast or no crossing within its reach.
 */
export function forecastSample(series: string, threshold: number, edge: ForecastEdge): string {
  return `forecast:${series}:${threshold}:${edge}`;
}

/** `anomaly:<series>`: the anomaly score [0, 1] of the series' newest minute. */
export function anomalySample(series: string): string {
  return `anomaly:${series}`;
}

/** The burn-rate windows and severities a rule can name. */
export type BurnWindow = 'page' | 'ticket' | '1h/5m' | '6h/30m' | '3d/6h';

/**
 * `slo.burn_rate:<window>`: for a named window (1h/5m…) the lower of its two
 * burn rates; for page and ticket the highest ratio of that lower burn rate
 * to its factor over the conditions of the severity (holds above 1).
 */
export function burnSample(window: BurnWindow): string {
  return `slo.burn_rate:${window}`;
}

/** The level an analysis condition's alerts are about: the rule's scope, else score → service, anything else → check. */
export function analysisScope(series: string, scope: Scope | undefined): Scope {
  return scope ?? (series === 'score' ? 'service' : 'check');
}

/** Whether a sample's subject is at `scope` (a score sample comes for instances and for services). */
export function atScope(subject: Subject, scope: Scope): boolean {
  return scopeOfSubject(subject) === scope;
}

/** Series kept for an analysis condition: only the newest sample is read; a minute covers one sample. */
export const ANALYSIS_WINDOW_MS = 60_000;
