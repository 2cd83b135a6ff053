import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/core/clock.js';
import { SlidingCounts } from '../../src/core/sliding-counts.js';

describe('SlidingCounts (fake clock, 10 s window in 10 buckets)', () => {
  it('sums each kind over the window; a bucket leaves whole once the window passed it', () => {
    const clock = new FakeClock(0);
    const w = new SlidingCounts(clock, 10_000, 10, 2);
    w.add(0);
    w.add(0, 2);
    w.add(1);
    clock.advance(5_500);
    w.add(1);
    expect([w.sum(0), w.sum(1)]).toEqual([3, 2]);
    clock.advance(4_499); // t = 9 999: the first bucket is still in
    expect(w.sum(0)).toBe(3);
    clock.advance(1); // t = 10 000: it left
    expect([w.sum(0), w.sum(1)]).toEqual([0, 1]);
    clock.advance(60_000); // far past the window: everything left
    expect([w.sum(0), w.sum(1)]).toEqual([0, 0]);
  });

  it('reset forgets everything', () => {
    const clock = new FakeClock(50_000);
    const w = new SlidingCounts(clock, 10_000, 10, 2);
    w.add(0, 5);
    w.add(1);
    w.reset();
    expect([w.sum(0), w.sum(1)]).toEqual([0, 0]);
    w.add(1);
    expect(w.sum(1)).toBe(1);
  });
});
