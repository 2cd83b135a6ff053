/**
 * Rollups of the SQLite store: rolling a minute or hour bucket up from its
 * raw rows (scanned by rowid range, see `buckets` in sqlite-schema.ts), and
 * reading the rollups back. Figures are computed in JS by rollup-math.ts.
 *
 * One scan of a bucket gives the figures of every level: each check's from
 * its rows, and each instance's and service's from all the rows of its
 * checks (their sorted durations merged), so an instance's or service's p95
 * is that of its results, not a mix of its checks' p95s. Instance and
 * service rows live in group_rollups_* (level 1 with the instance ref, 2
 * with the service ref).
 */
import type Database from 'better-sqlite3';
import { UsageError } from '../core/errors.js';
import { BucketAccumulator, figuresOf, mergeSorted, ScoreAccumulator, type BucketFigures } from './rollup-math.js';
import type { SqliteNames } from './sqlite-names.js';
import { checkRange, MAX_TIME, MIN_TIME } from './sqlite-paging.js';
import { RESOLUTION_MS, type MaintainReport, type Resolution, type Rollup, type RollupLevel, type RollupQuery } from './types.js';

/** Storage code of each resolution in `buckets.resolution`. */
export const RES_CODE: Record<Resolution, number> = { minute: 0, hour: 1 };
/** The counter in `meta` of each resolution's check rollup rows, and of its instance and service rows. */
export const ROLLUP_COUNTER: Record<Resolution, string> = { minute: 'rollups_minute', hour: 'rollups_hour' };
export const GROUP_ROLLUP_COUNTER: Record<Resolution, string> = { minute: 'group_rollups_minute', hour: 'group_rollups_hour' };

const FIGURE_COLS = 'count, failures, min_us, sum_us, p95_us, max_us, healthy, degraded, unhealthy, unknown, min_score, sum_score, score_count';
const FIGURE_PARAMS = FIGURE_COLS.split(', ')
  .map(() => '?')
  .join(', ');

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

/** One rollup row to write: level 0 (check, ref its check ref), 1 (instance) or 2 (service). */
type RollupRow = [level: number, ref: number, figures: BucketFigures];

/** A check's rows of a bucket, sorted, waiting for its instance and service to be rolled up too. */
interface CheckBucket {
  instanceRef: number;
  serviceRef: number;
  sorted: Float64Array;
  counts: readonly number[];
}

const LEVEL_OF: Record<number, RollupLevel> = { 0: 'check', 1: 'instance', 2: 'service' };

/** Rolls buckets up and reads rollups, on the main connection. */
export class SqliteRollups {
  private readonly st;

  constructor(
    private readonly db: Database.Database,
    private readonly names: SqliteNames,
  ) {
    const perResolution = (checks: string, groups: string) => ({
      insertCheck: db.prepare(`INSERT OR REPLACE INTO ${checks} (check_ref, bucket, ${FIGURE_COLS}) VALUES (?, ?, ${FIGURE_PARAMS})`),
      insertGroup: db.prepare(`INSERT OR REPLACE INTO ${groups} (level, ref, bucket, ${FIGURE_COLS}) VALUES (?, ?, ?, ${FIGURE_PARAMS})`),
      queryCheck: db.prepare(`SELECT bucket, ${FIGURE_COLS} FROM ${checks} WHERE check_ref = ? AND bucket >= ? AND bucket < ? ORDER BY bucket`).raw(),
      queryGroup: db.prepare(`SELECT bucket, ${FIGURE_COLS} FROM ${groups} WHERE level = ? AND ref = ? AND bucket >= ? AND bucket < ? ORDER BY bucket`).raw(),
      deleteCheckBucket: db.prepare(`DELETE FROM ${checks} WHERE rowid IN (SELECT rowid FROM ${checks} WHERE bucket = ? LIMIT ?)`),
      deleteGroupBucket: db.prepare(`DELETE FROM ${groups} WHERE rowid IN (SELECT rowid FROM ${groups} WHERE bucket = ? LIMIT ?)`),
    });
    this.st = {
      tables: { minute: perResolution('rollups_minute', 'group_rollups_minute'), hour: perResolution('rollups_hour', 'group_rollups_hour') },
      scanRange: db
        .prepare(
          'SELECT id, check_ref, observed_at, status, duration_us, check_score, instance_score FROM results WHERE id > ? AND id <= ? ORDER BY id LIMIT ?',
        )
        .raw(),
      markRolled: db.prepare('UPDATE buckets SET rolled_gen = ? WHERE resolution = ? AND start = ?'),
      addCounter: db.prepare('UPDATE meta SET value = value + ? WHERE key = ?'),
    };
  }

