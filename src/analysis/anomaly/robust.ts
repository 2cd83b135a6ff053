/**
 * healthmesh's anomaly detector: robust, causal, self-calibrating, with no
 * tuning per series.
 *
 * For each point, before learning it:
 * 1. Seasonality: once two days (or two weeks) were seen and the daily (or
 *    weekly) shape explains at least 30 % of the variance, its offset at the
 *    point's time is taken off (seasonal-profile.ts).
 * 2. Baseline: median of the last 64 adjusted values, so outliers do not
 *    drag it (a spike moves a median by one rank); σ the larger of 1.4826 ×
 *    MAD and √(π/2) × the mean absolute deviation (the MAD alone collapses on
 *    quantized series, whose values sit on a few steps).
 * 3. Three statistics, each read against how heavy-tailed it has proven on
 *    this series (tail-tracker.ts):
 *    - point: z = |x − median| / σ (spikes, the start of a shift);
 *    - sustained: the mean of min(z², 9) over about 16 points (a variance
 *      change, a run of moderate deviations);
 *    - shift: how far the window's interquartile mean moved over the last
 *      64 points, in standard errors (slow drifts the baseline would follow;
 *      not the median, which jumps between the steps of quantized series).
 * Score: the smallest of the three normal tail probabilities times 3 (one
 * test of three), through scoreOfTail; flagged at p ≤ 10⁻⁶ (score ≥ 0.6).
 * The trackers of the point and sustained statistics learn fast at first (a
 * step of 1/√n), so a short series is calibrated within its first day, and all
 * three start over when a seasonal shape is taken off (or changed).
 * The trackers learn from points with p ≤ 10⁻³ at a tenth of the pace, so an
 * incident does not teach the detector that incidents are normal, while a
 * change that lasts (a new daily swing) does. After 32 flagged points in a
 * row the new level is accepted (the shift and sustained channels start
 * over), so a lasting shift is flagged at its start, not for hours.
 * One alarm per episode: after a flag, the points of the same incident score
 * just under the flag until the series has been quiet for 24 points
 * (`alarmed` tells whether an episode is going on). Before 16 points the
 * score is 0.
 *
 * Memory: about 1.5 KB (a 64-value sorted window, 8 past levels, a 24- and
 * a 168-bucket profile).
 */
import { MAD_TO_SIGMA, normalTwoSided } from '../math.js';
import { SortedWindow } from '../stats/sorted-window.js';
import { SeasonalProfile } from './seasonal-profile.js';
import { TailTracker } from './tail-tracker.js';
import { scoreOfTail, type AnomalyDetector, type DetectorOptions } from './types.js';

const WINDOW = 64;
const WARMUP = 16;
const DAY_MS = 86_400_000;
const WEEK_MS = 7 * DAY_MS;
/** 99th percentile of |z| for normal data. */
const Z99 = 2.576;
/** Share of the variance a seasonal shape must explain to be taken off. */
const MIN_SEASONAL_STRENGTH = 0.3;
/** Correlation a shape must keep with itself one period earlier to be taken off. */
const MIN_SEASONAL_CONSISTENCY = 0.7;
/** Weight of the newest point in the sustained channel (≈ 16-point memory). */
const SUSTAINED_ALPHA = 1 / 16;
/** Standard deviation of that mean for normal data (an EW mean of χ²₁, whose variance is 2). */
const SUSTAINED_SD = Math.sqrt((2 * SUSTAINED_ALPHA) / (2 - SUSTAINED_ALPHA));
/** z² is capped here in the sustained channel so that one spike does not make it. */
const Z2_CAP = 9;
/** Past levels (interquartile means of the window) kept for the shift channel: one every 8 points, 8 of them (57–64 points ago). */
const LEVEL_EVERY = 8;
const LEVELS = 8;
/** Standard error of the difference of two interquartile means of 64 normal values, in σ: √2 × 1.15 / √64. */
const SHIFT_SE = (Math.SQRT2 * 1.15) / Math.sqrt(WINDOW);
/** Trackers learn fully from points with p > 10⁻³, and at a tenth of the pace from rarer ones. */
const LEARN_BELOW = scoreOfTail(1e-3);
const RARE_WEIGHT = 0.1;
/** After this many flagged points in a row the level they are at becomes the reference (the shift and sustained channels start over). */
const ACCEPT_AFTER = 32;
/** σ and the window's interquartile mean are recomputed every this many points. */
const REFRESH_EVERY = 4;
/**
 * Early gain of the tail trackers (TailTracker): the point and sustained
 * statistics are calibrated within the first day of a series (real metrics
 * are heavier-tailed and more autocorrelated than normal noise, and a
 * 4,000-point series must not spend its life uncalibrated). The shift
 * statistic moves over 64 points, so a fast gain would chase its runs: it
 * keeps the settled 2 % step.
 */
