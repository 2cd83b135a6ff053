/**
 * Reads of results from the SQLite store: keyset pages by check, service or
 * instance (sqlite-paging.ts), and the newest result of many checks in one
 * query. Transitions are read by sqlite-transitions.ts.
 *
 * A page by check or service is one index range; an instance query runs the
 * check page once per check of the instance (limit + 1 rows each) and
 * merges, so its cost grows with checks per instance, not with history.
 */
import type Database from 'better-sqlite3';
import { UsageError } from '../core/errors.js';
import type { SqliteNames } from './sqlite-names.js';
import { mergePages, minutePages, pageRequest, runPage, toPage, type KeyedRow, type PageRequest, type PageStatements } from './sqlite-paging.js';
import { minuteOf, MINUTE_MS, offsetOf } from './sqlite-schema.js';
import { STATUS_OF_CODE, type Page, type RangeQuery, type ResultRecord, type Selector } from './types.js';

/** Raw result row: id, check_ref, observed_at, status, reason_ref, duration_us, attempts, output, metrics, check_score, instance_score. */
type ResultRow = [number, number, number, number, number, number, number, string, string | null, number | null, number | null];

/** A selector resolved to refs: one index range, several to merge, or nothing. */
type Target = { by: 'check'; refs: number[] } | { by: 'service'; ref: number } | { by: 'none' };

const RESULT_COLS = 'id, check_ref, observed_at, status, reason_ref, duration_us, attempts, output, metrics, check_score, instance_score';

/** Result reads on the main connection. */
export class SqliteQueries {
  private readonly st;
  /** The result page statements (for the query-plan test). */
  readonly resultPages: { byCheck: PageStatements; byService: PageStatements };

  constructor(
    db: Database.Database,
    private readonly names: SqliteNames,
  ) {
    this.st = {
      resultsByCheck: minutePages(db, RESULT_COLS, 'check_ref'),
      resultsByService: minutePages(db, RESULT_COLS, 'service_ref'),
      checksOfInstance: db.prepare('SELECT c.id FROM checks c JOIN instances i ON i.id = c.instance_id WHERE i.name = ? ORDER BY c.id').pluck(),
      checksOfServiceInstance: db
        .prepare(
          `SELECT c.id FROM checks c JOIN instances i ON i.id = c.instance_id
           WHERE i.name = ? AND i.service_id = (SELECT id FROM services WHERE name = ?) ORDER BY c.id`,
        )
        .pluck(),
      // json_each yields the refs; the correlated subquery walks the minutes back from the check's
      // last_minute, one index seek each: the first one holds its newest row (unless retention took it).
      latest: db
        .prepare(
          `SELECT r.${RESULT_COLS.split(', ').join(', r.')} FROM json_each(?) j
           JOIN checks c ON c.id = j.value
           JOIN results r ON r.id = (
             SELECT r2.id FROM buckets b CROSS JOIN results r2
               ON ${minuteOf('r2.observed_at')} = b.start / ${MINUTE_MS} AND r2.check_ref = c.id
             WHERE b.resolution = 0 AND b.start <= c.last_minute
             ORDER BY b.start DESC, ${offsetOf('r2.observed_at')} DESC, r2.id DESC LIMIT 1)`,
        )
        .raw(),
    };
    this.resultPages = { byCheck: this.st.resultsByCheck, byService: this.st.resultsByService };
  }

  /** A page of results in [from, to), by (observedAt, insertion order). */
  results(query: RangeQuery): Page<ResultRecord> {
    return this.page(query, this.st.resultsByCheck, this.st.resultsByService, (row: ResultRow) => this.toResult(row));
  }

  /** The newest result of each check id that has one, in ONE query. */
  latest(checkIds: readonly string[]): Map<string, ResultRecord> {
    const out = new Map<string, ResultRecord>();
    if (checkIds.length === 0) return out;
    if (!this.names.hasAll(checkIds)) this.names.refresh();
    const refs: number[] = [];
    for (const id of checkIds) {
      const entry = this.names.cachedCheck(id);
      if (entry) refs.push(entry.ref);
    }
    if (refs.length === 0) return out;
    for (const row of this.st.latest.all(JSON.stringify(refs)) as ResultRow[]) {
      const r = this.toResult(row);
      out.set(r.checkId, r);
    }
    return out;
  }

  private page<Row extends KeyedRow, T>(query: RangeQuery, byCheck: PageStatements, byService: PageStatements, map: (row: Row) => T): Page<T> {
    const req: PageRequest = pageRequest(query);
    const target = this.resolve(query);
    let rows: Row[];
    if (target.by === 'none') rows = [];
    else if (target.by === 'service') rows = runPage<Row>(byService, target.ref, req);
    else if (target.refs.length === 1) rows = runPage<Row>(byCheck, target.refs[0]!, req);
    else
      rows = mergePages(
        target.refs.map((ref) => runPage<Row>(byCheck, ref, req)),
        req,
      );
    return toPage(rows, req, map);
  }

  private resolve(query: Selector): Target {
    const { checkId, service, instance } = query;
    if (checkId !== undefined) {
      if (service !== undefined || instance !== undefined) {
        throw new UsageError('query: give checkId alone, or service and/or instance, not both');
      }
      const ref = this.names.check(checkId)?.ref;
      return ref === undefined ? { by: 'none' } : { by: 'check', refs: [ref] };
    }
    if (instance !== undefined) {
      const refs = (service !== undefined ? this.st.checksOfServiceInstance.all(instance, service) : this.st.checksOfInstance.all(instance)) as number[];
      return refs.length ? { by: 'check', refs } : { by: 'none' };
    }
    if (service !== undefined) {
      const ref = this.names.serviceRef(service);
      return ref === undefined ? { by: 'none' } : { by: 'service', ref };
    }
    throw new UsageError('query: give checkId, service or instance');
  }

  private toResult(row: ResultRow): ResultRecord {
    const check = this.names.checkOfRef(row[1]);
    return {
      checkId: check.checkId,
      service: check.service,
      instance: check.instance,
      kind: check.kind,
      status: STATUS_OF_CODE[row[3]] ?? 'UNKNOWN',
      reason: this.names.reasonOfRef(row[4]),
      durationMs: row[5] / 1000,
      observedAt: row[2],
      attempts: row[6],
      output: row[7],
      metrics: row[8] === null ? null : (JSON.parse(row[8]) as Record<string, number>),
      checkScore: row[9],
      instanceScore: row[10],
    };
  }
}
