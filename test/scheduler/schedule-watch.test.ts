import { describe, expect, it } from 'vitest';
import type { CheckRunner } from '../../src/core/check.js';
import { FakeClock } from '../../src/core/clock.js';
import { seeded } from '../../src/core/random.js';
import type { ProbeOutcome } from '../../src/core/result.js';
import { watchSchedule } from '../../src/scheduler/schedule-watch.js';
import { Scheduler, type SchedulerStats } from '../../src/scheduler/scheduler.js';
import { fakeSpec } from '../helpers/spec.js';

/** A logger that keeps what it is told. */
function recorder() {
  const lines: Array<{ level: 'warn' | 'info'; figures: Record<string, number>; message: string }> = [];
  return {
    lines,
    logger: {
      warn: (figures: Record<string, number>, message: string) => lines.push({ level: 'warn', figures, message }),
      info: (figures: Record<string, number>, message: string) => lines.push({ level: 'info', figures, message }),
    } as never,
  };
}

/** Scheduler stats with only the fields the watch reads set. */
function stats(p99: number, runs: number): SchedulerStats {
  return {
    checks: 100_000,
    running: 3,
    waiting: 0,
    runs,
    timeouts: 0,
    lingering: 0,
    lag: { p50: 0, p99: 0, max: 0, mean: 0, count: 0 },
    recentLag: { p50: p99 / 2, p99, windowMs: 60_000 },
  };
}

describe('watchSchedule', () => {
  it('warns when every slot is busy and due checks wait, naming scheduler.concurrency', async () => {
    const clock = new FakeClock(0);
    // Two slots, ten checks every second, each run taking 400 ms: 4 s of runs a second for 2 s of slots.
    const scheduler = new Scheduler({ clock, random: seeded(1), concurrency: 2, spreadFirstRun: false, onResult: (spec) => spec.intervalMs });
    const slow: CheckRunner = {
      run: () => new Promise<ProbeOutcome>((resolve) => clock.setTimeout(() => resolve({ status: 'HEALTHY', reason: 'ok', output: '' }), 400)),
    };
    for (let i = 0; i < 10; i++) scheduler.add(fakeSpec(`c${i}`, { intervalMs: 1000, timeoutMs: 900 }), slow, 0);
    const { lines, logger } = recorder();
    const stop = watchSchedule({ clock, logger, stats: () => scheduler.stats(), concurrency: () => 2, everyMs: 10_000 });
    await clock.advanceAsync(35_000, 50);
    expect(lines).toHaveLength(1);
    expect(lines[0]!.level).toBe('warn');
    expect(lines[0]!.message).toMatch(
      /checks start late \(p99 \d+\.\d s over the last minute\).*all 2 scheduler.concurrency slots are busy and \d+ due checks wait/,
    );
    expect(lines[0]!.figures.lag_p99_ms).toBeGreaterThan(1000);
    // Ten checks a second wanted; two slots of 400 ms runs give five.
    expect(lines[0]!.figures.runs_per_second).toBe(5);
    stop();
    await scheduler.stop();
  });

  it('says the daemon is short of CPU when slots are free, once, and when it is on time again', async () => {
    const clock = new FakeClock(0);
    let p99 = 5;
    let runs = 0;
    const { lines, logger } = recorder();
    const stop = watchSchedule({ clock, logger, stats: () => stats(p99, runs), concurrency: () => 512, everyMs: 30_000 });
    const reading = async (lagMs: number, runsSince: number) => {
      p99 = lagMs;
      runs += runsSince;
      await clock.advanceAsync(30_000, 30_000);
    };
    await reading(4_000, 90_000); // one late reading: not news yet
    expect(lines).toHaveLength(0);
    await reading(6_000, 90_000);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 'warn', figures: { lag_p99_ms: 6000, checks: 100_000, runs_per_second: 3000, concurrency: 512 } });
    expect(lines[0]!.message).toMatch(/short of CPU for 100000 checks/);
    await reading(8_000, 90_000); // still late: said once
    await reading(700, 90_000); // under 1 s but not under half of it: still late
    await reading(400, 300_000);
    expect(lines).toHaveLength(1);
    await reading(300, 300_000);
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatchObject({ level: 'info', message: 'checks start on time again', figures: { runs_per_second: 10_000 } });
    stop();
    await reading(9_000, 0);
    await reading(9_000, 0);
    expect(lines).toHaveLength(2);
  });
});
