import { describe, expect, it } from 'vitest';
import { choosePanic } from '../../src/balancer/panic.js';
import { rampedWeight, slowStartFactor } from '../../src/balancer/slow-start.js';

describe('slow start', () => {
  it.each([
    // since, now, window, aggression, expected factor
    [0, 0, 10_000, 1, 0.1],
    [0, 2_500, 10_000, 1, 0.25],
    [0, 5_000, 10_000, 1, 0.5],
    [0, 10_000, 10_000, 1, 1],
    [0, 60_000, 10_000, 1, 1],
    [0, 2_500, 10_000, 2, 0.5], // aggressive: sqrt(0.25)
    [0, 500, 10_000, 1, 0.1], // floor at minFactor
  ])('healthy since %d, at %d over %d ms (aggression %d) → factor %d', (since, now, windowMs, aggression, factor) => {
    expect(slowStartFactor(since, now, { windowMs, aggression })).toBeCloseTo(factor, 6);
  });

  it('is off with a zero window and never gives a weight below 1', () => {
    expect(slowStartFactor(0, 0, { windowMs: 0 })).toBe(1);
    expect(rampedWeight(1, 0, 0, { windowMs: 10_000, minFactor: 0 }, 1)).toBe(1);
    expect(rampedWeight(4, 0, 5_000, { windowMs: 10_000 })).toBe(200);
  });
});

describe('panic mode', () => {
  const all = ['a', 'b', 'c', 'd'];
  it('balances over healthy instances while enough are healthy', () => {
    expect(choosePanic(all, (x) => x !== 'd')).toEqual({ panic: false, healthyShare: 0.75, members: ['a', 'b', 'c'] });
    expect(choosePanic(all, (x) => x === 'a' || x === 'b')).toMatchObject({ panic: false, healthyShare: 0.5 });
  });

  it('balances over all instances and reports panic below the threshold', () => {
    expect(choosePanic(all, (x) => x === 'a')).toEqual({ panic: true, healthyShare: 0.25, members: all });
    expect(choosePanic(all, () => false)).toMatchObject({ panic: true, members: all });
  });

  it('never panics with threshold 0 or no instances', () => {
    expect(choosePanic(all, () => false, 0)).toEqual({ panic: false, healthyShare: 0, members: [] });
    expect(choosePanic([], () => true)).toEqual({ panic: false, healthyShare: 0, members: [] });
  });
});
