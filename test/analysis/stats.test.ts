import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { median } from '../../src/analysis/math.js';
import { BucketRing } from '../../src/analysis/stats/bucket-ring.js';
import { Downsampler } from '../../src/analysis/stats/downsampler.js';
import { Ewma } from '../../src/analysis/stats/ewma.js';
import { QuantileSketch } from '../../src/analysis/stats/quantile-sketch.js';
import { SortedWindow } from '../../src/analysis/stats/sorted-window.js';
import { Welford } from '../../src/analysis/stats/welford.js';
import { seeded } from '../../src/core/random.js';

const values = fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 300 });

describe('streaming statistics', () => {
  it('SortedWindow matches a sort of the last values: median, MAD, quantiles', () => {
    fc.assert(
      fc.property(values, fc.integer({ min: 1, max: 40 }), (xs, cap) => {
        const w = new SortedWindow(cap);
        for (const x of xs) w.push(x);
        const last = xs.slice(-cap);
        const med = median(last);
        expect(w.median()).toBe(med);
        // The MAD walks to the ⌊n/2⌋-th smallest deviation: the upper median of the deviations.
        const devs = last.map((x) => Math.abs(x - med)).sort((a, b) => a - b);
        expect(w.mad(med)).toBe(devs[last.length >> 1]);
        const sorted = [...last].sort((a, b) => a - b);
        expect(w.quantile(0)).toBe(sorted[0]);
        expect(w.quantile(1)).toBe(sorted[sorted.length - 1]);
      }),
    );
  });

  it('SortedWindow MAD of a worked example', () => {
    const w = new SortedWindow(5);
    for (const x of [1, 2, 3, 4, 100]) w.push(x);
    // |x − 3| = 2, 1, 0, 1, 97 → sorted 0, 1, 1, 2, 97 → the third is 1.
    expect(w.mad(3)).toBe(1);
    expect(w.robustSigma()).toBeCloseTo(1.4826, 10);
  });

  it('Welford equals the two-pass mean and variance, and merging equals feeding one', () => {
    fc.assert(
      fc.property(values, values, (a, b) => {
        const wa = new Welford();
        const wb = new Welford();
        const all = new Welford();
        for (const x of a) {
          wa.update(x);
          all.update(x);
        }
        for (const x of b) {
          wb.update(x);
          all.update(x);
        }
        wa.merge(wb);
        const xs = [...a, ...b];
        const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
        const variance = xs.reduce((s, x) => s + (x - mean) ** 2, 0) / (xs.length - 1);
        expect(wa.mean).toBeCloseTo(mean, 3);
        expect(all.variance).toBeCloseTo(variance, -1);
        expect(wa.count).toBe(xs.length);
      }),
    );
  });

  it('Ewma halves a point’s weight every half-life', () => {
    const e = new Ewma(10);
    e.update(0);
    for (let i = 0; i < 10; i++) e.update(1);
    // After 10 points of 1 on a start of 0, the start's weight is 0.5.
    expect(e.mean).toBeCloseTo(0.5, 10);
    expect(() => new Ewma(0)).toThrow(/halfLife/);
  });

  it('QuantileSketch p50/p95/p99 of lognormal latencies within its 2 % accuracy', () => {
    const r = seeded(1);
    const sketch = new QuantileSketch();
    const xs: number[] = [];
    for (let i = 0; i < 20_000; i++) {
      const z = Math.sqrt(-2 * Math.log(r() || 1e-12)) * Math.cos(2 * Math.PI * r());
      const x = Math.exp(3 + z);
      xs.push(x);
      sketch.add(x);
    }
    xs.sort((a, b) => a - b);
    for (const q of [0.5, 0.95, 0.99]) {
      const exact = xs[Math.floor(q * (xs.length - 1))]!;
      expect(Math.abs(sketch.quantile(q) - exact) / exact).toBeLessThan(0.03);
    }
  });

  it('BucketRing averages points per bucket, leaves gaps out and ignores late points', () => {
    const ring = new BucketRing(1000, 4);
    ring.add(0, 1);
    ring.add(500, 3);
    ring.add(2500, 10); // bucket 1 is a gap
    expect(ring.add(100, 99)).toBe(false);
    ring.add(3000, 0); // closes bucket 2
    const { t, y } = ring.closed();
    expect(Array.from(y)).toEqual([2, 10]);
    expect(Array.from(t)).toEqual([500, 2500]);
  });

  it('Downsampler keeps at most its capacity, at least half of it in use, each bucket the mean of its points', () => {
    const d = new Downsampler(8);
    for (let i = 0; i < 1000; i++) d.add(i * 1000, i);
    const { t, y } = d.buckets();
    expect(t.length).toBeLessThanOrEqual(8);
    expect(t.length).toBeGreaterThanOrEqual(4);
    // Bucket k holds the points k·w ≤ i·1000 < (k+1)·w: the first one's mean is that of 0 … w/1000 − 1.
    const w = d.bucketMs;
    const meanOf = (k: number): number => {
      const inBucket = Array.from({ length: 1000 }, (_, i) => i).filter((i) => i * 1000 >= k * w && i * 1000 < (k + 1) * w);
      return inBucket.reduce((s, i) => s + i, 0) / inBucket.length;
    };
    expect(y[0]).toBeCloseTo(meanOf(0), 9);
    expect(y[1]).toBeCloseTo(meanOf(1), 9);
    expect(t[1]! - t[0]!).toBe(w);
  });
});
