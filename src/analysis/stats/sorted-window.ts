import { MAD_TO_SIGMA } from '../math.js';

/**
 * The last `capacity` values both in arrival order (a ring) and sorted, so the
 * median is O(1) and the MAD O(capacity / 2) without allocating: a push moves
 * at most `capacity` numbers inside one typed array. This is the robust
 * baseline of the anomaly detector and the windowed quantiles of a series.
 * Memory: 16 bytes × capacity.
 */
export class SortedWindow {
  private readonly ring: Float64Array;
  private readonly sorted: Float64Array;
  private head = 0;
  private size = 0;

  /** `capacity` ≥ 1 values. */
  constructor(readonly capacity: number) {
    if (!(Number.isInteger(capacity) && capacity >= 1)) throw new RangeError(`SortedWindow: capacity must be an integer ≥ 1, got ${capacity}`);
    this.ring = new Float64Array(capacity);
    this.sorted = new Float64Array(capacity);
  }

  get length(): number {
    return this.size;
  }

  /** Add a finite value; the oldest leaves once the window is full. */
  push(x: number): void {
    const s = this.sorted;
    if (this.size < this.capacity) {
      // Insert: shift the larger values up by one.
      let i = this.size++;
      while (i > 0 && s[i - 1]! > x) {
        s[i] = s[i - 1]!;
        i--;
      }
      s[i] = x;
    } else {
      // Replace the oldest value by x, moving only the values between the two positions.
      const old = this.ring[this.head]!;
      let i = this.indexOf(old);
      if (x >= old) {
        while (i + 1 < this.size && s[i + 1]! < x) {
          s[i] = s[i + 1]!;
          i++;
        }
      } else {
        while (i > 0 && s[i - 1]! > x) {
          s[i] = s[i - 1]!;
          i--;
        }
      }
      s[i] = x;
    }
    this.ring[this.head] = x;
    this.head = this.head + 1 === this.capacity ? 0 : this.head + 1;
  }

  /** Median of the window (NaN when empty). */
  median(): number {
    const n = this.size;
    if (n === 0) return Number.NaN;
    const mid = n >> 1;
    return n % 2 === 1 ? this.sorted[mid]! : (this.sorted[mid - 1]! + this.sorted[mid]!) / 2;
  }

  /**
   * Median absolute deviation from `center` (the k-th smallest |x − center|,
   * k = ⌊n/2⌋, walking outward from center through the sorted values).
   */
  mad(center: number): number {
    const n = this.size;
    if (n === 0) return Number.NaN;
    const s = this.sorted;
    // hi: first index with s[hi] ≥ center; lo = hi − 1.
    let hi = this.lowerBound(center);
    let lo = hi - 1;
    let d = 0;
    for (let k = 0; k <= n >> 1; k++) {
      const dl = lo >= 0 ? center - s[lo]! : Number.POSITIVE_INFINITY;
      const dh = hi < n ? s[hi]! - center : Number.POSITIVE_INFINITY;
      if (dl <= dh) {
        d = dl;
        lo--;
      } else {
        d = dh;
        hi++;
      }
    }
    return d;
  }

  /**
   * Interquartile mean: the mean of the middle half of the sorted values.
   * Robust like the median, but it moves smoothly where the median jumps
   * between the steps of a quantized series (NaN when empty).
   */
  interquartileMean(): number {
    const n = this.size;
    if (n === 0) return Number.NaN;
    const lo = n >> 2;
    const hi = n - lo;
    let sum = 0;
    for (let i = lo; i < hi; i++) sum += this.sorted[i]!;
    return sum / (hi - lo);
  }

  /** Mean absolute deviation from `center` (NaN when empty). */
  meanAbsDeviation(center: number): number {
    const n = this.size;
    if (n === 0) return Number.NaN;
    let sum = 0;
    for (let i = 0; i < n; i++) sum += Math.abs(this.sorted[i]! - center);
    return sum / n;
  }

  /** Robust standard deviation: 1.4826 × MAD around the median (NaN when empty). */
  robustSigma(): number {
    return MAD_TO_SIGMA * this.mad(this.median());
  }

  /** The q-quantile (0 ≤ q ≤ 1) of the window by linear interpolation between order statistics. */
  quantile(q: number): number {
    const n = this.size;
    if (n === 0) return Number.NaN;
    const pos = Math.min(Math.max(q, 0), 1) * (n - 1);
    const i = Math.floor(pos);
    const f = pos - i;
    return f === 0 ? this.sorted[i]! : this.sorted[i]! * (1 - f) + this.sorted[i + 1]! * f;
  }

  /** Newest value (NaN when empty). */
  newest(): number {
    if (this.size === 0) return Number.NaN;
    return this.ring[(this.head + this.capacity - 1) % this.capacity]!;
  }

  reset(): void {
    this.head = 0;
    this.size = 0;
  }

  private lowerBound(x: number): number {
    let lo = 0;
    let hi = this.size;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.sorted[mid]! < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private indexOf(x: number): number {
    // The value is there (it is the oldest in the ring), so lowerBound finds an equal one.
    return this.lowerBound(x);
  }
}
