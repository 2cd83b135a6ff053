/**
 * The write transaction of the SQLite store, the one place that turns
 * batches of results and transitions into rows. The main thread runs it for
 * inline writes and the writer thread (sqlite-writer-thread.ts) for
 * `writes: 'worker'`; both hand it batches in the column form of
 * sqlite-write-message.ts, so there is one body to keep right.
 *
 * Bookkeeping besides the rows: the minute and hour `buckets` each result
 * falls in (rowid range and a generation, see sqlite-schema.ts), every
 * check's `last_minute` (where latestResults starts its walk back) and the
 * row counters in `meta`.
 */
import type Database from 'better-sqlite3';
import type { CheckEntry, SqliteNames } from './sqlite-names.js';
import { NUMS_PER_ROW, REFS_PER_ROW, type EncodedResults } from './sqlite-write-message.js';
import { MINUTE_MS, mod } from './sqlite-schema.js';
import { StatusTimelineWriter } from './sqlite-status-timeline.js';
import { STATUS_CODE, truncateOutput, type TransitionLevel, type TransitionRecord } from './types.js';

const HOUR_MS = 3_600_000;

/** One `write` call's rows: results in encoded parts, transitions as records. */
export interface EncodedBatch {
  parts: EncodedResults[];
  /** Results over all parts. */
  rows: number;
  transitions: TransitionRecord[];
}

/** Options of the write transaction. */
export interface WriteTxOptions {
  /** Insert each transaction's results ordered by (check, time), stable, so rows of one check are adjacent. */
  sortRows?: boolean;
}

/** A result row of the transaction, before insertion. */
interface PendingRow {
  check: CheckEntry;
  /** observedAt floored to ms. */
  t: number;
  part: EncodedResults;
  k: number;
}

/** Runs the store's write transaction on one connection. */
export class SqliteWriteTransaction {
  private readonly st;
  private readonly tx: (batches: readonly EncodedBatch[]) => void;
  private readonly timeline: StatusTimelineWriter;

