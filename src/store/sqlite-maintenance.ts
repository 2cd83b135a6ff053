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
import { DAY_MS } from './sqlite-status-timeline.js';
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
      oldMinuteBuckets: db.prepare(`SELECT start, min_id, max_id FROM buckets WHERE resolution = 0 AND start + ${MINUTE_MS} <= ? ORDER BY start`).raw(),
      deleteResultRange: db.prepare('DELETE FROM results WHERE id >= ? AND id <= ? AND observed_at < ?'),
      deleteBucket: db.prepare('DELETE FROM buckets WHERE resolution = ? AND start = ?'),
      deleteOldHourBuckets: db.prepare(`DELETE FROM buckets WHERE resolution = 1 AND start + ${RESOLUTION_MS.hour} <= ? AND gen = rolled_gen`),
      deleteOldMinuteRollups: deleteOld('rollups_minute', 'bucket'),
      deleteOldHourRollups: deleteOld('rollups_hour', 'bucket'),
      deleteOldGroupMinuteRollups: deleteOld('group_rollups_minute', 'bucket'),
      deleteOldGroupHourRollups: deleteOld('group_rollups_hour', 'bucket'),
      // Check transitions: the highest id deleted is the horizon of SSE resumes.
      oldCheckTransitions: db.prepare('SELECT id FROM transitions WHERE at < ? AND level = 0 ORDER BY at LIMIT ?').pluck(),
      oldAggregateTransitions: db.prepare('SELECT id FROM transitions WHERE at < ? AND level <> 0 ORDER BY at LIMIT ?').pluck(),
      deleteTransitions: db.prepare('DELETE FROM transitions WHERE id IN (SELECT value FROM json_each(?))'),
      deleteOldStatusDays: db.prepare('DELETE FROM status_days WHERE (level, ref, day) IN (SELECT level, ref, day FROM status_days WHERE day < ? LIMIT ?)'),
    };
  }

  /** One maintenance run at `now` (epoch ms). */
  async run(now: number, options: MaintainOptions): Promise<MaintainReport> {
    const retention = { ...this.retention, ...options.retention };
    const lateMs = options.lateMs ?? 30_000;
    const report: MaintainReport = {
      bucketsRolledUp: { minute: 0, hour: 0 },
      rollupRows: 0,
      deleted: { results: 0, minuteRollups: 0, hourRollups: 0, transitions: 0, statusDays: 0 },
      lateBucketsIgnored: 0,
      chunks: 0,
    };
    const ctl: ChunkControl = {
      chunk: Math.max(1, Math.floor(options.chunkRows ?? 2_000)),
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
    const minuteCutoff = now - retention.minuteRollupsMs;
    const hourCutoff = now - retention.hourRollupsMs;
    report.deleted.minuteRollups = await this.deleteChunked(this.st.deleteOldMinuteRollups, minuteCutoff, 'rollups_minute', ctl);
    report.deleted.hourRollups = await this.deleteChunked(this.st.deleteOldHourRollups, hourCutoff, 'rollups_hour', ctl);
    await this.deleteChunked(this.st.deleteOldGroupMinuteRollups, minuteCutoff, 'group_rollups_minute', ctl);
    await this.deleteChunked(this.st.deleteOldGroupHourRollups, hourCutoff, 'group_rollups_hour', ctl);
    report.deleted.transitions =
      (await this.deleteTransitions(this.st.oldCheckTransitions, now - retention.transitionsMs, 'transition_horizon', ctl)) +
      (await this.deleteTransitions(this.st.oldAggregateTransitions, now - retention.uptimeMs, null, ctl));
    report.deleted.statusDays = await this.deleteStatusDays(now - retention.uptimeMs, ctl);
    return report;
  }

  /**
   * Delete transitions older than `before` chosen by `select` (ids, oldest
   * first, LIMIT ?), raising the `horizon` counter to the highest id deleted.
   */
  private async deleteTransitions(select: Database.Statement, before: number, horizon: string | null, ctl: ChunkControl): Promise<number> {
    let total = 0;
    for (;;) {
      if (ctl.stopped()) return total;
      const ids = select.all(before, ctl.chunk) as number[];
      if (ids.length === 0) break;
      this.db.transaction(() => {
        const n = this.st.deleteTransitions.run(JSON.stringify(ids)).changes;
        this.st.addCounter.run(-n, 'transitions');
        if (horizon) this.st.setCounter.run(Math.max(this.st.getCounter.get(horizon) as number, ...ids), horizon);
        total += n;
      })();
      ctl.report.chunks++;
      if (ids.length < ctl.chunk) break;
      await ctl.pause();
    }
    return total;
  }

  /**
   * Delete status days older than uptime retention (whole UTC days before
   * `before`) and move `status_horizon` to the first day kept: uptime counts
   * time before it as unknown.
   */
  private async deleteStatusDays(before: number, ctl: ChunkControl): Promise<number> {
    const firstKept = Math.ceil(before / DAY_MS) * DAY_MS;
    const total = await this.deleteChunked(this.st.deleteOldStatusDays, firstKept, null, ctl);
    if (firstKept > (this.st.getCounter.get('status_horizon') as number)) this.st.setCounter.run(firstKept, 'status_horizon');
    return total;
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

  /** Run a `DELETE … LIMIT ?` statement until it deletes nothing, keeping the counter (if any) in step. */
  private async deleteChunked(stmt: Database.Statement, before: number, counter: string | null, ctl: ChunkControl): Promise<number> {
    let total = 0;
    for (;;) {
      if (ctl.stopped()) return total;
      const n = this.db.transaction(() => {
        const changes = stmt.run(before, ctl.chunk).changes;
        if (changes && counter) this.st.addCounter.run(-changes, counter);
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
