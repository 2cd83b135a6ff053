import type { CheckDeps, CheckFactory, CheckRunner, CheckSpec } from '../../src/core/check.js';
import { realClock, type Clock } from '../../src/core/clock.js';
import { seeded, type Random } from '../../src/core/random.js';
import type { ProbeOutcome } from '../../src/core/result.js';
import type { CheckConfig } from '../../src/config/schema.js';

/**
 * What a check factory is given in a test: by default the wall clock (the
 * clock `attempt` runs on) and a seeded random source, no logger.
 */
export function checkDeps(clock: Clock = realClock, random: Random = seeded(1)): CheckDeps {
  return { clock, random };
}

/** A probe outcome plus how long the run took on the wall clock (ms). */
export type TimedOutcome = ProbeOutcome & { elapsedMs: number };

/** One attempt on an existing runner, aborted after timeoutMs like the scheduler does. */
export async function attempt(runner: CheckRunner, timeoutMs: number): Promise<TimedOutcome> {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), timeoutMs);
  const t0 = performance.now();
  try {
    const result = await runner.run({ signal: ac.signal, clock: realClock });
    return { ...result, elapsedMs: performance.now() - t0 };
  } finally {
    clearTimeout(timer);
  }
}

/** Builds the runner, runs it once with an abort at timeoutMs, and closes it. */
export async function runOnce<C extends CheckConfig>(factory: CheckFactory<C>, spec: CheckSpec<C>, timeoutMs = spec.timeoutMs): Promise<TimedOutcome> {
  const runner = factory(spec, checkDeps());
  try {
    return await attempt(runner, timeoutMs);
  } finally {
    await runner.close?.();
  }
}

/** Runs one runner `times` times in a row, then closes it. */
export async function runSeries<C extends CheckConfig>(
  factory: CheckFactory<C>,
  spec: CheckSpec<C>,
  times: number,
  timeoutMs = spec.timeoutMs,
): Promise<TimedOutcome[]> {
  const runner = factory(spec, checkDeps());
  const out: TimedOutcome[] = [];
  try {
    for (let i = 0; i < times; i++) out.push(await attempt(runner, timeoutMs));
  } finally {
    await runner.close?.();
  }
  return out;
}
