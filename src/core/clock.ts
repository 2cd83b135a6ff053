/** Opaque handle returned by Clock.setTimeout. */
export type TimerHandle = unknown;

/**
 * The only source of time in src/. Real in production, FakeClock in tests so
 * that schedules, thresholds and cooldowns are tested in milliseconds.
 */
export interface Clock {
  /** Current time in epoch milliseconds (may carry a fraction). */
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/**
 * Wall clock with sub-millisecond resolution: performance.now() anchored to
 * timeOrigin, so lag measurements are not rounded to whole milliseconds.
 */
export const realClock: Clock = {
  now: () => performance.timeOrigin + performance.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, Math.max(0, ms));
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

interface FakeTimer {
  id: number;
  at: number;
  fn: () => void;
}

/**
 * Manually advanced clock. Timers fire synchronously inside advance(), in due
 * order; a timer set while advancing fires in the same advance if it is due.
 */
export class FakeClock implements Clock {
  private current: number;
  private timers: FakeTimer[] = [];
  private nextId = 1;

  constructor(start = 0) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const timer = { id: this.nextId++, at: this.current + Math.max(0, ms), fn };
    this.timers.push(timer);
    return timer.id;
  }

  clearTimeout(handle: TimerHandle): void {
    this.timers = this.timers.filter((t) => t.id !== handle);
  }

  /** Number of timers armed (tests assert a single armed scheduler timer). */
  pendingTimers(): number {
    return this.timers.length;
  }

  /** Move time forward by ms, firing every timer that falls due on the way. */
  advance(ms: number): void {
    const target = this.current + ms;
    for (;;) {
      const next = this.earliestDue(target);
      if (!next) break;
      this.timers = this.timers.filter((t) => t !== next);
      this.current = Math.max(this.current, next.at);
      next.fn();
    }
    this.current = target;
  }

  /**
   * advance() in steps, letting promise callbacks run between timers, for code
   * that awaits between timer firings (runners, retries).
   */
  async advanceAsync(ms: number, step = 1): Promise<void> {
    const target = this.current + ms;
    await flushMicrotasks();
    while (this.current < target) {
      this.advance(Math.min(step, target - this.current));
      await flushMicrotasks();
    }
  }

  private earliestDue(limit: number): FakeTimer | undefined {
    let best: FakeTimer | undefined;
    for (const t of this.timers) {
      if (t.at <= limit && (!best || t.at < best.at || (t.at === best.at && t.id < best.id))) best = t;
    }
    return best;
  }
}

/** Let pending promise reactions run (several turns, for chained awaits). */
export async function flushMicrotasks(turns = 20): Promise<void> {
  for (let i = 0; i < turns; i++) await Promise.resolve();
}
