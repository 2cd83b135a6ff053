import { describe, expect, it } from 'vitest';
import type { HealthStatus } from '../../src/core/status.js';
import { DAY_MS, UptimeDays, type RollupRow, type UptimeStore } from '../../src/server/web-uptime.js';

const HOUR = 3_600_000;
const NOW = 1_700_006_400_000 + 12.5 * HOUR; // 12:30 UTC
const TODAY = Math.floor(NOW / DAY_MS) * DAY_MS;

const counts = (h: number, d: number, u: number, k = 0): Record<HealthStatus, number> => ({ HEALTHY: h, DEGRADED: d, UNHEALTHY: u, UNKNOWN: k });
const row = (bucketStart: number, c: Record<HealthStatus, number>): RollupRow => ({
  bucketStart,
  count: c.HEALTHY + c.DEGRADED + c.UNHEALTHY + c.UNKNOWN,
  statusCounts: c,
});

/** A store holding rollups per check: hour rows, and minute rows for the current hour. */
function rollupStore(rows: Record<string, { hour: RollupRow[]; minute: RollupRow[] }>): UptimeStore & { asked: number } {
  const store = {
    asked: 0,
    async queryRollups(q: { checkId: string; resolution: 'minute' | 'hour'; from?: number; to?: number }) {
      store.asked++;
      return (rows[q.checkId]?.[q.resolution] ?? []).filter((r) => r.bucketStart >= (q.from ?? -Infinity) && r.bucketStart < (q.to ?? Infinity));
    },
  };
  return store;
}

describe('UptimeDays', () => {
  it('estimates each UTC day from the share of passing check results (HEALTHY and DEGRADED over known), today from hours and minutes', async () => {
    const store = rollupStore({
      'a/1/tcp': {
        hour: [row(TODAY - DAY_MS + HOUR, counts(90, 0, 10)), row(TODAY + HOUR, counts(50, 50, 0, 30))],
        minute: [row(TODAY + 12 * HOUR + 60_000, counts(0, 0, 100))],
      },
      'a/2/tcp': { hour: [row(TODAY - DAY_MS + 2 * HOUR, counts(100, 0, 0))], minute: [] },
    });
    const uptime = new UptimeDays(store, () => ['a/1/tcp', 'a/2/tcp']);
    expect(uptime.source).toBe('rollups');
    const days = await uptime.days('a', 3, NOW);
    expect(days.map((d) => d.start)).toEqual([TODAY - 2 * DAY_MS, TODAY - DAY_MS, TODAY]);
    // Yesterday: 190 passing of 200; today: 100 of 200 known (the 30 UNKNOWN are not counted).
    expect(days.map((d) => d.uptimePercent)).toEqual([null, 95, 50]);
    expect(await uptime.period('a', 3 * DAY_MS, NOW)).toBe(72.5);
  });

  it('uses the store’s own uptime when it has one, and answers null without a store', async () => {
    const asked: Array<{ from: number; to: number }> = [];
    const store: UptimeStore = {
      queryRollups: async () => [],
      queryUptime: async (q) => {
        asked.push({ from: q.from, to: q.to });
        return { uptimePercent: 99.5, incidents: 2 };
      },
    };
    const uptime = new UptimeDays(store, () => []);
    expect(uptime.source).toBe('uptime');
    const days = await uptime.days('a', 2, NOW);
    expect(days).toEqual([
      { start: TODAY - DAY_MS, uptimePercent: 99.5, incidents: 2 },
      { start: TODAY, uptimePercent: 99.5, incidents: 2 },
    ]);
    // Today is asked up to now, not to midnight.
    expect(asked).toContainEqual({ from: TODAY, to: NOW });
    const none = new UptimeDays(undefined, () => []);
    expect(none.source).toBe('none');
    expect((await none.days('a', 1, NOW))[0]!.uptimePercent).toBeNull();
    expect(await none.period('a', DAY_MS, NOW)).toBeNull();
  });

  it('reuses an answer for a minute instead of asking the store again', async () => {
    const store = rollupStore({});
    const uptime = new UptimeDays(store, () => ['x']);
    await uptime.days('a', 90, NOW);
    const asked = store.asked;
    await uptime.days('a', 90, NOW + 30_000);
    expect(store.asked).toBe(asked);
    await uptime.days('a', 90, NOW + 61_000);
    expect(store.asked).toBe(2 * asked);
  });
});
