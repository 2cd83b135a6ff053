/**
 * bench/store-maintain: the event-loop stall of one maintenance run (the
 * daemon's minute rollup) by transaction size. Writes `minutes` of results
 * of `checks` checks at a 10 s interval into a fresh SQLite store, then
 * times `maintain()` with each `chunkRows`, watching the event loop with
 * monitorEventLoopDelay (1 ms resolution). One JSON line per chunk size.
 *
 *   npm run build && node dist/bench/store-maintain.js [--checks 10000] [--minutes 3] [--chunks 10000,2000,1000]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { openSqliteStore } from '../src/store/sqlite.js';
import type { ResultRecord } from '../src/store/types.js';

const { values } = parseArgs({
  options: { checks: { type: 'string', default: '10000' }, minutes: { type: 'string', default: '3' }, chunks: { type: 'string', default: '10000,2000,1000' } },
});
const checks = Number(values.checks);
const minutes = Number(values.minutes);
const T0 = Math.floor(1_800_000_000_000 / 3_600_000) * 3_600_000;

const row = (i: number, t: number): ResultRecord => ({
  checkId: `svc${i % 100}/i${i}/http`,
  service: `svc${i % 100}`,
  instance: `i${i}`,
  kind: 'http',
  status: 'HEALTHY',
  reason: 'ok',
  output: 'HTTP 200',
  durationMs: 0.4 + (i % 7),
  observedAt: t,
  attempts: 1,
  metrics: null,
});

for (const chunkRows of values.chunks.split(',').map(Number)) {
  const dir = mkdtempSync(join(tmpdir(), 'hm-maintain-'));
  const store = await openSqliteStore({ path: join(dir, 'history.db'), writes: 'inline', sortRows: true });
  try {
    for (let s = 0; s < minutes * 60; s += 10) {
      await store.write({ results: Array.from({ length: checks }, (_, i) => row(i, T0 + s * 1000 + (i % 10_000))), transitions: [] });
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
    const loop = monitorEventLoopDelay({ resolution: 1 });
    loop.enable();
    const t0 = performance.now();
    const report = await store.maintain(T0 + (minutes + 1) * 60_000, { chunkRows, lateMs: 0 });
    const totalMs = performance.now() - t0;
    loop.disable();
    console.log(
      JSON.stringify({
        bench: 'store-maintain',
        checks,
        minutes,
        chunkRows,
        totalMs: Math.round(totalMs),
        stallMaxMs: Math.round(loop.max / 1e6),
        chunks: report.chunks,
        rollupRows: report.rollupRows,
      }),
    );
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
