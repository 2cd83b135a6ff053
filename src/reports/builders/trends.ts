/**
 * The trends report: per service, the direction of latency, failure rate and
 * health score, a forecast with its prediction interval, and the anomalies
 * found. The same analysis code as `healthmesh analyze` (src/analysis) runs
 * over the service's rollup series: the trend and forecast over at most 256
 * evenly spaced bucket means (Downsampler, as the CLI), the anomaly detector
 * over every rollup bucket in order.
 */
import { RobustDetector } from '../../analysis/anomaly/robust.js';
import { forecastOf } from '../../analysis/forecast.js';
import { Downsampler } from '../../analysis/stats/downsampler.js';
import { trendOf, type Polarity } from '../../analysis/trend.js';
import type { Resolution, Rollup } from '../../store/types.js';
import { round, TableBuilder } from '../table.js';
import type { ReportDocument, SeriesChart } from '../types.js';
import { documentFrame, type BuildContext } from './context.js';

const MAX_CHARTS = 12;
/** Most anomalies listed per series (the count is always given). */
const MAX_LISTED = 20;

interface SeriesSpec {
  name: 'latency_ms' | 'failure_rate_percent' | 'score';
  title: string;
  unit: string;
  polarity: Polarity;
  value(r: Rollup): number | null;
}

const SERIES: readonly SeriesSpec[] = [
  { name: 'latency_ms', title: 'Mean latency', unit: 'ms', polarity: 'lower_is_better', value: (r) => (r.count ? r.avgMs : null) },
  {
    name: 'failure_rate_percent',
    title: 'Failure rate',
    unit: '%',
    polarity: 'lower_is_better',
    value: (r) => (r.count ? (r.failures / r.count) * 100 : null),
  },
  { name: 'score', title: 'Health score', unit: 'score', polarity: 'higher_is_better', value: (r) => r.avgScore },
];

export async function buildTrends(ctx: BuildContext): Promise<ReportDocument> {
  const { source, request, selection } = ctx;
  const { from, to } = request;
  const doc = documentFrame(ctx, 'trends', 'Trends, forecasts and anomalies');
  const resolution: Resolution = to - from <= 2 * 86_400_000 ? 'minute' : 'hour';
  doc.notes.push(
    `Series: each service's ${resolution} rollups (mean latency, failure rate, mean score). Trend: Theil–Sen slope with the Mann–Kendall test over at most 256 evenly spaced means; ` +
      "forecast: Holt's method with a 90 % prediction interval a quarter of the range ahead, refused (with the reason) when the data shows no significant trend; " +
      'anomalies: the robust detector of `healthmesh analyze --mode anomaly` over every bucket in order. Same code as the CLI.',
  );
  const trends = new TableBuilder('trends', 'Trends', 'One row per service and series.', [
    ['service', 'Service', 'text'],
    ['series', 'Series', 'text'],
    ['points', 'Buckets', 'integer'],
    ['direction', 'Direction', 'text'],
    ['confidence', 'Confidence', 'number'],
    ['slope_per_hour', 'Slope per hour', 'number'],
    ['change', 'Change over range', 'number'],
    ['level', 'Level', 'number'],
    ['forecast_at', 'Forecast at', 'time'],
    ['forecast', 'Forecast', 'number'],
    ['forecast_lower', 'Lower (90 %)', 'number'],
    ['forecast_upper', 'Upper (90 %)', 'number'],
    ['anomalies', 'Anomalies', 'integer'],
    ['note', 'Note', 'text'],
  ] as const);
  const anomalies = new TableBuilder('anomalies', 'Anomalies', `Buckets the detector flagged (at most ${MAX_LISTED} per series, highest score first).`, [
    ['service', 'Service', 'text'],
    ['series', 'Series', 'text'],
    ['at', 'Bucket', 'time'],
    ['value', 'Value', 'number'],
    ['score', 'Score', 'number'],
  ] as const);

  let done = 0;
  for (const service of selection.services) {
    const rollups = await source.history.queryRollups({ service, resolution, from, to });
    for (const spec of SERIES) {
      const down = new Downsampler(256);
      const detector = new RobustDetector();
      const flagged: Array<{ t: number; value: number; score: number }> = [];
      let points = 0;
      for (const r of rollups) {
        const v = spec.value(r);
        if (v === null) continue;
        points++;
        down.add(r.bucketStart, v);
        const score = detector.observe(r.bucketStart, v);
        if (score >= detector.flagScore) flagged.push({ t: r.bucketStart, value: v, score });
      }
      const { t, y } = down.buckets();
      const trend = trendOf(t, y, { polarity: spec.polarity });
      const forecast = forecastOf(t, y);
      const notes: string[] = [];
      if (!trend.ok) notes.push(`no trend: ${trend.detail}`);
      if (!forecast.ok) notes.push(`no forecast: ${forecast.detail}`);
      trends.add({
        service,
        series: spec.name,
        points,
        direction: trend.ok ? trend.trend.direction : null,
        confidence: trend.ok ? round(trend.trend.confidence, 4) : null,
        slope_per_hour: trend.ok ? round(trend.trend.slopePerSecond * 3600, 6) : null,
        change: trend.ok ? round(trend.trend.change, 4) : null,
        level: trend.ok ? round(trend.trend.level, 4) : null,
        forecast_at: forecast.ok ? forecast.forecast.interval.at : null,
        forecast: forecast.ok ? round(forecast.forecast.interval.value, 4) : null,
        forecast_lower: forecast.ok ? round(forecast.forecast.interval.lower, 4) : null,
        forecast_upper: forecast.ok ? round(forecast.forecast.interval.upper, 4) : null,
        anomalies: flagged.length,
        note: notes.join('; ') || null,
      });
      for (const a of [...flagged].sort((p, q) => q.score - p.score).slice(0, MAX_LISTED)) {
        anomalies.add({ service, series: spec.name, at: a.t, value: round(a.value, 4), score: round(a.score, 4) });
      }
      if (doc.charts.length < MAX_CHARTS * SERIES.length && t.length > 0) {
        const chart: SeriesChart = {
          kind: 'series',
          id: `${spec.name}-${service}`,
          title: `${spec.title} of ${service}`,
          subject: service,
          unit: spec.unit,
          points: Array.from(t, (ti, i) => ({ t: Math.round(ti), value: round(y[i]!, 4)! })),
          forecast: forecast.ok
            ? [
                {
                  t: forecast.forecast.interval.at,
                  value: forecast.forecast.interval.value,
                  lower: forecast.forecast.interval.lower,
                  upper: forecast.forecast.interval.upper,
                },
              ]
            : [],
          anomalies: flagged.map((a) => a.t),
        };
        doc.charts.push(chart);
      }
    }
    ctx.progress({ stage: 'trends', done: ++done, total: selection.services.length });
  }
  doc.tables.push(trends.table, anomalies.table);
  if (selection.services.length > MAX_CHARTS) doc.notes.push(`Charts are drawn for the first ${MAX_CHARTS} services; the tables hold them all.`);
  return doc;
}
