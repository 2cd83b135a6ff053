import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/core/clock.js';
import { RetryBudget } from '../../src/proxy/retry-budget.js';

/** One step: advance the clock, record requests, then try retries; expect how many were allowed. */
interface Step {
  advanceMs: number;
  requests: number;
  retries: number;
  allowed: number;
}

function run(budgetPercent: number, minPerSecond: number, steps: Step[]): number[] {
  const clock = new FakeClock(1_000_000);
  const budget = new RetryBudget({ clock, budgetPercent, minPerSecond, windowMs: 10_000 });
  return steps.map((s) => {
    clock.advance(s.advanceMs);
    for (let i = 0; i < s.requests; i++) budget.recordRequest();
    let ok = 0;
    for (let i = 0; i < s.retries; i++) if (budget.tryRetry()) ok++;
    return ok;
  });
}

describe('retry budget', () => {
  it.each<[string, number, number, Step[]]>([
    ['20 % of 100 requests, no reserve', 20, 0, [{ advanceMs: 0, requests: 100, retries: 50, allowed: 20 }]],
    ['reserve alone: 1/s × 10 s window', 0, 1, [{ advanceMs: 0, requests: 0, retries: 50, allowed: 10 }]],
    ['share plus reserve', 10, 0.5, [{ advanceMs: 0, requests: 100, retries: 50, allowed: 15 }]],
    ['nothing with 0 % and no reserve', 0, 0, [{ advanceMs: 0, requests: 1000, retries: 5, allowed: 0 }]],
    [
      'requests earn retries as they come',
      50,
      0,
      [
        { advanceMs: 0, requests: 2, retries: 5, allowed: 1 },
        { advanceMs: 100, requests: 2, retries: 5, allowed: 1 },
        { advanceMs: 100, requests: 4, retries: 5, allowed: 2 },
      ],
    ],
    [
      'spent retries come back when they leave the window',
      0,
      1,
      [
        { advanceMs: 0, requests: 0, retries: 20, allowed: 10 },
        { advanceMs: 5_000, requests: 0, retries: 20, allowed: 0 },
        { advanceMs: 5_000, requests: 0, retries: 20, allowed: 10 },
      ],
    ],
    [
      'requests older than the window no longer count',
      20,
      0,
      [
        { advanceMs: 0, requests: 100, retries: 0, allowed: 0 },
        { advanceMs: 11_000, requests: 0, retries: 5, allowed: 0 },
        { advanceMs: 0, requests: 10, retries: 5, allowed: 2 },
      ],
    ],
    [
      'a long idle gap clears everything',
      0,
      0.1,
      [
        { advanceMs: 0, requests: 0, retries: 3, allowed: 1 },
        { advanceMs: 3_600_000, requests: 0, retries: 3, allowed: 1 },
      ],
    ],
  ])('%s', (_name, percent, minPerSecond, steps) => {
    expect(run(percent, minPerSecond, steps)).toEqual(steps.map((s) => s.allowed));
  });

  it('allows() tells without taking', () => {
    const clock = new FakeClock(0);
    const budget = new RetryBudget({ clock, budgetPercent: 0, minPerSecond: 0.1 });
    expect(budget.allows()).toBe(true);
    expect(budget.allows()).toBe(true);
    expect(budget.tryRetry()).toBe(true);
    expect(budget.allows()).toBe(false);
    expect(budget.window()).toEqual({ requests: 0, retries: 1 });
  });
});
