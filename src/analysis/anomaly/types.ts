/**
 * The contract every anomaly detector keeps: causal (a point's score uses only
 * the points before it), O(1) or O(window) per point, a score in [0, 1] and a
 * flag that is `score ≥ flagScore`.
 */

/** Names of the detector kinds (anomaly/index.ts maps them to factories). */
export type DetectorKind = 'robust' | 'ewma-z' | 'windowed-gaussian';

export interface AnomalyDetector {
  /** The score at and above which a point is flagged, in (0, 1]. */
  readonly flagScore: number;
  /**
   * Score the point (t epoch ms, x finite) against what came before it, then
   * learn it. Times must not decrease. Returns the score in [0, 1]; the point
   * is an anomaly when the score ≥ flagScore.
   */
  observe(t: number, x: number): number;
}

/** Options every factory takes; each kind documents its defaults. */
export interface DetectorOptions {
  /** Override the kind's flag score (e.g. to compare detectors at one false-alarm rate). */
  flagScore?: number;
}

export type DetectorFactory = (options?: DetectorOptions) => AnomalyDetector;

/**
 * The score of a two-sided normal tail probability p: −log10(p) / 10, capped
 * at 1. So 0.3 ↔ p = 10⁻³, 0.5 ↔ 10⁻⁵ (|z| ≈ 4.4), 0.6 ↔ 10⁻⁶ (|z| ≈ 4.9).
 * Every detector maps its statistic through this, so one score means one
 * rarity whatever the kind.
 */
export function scoreOfTail(p: number): number {
  if (!(p > 0)) return 1;
  return Math.min(1, Math.max(0, -Math.log10(p) / 10));
}
