/**
 * A service's trend from its instances' (the regional Kendall test of Hirsch
 * et al.: the instances' Mann–Kendall S statistics and variances add up,
 * instances taken as independent). The slope is the median of the instances'
 * slopes, so one odd instance does not set the service's direction.
 */
import { median, normalTwoSided } from './math.js';
import { classify, type Trend, type TrendAnswer, type TrendOptions } from './trend.js';

/**
 * Combine instance trends (refused ones are skipped). Refuses when no instance
 * has a trend. `n` and `spanMs` of the answer are the sum of points and the
 * longest span.
 */
export function combineTrends(answers: readonly TrendAnswer[], options: TrendOptions): TrendAnswer {
  const trends: Trend[] = [];
  for (const a of answers) if (a.ok) trends.push(a.trend);
  const points = answers.reduce((sum, a) => sum + (a.ok ? a.trend.n : a.n), 0);
  if (trends.length === 0) return { ok: false, reason: 'too_few_points', detail: 'no instance has a trend yet', n: points };

  let s = 0;
  let variance = 0;
  for (const tr of trends) {
    s += tr.kendallS;
    variance += tr.kendallVariance;
  }
  const z = variance > 0 ? (s - Math.sign(s)) / Math.sqrt(variance) : 0;
  const pValue = normalTwoSided(z);
  const pick = (f: (t: Trend) => number): number => median(trends.map(f));
  const trend: Trend = {
    direction: 'stable',
    slopePerSecond: pick((t) => t.slopePerSecond),
    level: pick((t) => t.level),
    change: pick((t) => t.change),
    r2: trends.reduce((sum, t) => sum + t.r2, 0) / trends.length,
    confidence: 1 - pValue,
    pValue,
    n: trends.reduce((sum, t) => sum + t.n, 0),
    spanMs: Math.max(...trends.map((t) => t.spanMs)),
    median: pick((t) => t.median),
    residualSigma: pick((t) => t.residualSigma),
    autocorrelation: pick((t) => t.autocorrelation),
    kendallS: s,
    kendallVariance: variance,
  };
  trend.direction = classify(trend, options);
  return { ok: true, trend };
}
