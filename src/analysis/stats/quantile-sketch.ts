import sketches from '@datadog/sketches-js';

/** Relative accuracy of the sketch's quantiles: a reported q-quantile is within ±2 % of the true one. */
export const SKETCH_RELATIVE_ACCURACY = 0.02;
/**
 * Bins kept; beyond them the lowest bins are merged (DDSketch's collapsing
 * store), so the upper quantiles that latency cares about keep their accuracy
 * over a range of 1.083^64 ≈ 160× below the largest values. Measured: a plain
 * DDSketch (1 %, uncollapsed) takes 2.2 KB for latencies within a factor of 3
 * and 7.6 KB for ones spread over four decades; this one stays at ≈ 1.5 KB
 * whatever the spread (see bench/analysis.ts).
 */
export const SKETCH_BIN_LIMIT = 64;

/**
 * Streaming quantiles of every value seen (DDSketch from @datadog/sketches-js,
 * collapsing its lowest bins). O(1) per value, bounded memory, mergeable
 * across instances. Values ≤ 0 are counted in the sketch's zero/negative
 * stores; accuracy is relative, so it suits latencies and rates, not values
 * that cross zero.
 */
export class QuantileSketch {
  private readonly sketch = new sketches.LogCollapsingLowestDenseDDSketch({ relativeAccuracy: SKETCH_RELATIVE_ACCURACY, binLimit: SKETCH_BIN_LIMIT });

  /** Add a finite value. */
  add(x: number): void {
    this.sketch.accept(x);
  }

  /** The q-quantile, q in [0, 1] (NaN when empty). */
  quantile(q: number): number {
    return this.sketch.count === 0 ? Number.NaN : this.sketch.getValueAtQuantile(q);
  }

  get count(): number {
    return this.sketch.count;
  }

  /** Fold another sketch in (a service's quantiles from its instances'). */
  merge(other: QuantileSketch): void {
    this.sketch.merge(other.sketch);
  }
}
