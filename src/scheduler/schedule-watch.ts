/**
 * Says in the log when checks start late. A daemon short of CPU, or of
 * `scheduler.concurrency` slots, does not fail: it runs every check less
 * often than its interval (the scheduler skips missed ticks rather than
 * bursting), and only the lag metric would show it. At 100,000 checks on
 * two cores (bench/daemon-scale) checks ran three times late while every
 * status looked fresh. So every `everyMs` the watch reads the scheduler's
 * start lag over the last minute; after two late readings in a row it warns
 * once, with the figures and what to change, and says so again when two
 * readings in a row are back on time.
 */
import type { Clock, TimerHandle } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { SchedulerStats } from './scheduler.js';

export interface ScheduleWatchOptions {
  clock: Clock;
  logger: Pick<Logger, 'warn' | 'info'>;
  stats: () => SchedulerStats;
  /** The scheduler's slots (scheduler.concurrency), to tell a slot shortage from a CPU one. */
  concurrency: () => number;
  /** How often the lag is read (default 30 s). */
  everyMs?: number;
  /** A start lag p99 above this is late (default 1 s); back under half of it is on time. */
  lateMs?: number;
}

/** Readings in a row needed to change the verdict (one late minute after a reload or a GC is not news). */
const READINGS_TO_CHANGE = 2;

/** Watch the scheduler's start lag; returns the stop function. */
export function watchSchedule(options: ScheduleWatchOptions): () => void {
  const { clock, logger, stats, concurrency } = options;
  const everyMs = options.everyMs ?? 30_000;
  const lateMs = options.lateMs ?? 1_000;
  let late = false;
  let streak = 0;
  let lastRuns = stats().runs;
  let lastAt = clock.now();
  let timer: TimerHandle | null = null;

  const read = (): void => {
    const s = stats();
    const now = clock.now();
    const runsPerSecond = ((s.runs - lastRuns) * 1000) / Math.max(1, now - lastAt);
    lastRuns = s.runs;
    lastAt = now;
    const p99 = s.recentLag.p99;
    const changed = late ? p99 < lateMs / 2 : p99 > lateMs;
    streak = changed ? streak + 1 : 0;
    if (streak >= READINGS_TO_CHANGE) {
      streak = 0;
      late = !late;
      const figures = {
        lag_p99_ms: Math.round(p99),
        checks: s.checks,
        runs_per_second: Math.round(runsPerSecond),
        running: s.running,
        waiting: s.waiting,
        concurrency: concurrency(),
      };
      if (late) logger.warn(figures, lateMessage(p99, s, figures.concurrency));
      else logger.info(figures, 'checks start on time again');
    }
    timer = clock.setTimeout(read, everyMs);
  };
  timer = clock.setTimeout(read, everyMs);
  return () => {
    if (timer !== null) clock.clearTimeout(timer);
    timer = null;
  };
}

function lateMessage(p99: number, s: SchedulerStats, concurrency: number): string {
  const lag = `checks start late (p99 ${(p99 / 1000).toFixed(1)} s over the last minute), so they run less often than their intervals`;
  // All slots busy with due checks waiting: the slots are the limit; otherwise the event loop (CPU) is.
  if (s.running >= concurrency && s.waiting > 0)
    return `${lag}: all ${concurrency} scheduler.concurrency slots are busy and ${s.waiting} due checks wait; raise scheduler.concurrency or lower timeouts`;
  return `${lag}: the daemon is short of CPU for ${s.checks} checks; give it more CPU, lengthen intervals or split the checks between daemons`;
}
