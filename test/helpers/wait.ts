import type { FakeClock } from '../../src/core/clock.js';

/**
 * Waiting on a condition instead of sleeping a fixed time: for tests that
 * need real I/O time (sockets, child processes, outside programs). A fixed
 * sleep is too long when the machine is idle and too short under load; a
 * bounded poll returns as soon as the condition holds and fails with the
 * condition's name when it never does. Time-based logic (intervals,
 * thresholds, TTLs, backoff) uses the FakeClock instead.
 */

export interface WaitOptions {
  /** Give up after this long, ms (wall clock). */
  timeoutMs?: number;
  /** Time between polls, ms. */
  pollMs?: number;
  /** What is awaited, for the error message (or a function giving the state seen, called on failure). */
  what?: string | (() => string);
}

/**
 * Polls `cond` (sync or async) until it returns a truthy value and resolves
 * with that value; rejects after `timeoutMs` (default 5 s) naming `what`.
 * A `cond` that throws is treated as "not yet" until the deadline, then the
 * error is reported.
 */
export async function waitFor<T>(cond: () => T | Promise<T>, options: WaitOptions = {}): Promise<Exclude<T, false | 0 | '' | null | undefined>> {
  const { timeoutMs = 5000, pollMs = 10, what = 'condition' } = options;
  const deadline = performance.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await cond();
      if (value) return value as Exclude<T, false | 0 | '' | null | undefined>;
      lastError = undefined;
    } catch (err) {
      lastError = err;
    }
    if (performance.now() > deadline) {
      const name = typeof what === 'function' ? what() : what;
      const cause = lastError instanceof Error ? `: ${lastError.message}` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${name}${cause}`);
    }
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

/**
 * Resolves true once `cond` holds, false if it still does not after
 * `withinMs`: for asserting that something does NOT happen within a bound
 * (the caller expects false), or for branching.
 */
export async function holdsWithin(cond: () => boolean | Promise<boolean>, withinMs: number, pollMs = 10): Promise<boolean> {
  const deadline = performance.now() + withinMs;
  for (;;) {
    if (await cond()) return true;
    if (performance.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

/**
 * Resolves as `promise` does, or rejects after `timeoutMs` naming `what`:
 * a bound on an await that would otherwise hang the test until vitest's own
 * timeout with no hint of what was awaited.
 */
export function within<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)), timeoutMs);
  });
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}

/**
 * Advances a FakeClock in `stepMs` steps (letting promise callbacks and
 * pending I/O callbacks run after each) until `cond` holds; throws once
 * `maxMs` of fake time passed without it. Bounding the fake time asserts the
 * timing too ("within two intervals"), and costs no wall time. Only for code
 * whose waits are all on the clock: a real socket in flight would see fake
 * time run past its timeouts.
 */
export async function advanceUntil(clock: FakeClock, cond: () => boolean, options: { stepMs?: number; maxMs: number; what?: string }): Promise<number> {
  const { stepMs = 10, maxMs, what = 'condition' } = options;
  const start = clock.now();
  for (;;) {
    await new Promise((r) => setImmediate(r));
    if (cond()) return clock.now() - start;
    if (clock.now() - start >= maxMs) throw new Error(`${what} did not hold within ${maxMs} ms of fake time`);
    await clock.advanceAsync(stepMs, stepMs);
  }
}

/** Run `work` and count the event-loop turns (setImmediate callbacks) that pass while it runs: 0 for work done in one synchronous run. */
export async function turnsDuring<T>(work: () => Promise<T>): Promise<{ turns: number; value: T }> {
  let turns = 0;
  let running = true;
  const tick = (): void => {
    turns++;
    if (running) setImmediate(tick);
  };
  setImmediate(tick);
  try {
    const value = await work();
    return { turns, value };
  } finally {
    running = false;
  }
}