  /** Rollups of one check, instance or service with bucketStart in [from, to), oldest first. */
  query(query: RollupQuery): Rollup[] {
    const { resolution, checkId, service, instance } = query;
    if (resolution !== 'minute' && resolution !== 'hour') {
      throw new UsageError(`resolution: "${String(resolution)}" is not one of minute, hour`);
    }
    checkRange(query.from, query.to);
    const from = query.from ?? MIN_TIME;
    const to = query.to ?? MAX_TIME;
    const st = this.st.tables[resolution];
    let level: number;
    let id: string;
    let rows: number[][];
    if (checkId !== undefined) {
      if (service !== undefined || instance !== undefined) throw new UsageError('query: give checkId alone, or service and/or instance, not both');
      const ref = this.names.check(checkId)?.ref;
      [level, id] = [0, checkId];
      rows = ref === undefined ? [] : (st.queryCheck.all(ref, from, to) as number[][]);
    } else if (service !== undefined) {
      const ref = instance !== undefined ? this.names.instanceRef(service, instance) : this.names.serviceRef(service);
      [level, id] = instance !== undefined ? [1, `${service}/${instance}`] : [2, service];
      rows = ref === undefined ? [] : (st.queryGroup.all(level, ref, from, to) as number[][]);
    } else {
      throw new UsageError('query: give checkId, or service (and instance)');
    }
    return rows.map(([bucket, count, failures, minUs, sumUs, p95Us, maxUs, h, d, u, k, minScore, sumScore, scoreCount]) => ({
      level: LEVEL_OF[level]!,
      id,
      resolution,
      bucketStart: bucket!,
      count: count!,
      failures: failures!,
      minMs: minUs! / 1000,
      avgMs: count ? sumUs! / count / 1000 : 0,
      p95Ms: p95Us! / 1000,
      maxMs: maxUs! / 1000,
      statusCounts: { HEALTHY: h!, DEGRADED: d!, UNHEALTHY: u!, UNKNOWN: k! },
      minScore: minScore ?? null,
      avgScore: scoreCount ? sumScore! / scoreCount : null,
    }));
  }

  /** Mark a bucket's generation `gen` rolled up without rolling it (its raw rows are gone). */
  skip(resolution: Resolution, start: number, gen: number): void {
    this.st.markRolled.run(gen, RES_CODE[resolution], start);
  }

  /** Roll one bucket up from its raw rows: scan its rowid range in chunks, then write the figures in chunks. */
  async rollUp(resolution: Resolution, start: number, minId: number, maxId: number, gen: number, ctl: ChunkControl): Promise<void> {
    const rows = await this.scan(resolution, start, minId, maxId, ctl);
    if (!rows) return;
    const st = this.st.tables[resolution];
    // Replace, not merge: drop what an earlier rollup of this bucket wrote, counting it out.
    if (!(await this.deleteBucket(st.deleteCheckBucket, start, ROLLUP_COUNTER[resolution], ctl))) return;
    if (!(await this.deleteBucket(st.deleteGroupBucket, start, GROUP_ROLLUP_COUNTER[resolution], ctl))) return;
    for (let i = 0; i < rows.length || i === 0; i += ctl.chunk) {
      if (ctl.stopped()) return;
      const slice = rows.slice(i, i + ctl.chunk);
      const last = i + ctl.chunk >= rows.length;
      this.db.transaction(() => {
        let checks = 0;
        for (const [level, ref, f] of slice) {
          const [h, d, u, k] = f.statusCounts;
          const figures = [f.count, f.failures, f.minUs, f.sumUs, f.p95Us, f.maxUs, h, d, u, k, f.minScore, f.sumScore, f.scoreCount];
          if (level === 0) {
            st.insertCheck.run(ref, start, ...figures);
            checks++;
          } else st.insertGroup.run(level, ref, start, ...figures);
        }
        if (checks) this.st.addCounter.run(checks, ROLLUP_COUNTER[resolution]);
        if (slice.length > checks) this.st.addCounter.run(slice.length - checks, GROUP_ROLLUP_COUNTER[resolution]);
        // Marks the generation read at the start: a write that arrived meanwhile leaves the bucket dirty.
        if (last) this.st.markRolled.run(gen, RES_CODE[resolution], start);
      })();
      ctl.report.rollupRows += slice.length;
      ctl.report.chunks++;
      await ctl.pause();
    }
  }

