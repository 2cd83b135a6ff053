import { describe, expect, it } from 'vitest';
import { RobustDetector } from '../../src/analysis/anomaly/robust.js';
import { seeded } from '../../src/core/random.js';
import { gauss } from './synthetic.js';

const STEP = 300_000;

/** Noise σ = 1 around 100 at 5-minute steps, with `shape(i)` added. */
function feed(d: RobustDetector, n: number, shape: (i: number) => number, seed = 1): { flags: number[]; alarmed: boolean[] } {
  const r = seeded(seed);
  const flags: number[] = [];
  const alarmed: boolean[] = [];
  for (let i = 0; i < n; i++) {
    if (d.observe(i * STEP, 100 + shape(i) + gauss(r)) >= d.flagScore) flags.push(i);
    alarmed.push(d.alarmed);
  }
  return { flags, alarmed };
}

describe('robust detector: one alarm per incident (shapes seen in real service metrics)', () => {
  it('flags a failure that swings wildly for 10 points once, at its start, and the next incident again', () => {
    // Like a latency failure: ±8σ swings every point, then quiet, then a lone spike.
    const shape = (i: number): number => (i >= 1000 && i < 1010 ? (i % 2 ? 8 : -8) : i === 1200 ? 9 : 0);
    const { flags } = feed(new RobustDetector(), 1300, shape);
    expect(flags).toEqual([1000, 1200]);
  });

  it('reports the episode as going on until 24 quiet points have passed', () => {
    const shape = (i: number): number => (i >= 800 && i < 805 ? 10 : 0);
    const { flags, alarmed } = feed(new RobustDetector(), 900, shape);
    expect(flags).toEqual([800]);
    expect(alarmed[799]).toBe(false);
    expect(alarmed[804]).toBe(true);
    expect(alarmed.indexOf(false, 800)).toBeGreaterThanOrEqual(804 + 24);
    expect(alarmed[870]).toBe(false);
  });

  it('flags a lasting level shift at its start and at its return, not in between', () => {
    // Like a CPU that drops from 90 % to 25 % for hours: accepted as the new level, flagged again when it comes back.
    const shape = (i: number): number => (i >= 600 && i < 1000 ? -12 : 0);
    const { flags } = feed(new RobustDetector(), 1300, shape);
    expect(flags.filter((i) => i >= 600 && i < 610)).toHaveLength(1);
    expect(flags.filter((i) => i >= 1000 && i < 1010)).toHaveLength(1);
    expect(flags.filter((i) => (i >= 610 && i < 1000) || i >= 1010)).toEqual([]);
  });

  it('keeps scoring the points of an episode just under the flag, so the score still says they are rare', () => {
    const d = new RobustDetector();
    const r = seeded(4);
    for (let i = 0; i < 500; i++) d.observe(i * STEP, 100 + gauss(r));
    expect(d.observe(500 * STEP, 130)).toBeGreaterThanOrEqual(d.flagScore);
    const next = d.observe(501 * STEP, 130);
    expect(next).toBeLessThan(d.flagScore);
    expect(next).toBeGreaterThan(d.flagScore - 0.01);
  });
});