const EARLY_GAIN_POINT = 1;
const EARLY_GAIN_SUSTAINED = 1;
const EARLY_GAIN_SHIFT = 0;
/** Default flag: p ≤ 10⁻⁶. */
export const ROBUST_FLAG_SCORE = 0.6;
/** An alarmed episode ends after this many points in a row scored below LEARN_BELOW (p > 10⁻³). */
const REARM_AFTER = 24;

/** Which statistic set the last score: a lone deviation, a sustained one, or a moved median. */
export type RobustChannel = 'point' | 'sustained' | 'shift';

export class RobustDetector implements AnomalyDetector {
  readonly flagScore: number;
  /** The channel that set the last score (null during warm-up). */
  channel: RobustChannel | null = null;
  private readonly window = new SortedWindow(WINDOW);
  private readonly levels = new Float64Array(LEVELS);
  /** Slot of the oldest past level (the next to be overwritten). */
  private levelHead = 0;
  private readonly daily = new SeasonalProfile(DAY_MS, 24);
  private readonly weekly = new SeasonalProfile(WEEK_MS, 168);
  /** The profile taken off now, if any. */
  private season: SeasonalProfile | null = null;
  private readonly pointTail = new TailTracker(Z99, EARLY_GAIN_POINT);
  private readonly sustainedTail = new TailTracker(Z99, EARLY_GAIN_SUSTAINED);
  private readonly shiftTail = new TailTracker(Z99, EARLY_GAIN_SHIFT);
  private sustained = 1;
  /** σ and interquartile mean of the window, refreshed every REFRESH_EVERY points. */
  private sigmaCached = 0;
  private levelCached = 0;
  /** Consecutive flagged points. */
  private run = 0;
  /** Quiet points in a row since the episode's last rare one (while alarmed). */
  private quiet = 0;
  private episode = false;
  /** The shift channel speaks from this point on (after the first window, and a window after an accepted level). */
  private shiftFrom = WINDOW;
  private seen = 0;
  /** Mean and variance of the values over about a day of 5-minute points, for the seasonal strength. */
  private meanEw = 0;
  private varianceEw = 0;

  constructor(options: DetectorOptions = {}) {
    this.flagScore = options.flagScore ?? ROBUST_FLAG_SCORE;
  }

  observe(t: number, x: number): number {
    const y = x - (this.season ? this.season.offset(t) : 0);
    let score = 0;
    let med = Number.NaN;
    let sigma = Number.NaN;
    if (this.seen >= WARMUP) {
      med = this.window.median();
      // σ and the window's level move slowly: refreshed every few points, they cost a quarter as much.
      if (this.seen % REFRESH_EVERY === 0 || !(this.sigmaCached > 0)) {
        this.sigmaCached = this.sigma(med);
        this.levelCached = this.window.interquartileMean();
      }
      sigma = this.sigmaCached;
      const z = sigma > 0 ? Math.abs(y - med) / sigma : y === med ? 0 : 1e9;
      this.sustained += SUSTAINED_ALPHA * (Math.min(z * z, Z2_CAP) - this.sustained);
      const zSustained = Math.max(0, (this.sustained - 1) / SUSTAINED_SD);
      // The oldest kept level, taken 57 to 64 points ago.
      const pastLevel = this.levels[this.levelHead]!;
      const haveShift = this.seen >= this.shiftFrom;
      const zShift = haveShift && sigma > 0 ? Math.abs(this.levelCached - pastLevel) / (sigma * SHIFT_SE) : 0;
      const nPoint = this.pointTail.normalize(z);
      const nSustained = this.sustainedTail.normalize(zSustained);
      const nShift = this.shiftTail.normalize(zShift);
      // The tail probability falls as z grows, so the rarest channel is the one with the largest z: one erfc, not three.
      const zMax = Math.max(nPoint, nSustained, nShift);
      this.channel = zMax === nPoint ? 'point' : zMax === nSustained ? 'sustained' : 'shift';
      score = scoreOfTail(3 * normalTwoSided(zMax));
      const raw = score;
      // A run of flags this long is a new normal, not an incident going on: accept it.
      this.run = raw >= this.flagScore ? this.run + 1 : 0;
      if (this.run >= ACCEPT_AFTER) {
        // The window still holds the old level: compare against the new one only once it has turned over.
        this.shiftFrom = this.seen + WINDOW;
        this.sustained = 1;
        this.run = 0;
      }
      const weight = raw < LEARN_BELOW ? 1 : RARE_WEIGHT;
      this.pointTail.learn(z, weight);
      this.sustainedTail.learn(zSustained, weight);
      if (haveShift) this.shiftTail.learn(zShift, weight);
      score = this.suppress(raw);
    }
    this.learn(t, x, y, med, sigma);
    return score;
  }

