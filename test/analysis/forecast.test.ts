import { describe, expect, it } from 'vitest';
import { forecastOf } from '../../src/analysis/forecast.js';
import { seeded } from '../../src/core/random.js';
import { gauss } from './synthetic.js';

const MIN = 60_000;
const SEEDS = 300;

type Kind = 'linear' | 'drifting-walk' | 'walk';

/** n + h points one minute apart. */
function series(kind: Kind, seed: number, n: number): number[] {
  const r = seeded(seed);
  let walk = 0;
  return Array.from({ length: n }, (_, i) => {
    if (kind === 'linear') return 100 + 0.5 * i + 3 * gauss(r);
    walk += (kind === 'drifting-walk' ? 0.8 : 0) + 2 * gauss(r);
    return 100 + walk;
  });
}

/** Share of forecasts whose 90 % interval at h steps holds the value that came, and how many were refused. */
function coverage(kind: Kind, h: number): { coverage: number; refused: number } {
  let inside = 0;
  let made = 0;
  for (let seed = 1; seed <= SEEDS; seed++) {
    const y = series(kind, seed, 64 + h);
    const t = y.map((_, i) => i * MIN);
    const a = forecastOf(t.slice(0, 64), y.slice(0, 64), { horizonSteps: h });
    if (!a.ok) continue;
    made++;
    const truth = y[63 + h]!;
    expect(a.forecast.interval.at).toBe(t[63]! + h * MIN);
    if (truth >= a.forecast.interval.lower && truth <= a.forecast.interval.upper) inside++;
  }
  return { coverage: inside / made, refused: SEEDS - made };
}

describe('forecast', () => {
  it.each([
    ['linear', 1],
    ['linear', 10],
    ['linear', 30],
    ['drifting-walk', 1],
    ['drifting-walk', 10],
    ['drifting-walk', 30],
  ] as const)('the 90-percent interval of a %s series holds the truth 85 to 95 percent of the time, %d steps ahead (300 seeds)', (kind, h) => {
    const r = coverage(kind, h);
    expect(r.coverage).toBeGreaterThanOrEqual(0.85);
    expect(r.coverage).toBeLessThanOrEqual(0.95);
  });

  it('refuses random walks without drift (at most 3 % forecast over 300 seeds), saying why', () => {
    let made = 0;
    for (let seed = 1; seed <= SEEDS; seed++) {
      const y = series('walk', seed, 64);
      const a = forecastOf(
        y.map((_, i) => i * MIN),
        y,
        { threshold: 200 },
      );
      if (a.ok) made++;
      else {
        expect(a.reason).toBe('no_significant_trend');
        expect(a.detail).toMatch(/random walk|no significant trend/);
      }
    }
    expect(made / SEEDS).toBeLessThanOrEqual(0.03);
  });

  it('dates the crossing of a threshold: a line rising 0.5 a minute from 100 crosses 140 about 80 minutes after its start', () => {
    const y = series('linear', 1, 64);
    const t = y.map((_, i) => i * MIN);
    const a = forecastOf(t, y, { threshold: 140 });
    if (!a.ok) throw new Error(a.detail);
    const c = a.forecast.crossing!;
    expect(c.already).toBe(false);
    expect(Math.abs(c.at! - 80 * MIN)).toBeLessThanOrEqual(4 * MIN);
    expect(c.earliest!).toBeLessThanOrEqual(c.at!);
    expect(c.latest!).toBeGreaterThanOrEqual(c.at!);
  });

  it('says a threshold is already passed, and that one behind the trend is never reached', () => {
    const y = series('linear', 2, 64);
    const t = y.map((_, i) => i * MIN);
    const past = forecastOf(t, y, { threshold: 110 });
    expect(past.ok && past.forecast.crossing!.already).toBe(true);
    const behind = forecastOf(t, y, { threshold: 1e6 });
    expect(behind.ok && behind.forecast.crossing!.at).toBe(null);
  });

  it('refuses too few points and a constant series', () => {
    expect(forecastOf([0, 1, 2], [1, 2, 3])).toMatchObject({ ok: false, reason: 'too_few_points' });
    const flat = Array(30).fill(7);
    expect(
      forecastOf(
        flat.map((_, i) => i),
        flat,
      ),
    ).toMatchObject({ ok: false, reason: 'constant' });
  });
});
