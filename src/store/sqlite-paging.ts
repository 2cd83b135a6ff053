/**
 * Keyset pages of the SQLite store: the cursor format, the checks of page
 * parameters, and the prepared statements that read one page of a table in
 * (time, rowid) order. Ties on the time are broken by rowid (insertion
 * order), so a cursor (time, rowid) names one exact position and stays valid
 * while rows are added.
 */
import type Database from 'better-sqlite3';
import { UsageError } from '../core/errors.js';
import { minuteOf, MINUTE_MS, mod, offsetOf } from './sqlite-schema.js';
import { DEFAULT_PAGE, MAX_PAGE } from './types.js';

/** Bounds used for an open end of a time range, epoch ms. */
export const MIN_TIME = -Number.MAX_SAFE_INTEGER;
export const MAX_TIME = Number.MAX_SAFE_INTEGER;

/** The four statements of one keyset-paged index range. */
export interface PageStatements {
  asc: Database.Statement;
  ascAfter: Database.Statement;
  desc: Database.Statement;
  descAfter: Database.Statement;
  /** Statements of `minutePages`: they take the bucket start bounds after the key. */
  byMinute?: boolean;
}

/** A row whose first three columns are rowid, a ref and the time. */
export type KeyedRow = [number, number, number, ...unknown[]];

/** Throw a UsageError naming `from` or `to` when it is given and not a finite time. */
export function checkRange(from: number | undefined, to: number | undefined): void {
  for (const [name, v] of [
    ['from', from],
    ['to', to],
  ] as const) {
    if (v !== undefined && !Number.isFinite(v)) throw new UsageError(`${name}: ${v} is not a time (epoch ms)`);
  }
}

/** The page size of a query: DEFAULT_PAGE when left out, else an integer 1..MAX_PAGE. */
export function pageLimit(limit: number | undefined): number {
  if (limit === undefined) return DEFAULT_PAGE;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE) {
    throw new UsageError(`limit: ${limit} is not an integer from 1 to ${MAX_PAGE}`);
  }
  return limit;
}

/** The order of a query, asc when left out. */
export function pageOrder(order: unknown): 'asc' | 'desc' {
  if (order === undefined) return 'asc';
  if (order !== 'asc' && order !== 'desc') throw new UsageError(`order: "${String(order)}" is not asc or desc`);
  return order;
}

/** Opaque cursor: direction, time and rowid of the last row of the page, base 36. */
export function encodeCursor(order: 'asc' | 'desc', time: number, id: number): string {
  return `${order === 'asc' ? 'a' : 'd'}${time.toString(36)}.${id.toString(36)}`;
}

/** The (time, rowid) of a cursor of a query in `order`; a UsageError naming `cursor` otherwise. */
export function decodeCursor(cursor: string, order: 'asc' | 'desc'): [number, number] {
  const m = /^([ad])(-?[0-9a-z]+)\.([0-9a-z]+)$/.exec(cursor);
  if (!m || (m[1] === 'a') !== (order === 'asc')) {
    throw new UsageError(`cursor: "${cursor}" is not a cursor of this query (pass nextCursor back unchanged, with the same order)`);
  }
  return [parseInt(m[2]!, 36), parseInt(m[3]!, 36)];
}

/**
 * Keyset pages of results by check or service (indexes results_minute_*,
 * see sqlite-schema.ts): the outer loop walks the minutes of `buckets` in
 * page order, each one index seek for the key, so rows come out in order
 * without a sort and LIMIT stops the walk. In the first and last minute the
 * offset bounds let the seek start at the page's edge (the indexes hold the
 * time in the minute, not the time). Parameters: key ref, bucket start
 * bounds (both exclusive, ms), first minute's start and lowest offset, last
 * minute's start and offset bound (exclusive), from, to, [cursor time,
 * cursor id,] limit.
 */
