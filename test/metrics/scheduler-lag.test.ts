import { afterEach, describe, expect, it } from 'vitest';
import type { CheckSpec } from '../../src/core/check.js';
import { FakeClock } from '../../src/core/clock.js';
import { SlidingLatencyHistogram } from '../../src/core/histogram.js';
import { seeded } from '../../src/core/random.js';
import type { ProbeOutcome } from '../../src/core/result.js';
import { Engine } from '../../src/engine.js';
import { createMetrics } from '../../src/metrics/metrics.js';
import { FAMILIES } from '../../src/metrics/names.js';
import { StatusRollup } from '../../src/status/rollup.js';
import { parseExposition, sampleValue } from '../helpers/prometheus.js';
import { fakeSpec } from '../helpers/spec.js';

const OK: ProbeOutcome = { status: 'HEALTHY', reason: 'ok', output: 'ok' };
const LAG = FAMILIES.schedulerLag.name;

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

describe('SlidingLatencyHistogram', () => {
  it('forgets samples once they are older than the window, slice by slice', () => {
    const h = new SlidingLatencyHistogram(60_000, 6);
    for (let i = 0; i < 100; i++) h.record(1000, 5_000); // a burst of 1 s lags at t = 5 s
    for (let i = 0; i < 100; i++) h.record(1, 30_000);
    expect(h.quantiles(30_000, [0.99])[0]).toBeGreaterThan(900);
    // At 59.9 s the burst's slice (0-10 s) is still one of the six; at 60 s it is not.
    expect(h.quantiles(59_900, [0.99])[0]).toBeGreaterThan(900);
    expect(h.quantiles(60_000, [0.99])[0]).toBeLessThan(1.1);
    // Nothing left after a whole window of silence; a clock going back rotates nothing (the sample joins the current slice).
    expect(h.quantiles(200_000, [0.5, 0.99])).toEqual([0, 0]);
    h.record(5, 100_000);
    expect(h.quantiles(200_000, [0.99])[0]).toBe(5);
  });
});

describe('healthmesh_scheduler_lag_seconds', () => {
  it('forgets a start-up burst within a minute: quantiles over a sliding window, _count and the max since start', async () => {
    const clock = new FakeClock(0);
    let slow = true;
    // One slot; the "slow" check holds it 3 s per run while slow, so the others start seconds late.
    const engine = new Engine({
      clock,
      random: seeded(1),
      concurrency: 1,
      spreadFirstRun: false,
      runnerFor: (spec: CheckSpec) => ({
        run: () => (spec.name === 'slow' && slow ? new Promise<ProbeOutcome>((resolve) => clock.setTimeout(() => resolve(OK), 3000)) : Promise.resolve(OK)),
      }),
    });
    const rollup = new StatusRollup(() => 1);
    rollup.attach(engine.bus);
    const metrics = createMetrics({ engine, rollup, processMetrics: false });
    cleanups.push(
      () => engine.stop(),
      () => metrics.detach(),
    );
    const timing = { intervalMs: 1000, edgeIntervalMs: 1000, unhealthyIntervalMs: 1000, timeoutMs: 5000 };
    for (const name of ['slow', 'a', 'b', 'c', 'd', 'e']) engine.add({ ...fakeSpec(`svc/i1/${name}`, timing), name }, 0);

    await clock.advanceAsync(10_000, 100);
    let s = parseExposition(await metrics.render());
    expect(sampleValue(s, LAG, { quantile: '0.99' })).toBeGreaterThan(2); // the burst, inside the window
    const burstMax = sampleValue(s, FAMILIES.schedulerLagMax.name);
    expect(burstMax).toBeGreaterThan(2);

    slow = false;
    await clock.advanceAsync(120_000, 250);
    s = parseExposition(await metrics.render());
    expect(sampleValue(s, LAG, { quantile: '0.99' })).toBeLessThan(0.01);
    expect(sampleValue(s, LAG, { quantile: '0.5' })).toBeLessThan(0.01);
    // _sum, _count and the max still count every run since start.
    const stats = engine.schedulerStats();
    expect(sampleValue(s, `${LAG}_count`)).toBe(stats.runs);
    expect(sampleValue(s, `${LAG}_sum`)).toBeGreaterThan(10);
    expect(sampleValue(s, FAMILIES.schedulerLagMax.name)).toBe(burstMax);
    expect(stats.lag.p99).toBeGreaterThan(100); // the scheduler's own since-start figure keeps the burst (benches read it)
  }, 60_000);
});
