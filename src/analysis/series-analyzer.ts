/**
 * The port the daemon feeds: one SeriesAnalyzer per series (a check's
 * latency or failure rate, an instance's or service's score, a system value),
 * `observe(t, value)` on every point, `snapshot()` when someone asks. O(1) per
 * point (trend and forecast are computed in snapshot, from bucket means), and
 * a fixed memory per series (bench/analysis.ts measures it); the optional
 * quantile sketch adds 2–5 KB (stats/quantile-sketch.ts says why).
 *
 * Time comes in with each point (the result's observedAt); the analyzer
 * never reads a clock, so replaying history gives the same answers.
 */
import { RobustDetector, type RobustChannel } from './anomaly/robust.js';
import { forecastOf, type ForecastAnswer } from './forecast.js';
import { BucketRing } from './stats/bucket-ring.js';
import { Ewma } from './stats/ewma.js';
import { QuantileSketch } from './stats/quantile-sketch.js';
import { Welford } from './stats/welford.js';
import { trendOf, type Polarity, type TrendAnswer, type TrendOptions } from './trend.js';

export interface SeriesAnalyzerOptions {
  /** Is a rising value good (score) or bad (latency, failure rate)? */
  polarity: Polarity;
  /** Bucket length for trend and forecast, ms (default 60 000: the store's minute rollups). */
  bucketMs?: number;
  /** Buckets kept for trend and forecast (default 64: about an hour at the default bucket). */
  buckets?: number;
  /** Threshold whose crossing the forecast dates (e.g. a latency objective, score 50). */
  threshold?: number;
  /** Keep a DDSketch of every value for p50/p95/p99 (2–5 KB more; default false). */
  quantiles?: boolean;
  /** Overrides for the trend's reading (minChange, volatileCv, confidence). */
  trend?: Omit<TrendOptions, 'polarity'>;
}

/** The anomaly state after the last point. */
export interface AnomalyState {
  /** Score of the last point, [0, 1]. */
  score: number;
  /** The last point was flagged. */
  anomaly: boolean;
  /** Which statistic set the score (null during warm-up). */
  channel: RobustChannel | null;
  /** Epoch ms of the last flagged point, null if none yet. */
  lastAnomalyAt: number | null;
  /** Points flagged since the analyzer started. */
  flagged: number;
  /**
   * An incident is going on: the detector flags only an incident's first
   * point (one alarm per episode) and stays alarmed until the series has been
   * quiet for a while. Alert rules read this, so `for:` can span an incident.
   */
  ongoing: boolean;
}

/** Everything known about one series now; plain data (JSON-ready). */
export interface SeriesSnapshot {
  /** Points observed, and the time of the last (epoch ms; null before the first). */
  count: number;
  lastAt: number | null;
  last: number | null;
  /** Every point since start: mean and standard deviation (Welford). */
  mean: number;
  stddev: number;
  /** Exponentially weighted mean and standard deviation, half-life 32 points. */
  ewmaMean: number;
  ewmaStddev: number;
  /** p50/p95/p99 of every value (only with `quantiles: true`). */
  quantiles: { p50: number; p95: number; p99: number } | null;
  trend: TrendAnswer;
  forecast: ForecastAnswer;
  anomaly: AnomalyState;
}

/** One series' streaming analysis. */
export class SeriesAnalyzer {
  private readonly detector = new RobustDetector();
  private readonly welford = new Welford();
  private readonly ewma = new Ewma(32);
  private readonly buckets: BucketRing;
  private readonly sketch: QuantileSketch | null;
  private lastAt = Number.NaN;
  private lastValue = Number.NaN;
  private score = 0;
  private lastAnomalyAt = Number.NaN;
  private flagged = 0;

  constructor(private readonly options: SeriesAnalyzerOptions) {
    this.buckets = new BucketRing(options.bucketMs ?? 60_000, options.buckets ?? 64);
    this.sketch = options.quantiles ? new QuantileSketch() : null;
  }

