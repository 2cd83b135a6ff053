/**
 * How heavy-tailed a detector statistic has proven on this series: a running
 * 99th percentile tracked by stochastic approximation (up 0.99 step when a
 * value exceeds it, down 0.01 step otherwise, the step 2 % of the estimate,
 * so it settles over about 5,000 points and a single extreme value moves it
 * no more than a mild one; with an early gain the first steps are larger,
 * 1/√n, so a short series is calibrated within hundreds of points). A statistic is divided by (percentile / the
 * percentile expected for normal data), never by less than 1: series that
 * often jump need bigger jumps to be flagged, quiet ones do not.
 */
export class TailTracker {
  private q: number;
  private seen = 0;

  /**
   * `normal99`: the statistic's 99th percentile on well-behaved (normal) data,
   * > 0. `earlyGain` ≥ 0: the step is earlyGain / √n of the estimate for the
   * n-th value while that is larger than the settled 2 % (0: always 2 %).
   */
  constructor(
    private readonly normal99: number,
    private readonly earlyGain = 0,
  ) {
    this.q = normal99;
  }

  /** The statistic scaled to what it would be on well-behaved data. */
  normalize(value: number): number {
    return value / Math.max(1, this.q / this.normal99);
  }

  /**
   * Learn one value of the statistic. `weight` in (0, 1] scales the step:
   * callers learn rare values slowly, so that an incident does not teach
   * that incidents are normal, while a lasting change still becomes normal.
   */
  learn(value: number, weight = 1): void {
    // A larger gain while few values were seen (Robbins–Monro): a 4,000-point series is calibrated within its first day, not never.
    this.seen++;
    const step = Math.max(STEP, this.earlyGain / Math.sqrt(this.seen)) * weight * this.q;
    this.q = value > this.q ? this.q + 0.99 * step : this.q - 0.01 * step;
  }

  /** Forget what was learnt (the statistic now measures something else). */
  reset(): void {
    this.q = this.normal99;
    this.seen = 0;
  }

  /** The running 99th percentile. */
  get value(): number {
    return this.q;
  }
}

const STEP = 0.02;