  /** The rollup rows of a bucket from its raw rows (checks, then instances, then services); null if stopped. */
  private async scan(resolution: Resolution, start: number, minId: number, maxId: number, ctl: ChunkControl): Promise<RollupRow[] | null> {
    const end = start + RESOLUTION_MS[resolution];
    const perCheck = new Map<number, BucketAccumulator>();
    const instanceScores = new Map<number, ScoreAccumulator>();
    let after = minId - 1;
    while (after < maxId) {
      if (ctl.stopped()) return null;
      type ScanRow = [number, number, number, number, number, number | null, number | null];
      const rows = this.st.scanRange.all(after, maxId, ctl.chunk) as ScanRow[];
      if (rows.length === 0) break;
      for (const [, checkRef, t, status, durationUs, checkScore, instanceScore] of rows) {
        if (t < start || t >= end) continue;
        let acc = perCheck.get(checkRef);
        if (!acc) {
          acc = new BucketAccumulator();
          perCheck.set(checkRef, acc);
        }
        acc.add(status, durationUs, checkScore);
        // Rows without a score (written before scores were stored) cost no lookup.
        if (instanceScore !== null) getOrAdd(instanceScores, this.names.checkOfRef(checkRef).instanceRef, newScores).add(instanceScore);
      }
      after = rows[rows.length - 1]![0];
      ctl.report.chunks++;
      await ctl.pause();
    }
    return this.figures(perCheck, instanceScores, ctl);
  }

  /**
   * The rollup rows of the scanned checks, their instances and services,
   * yielding every `ctl.chunk` rows: at 10,000 checks a minute's rows took
   * 40-50 ms in one go (null if the store closed meanwhile).
   */
  private async figures(
    perCheck: Map<number, BucketAccumulator>,
    instanceScores: Map<number, ScoreAccumulator>,
    ctl: ChunkControl,
  ): Promise<RollupRow[] | null> {
    const out: RollupRow[] = [];
    const byInstance = new Map<number, CheckBucket[]>();
    const byService = new Map<number, CheckBucket[]>();
    const breathe = async (): Promise<boolean> => {
      if (out.length % ctl.chunk !== 0) return true;
      await ctl.pause();
      return !ctl.stopped();
    };
    for (const [ref, acc] of perCheck) {
      if (!(await breathe())) return null;
      const sorted = acc.sorted();
      out.push([0, ref, figuresOf(sorted, acc.counts, acc.score)]);
      const check = this.names.checkOfRef(ref);
      const bucket: CheckBucket = { instanceRef: check.instanceRef, serviceRef: check.serviceRef, sorted, counts: acc.counts };
      pushTo(byInstance, check.instanceRef, bucket);
      pushTo(byService, check.serviceRef, bucket);
    }
    const none = new ScoreAccumulator();
    for (const [ref, checks] of byInstance) {
      if (!(await breathe())) return null;
      out.push([1, ref, groupFigures(checks, instanceScores.get(ref) ?? none)]);
    }
    for (const [ref, checks] of byService) {
      if (!(await breathe())) return null;
      // A service scores the mean of its instances: its avg is the mean of their avgs, its min the lowest instance score.
      const score = { min: null as number | null, sum: 0, count: 0 };
      for (const instanceRef of new Set(checks.map((c) => c.instanceRef))) {
        const s = instanceScores.get(instanceRef);
        const avg = s?.avg();
        if (!s || avg === null || avg === undefined) continue;
        if (score.min === null || (s.min !== null && s.min < score.min)) score.min = s.min;
        score.sum += avg;
        score.count++;
      }
      out.push([2, ref, groupFigures(checks, score)]);
    }
    return out;
  }

  /** Delete a bucket's rows of one table in chunks; false if the store closed meanwhile. */
  private async deleteBucket(stmt: Database.Statement, start: number, counter: string, ctl: ChunkControl): Promise<boolean> {
    for (;;) {
      if (ctl.stopped()) return false;
      const removed = this.db.transaction(() => {
        const n = stmt.run(start, ctl.chunk).changes;
        if (n) this.st.addCounter.run(-n, counter);
        return n;
      })();
      if (removed === 0) return true;
      ctl.report.chunks++;
      await ctl.pause();
    }
  }
}

/** Figures of an instance or a service: all its checks' rows of the bucket. */
function groupFigures(checks: readonly CheckBucket[], score: { min: number | null; sum: number; count: number }): BucketFigures {
  const counts = [0, 0, 0, 0];
  for (const c of checks) for (let i = 0; i < 4; i++) counts[i]! += c.counts[i] ?? 0;
  return figuresOf(mergeSorted(checks.map((c) => c.sorted)), counts, score);
}

function pushTo<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  getOrAdd(map, key, () => []).push(value);
}

const newScores = (): ScoreAccumulator => new ScoreAccumulator();

function getOrAdd<K, V>(map: Map<K, V>, key: K, make: () => V): V {
  let value = map.get(key);
  if (value === undefined) {
    value = make();
    map.set(key, value);
  }
  return value;
}
