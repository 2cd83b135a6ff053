import { describe, expect, it } from 'vitest';
import { detectorKinds, type DetectorKind } from '../../src/analysis/anomaly/index.js';
import { seeded } from '../../src/core/random.js';
import { detection, gauss, makeSeries, probationOf, type AnomalyCase } from './synthetic.js';

const SEEDS = 10;

/** Mean precision and recall of a detector kind over seeds, flags in the three-day warm-up not counted. */
function measure(kind: AnomalyCase, daily: number, detector: DetectorKind = 'robust'): { precision: number; recall: number } {
  let precision = 0;
  let recall = 0;
  for (let seed = 1; seed <= SEEDS; seed++) {
    const s = makeSeries({ kind, seed, daily });
    const d = detectorKinds[detector]();
    const flags = Array.from(s.x, (x, i) => d.observe(s.t[i]!, x) >= d.flagScore);
    const r = detection(flags, s.windows, probationOf());
    precision += r.precision;
    recall += r.recall;
  }
  return { precision: precision / SEEDS, recall: recall / SEEDS };
}

describe('robust anomaly detector on synthetic series (10 seeds, 14 days at 5 min)', () => {
  it.each([
    // case, daily amplitude in σ, least precision, least recall (measured: see the issue note)
    ['spikes', 0, 0.95, 0.95],
    ['spikes', 5, 0.95, 0.95],
    ['level-shift', 0, 0.9, 0.95],
    ['level-shift', 5, 0.6, 0.8],
    ['variance', 0, 0.95, 0.95],
    ['variance', 5, 0.95, 0.85],
    ['drift', 0, 0.9, 0.4],
    ['drift', 5, 0.5, 0.5],
  ] as const)('%s with daily seasonality %dσ: precision ≥ %d, recall ≥ %d', (kind, daily, minPrecision, minRecall) => {
    const r = measure(kind, daily);
    expect(r.precision).toBeGreaterThanOrEqual(minPrecision);
    expect(r.recall).toBeGreaterThanOrEqual(minRecall);
  });

  it('finds spikes on a daily cycle that the EWMA z-score and the windowed Gaussian miss', () => {
    const robust = measure('spikes', 5);
    expect(robust.recall).toBeGreaterThan(measure('spikes', 5, 'ewma-z').recall + 0.3);
    expect(robust.recall).toBeGreaterThan(measure('spikes', 5, 'windowed-gaussian').recall + 0.3);
  });

  it.each([0, 5])('flags fewer than 1 in 1,000 points of clean noise after the three-day warm-up (daily %dσ, 100,000 points)', (daily) => {
    let flags = 0;
    let points = 0;
    for (let seed = 1; seed <= 10; seed++) {
      const s = makeSeries({ kind: 'clean', seed: 100 + seed, daily, n: 10_000 + probationOf() });
      const d = detectorKinds.robust();
      for (let i = 0; i < s.x.length; i++) {
        const flagged = d.observe(s.t[i]!, s.x[i]!) >= d.flagScore;
        if (i < probationOf()) continue;
        if (flagged) flags++;
        points++;
      }
    }
    expect(flags / points).toBeLessThan(1 / 1000);
  });

  it('is causal: a point’s score does not change when later points do', () => {
    const s = makeSeries({ kind: 'spikes', seed: 7 });
    const a = detectorKinds.robust();
    const b = detectorKinds.robust();
    const r = seeded(3);
    for (let i = 0; i < 2000; i++) {
      const sa = a.observe(s.t[i]!, s.x[i]!);
      const sb = b.observe(s.t[i]!, s.x[i]!);
      expect(sb).toBe(sa);
    }
    // Diverge from here on: b sees other values, and the scores of the shared prefix were already equal.
    const next = a.observe(s.t[2000]!, s.x[2000]!);
    const other = b.observe(s.t[2000]!, s.x[2000]! + 100 * gauss(r));
    expect(next).toBeGreaterThanOrEqual(0);
    expect(other).toBeGreaterThan(0.5);
  });

  it('keeps every score in [0, 1], even on constant, quantized and huge values', () => {
    const d = detectorKinds.robust();
    const values = [...Array(200).fill(5), ...Array.from({ length: 300 }, (_, i) => (i % 3 === 0 ? 6 : 5)), 1e12, -1e12, 0, 5];
    values.forEach((v, i) => {
      const score = d.observe(i * 1000, v);
      expect(score).toBeGreaterThanOrEqual(0);
      expect(score).toBeLessThanOrEqual(1);
    });
  });

  it('does not learn an outlier into its baseline: the point after a spike scores low', () => {
    const s = makeSeries({ kind: 'clean', seed: 9, n: 500 });
    const d = detectorKinds.robust();
    for (let i = 0; i < 400; i++) d.observe(s.t[i]!, s.x[i]!);
    expect(d.observe(s.t[400]!, 1000)).toBeGreaterThanOrEqual(d.flagScore);
    expect(d.observe(s.t[401]!, s.x[401]!)).toBeLessThan(0.3);
  });
});
