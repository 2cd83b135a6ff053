/**
 * Maintenance of the SQLite store: roll complete buckets up (sqlite-rollups.ts)
 * and delete rows beyond retention, in transactions of at most `chunkRows`
 * rows with a yield to the event loop after each, so a long run never holds
 * the main thread (or the writer thread's lock) for long.
 *
 * Raw results are deleted by the rowid ranges of their minute buckets, and
 * only once every bucket they belong to is rolled up; `raw_horizon` in
 * `meta` remembers how far raw rows are gone, so a bucket that receives late
 * rows after that is not re-rolled from a partial set of rows.
 */
import type Database from 'better-sqlite3';
import type { SqliteRollups, ChunkControl } from './sqlite-rollups.js';
import { RES_CODE } from './sqlite-rollups.js';
import { MINUTE_MS, mod } from './sqlite-schema.js';
import { RESOLUTION_MS, type MaintainOptions, type MaintainReport, type RetentionPolicy } from './types.js';

const yieldNow = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Runs `maintain` on the main connection. */
export class SqliteMaintenance {
  private readonly st;

  constructor(
    private readonly db: Database.Database,
    private readonly rollups: SqliteRollups,
    private readonly retention: RetentionPolicy,
    /** True once the store is closing: a run stops between chunks. */
    private readonly stopped: () => boolean,
  ) {
    const deleteOld = (table: string, time: string) =>
      db.prepare(`DELETE FROM ${table} WHERE rowid IN (SELECT rowid FROM ${table} WHERE ${time} < ? ORDER BY ${time} LIMIT ?)`);
    this.st = {
      getCounter: db.prepare('SELECT value FROM meta WHERE key = ?').pluck(),
      setCounter: db.prepare('UPDATE meta SET value = ? WHERE key = ?'),
      addCounter: db.prepare('UPDATE meta SET value = value + ? WHERE key = ?'),
      dirtyBuckets: db
        .prepare(
          `SELECT start, min_id, max_id, gen FROM buckets
           WHERE resolution = ? AND gen <> rolled_gen AND start + ? <= ? ORDER BY start`,
        )
        .raw(),
      earliestDirty: db.prepare('SELECT min(start) FROM buckets WHERE gen <> rolled_gen').pluck(),
      oldMinuteBuckets: db
        .prepare(`SELECT start, min_id, max_id FROM buckets WHERE resolution = 0 AND start + ${MINUTE_MS} <= ? ORDER BY start`)
        .raw(),
      deleteResultRange: db.prepare('DELETE FROM results WHERE id >= ? AND id <= ? AND observed_at < ?'),
      deleteBucket: db.prepare('DELETE FROM buckets WHERE resolution = ? AND start = ?'),
      deleteOldHourBuckets: db.prepare(
        `DELETE FROM buckets WHERE resolution = 1 AND start + ${RESOLUTION_MS.hour} <= ? AND gen = rolled_gen`,
      ),
      deleteOldMinuteRollups: db.prepare(
        'DELETE FROM rollups_minute WHERE rowid IN (SELECT rowid FROM rollups_minute WHERE bucket < ? LIMIT ?)',
      ),
      deleteOldHourRollups: db.prepare('DELETE FROM rollups_hour WHERE rowid IN (SELECT rowid FROM rollups_hour WHERE bucket < ? LIMIT ?)'),
      deleteOldTransitions: deleteOld('transitions', 'at'),
    };
  }

  /** One maintenance run at `now` (epoch ms). */
  async run(now: number, options: MaintainOptions): Promise<MaintainReport> {
    const retention = { ...this.retention, ...options.retention };
    const lateMs = options.lateMs ?? 30_000;
    const report: MaintainReport = {
      bucketsRolledUp: { minute: 0, hour: 0 },
      rollupRows: 0,
      deleted: { results: 0, minuteRollups: 0, hourRollups: 0, transitions: 0 },
      lateBucketsIgnored: 0,
      chunks: 0,
    };
    const ctl: ChunkControl = {
      chunk: Math.max(1, Math.floor(options.chunkRows ?? 10_000)),
      stopped: this.stopped,
      pause: yieldNow,
      report,
    };
    const horizon = this.st.getCounter.get('raw_horizon') as number;

    for (const resolution of ['minute', 'hour'] as const) {
      const size = RESOLUTION_MS[resolution];
      const due = this.st.dirtyBuckets.all(RES_CODE[resolution], size + lateMs, now) as [number, number, number, number][];
      for (const [start, minId, maxId, gen] of due) {
        if (ctl.stopped()) return report;
        if (start < horizon) {
          // Its other raw rows are gone: a re-rollup would replace good figures with a partial bucket.
          this.rollups.skip(resolution, start, gen);
          report.lateBucketsIgnored++;
          continue;
        }
        await this.rollups.rollUp(resolution, start, minId, maxId, gen, ctl);
        report.bucketsRolledUp[resolution]++;
      }
    }

    await this.deleteRawResults(now - retention.resultsMs, horizon, ctl);
    report.deleted.minuteRollups = await this.deleteChunked(this.st.deleteOldMinuteRollups, now - retention.minuteRollupsMs, 'rollups_minute', ctl);
    report.deleted.hourRollups = await this.deleteChunked(this.st.deleteOldHourRollups, now - retention.hourRollupsMs, 'rollups_hour', ctl);
    report.deleted.transitions = await this.deleteChunked(this.st.deleteOldTransitions, now - retention.transitionsMs, 'transitions', ctl);
    return report;
  }

  /** Delete raw results older than `before` (floored to a minute) whose buckets are all rolled up. */
  private async deleteRawResults(before: number, horizon: number, ctl: ChunkControl): Promise<void> {
    const { chunk, report } = ctl;
    let cutoff = before - mod(before, MINUTE_MS);
    const earliestDirty = this.st.earliestDirty.get() as number | null;
    if (earliestDirty !== null) cutoff = Math.min(cutoff, earliestDirty);
    for (const [start, minId, maxId] of this.st.oldMinuteBuckets.all(cutoff) as [number, number, number][]) {
      for (let lo = minId; lo <= maxId; lo += chunk) {
        if (ctl.stopped()) return;
        const hi = Math.min(maxId, lo + chunk - 1);
        this.db.transaction(() => {
          const n = this.st.deleteResultRange.run(lo, hi, cutoff).changes;
          if (n) this.st.addCounter.run(-n, 'results');
          report.deleted.results += n;
          if (hi === maxId) this.st.deleteBucket.run(0, start);
        })();
        report.chunks++;
        await ctl.pause();
      }
    }
    this.db.transaction(() => {
      this.st.deleteOldHourBuckets.run(cutoff);
      if (cutoff > horizon) this.st.setCounter.run(cutoff, 'raw_horizon');
    })();
  }

  /** Run a `DELETE … LIMIT ?` statement until it deletes nothing, keeping the counter in step. */
  private async deleteChunked(stmt: Database.Statement, before: number, counter: string, ctl: ChunkControl): Promise<number> {
    let total = 0;
    for (;;) {
      if (ctl.stopped()) return total;
      const n = this.db.transaction(() => {
        const changes = stmt.run(before, ctl.chunk).changes;
        if (changes) this.st.addCounter.run(-changes, counter);
        return changes;
      })();
      total += n;
      if (n === 0) break;
      ctl.report.chunks++;
      if (n < ctl.chunk) break;
      await ctl.pause();
    }
    return total;
  }
}
