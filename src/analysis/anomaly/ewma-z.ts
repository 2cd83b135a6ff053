/**
 * Baseline: the EWMA z-score. Mean and variance are exponentially weighted
 * (half-life 32 points); z = |x − mean| / σ before the point is learnt.
 * Not robust: a spike inflates σ and drags the mean. Kept as the yardstick
 * the robust detector must beat (README, "Analysis"). Flags at |z| ≥ 3 by default.
 */
import { normalTwoSided } from '../math.js';
import { Ewma } from '../stats/ewma.js';
import { scoreOfTail, type AnomalyDetector, type DetectorOptions } from './types.js';

const HALF_LIFE = 32;
const WARMUP = 16;

export class EwmaZDetector implements AnomalyDetector {
  readonly flagScore: number;
  private readonly ewma = new Ewma(HALF_LIFE);

  constructor(options: DetectorOptions = {}) {
    this.flagScore = options.flagScore ?? scoreOfTail(normalTwoSided(3));
  }

  observe(_t: number, x: number): number {
    let score = 0;
    if (this.ewma.count >= WARMUP) {
      const sd = this.ewma.stddev;
      const z = sd > 0 ? Math.abs(x - this.ewma.mean) / sd : x === this.ewma.mean ? 0 : Number.POSITIVE_INFINITY;
      score = scoreOfTail(normalTwoSided(z));
    }
    this.ewma.update(x);
    return score;
  }
}