  /**
   * Add a point: t epoch ms, value finite. Returns false, and learns nothing,
   * for a non-finite value or a time before the last point's (failures as
   * data: the caller decides whether that is worth a log line).
   */
  observe(t: number, value: number): boolean {
    if (!Number.isFinite(value) || !Number.isFinite(t) || t < this.lastAt) return false;
    this.score = this.detector.observe(t, value);
    if (this.score >= this.detector.flagScore) {
      this.flagged++;
      this.lastAnomalyAt = t;
    }
    this.welford.update(value);
    this.ewma.update(value);
    this.buckets.add(t, value);
    this.sketch?.add(value);
    this.lastAt = t;
    this.lastValue = value;
    return true;
  }

  /** The anomaly state after the last point, without computing trend and forecast (O(1)). */
  anomaly(): AnomalyState {
    const has = this.welford.count > 0;
    return {
      score: this.score,
      anomaly: has && this.score >= this.detector.flagScore,
      channel: this.detector.channel,
      lastAnomalyAt: Number.isNaN(this.lastAnomalyAt) ? null : this.lastAnomalyAt,
      flagged: this.flagged,
      ongoing: has && this.detector.alarmed,
    };
  }

  /** Points observed so far. */
  get count(): number {
    return this.welford.count;
  }

  /**
   * The closed bucket means trend and forecast read (times: bucket middles,
   * epoch ms), for callers that ask other questions of the same window (a
   * forecast against another threshold, a service's combined trend).
   */
  window(): { t: Float64Array; y: Float64Array } {
    return this.buckets.closed();
  }

  /** Trend, forecast and anomaly state now (trend and forecast cost O(buckets²); call it when asked, not per point). */
  snapshot(): SeriesSnapshot {
    const { t, y } = this.buckets.closed();
    const has = this.welford.count > 0;
    return {
      count: this.welford.count,
      lastAt: has ? this.lastAt : null,
      last: has ? this.lastValue : null,
      mean: this.welford.mean,
      stddev: this.welford.stddev,
      ewmaMean: this.ewma.mean,
      ewmaStddev: this.ewma.stddev,
      quantiles:
        this.sketch && this.sketch.count > 0 ? { p50: this.sketch.quantile(0.5), p95: this.sketch.quantile(0.95), p99: this.sketch.quantile(0.99) } : null,
      trend: trendOf(t, y, { ...this.options.trend, polarity: this.options.polarity }),
      forecast: forecastOf(t, y, this.options.threshold === undefined ? {} : { threshold: this.options.threshold }),
      anomaly: this.anomaly(),
    };
  }
}

/**
 * Analyzers keyed by series id (e.g. `check:api/api-1/health:latency`,
 * `service:api:score`), created on first sight with the options `optionsFor`
 * gives. The daemon's wiring is `analyzers.observe(id, result.observedAt, value)`
 * on each result and `analyzers.get(id)?.snapshot()` in the API.
 */
export class SeriesAnalyzers {
  private readonly byId = new Map<string, SeriesAnalyzer>();

  constructor(private readonly optionsFor: (seriesId: string) => SeriesAnalyzerOptions) {}

  /** Feed a point to the series' analyzer (created if new); false when the point was refused. */
  observe(seriesId: string, t: number, value: number): boolean {
    let a = this.byId.get(seriesId);
    if (!a) {
      a = new SeriesAnalyzer(this.optionsFor(seriesId));
      this.byId.set(seriesId, a);
    }
    return a.observe(t, value);
  }

  get(seriesId: string): SeriesAnalyzer | undefined {
    return this.byId.get(seriesId);
  }

  /** Forget a series (its check or instance was removed). */
  delete(seriesId: string): boolean {
    return this.byId.delete(seriesId);
  }

  ids(): IterableIterator<string> {
    return this.byId.keys();
  }

  get size(): number {
    return this.byId.size;
  }
}
