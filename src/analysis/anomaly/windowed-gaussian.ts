/**
 * Baseline: the windowed Gaussian (as in the Numenta Anomaly Benchmark's
 * detector): mean and standard deviation of the last 256 points, z = |x −
 * mean| / σ before the point joins the window. O(1) per point with running
 * sums. Not robust either. Flags at |z| ≥ 3 by default.
 */
import { normalTwoSided } from '../math.js';
import { scoreOfTail, type AnomalyDetector, type DetectorOptions } from './types.js';

const WINDOW = 256;
const WARMUP = 16;

export class WindowedGaussianDetector implements AnomalyDetector {
  readonly flagScore: number;
  private readonly ring = new Float64Array(WINDOW);
  private head = 0;
  private size = 0;
  private sum = 0;
  private sumSq = 0;
  /** Origin the sums are taken around, so that large levels do not cost precision. */
  private origin = Number.NaN;

  constructor(options: DetectorOptions = {}) {
    this.flagScore = options.flagScore ?? scoreOfTail(normalTwoSided(3));
  }

  observe(_t: number, x: number): number {
    if (Number.isNaN(this.origin)) this.origin = x;
    const v = x - this.origin;
    let score = 0;
    if (this.size >= WARMUP) {
      const mean = this.sum / this.size;
      const sd = Math.sqrt(Math.max(0, this.sumSq / this.size - mean * mean));
      const z = sd > 0 ? Math.abs(v - mean) / sd : v === mean ? 0 : Number.POSITIVE_INFINITY;
      score = scoreOfTail(normalTwoSided(z));
    }
    if (this.size === WINDOW) {
      const old = this.ring[this.head]!;
      this.sum -= old;
      this.sumSq -= old * old;
    } else {
      this.size++;
    }
    this.ring[this.head] = v;
    this.sum += v;
    this.sumSq += v * v;
    this.head = (this.head + 1) % WINDOW;
    return score;
  }
}
