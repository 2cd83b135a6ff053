import type { z } from 'zod';
import type { CheckFactory, CheckRunner, CheckSpec } from '../../src/core/check.js';
import { realClock } from '../../src/core/clock.js';
import type { ProbeOutcome } from '../../src/core/result.js';
import {
  httpCheckSchema,
  tcpCheckSchema,
  type CheckConfig,
  type HttpCheckConfig,
  type TcpCheckConfig,
} from '../../src/config/schema.js';

/** What a test writes for an http check (schema input, without `kind`). */
export type HttpInput = Omit<z.input<typeof httpCheckSchema>, 'kind'>;
/** What a test writes for a tcp check (schema input, without `kind`). */
export type TcpInput = Omit<z.input<typeof tcpCheckSchema>, 'kind'>;

function specFor<C extends CheckConfig>(kind: C['kind'], address: string, config: C, timeoutMs: number): CheckSpec<C> {
  return {
    id: `svc/i1/${kind}`,
    name: kind,
    kind,
    service: 'svc',
    instance: 'i1',
    address,
    config,
    intervalMs: 10_000,
    timeoutMs,
    retries: 0,
    retryBackoffMs: 200,
    jitter: 0,
    rise: 1,
    fall: 1,
    unhealthyIntervalMs: 10_000,
    edgeIntervalMs: 10_000,
    flap: { window: 21, low: 0.05, high: 0.2 },
  };
}

/** A full http CheckSpec; the config goes through the zod schema so defaults apply. */
export function httpSpec(address: string, input: HttpInput = {}, timeoutMs = 500): CheckSpec<HttpCheckConfig> {
  return specFor('http', address, httpCheckSchema.parse({ kind: 'http', ...input }), timeoutMs);
}

/** A full tcp CheckSpec; the config goes through the zod schema so defaults apply. */
export function tcpSpec(address: string, input: TcpInput = {}, timeoutMs = 500): CheckSpec<TcpCheckConfig> {
  return specFor('tcp', address, tcpCheckSchema.parse({ kind: 'tcp', ...input }), timeoutMs);
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
export async function runOnce<C extends CheckConfig>(
  factory: CheckFactory<C>,
  spec: CheckSpec<C>,
  timeoutMs = spec.timeoutMs,
): Promise<TimedOutcome> {
  const runner = factory(spec);
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
  const runner = factory(spec);
  const out: TimedOutcome[] = [];
  try {
    for (let i = 0; i < times; i++) out.push(await attempt(runner, timeoutMs));
  } finally {
    await runner.close?.();
  }
  return out;
}