  /** True from a flagged point until the series has been quiet for REARM_AFTER points: one incident, one alarm. */
  get alarmed(): boolean {
    return this.episode;
  }

  /**
   * One alarm per episode: the first rare point of an incident is flagged;
   * the points after it score just under the flag until the series has been
   * quiet (p > 10⁻³) for REARM_AFTER points in a row. An incident is news
   * once; flagging every point of it buries the next one.
   */
  private suppress(raw: number): number {
    if (!this.episode) {
      if (raw >= this.flagScore) {
        this.episode = true;
        this.quiet = 0;
      }
      return raw;
    }
    if (raw < LEARN_BELOW) {
      if (++this.quiet >= REARM_AFTER) this.episode = false;
    } else this.quiet = 0;
    return Math.min(raw, this.flagScore - 1e-4);
  }

  /**
   * σ of the window around `med`: the larger of 1.4826 × MAD and √(π/2) ×
   * the mean absolute deviation. Both estimate σ on normal data; where values
   * sit on a few steps (quantized series) the MAD collapses to the width of
   * one step, and the mean absolute deviation does not.
   */
  private sigma(med: number): number {
    return Math.max(MAD_TO_SIGMA * this.window.mad(med), 1.2533 * this.window.meanAbsDeviation(med));
  }

  /** Learn the point; med and sigma are the baseline it was scored against (NaN during warm-up). */
  private learn(t: number, x: number, y: number, med: number, sigma: number): void {
    this.window.push(y);
    if (this.seen < this.shiftFrom) {
      if (this.seen % LEVEL_EVERY === 0) this.levels.fill(this.window.interquartileMean());
    } else if (this.seen % LEVEL_EVERY === 0) {
      this.levels[this.levelHead] = this.window.interquartileMean();
      this.levelHead = (this.levelHead + 1) % LEVELS;
    }
    this.seen++;
    // Profiles learn the raw value, clipped to the baseline's ±4σ so an outlier does not bend the shape.
    const value = sigma > 0 ? Math.min(Math.max(y, med - 4 * sigma), med + 4 * sigma) + (x - y) : x;
    const dayTurn = this.daily.learn(t, value);
    this.weekly.learn(t, value);
    const w = 1 / Math.min(this.seen, 288);
    const d = value - this.meanEw;
    this.meanEw += w * d;
    this.varianceEw += w * (d * (value - this.meanEw) - this.varianceEw);
    if (dayTurn) {
      const season = this.pickSeason(t);
      // Taking a shape off (or another one) changes what the statistics measure: their tails are learnt anew.
      if (season !== this.season) {
        this.pointTail.reset();
        this.sustainedTail.reset();
        this.shiftTail.reset();
      }
      this.season = season;
    }
  }

  /** The profile to take off from now on: weekly if it explains clearly more than daily, each only after two periods. */
  private pickSeason(t: number): SeasonalProfile | null {
    const total = this.varianceEw;
    if (!(total > 0)) return null;
    // A shape counts once two periods were seen and it repeats (this period's shape like the last one's).
    const strength = (p: SeasonalProfile): number => (p.periodsSeen(t) >= 2 && p.consistency() >= MIN_SEASONAL_CONSISTENCY ? p.shapeVariance() / total : 0);
    const week = strength(this.weekly);
    const day = strength(this.daily);
    if (week >= MIN_SEASONAL_STRENGTH && week > day * 1.2) return this.weekly;
    if (day >= MIN_SEASONAL_STRENGTH) return this.daily;
    return null;
  }
}
