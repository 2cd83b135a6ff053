import { describe, expect, it } from 'vitest';
import type { CheckRunner, CheckSpec } from '../../src/core/check.js';
import { FakeClock, flushMicrotasks } from '../../src/core/clock.js';
import { seeded } from '../../src/core/random.js';
import type { CheckResult, ProbeOutcome } from '../../src/core/result.js';
import { Scheduler } from '../../src/scheduler/scheduler.js';
import { fakeSpec } from '../helpers/spec.js';

const HEALTHY: ProbeOutcome = { status: 'HEALTHY', reason: 'ok', output: 'ok' };
const FAIL: ProbeOutcome = { status: 'UNHEALTHY', reason: 'connect_refused', output: 'refused' };

/** Runner that answers at once and records start times. */
function instantRunner(clock: FakeClock, starts: number[], outcome = HEALTHY): CheckRunner {
  return {
    run: async () => {
      starts.push(clock.now());
      return outcome;
    },
  };
}

/** Runner whose runs finish only when the test says so. */
function manualRunner(clock: FakeClock) {
  const pending: Array<(o: ProbeOutcome) => void> = [];
  const starts: number[] = [];
  let active = 0;
  let maxActive = 0;
  const runner: CheckRunner = {
    run: () =>
      new Promise<ProbeOutcome>((resolve) => {
        starts.push(clock.now());
        active++;
        maxActive = Math.max(maxActive, active);
        pending.push((o) => {
          active--;
          resolve(o);
        });
      }),
  };
  return { runner, pending, starts, maxActive: () => maxActive };
}

function setup(opts: { concurrency?: number; onResult?: (s: CheckSpec, r: CheckResult) => number; spread?: boolean } = {}) {
  const clock = new FakeClock(0);
  const results: Array<{ id: string; result: CheckResult }> = [];
  const scheduler = new Scheduler({
    clock,
    random: seeded(7),
    concurrency: opts.concurrency ?? 100,
    spreadFirstRun: opts.spread ?? false,
    onResult: (spec, result) => {
      results.push({ id: spec.id, result });
      return opts.onResult ? opts.onResult(spec, result) : spec.intervalMs;
    },
  });
  return { clock, scheduler, results };
}

