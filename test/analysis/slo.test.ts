import { describe, expect, it } from 'vitest';
import { evaluateSlo, type CountBucket, type GoodTotalSource } from '../../src/analysis/slo.js';
import { rollupAvailability } from '../../src/analysis/slo-sources.js';
import { FakeClock } from '../../src/core/clock.js';
import type { Rollup } from '../../src/store/types.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

/** Minute buckets over the last `days`, 1,000 requests each, `bad(start)` of them failing. */
function source(clock: FakeClock, days: number, bad: (start: number) => number): GoodTotalSource & { reads: number } {
  const src = {
    bucketMs: MIN,
    reads: 0,
    async buckets(from: number, to: number): Promise<CountBucket[]> {
      src.reads++;
      const out: CountBucket[] = [];
      const first = Math.max(from, clock.now() - days * DAY);
      for (let s = Math.ceil(first / MIN) * MIN; s < to; s += MIN) out.push({ start: s, good: 1000 - bad(s), total: 1000 });
      return out;
    },
  };
  return src;
}

describe('SLO', () => {
  it('computes the budget left by hand: 99.9 % over 30 days, 43.2 M requests, 21,600 bad → half the budget left', async () => {
    const clock = new FakeClock(100 * DAY);
    const now = clock.now();
    // 21,600 bad requests, all in the last 6 hours ... (360 minutes × 60 bad): burn over 6 h = 0.06 / 0.001 = 60.
    const src = source(clock, 30, (s) => (s >= now - 6 * HOUR ? 60 : 0));
    const st = await evaluateSlo({ objective: 0.999, windowMs: 30 * DAY }, src, clock);
    expect(st.total).toBe(30 * 24 * 60 * 1000);
    expect(st.total - st.good).toBe(21_600);
    // Budget: 0.001 × 43,200,000 = 43,200 bad allowed; 21,600 spent → 0.5 left.
    expect(st.budgetRemaining).toBeCloseTo(0.5, 10);
    expect(st.attainment).toBeCloseTo(1 - 21_600 / 43_200_000, 12);
    expect(src.reads).toBe(1);
  });

  it('pages on the 1h/5m condition at a 14.4× burn and not below it', async () => {
    const clock = new FakeClock(100 * DAY);
    const now = clock.now();
    // 15 bad in 1,000 in the last hour: burn 15 over both 1 h and 5 m (> 14.4); 6 h burn = 15 × 1/6 = 2.5.
    const firing = await evaluateSlo(
      { objective: 0.999, windowMs: 30 * DAY },
      source(clock, 30, (s) => (s >= now - HOUR ? 15 : 0)),
      clock,
    );
    const fast = firing.burns.find((b) => b.condition.name === '1h/5m')!;
    expect(fast.longBurn).toBeCloseTo(15, 10);
    expect(fast.shortBurn).toBeCloseTo(15, 10);
    expect(fast.firing).toBe(true);
    expect(firing.burns.find((b) => b.condition.name === '6h/30m')!.longBurn).toBeCloseTo(2.5, 10);
    expect(firing.firing).toBe('page');
    // 14 bad in 1,000: burn 14 < 14.4.
    const quiet = await evaluateSlo(
      { objective: 0.999, windowMs: 30 * DAY },
      source(clock, 30, (s) => (s >= now - HOUR ? 14 : 0)),
      clock,
    );
    expect(quiet.burns.find((b) => b.condition.name === '1h/5m')!.firing).toBe(false);
  });

  it('needs both windows: a burst that ended 10 minutes ago keeps the 1 h rate up but not the 5 m one', async () => {
    const clock = new FakeClock(100 * DAY);
    const now = clock.now();
    const src = source(clock, 30, (s) => (s >= now - HOUR && s < now - 10 * MIN ? 100 : 0));
    const st = await evaluateSlo({ objective: 0.999, windowMs: 30 * DAY }, src, clock);
    const fast = st.burns.find((b) => b.condition.name === '1h/5m')!;
    expect(fast.longBurn).toBeCloseTo((50 * 100) / 60 / 1000 / 0.001, 10);
    expect(fast.shortBurn).toBe(0);
    expect(fast.firing).toBe(false);
  });

  it('opens a ticket on the 3d/6h condition when the budget burns just above 1×, and follows the fake clock', async () => {
    const clock = new FakeClock(100 * DAY);
    // 1.2 bad per 1,000 everywhere: burn 1.2 on every window; only the 1× condition fires.
    const src = source(clock, 30, () => 1.2);
    const st = await evaluateSlo({ objective: 0.999, windowMs: 30 * DAY }, src, clock);
    expect(st.firing).toBe('ticket');
    expect(st.budgetRemaining).toBeCloseTo(1 - 1.2, 6);
    clock.advance(HOUR);
    const later = await evaluateSlo({ objective: 0.999, windowMs: 30 * DAY }, src, clock);
    expect(later.total).toBe(st.total);
  });

  it('refuses a window shorter than the buckets, and a bad objective', async () => {
    const clock = new FakeClock(0);
    const hourly: GoodTotalSource = { bucketMs: HOUR, buckets: async () => [] };
    await expect(evaluateSlo({ objective: 0.999, windowMs: 30 * DAY }, hourly, clock)).rejects.toThrow(/5 min window/);
    await expect(evaluateSlo({ objective: 1, windowMs: DAY }, hourly, clock)).rejects.toThrow(/objective/);
  });

  it('reads availability from rollups: good = count − failures', async () => {
    const clock = new FakeClock(10 * HOUR);
    const rollup = (bucketStart: number, count: number, failures: number): Rollup => ({
      level: 'check',
      id: 'api/a1/health',
      resolution: 'minute',
      bucketStart,
      count,
      failures,
      minMs: 1,
      avgMs: 1,
      p95Ms: 1,
      maxMs: 1,
      statusCounts: { HEALTHY: count - failures, DEGRADED: 0, UNHEALTHY: failures, UNKNOWN: 0 },
      minScore: null,
      avgScore: null,
    });
    const store = { queryRollups: async () => [rollup(10 * HOUR - 2 * MIN, 6, 3), rollup(10 * HOUR - MIN, 6, 0)] };
    const st = await evaluateSlo({ objective: 0.9, windowMs: HOUR }, rollupAvailability(store, 'api/a1/health'), clock, [
      { name: '5m/1m', severity: 'page', longMs: 5 * MIN, shortMs: MIN, factor: 2 },
    ]);
    expect(st.good).toBe(9);
    expect(st.total).toBe(12);
    // Budget: 10 % of 12 = 1.2 bad allowed, 3 spent.
    expect(st.budgetRemaining).toBeCloseTo(1 - 3 / 1.2, 10);
    expect(st.burns[0]!.longBurn).toBeCloseTo(0.25 / 0.1, 10);
    expect(st.burns[0]!.shortBurn).toBe(0);
  });
});
