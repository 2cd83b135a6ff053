/**
 * What the analysis API answers about a service, an instance or a check,
 * computed from the tracker's analyzers when asked (trend and forecast cost
 * O(buckets²) each, so they are never computed per point for the API).
 *
 * Every part is null when the data does not support it, with the reason in
 * `reasons`: a trend needs 10 minutes of data, a forecast 20 and a
 * significant trend, the anomaly detector 16 points before it scores, an
 * SLO a `slo:` in the service's config and a history store.
 */
import { forecastOf, type Forecast } from '../analysis/forecast.js';
import type { AnomalyState } from '../analysis/series-analyzer.js';
import { combineTrends } from '../analysis/trend-combine.js';
import { trendOf, type Trend, type TrendAnswer } from '../analysis/trend.js';
import { polarityOf, type AnalysisTracker, type RecentAnomaly, type SubjectLevel, type TrackedSeries } from './analysis-tracker.js';
import type { SloView } from './analysis-slo.js';

/** Points the anomaly detector needs before it scores (src/analysis/anomaly/robust.ts WARMUP). */
const ANOMALY_WARMUP = 16;

/** A forecast as the API shows it. */
export interface ForecastView {
  series: string;
  threshold: number;
  crossing: Forecast['crossing'];
  interval: Forecast['interval'];
  coverage: number;
  level: number;
  slopePerSecond: number;
  stepMs: number;
  reachMs: number;
  damped: boolean;
}

/** One series of a subject. */
export interface SeriesView {
  series: string;
  /** Minutes learned so far. */
  points: number;
  last: number | null;
  lastAt: number | null;
  trend: Trend | null;
  forecast: ForecastView | null;
  anomaly: AnomalyState;
  reasons: { trend: string | null; forecast: string | null };
}

/** GET …/analysis. */
export interface AnalysisAnswer {
  level: SubjectLevel;
  /** Service name, service/instance, or check id. */
  id: string;
  /** Epoch ms of the answer. */
  at: number;
  /** The series the headline trend and forecast are about. */
  series: string;
  trend: (Trend & { series: string }) | null;
  forecast: ForecastView | null;
  /** Flagged minutes of the subject's series, newest first (at most 20 per service). */
  anomalies: RecentAnomaly[] | null;
  slo: SloView | null;
  /** The maintenance window covering the subject now (status is still recorded and shown). */
  maintenance: { name: string; start: number; end: number } | null;
  reasons: { trend: string | null; forecast: string | null; anomalies: string | null; slo: string | null };
  /** Every tracked series of the subject. */
  details: SeriesView[];
}

/** A series' trend, forecast (against `threshold`) and anomaly state now. */
export function seriesView(series: TrackedSeries, threshold: number | undefined): SeriesView {
  const { t, y } = series.analyzer.window();
  const trend = trendOf(t, y, { polarity: polarityOf(series.name) });
  const forecast = forecastOf(t, y, threshold === undefined ? {} : { threshold });
  const snapshot = series.analyzer.anomaly();
  const count = series.analyzer.count;
  const last = count > 0 ? (y[y.length - 1] ?? null) : null;
  return {
    series: series.name,
    points: count,
    last,
    lastAt: count > 0 && t.length > 0 ? t[t.length - 1]! : null,
    trend: trend.ok ? trend.trend : null,
    forecast: forecast.ok ? forecastView(series.name, threshold, forecast.forecast) : null,
    anomaly: snapshot,
    reasons: {
      trend: trend.ok ? null : trend.detail,
      forecast: forecast.ok ? (threshold === undefined ? 'no threshold to forecast against' : null) : forecast.detail,
    },
  };
}

function forecastView(series: string, threshold: number | undefined, f: Forecast): ForecastView {
  return {
    series,
    threshold: threshold ?? Number.NaN,
    crossing: f.crossing,
    interval: f.interval,
    coverage: f.coverage,
    level: f.level,
    slopePerSecond: f.slopePerSecond,
    stepMs: f.stepMs,
    reachMs: f.reachMs,
    damped: f.model.damped,
  };
}

/** The trend of a service: its instances' score trends combined (regional Kendall test). */
export function serviceTrend(tracker: AnalysisTracker, service: string): TrendAnswer {
  const answers: TrendAnswer[] = [];
  for (const subject of tracker.ofService(service)) {
    if (subject.level !== 'instance') continue;
    const score = subject.series.get('score');
    if (!score) continue;
    const { t, y } = score.analyzer.window();
    answers.push(trendOf(t, y, { polarity: 'higher_is_better' }));
  }
  if (answers.length === 0) return { ok: false, reason: 'too_few_points', detail: 'no instance of the service has a score yet', n: 0 };
  const combined = combineTrends(answers, { polarity: 'higher_is_better' });
  if (combined.ok) return combined;
  const most = Math.max(...answers.map((a) => (a.ok ? a.trend.n : a.n)));
  return { ...combined, detail: `no instance has a trend yet: the longest score history is ${most} closed minute${most === 1 ? '' : 's'}, at least 10 needed` };
}

/** What building an answer needs besides the tracker. */
export interface AnswerContext {
  now: number;
  /** Forecast threshold of a series of the subject (score 50; a check's latency: degraded_after, else its timeout). */
  thresholdOf(series: string): number | undefined;
  slo: SloView | null;
  sloReason: string | null;
  maintenance: AnalysisAnswer['maintenance'];
}

/** The answer for a subject; undefined when the tracker has never seen it. */
export function answerFor(tracker: AnalysisTracker, level: SubjectLevel, id: string, headline: string, ctx: AnswerContext): AnalysisAnswer | undefined {
  const subject = tracker.get(level, id);
  const service = level === 'service' ? id : (subject?.service ?? id.split('/')[0]!);
  if (!subject && level !== 'service') return undefined;
  const details = subject ? [...subject.series.values()].map((s) => seriesView(s, ctx.thresholdOf(s.name))) : [];
  const main = details.find((d) => d.series === headline);

  let trend: AnalysisAnswer['trend'] = null;
  let trendReason: string | null;
  if (level === 'service') {
    const combined = serviceTrend(tracker, service);
    trend = combined.ok ? { ...combined.trend, series: 'score' } : null;
    trendReason = combined.ok ? null : combined.detail;
  } else {
    trend = main?.trend ? { ...main.trend, series: headline } : null;
    trendReason = main ? main.reasons.trend : `no ${headline} data yet`;
  }
  const forecast = main?.forecast ?? null;
  const forecastReason = main ? main.reasons.forecast : `no ${headline} data yet`;

  const learned =
    details.some((d) => d.points >= ANOMALY_WARMUP) ||
    (level === 'service' && [...tracker.ofService(service)].some((s) => [...s.series.values()].some((x) => x.analyzer.count >= ANOMALY_WARMUP)));
  const prefix = level === 'check' ? id : level === 'instance' ? `${id}/` : null;
  const anomalies = learned
    ? tracker.recentAnomalies(service).filter((a) => prefix === null || a.subject === id || (level === 'instance' && a.subject.startsWith(prefix)))
    : null;
  return {
    level,
    id,
    at: ctx.now,
    series: level === 'service' ? 'score' : headline,
    trend,
    forecast,
    anomalies,
    slo: ctx.slo,
    maintenance: ctx.maintenance,
    reasons: {
      trend: trend ? null : trendReason,
      forecast: forecast ? null : forecastReason,
      anomalies: learned ? null : `the detector scores after ${ANOMALY_WARMUP} minutes of data; none of this subject's series has that many yet`,
      slo: ctx.slo ? null : ctx.sloReason,
    },
    details,
  };
}
