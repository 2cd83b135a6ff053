/**
 * Rollups of the SQLite store: rolling a minute or hour bucket up from its
 * raw rows (scanned by rowid range, see `buckets` in sqlite-schema.ts), and
 * reading the rollups back. Figures are computed in JS by rollup-math.ts.
 */
import type Database from 'better-sqlite3';
import { UsageError } from '../core/errors.js';
import { BucketAccumulator } from './rollup-math.js';
import type { SqliteNames } from './sqlite-names.js';
import { checkRange, MAX_TIME, MIN_TIME } from './sqlite-paging.js';
import { RESOLUTION_MS, type MaintainReport, type Resolution, type Rollup, type RollupQuery } from './types.js';

/** Storage code of each resolution in `buckets.resolution`. */
export const RES_CODE: Record<Resolution, number> = { minute: 0, hour: 1 };
/** The counter in `meta` of each resolution's rollup rows. */
export const ROLLUP_COUNTER: Record<Resolution, string> = { minute: 'rollups_minute', hour: 'rollups_hour' };

const ROLLUP_COLS = 'check_ref, bucket, count, failures, min_us, sum_us, p95_us, max_us, healthy, degraded, unhealthy, unknown';

/** How maintenance work is split and stopped (owned by the maintenance run). */
export interface ChunkControl {
  /** Most rows read or written per transaction. */
  chunk: number;
  /** True once the store is closing: stop between chunks. */
  stopped(): boolean;
  /** Let the event loop run between chunks. */
  pause(): Promise<void>;
  report: MaintainReport;
}

/** Rolls buckets up and reads rollups, on the main connection. */
export class SqliteRollups {
  private readonly st;

  constructor(
    private readonly db: Database.Database,
    private readonly names: SqliteNames,
  ) {
    const perTable = (table: string) => ({
      insert: db.prepare(`INSERT OR REPLACE INTO ${table} (${ROLLUP_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
      query: db.prepare(`SELECT ${ROLLUP_COLS} FROM ${table} WHERE check_ref = ? AND bucket >= ? AND bucket < ? ORDER BY bucket`).raw(),
      deleteBucket: db.prepare(`DELETE FROM ${table} WHERE rowid IN (SELECT rowid FROM ${table} WHERE bucket = ? LIMIT ?)`),
    });
    this.st = {
      tables: { minute: perTable('rollups_minute'), hour: perTable('rollups_hour') },
      scanRange: db
        .prepare('SELECT id, check_ref, observed_at, status, duration_us FROM results WHERE id > ? AND id <= ? ORDER BY id LIMIT ?')
        .raw(),
      markRolled: db.prepare('UPDATE buckets SET rolled_gen = ? WHERE resolution = ? AND start = ?'),
      addCounter: db.prepare('UPDATE meta SET value = value + ? WHERE key = ?'),
    };
  }

  /** Rollups of one check with bucketStart in [from, to), oldest first. */
  query(query: RollupQuery): Rollup[] {
    if (query.resolution !== 'minute' && query.resolution !== 'hour') {
      throw new UsageError(`resolution: "${String(query.resolution)}" is not one of minute, hour`);
    }
    checkRange(query.from, query.to);
    const ref = this.names.check(query.checkId)?.ref;
    if (ref === undefined) return [];
    const rows = this.st.tables[query.resolution].query.all(ref, query.from ?? MIN_TIME, query.to ?? MAX_TIME) as number[][];
    return rows.map(([, bucket, count, failures, minUs, sumUs, p95Us, maxUs, h, d, u, k]) => ({
      checkId: query.checkId,
      resolution: query.resolution,
      bucketStart: bucket!,
      count: count!,
      failures: failures!,
      minMs: minUs! / 1000,
      avgMs: count ? sumUs! / count / 1000 : 0,
      p95Ms: p95Us! / 1000,
      maxMs: maxUs! / 1000,
      statusCounts: { HEALTHY: h!, DEGRADED: d!, UNHEALTHY: u!, UNKNOWN: k! },
    }));
  }

  /** Mark a bucket's generation `gen` rolled up without rolling it (its raw rows are gone). */
  skip(resolution: Resolution, start: number, gen: number): void {
    this.st.markRolled.run(gen, RES_CODE[resolution], start);
  }

  /** Roll one bucket up from its raw rows: scan its rowid range in chunks, then write the figures in chunks. */
  async rollUp(resolution: Resolution, start: number, minId: number, maxId: number, gen: number, ctl: ChunkControl): Promise<void> {
    const { chunk, report } = ctl;
    const end = start + RESOLUTION_MS[resolution];
    const perCheck = new Map<number, BucketAccumulator>();
    let after = minId - 1;
    while (after < maxId) {
      if (ctl.stopped()) return;
      const rows = this.st.scanRange.all(after, maxId, chunk) as [number, number, number, number, number][];
      if (rows.length === 0) break;
      for (const [, checkRef, t, status, durationUs] of rows) {
        if (t < start || t >= end) continue;
        let acc = perCheck.get(checkRef);
        if (!acc) perCheck.set(checkRef, (acc = new BucketAccumulator()));
        acc.add(status, durationUs);
      }
      after = rows[rows.length - 1]![0];
      report.chunks++;
      await ctl.pause();
    }

    const st = this.st.tables[resolution];
    const counter = ROLLUP_COUNTER[resolution];
    // Replace, not merge: drop what an earlier rollup of this bucket wrote, counting it out.
    for (;;) {
      if (ctl.stopped()) return;
      const removed = this.db.transaction(() => {
        const n = st.deleteBucket.run(start, chunk).changes;
        if (n) this.st.addCounter.run(-n, counter);
        return n;
      })();
      if (removed === 0) break;
      report.chunks++;
      await ctl.pause();
    }
    const entries = [...perCheck];
    for (let i = 0; i < entries.length || i === 0; i += chunk) {
      if (ctl.stopped()) return;
      const slice = entries.slice(i, i + chunk);
      const last = i + chunk >= entries.length;
      this.db.transaction(() => {
        for (const [checkRef, acc] of slice) {
          const f = acc.figures();
          const [h, d, u, k] = f.statusCounts;
          st.insert.run(checkRef, start, f.count, f.failures, f.minUs, f.sumUs, f.p95Us, f.maxUs, h, d, u, k);
        }
        if (slice.length) this.st.addCounter.run(slice.length, counter);
        // Marks the generation read at the start: a write that arrived meanwhile leaves the bucket dirty.
        if (last) this.st.markRolled.run(gen, RES_CODE[resolution], start);
      })();
      report.rollupRows += slice.length;
      report.chunks++;
      await ctl.pause();
    }
  }
}
