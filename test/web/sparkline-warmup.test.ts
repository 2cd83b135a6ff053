import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../src/store/sqlite.js';
import { warmSparklines } from '../../src/server/web-sparkline-warmup.js';
import { SPARK_MINUTES, Sparklines } from '../../src/server/web-sparklines.js';
import { tempDir } from './helpers/daemon.js';
import { seedHistory } from './helpers/history-seed.js';

const MINUTE = 60_000;

describe('sparklines after a restart', () => {
  it('read the hour before it back from the store: latency exact, statuses from the service transitions, live minutes kept', async () => {
    const path = join(tempDir(), 'hm.db');
    const now = Date.UTC(2026, 11, 6, 12, 30, 20_000 / 1000);
    const seeded = await seedHistory(
      path,
      [
        { service: 'db', instance: 'd1', name: 'port', kind: 'tcp' },
        { service: 'db', instance: 'd2', name: 'port', kind: 'tcp' },
      ],
      { now, minutes: 30, outage: { services: ['db'], first: 10, last: 15 } },
    );
    const store = await openSqliteStore({ path });
    try {
      const sparklines = new Sparklines();
      // A minute the daemon saw live before the warm-up read the store: it must stay as seen.
      const liveMinute = seeded.from + 20 * MINUTE;
      sparklines.observe('db', 42, 'DEGRADED', liveMinute + 1000);
      await warmSparklines(sparklines, store, ['db', 'unknown-service'], now);

      const minuteIndex = (at: number): number => SPARK_MINUTES - 1 - (Math.floor(now / MINUTE) - Math.floor(at / MINUTE));
      const scores = sparklines.scores('db', now);
      const statuses = sparklines.statuses('db', now);
      for (let i = 0; i < seeded.minutes; i++) {
        const at = seeded.from + i * MINUTE;
        const slot = minuteIndex(at);
        if (at === liveMinute) {
          expect([scores[slot], statuses[slot]]).toEqual([42, 'DEGRADED']);
          continue;
        }
        expect(scores[slot], `minute ${i}`).not.toBeNull();
        expect(statuses[slot], `minute ${i}`).toBe(i >= 10 && i <= 15 ? 'UNHEALTHY' : 'HEALTHY');
      }
      // Before the seeded half hour and in the gap after it, no data, as before the restart.
      expect(scores[minuteIndex(seeded.from - MINUTE)]).toBeNull();
      expect(scores[SPARK_MINUTES - 1]).toBeNull();

      // Latency of the last 30 minutes: every seeded result but the live minute's.
      const expected = seeded.results.filter((r) => Math.floor(r.observedAt / MINUTE) * MINUTE !== liveMinute);
      const latency = sparklines.latency('db', now, SPARK_MINUTES)!;
      expect(latency.count).toBe(expected.length);
      expect(latency.avgMs).toBeCloseTo(expected.reduce((n, r) => n + r.durationMs, 0) / expected.length, 6);
      expect(latency.maxMs).toBe(Math.max(...expected.map((r) => r.durationMs)));
      expect(sparklines.scores('unknown-service', now).every((s) => s === null)).toBe(true);
    } finally {
      await store.close();
    }
  });
});