  constructor(
    db: Database.Database,
    private readonly names: SqliteNames,
    private readonly options: WriteTxOptions = {},
  ) {
    this.st = {
      insertResult: db.prepare(
        `INSERT INTO results (check_ref, service_ref, observed_at, status, reason_ref, duration_us, attempts, output, metrics, check_score, instance_score)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      insertTransition: db.prepare(
        `INSERT INTO transitions (id, level, check_ref, service_ref, instance_ref, at, from_status, to_status, reason_ref, output)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      transitionExists: db.prepare('SELECT 1 FROM transitions WHERE id = ?').pluck(),
      getCounter: db.prepare('SELECT value FROM meta WHERE key = ?').pluck(),
      setCounter: db.prepare('UPDATE meta SET value = ? WHERE key = ?'),
      touchBucket: db.prepare(
        `INSERT INTO buckets (resolution, start, min_id, max_id, gen, rolled_gen) VALUES (?, ?, ?, ?, 1, 0)
         ON CONFLICT (resolution, start) DO UPDATE SET
           min_id = min(min_id, excluded.min_id), max_id = max(max_id, excluded.max_id), gen = gen + 1`,
      ),
      // Only forward: a late row does not move it back, nor does a stale cache.
      advanceLastMinute: db.prepare('UPDATE checks SET last_minute = ? WHERE id = ? AND (last_minute IS NULL OR last_minute < ?)'),
      addCounter: db.prepare('UPDATE meta SET value = value + ? WHERE key = ?'),
    };
    this.timeline = new StatusTimelineWriter(db);
    this.tx = db.transaction((batches: readonly EncodedBatch[]) => this.writeRows(batches));
  }

  /**
   * Commit `batches` in ONE transaction. Returns the check ids whose stored
   * kind it set (with the kind), or null; throws after a rollback, with the
   * name cache reloaded (the rollback took the names it interned).
   */
  commit(batches: readonly EncodedBatch[]): [string, string][] | null {
    const kinds = new Map<string, string>();
    this.names.kindChanges = kinds;
    try {
      this.tx(batches);
    } catch (err) {
      this.names.load();
      throw err;
    } finally {
      this.names.kindChanges = null;
    }
    return kinds.size ? [...kinds] : null;
  }

  /** Body of the transaction. */
  private writeRows(batches: readonly EncodedBatch[]): void {
    const { st, names } = this;
    const rows: PendingRow[] = [];
    let results = 0;
    let transitions = 0;
    for (const batch of batches) {
      for (const part of batch.parts) {
        const { n, nums, refs, strs } = part;
        for (let k = 0; k < n; k++) {
          const b = k * REFS_PER_ROW;
          const check = names.internCheck(strs[refs[b]!]!, strs[refs[b + 1]!]!, strs[refs[b + 2]!]!, strs[refs[b + 3]!]!);
          rows.push({ check, t: Math.floor(nums[k * NUMS_PER_ROW]!), part, k });
        }
      }
      results += batch.rows;
      transitions += batch.transitions.length;
    }
    // Array.prototype.sort is stable: rows of one check keep their order (insertion order breaks time ties).
    if (this.options.sortRows) rows.sort((a, b) => a.check.ref - b.check.ref || a.t - b.t);

    // Minute buckets touched by this transaction: start → [min rowid, max rowid].
    const minutes = new Map<number, [number, number]>();
    let lastStart = NaN;
    let last: [number, number] = [0, 0];
    // Checks whose checks.last_minute this transaction moves forward (reloaded with the names on a rollback).
    const advanced = new Set<CheckEntry>();
    for (const { check, t, part, k } of rows) {
      const { nums, refs, strs } = part;
      const a = k * NUMS_PER_ROW;
      const b = k * REFS_PER_ROW;
      const metrics = refs[b + 6]!;
      const info = st.insertResult.run(
        check.ref,
        check.serviceRef,
        t,
        nums[a + 3]!,
        names.internReason(strs[refs[b + 4]!]!),
        Math.max(0, Math.round(nums[a + 1]! * 1000)),
        nums[a + 2]!,
        truncateOutput(strs[refs[b + 5]!]!),
        metrics < 0 ? null : strs[metrics]!,
        score(nums[a + 4]!),
        score(nums[a + 5]!),
      );
      const id = Number(info.lastInsertRowid);
      const start = t - mod(t, MINUTE_MS);
      if (check.lastMinute === null || start > check.lastMinute) {
        check.lastMinute = start;
        advanced.add(check);
      }
      if (start !== lastStart) {
        lastStart = start;
        const known = minutes.get(start);
        if (known) last = known;
        else {
          last = [id, id];
          minutes.set(start, last);
        }
      }
      if (id < last[0]) last[0] = id;
      if (id > last[1]) last[1] = id;
    }
    const hours = new Map<number, [number, number]>();
    for (const [start, range] of minutes) {
      st.touchBucket.run(0, start, range[0], range[1]);
      const hour = start - mod(start, HOUR_MS);
      const h = hours.get(hour);
      if (!h) hours.set(hour, [range[0], range[1]]);
      else {
        h[0] = Math.min(h[0], range[0]);
        h[1] = Math.max(h[1], range[1]);
      }
    }
    for (const [start, range] of hours) st.touchBucket.run(1, start, range[0], range[1]);
    for (const check of advanced) st.advanceLastMinute.run(check.lastMinute, check.ref, check.lastMinute);

    if (results) st.addCounter.run(results, 'results');
    if (transitions) {
      let lastId = st.getCounter.get('last_transition_id') as number;
      for (const batch of batches) for (const tr of batch.transitions) lastId = Math.max(lastId, this.writeTransition(tr, lastId));
      st.setCounter.run(lastId, 'last_transition_id');
      st.addCounter.run(transitions, 'transitions');
    }
  }

  /**
   * Insert one transition; returns its id. The id it carries is kept (it is
   * the SSE id clients resume from) unless a row already has it (a second
   * writer on the file): then, as for a transition without one, the next id
   * above `lastId`, the highest ever stored.
   */
  private writeTransition(tr: TransitionRecord, lastId: number): number {
    const { st, names } = this;
    const level = LEVEL_CODE[tr.level ?? 'check'];
    let checkRef = 0;
    let serviceRef: number;
    let instanceRef = 0;
    if (level === 0) {
      const check = names.internCheck(tr.checkId, tr.service, tr.instance, names.cachedCheck(tr.checkId)?.kind ?? 'unknown');
      checkRef = check.ref;
      serviceRef = check.serviceRef;
      instanceRef = check.instanceRef;
    } else {
      serviceRef = names.internService(tr.service);
      if (level === 1) instanceRef = names.internInstance(serviceRef, tr.instance);
    }
    const id = tr.id !== undefined && st.transitionExists.get(tr.id) === undefined ? tr.id : lastId + 1;
    const at = Math.floor(tr.at);
    const to = STATUS_CODE[tr.to] ?? 3;
    st.insertTransition.run(
      id,
      level,
      checkRef,
      serviceRef,
      instanceRef,
      at,
      STATUS_CODE[tr.from] ?? 3,
      to,
      names.internReason(tr.reason),
      truncateOutput(tr.output ?? ''),
    );
    if (level !== 0) this.timeline.apply({ level, serviceRef, instanceRef }, id, at, to);
    return id;
  }
}

/** Storage code of each transition level (transitions.level). */
export const LEVEL_CODE = { check: 0, instance: 1, service: 2 } as const satisfies Record<TransitionLevel, number>;

/** A score as stored: an integer 0–100, or null for none (NaN in the encoded row). */
function score(value: number): number | null {
  return Number.isNaN(value) ? null : Math.round(value);
}
