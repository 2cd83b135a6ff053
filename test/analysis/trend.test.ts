import { describe, expect, it } from 'vitest';
import { combineTrends } from '../../src/analysis/trend-combine.js';
import { trendOf, type TrendAnswer } from '../../src/analysis/trend.js';
import { seeded } from '../../src/core/random.js';
import { gauss } from './synthetic.js';

const MIN = 60_000;

/** n points one minute apart: level + slope per point + σ noise (seeded). */
function line(seed: number, n: number, slopePerPoint: number, sigma: number, level = 100): { t: number[]; y: number[] } {
  const r = seeded(seed);
  const t = Array.from({ length: n }, (_, i) => i * MIN);
  const y = t.map((_, i) => level + slopePerPoint * i + sigma * gauss(r));
  return { t, y };
}

function ok(a: TrendAnswer) {
  if (!a.ok) throw new Error(`refused: ${a.reason}`);
  return a.trend;
}

describe('trend', () => {
  it('finds a known slope: latency rising 0.2 per minute over 60 points (σ 1) is degrading at ≥ 0.99 in 100 of 100 seeds', () => {
    for (let seed = 1; seed <= 100; seed++) {
      const { t, y } = line(seed, 60, 0.2, 1);
      const tr = ok(trendOf(t, y, { polarity: 'lower_is_better' }));
      expect(tr.direction).toBe('degrading');
      expect(tr.confidence).toBeGreaterThanOrEqual(0.99);
      expect(tr.slopePerSecond * 60).toBeCloseTo(0.2, 1);
    }
  });

  it('reads the same rise as improving for a score (higher is better), and a fall as degrading', () => {
    const up = line(1, 60, 0.2, 1);
    expect(ok(trendOf(up.t, up.y, { polarity: 'higher_is_better' })).direction).toBe('improving');
    const down = line(2, 60, -0.2, 1);
    expect(ok(trendOf(down.t, down.y, { polarity: 'higher_is_better' })).direction).toBe('degrading');
  });

  it('never claims a direction on pure noise, and is rarely confident (200 seeds)', () => {
    let confident = 0;
    for (let seed = 1; seed <= 200; seed++) {
      const { t, y } = line(seed, 64, 0, 2);
      const tr = ok(trendOf(t, y, { polarity: 'lower_is_better' }));
      expect(['stable', 'volatile']).toContain(tr.direction);
      if (tr.confidence >= 0.95) confident++;
    }
    // The test's own false-positive rate is 5 %; its figure must not run above that by much.
    expect(confident / 200).toBeLessThan(0.1);
  });

  it('calls wide swings without a direction volatile', () => {
    const { t, y } = line(4, 64, 0, 40);
    expect(ok(trendOf(t, y, { polarity: 'lower_is_better' })).direction).toBe('volatile');
  });

  it('loses confidence with fewer points and more noise', () => {
    const conf = (n: number, sigma: number): number => {
      let sum = 0;
      for (let seed = 1; seed <= 50; seed++) {
        const { t, y } = line(seed, n, 0.05, sigma);
        sum += ok(trendOf(t, y, { polarity: 'lower_is_better' })).confidence;
      }
      return sum / 50;
    };
    expect(conf(12, 1)).toBeLessThan(conf(60, 1));
    expect(conf(60, 4)).toBeLessThan(conf(60, 1));
  });

  it('is not moved by outliers: 10 % of points at +50 leave the Theil–Sen slope near the truth', () => {
    const { t, y } = line(5, 60, 0.1, 0.5);
    for (let i = 3; i < 60; i += 10) y[i]! += 50;
    expect(ok(trendOf(t, y, { polarity: 'lower_is_better' })).slopePerSecond * 60).toBeCloseTo(0.1, 1);
  });

  it('refuses with too few points or no time span', () => {
    expect(trendOf([0, 1, 2], [1, 2, 3], { polarity: 'lower_is_better' })).toMatchObject({ ok: false, reason: 'too_few_points', n: 3 });
    expect(
      trendOf(
        Array(12).fill(5),
        Array.from({ length: 12 }, (_, i) => i),
        { polarity: 'lower_is_better' },
      ),
    ).toMatchObject({ ok: false, reason: 'no_time_span' });
  });

  it('gives a service the trend its instances share, surer than its typical instance', () => {
    const instances = [1, 2, 3, 4, 5, 6].map((seed) => {
      const { t, y } = line(seed, 30, 0.04, 1, 10);
      return trendOf(t, y, { polarity: 'lower_is_better' });
    });
    const service = ok(combineTrends(instances, { polarity: 'lower_is_better' }));
    const confidences = instances.map((a) => ok(a).confidence).sort((a, b) => a - b);
    expect(service.confidence).toBeGreaterThan(confidences[3]!);
    expect(service.direction).toBe('degrading');
    expect(combineTrends([trendOf([0], [1], { polarity: 'lower_is_better' })], { polarity: 'lower_is_better' }).ok).toBe(false);
  });
});
