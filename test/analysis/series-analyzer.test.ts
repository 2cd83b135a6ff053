import { describe, expect, it } from 'vitest';
import { SeriesAnalyzer, SeriesAnalyzers } from '../../src/analysis/series-analyzer.js';
import { seeded } from '../../src/core/random.js';
import { gauss } from './synthetic.js';

const MIN = 60_000;

describe('SeriesAnalyzer (the daemon port)', () => {
  it('turns a latency rising towards its objective into a degrading trend, a dated crossing and no anomaly', () => {
    const r = seeded(1);
    const a = new SeriesAnalyzer({ polarity: 'lower_is_better', bucketMs: MIN, buckets: 128, threshold: 400 });
    // One result every 10 s for two hours: 100 ms rising 1 ms a minute, σ 5 ms; it ends near 220 ms.
    for (let i = 0; i < 720; i++) expect(a.observe(i * 10_000, 100 + i / 6 + 5 * gauss(r))).toBe(true);
    const s = a.snapshot();
    expect(s.count).toBe(720);
    expect(s.trend.ok && s.trend.trend.direction).toBe('degrading');
    expect(s.forecast.ok).toBe(true);
    if (s.forecast.ok) {
      // 400 ms is reached about (400 − 220) / 1 = 180 minutes after the start of the last minute; the forecast reaches 127 minutes, so: not within reach.
      expect(s.forecast.forecast.crossing!.at).toBe(null);
      // 300 ms is: about 80 minutes on.
      const near = new SeriesAnalyzer({ polarity: 'lower_is_better', bucketMs: MIN, buckets: 128, threshold: 300 });
      const r2 = seeded(1);
      for (let i = 0; i < 720; i++) near.observe(i * 10_000, 100 + i / 6 + 5 * gauss(r2));
      const f = near.snapshot().forecast;
      expect(f.ok && Math.abs(f.forecast.crossing!.at! - (7_200_000 + 80 * MIN))).toBeLessThan(10 * MIN);
    }
    expect(s.anomaly.anomaly).toBe(false);
    expect(s.quantiles).toBe(null);
  });

  it('flags a spike in the anomaly state and remembers when', () => {
    const r = seeded(2);
    const a = new SeriesAnalyzer({ polarity: 'lower_is_better' });
    for (let i = 0; i < 200; i++) a.observe(i * 10_000, 50 + gauss(r));
    a.observe(200 * 10_000, 500);
    const s = a.snapshot();
    expect(s.anomaly).toMatchObject({ anomaly: true, channel: 'point', lastAnomalyAt: 2_000_000, flagged: 1 });
  });

  it('refuses points that go back in time or are not finite, as data', () => {
    const a = new SeriesAnalyzer({ polarity: 'higher_is_better', quantiles: true });
    expect(a.observe(1000, 1)).toBe(true);
    expect(a.observe(999, 1)).toBe(false);
    expect(a.observe(2000, Number.NaN)).toBe(false);
    expect(a.snapshot()).toMatchObject({ count: 1, last: 1, lastAt: 1000, trend: { ok: false, reason: 'too_few_points' } });
    expect(a.snapshot().quantiles!.p50).toBeCloseTo(1, 1);
  });

  it('keys analyzers by series id with the options chosen for each', () => {
    const seen: string[] = [];
    const all = new SeriesAnalyzers((id) => {
      seen.push(id);
      return { polarity: id.endsWith(':score') ? 'higher_is_better' : 'lower_is_better' };
    });
    all.observe('service:api:score', 0, 100);
    all.observe('service:api:score', 1000, 99);
    all.observe('check:api/a1/http:latency', 0, 12);
    expect(seen).toEqual(['service:api:score', 'check:api/a1/http:latency']);
    expect(all.size).toBe(2);
    expect(all.get('service:api:score')!.snapshot().count).toBe(2);
    expect(all.delete('service:api:score')).toBe(true);
    expect([...all.ids()]).toEqual(['check:api/a1/http:latency']);
  });
});