describe('Scheduler', () => {
  it('runs a check at its interval', async () => {
    const { clock, scheduler } = setup();
    const starts: number[] = [];
    scheduler.add(fakeSpec('a', { intervalMs: 1000 }), instantRunner(clock, starts));
    await clock.advanceAsync(3500, 50);
    expect(starts).toEqual([0, 1000, 2000, 3000]);
    await scheduler.stop();
  });

  it('keeps one armed timer for a thousand checks', async () => {
    const { clock, scheduler } = setup({ spread: true });
    const starts: number[] = [];
    for (let i = 0; i < 1000; i++) scheduler.add(fakeSpec(`c${i}`), instantRunner(clock, starts));
    expect(clock.pendingTimers()).toBe(1);
    await clock.advanceAsync(2500, 10);
    expect(clock.pendingTimers()).toBe(1);
    expect(starts.length).toBeGreaterThan(1900);
    await scheduler.stop();
    expect(clock.pendingTimers()).toBe(0);
  });

  it('spreads first runs over one interval and keeps later intervals within the jitter bounds', async () => {
    const { clock, scheduler } = setup({ spread: true });
    const perCheck = new Map<string, number[]>();
    for (let i = 0; i < 200; i++) {
      const starts: number[] = [];
      perCheck.set(`c${i}`, starts);
      scheduler.add(fakeSpec(`c${i}`, { intervalMs: 1000, jitter: 0.2 }), instantRunner(clock, starts));
    }
    await clock.advanceAsync(5000, 5);
    const firsts = [...perCheck.values()].map((s) => s[0]!);
    expect(Math.min(...firsts)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...firsts)).toBeLessThan(1000);
    // Spread, not bunched: every quarter of the interval holds some first runs.
    for (let q = 0; q < 4; q++) expect(firsts.filter((f) => f >= q * 250 && f < (q + 1) * 250).length).toBeGreaterThan(20);
    const gaps = [...perCheck.values()].flatMap((s) => s.slice(1).map((t, i) => t - s[i]!));
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(800 - 5);
    expect(Math.max(...gaps)).toBeLessThanOrEqual(1200 + 5);
    await scheduler.stop();
  });

  it('never runs more checks at once than the concurrency limit and serves the oldest-due first', async () => {
    const { clock, scheduler } = setup({ concurrency: 2 });
    const m = manualRunner(clock);
    const order: string[] = [];
    for (let i = 0; i < 5; i++) {
      const id = `c${i}`;
      const runner: CheckRunner = {
        run: (ctx) => {
          order.push(id);
          return m.runner.run(ctx);
        },
      };
      scheduler.add(fakeSpec(id, { intervalMs: 10_000, timeoutMs: 60_000 }), runner, i * 10);
    }
    await clock.advanceAsync(100, 5);
    expect(order).toEqual(['c0', 'c1']);
    expect(scheduler.stats().waiting).toBe(3);
    m.pending.shift()!(HEALTHY);
    await clock.advanceAsync(5, 1);
    expect(order).toEqual(['c0', 'c1', 'c2']);
    m.pending.shift()!(HEALTHY);
    m.pending.shift()!(HEALTHY);
    await clock.advanceAsync(5, 1);
    expect(order).toEqual(['c0', 'c1', 'c2', 'c3', 'c4']);
    expect(m.maxActive()).toBe(2);
    // c2 became due at 20 and started at 100: its lag was measured.
    expect(scheduler.stats().lag.max).toBeGreaterThanOrEqual(80);
    await scheduler.stop();
  });

  it('never overlaps runs of the same check when a run outlasts its interval', async () => {
    const { clock, scheduler } = setup();
    let active = 0;
    let maxActive = 0;
    let runs = 0;
    const runner: CheckRunner = {
      run: () =>
        new Promise((resolve) => {
          active++;
          runs++;
          maxActive = Math.max(maxActive, active);
          clock.setTimeout(() => {
            active--;
            resolve(HEALTHY);
          }, 2500);
        }),
    };
    scheduler.add(fakeSpec('slow', { intervalMs: 1000, timeoutMs: 10_000 }), runner);
    await clock.advanceAsync(9_000, 50);
    expect(maxActive).toBe(1);
    expect(runs).toBe(4); // at 0, 2500, 5000, 7500: missed ticks are skipped, not burst
    await scheduler.stop();
  });

  it('abandons a runner that ignores its abort, reports timeout, and delays nothing else', async () => {
    const { clock, scheduler, results } = setup({ concurrency: 1 });
    let sawAbort = false;
    const hanging: CheckRunner = {
      run: (ctx) => {
        ctx.signal.addEventListener('abort', () => (sawAbort = true));
        return new Promise(() => {}); // ignores the abort forever
      },
    };
    const starts: number[] = [];
    scheduler.add(fakeSpec('hang', { intervalMs: 10_000, timeoutMs: 200 }), hanging, 0);
    scheduler.add(fakeSpec('ok', { intervalMs: 10_000 }), instantRunner(clock, starts), 0);
    await clock.advanceAsync(250, 10);
    expect(sawAbort).toBe(true);
    expect(results.find((r) => r.id === 'hang')?.result).toMatchObject({ status: 'UNHEALTHY', reason: 'timeout' });
    expect(results.find((r) => r.id === 'hang')!.result.durationMs).toBe(200);
    expect(starts).toEqual([200]); // it got the only slot as soon as the timeout fired
    expect(scheduler.stats()).toMatchObject({ timeouts: 1, lingering: 1 });
    await scheduler.stop();
  });

  it('retries a failing attempt with doubling backoff inside one run', async () => {
    const { clock, scheduler, results } = setup();
    const seq = [FAIL, FAIL, HEALTHY];
    const starts: number[] = [];
    const runner: CheckRunner = {
      run: async () => {
        starts.push(clock.now());
        return seq.shift() ?? HEALTHY;
      },
    };
    scheduler.add(fakeSpec('r', { intervalMs: 10_000, retries: 2, retryBackoffMs: 100 }), runner, 0);
    await clock.advanceAsync(400, 10);
    expect(starts).toEqual([0, 100, 300]);
    expect(results).toHaveLength(1);
    expect(results[0]!.result).toMatchObject({ status: 'HEALTHY', attempts: 3, durationMs: 300 });
    await scheduler.stop();
  });

  it('gives up after the last retry and reports the last failure', async () => {
    const { clock, scheduler, results } = setup();
    scheduler.add(fakeSpec('r', { intervalMs: 10_000, retries: 1, retryBackoffMs: 50 }), instantRunner(clock, [], FAIL), 0);
    await clock.advanceAsync(100, 10);
    expect(results[0]!.result).toMatchObject({ status: 'UNHEALTHY', reason: 'connect_refused', attempts: 2 });
    await scheduler.stop();
  });

  it('uses the interval the owner returns, so unhealthy checks run more often', async () => {
    const { clock, scheduler } = setup({ onResult: (_s, r) => (r.status === 'HEALTHY' ? 1000 : 200) });
    const starts: number[] = [];
    scheduler.add(fakeSpec('u', { intervalMs: 1000 }), instantRunner(clock, starts, FAIL), 0);
    await clock.advanceAsync(1000, 10);
    expect(starts).toEqual([0, 200, 400, 600, 800, 1000]);
    await scheduler.stop();
  });

  it('removes a check at run time: aborts its run, closes its runner, never runs it again', async () => {
    const { clock, scheduler, results } = setup();
    let closed = false;
    let aborted = false;
    const runner: CheckRunner = {
      run: (ctx) =>
        new Promise((resolve) => {
          ctx.signal.addEventListener('abort', () => {
            aborted = true;
            resolve(HEALTHY);
          });
        }),
      close: () => {
        closed = true;
      },
    };
    scheduler.add(fakeSpec('x', { timeoutMs: 5000 }), runner, 0);
    await clock.advanceAsync(10, 1);
    expect(await scheduler.remove('x')).toBe(true);
    await clock.advanceAsync(5000, 100);
    expect({ closed, aborted, results: results.length, has: scheduler.has('x') }).toEqual({
      closed: true,
      aborted: true,
      results: 0,
      has: false,
    });
    expect(clock.pendingTimers()).toBe(0);
  });

  it('turns a runner that throws into an UNKNOWN result instead of crashing', async () => {
    const { clock, scheduler, results } = setup();
    const runner: CheckRunner = {
      run: () => {
        throw new Error('boom');
      },
    };
    scheduler.add(fakeSpec('t'), runner, 0);
    await flushMicrotasks();
    await clock.advanceAsync(1, 1);
    expect(results[0]!.result).toMatchObject({ status: 'UNKNOWN', reason: 'error' });
    await scheduler.stop();
  });

  it('runNow moves a check to the front without waiting for its interval', async () => {
    const { clock, scheduler } = setup();
    const starts: number[] = [];
    scheduler.add(fakeSpec('n', { intervalMs: 60_000 }), instantRunner(clock, starts), 60_000);
    await clock.advanceAsync(100, 10);
    scheduler.runNow('n');
    await clock.advanceAsync(1, 1);
    expect(starts).toEqual([100]);
    await scheduler.stop();
  });
});

describe('Scheduler.runNow while running', () => {
  it('runs the check again right after the run in flight ends', async () => {
    const clock = new FakeClock(0);
    const starts: number[] = [];
    const scheduler = new Scheduler({ clock, random: seeded(1), concurrency: 10, spreadFirstRun: false, onResult: (s) => s.intervalMs });
    const runner: CheckRunner = {
      run: () =>
        new Promise((resolve) => {
          starts.push(clock.now());
          clock.setTimeout(() => resolve(HEALTHY), 100);
        }),
    };
    scheduler.add(fakeSpec('p', { intervalMs: 60_000, timeoutMs: 1000 }), runner, 0);
    await clock.advanceAsync(50, 10);
    scheduler.runNow('p');
    await clock.advanceAsync(200, 10);
    expect(starts).toEqual([0, 100]);
    await scheduler.stop();
  });
});