export function minutePages(db: Database.Database, resultCols: string, key: 'check_ref' | 'service_ref'): PageStatements {
  const cols = resultCols
    .split(', ')
    .map((c) => `r.${c}`)
    .join(', ');
  const page = (desc: boolean, after: boolean): Database.Statement => {
    const dir = desc ? ' DESC' : '';
    const keyset = after ? ` AND (r.observed_at, r.id) ${desc ? '<' : '>'} (?, ?)` : '';
    const offset = offsetOf('r.observed_at');
    return db.prepare(
      `SELECT ${cols} FROM buckets b CROSS JOIN results r
         ON ${minuteOf('r.observed_at')} = b.start / ${MINUTE_MS} AND r.${key} = ?
       WHERE b.resolution = 0 AND b.start > ? AND b.start < ?
         AND ${offset} >= CASE WHEN b.start = ? THEN ? ELSE 0 END
         AND ${offset} < CASE WHEN b.start = ? THEN ? ELSE ${MINUTE_MS} END
         AND r.observed_at >= ? AND r.observed_at < ?${keyset}
       ORDER BY b.start${dir}, ${offset}${dir}, r.id${dir} LIMIT ?`,
    );
  };
  return { asc: page(false, false), ascAfter: page(false, true), desc: page(true, false), descAfter: page(true, true), byMinute: true };
}

/** A page request after its parameters were checked. */
export interface PageRequest {
  from: number;
  to: number;
  limit: number;
  order: 'asc' | 'desc';
  cursor: [number, number] | null;
}

/** Check the paging fields of a range query and fill in their defaults. */
export function pageRequest(query: { from?: number; to?: number; limit?: number; order?: unknown; cursor?: string | null }): PageRequest {
  const limit = pageLimit(query.limit);
  const order = pageOrder(query.order);
  const cursor = query.cursor ? decodeCursor(query.cursor, order) : null;
  checkRange(query.from, query.to);
  return { from: query.from ?? MIN_TIME, to: query.to ?? MAX_TIME, limit, order, cursor };
}

/** Rows of one page (up to limit + 1, to tell whether more follow) of one index range. */
export function runPage<Row extends KeyedRow>(stmts: PageStatements, key: number, req: PageRequest): Row[] {
  const { from, to, cursor, order, limit } = req;
  const args: number[] = [key];
  if (stmts.byMinute) {
    // Only minutes that can hold a row of this page: [lo, hi) in time, the cursor included.
    const lo = cursor && order === 'asc' ? Math.max(from, cursor[0]) : from;
    const hi = cursor && order === 'desc' ? Math.min(to, cursor[0] + 1) : to;
    const loOffset = mod(lo, MINUTE_MS);
    const hiOffset = mod(hi, MINUTE_MS);
    args.push(lo - MINUTE_MS, hi, lo - loOffset, loOffset, hi - hiOffset, hiOffset);
  }
  args.push(from, to);
  if (cursor) args.push(cursor[0], cursor[1]);
  args.push(limit + 1);
  const stmt = order === 'asc' ? (cursor ? stmts.ascAfter : stmts.asc) : cursor ? stmts.descAfter : stmts.desc;
  return stmt.raw().all(...args) as Row[];
}

/**
 * Merge pages of several index ranges (each already in order) and keep the
 * first limit + 1 rows.
 */
export function mergePages<Row extends KeyedRow>(pages: Row[][], req: PageRequest): Row[] {
  const rows = pages.flat();
  const dir = req.order === 'asc' ? 1 : -1;
  rows.sort((a, b) => dir * (a[2] - b[2] || a[0] - b[0]));
  rows.length = Math.min(rows.length, req.limit + 1);
  return rows;
}

/** The page of `rows` (up to limit + 1 of them), mapped, with the cursor of its last row when more follow. */
export function toPage<Row extends KeyedRow, T>(rows: Row[], req: PageRequest, map: (row: Row) => T): { items: T[]; nextCursor: string | null } {
  const more = rows.length > req.limit;
  if (more) rows.length = req.limit;
  const last = rows[rows.length - 1];
  return { items: rows.map(map), nextCursor: more && last ? encodeCursor(req.order, last[2], last[0]) : null };
}
