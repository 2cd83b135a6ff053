/**
 * Reads of transitions from the SQLite store: keyset pages on (at, id) by
 * check, instance, service or none, optionally narrowed to some levels;
 * transitions after an id (SSE resumes); and the ids' high-water marks.
 *
 * Each selector runs on its own index (check_ref, service_ref or
 * instance_ref, each followed by at; or at alone), so a page is one index
 * range read in order and LIMIT stops it. An instance name shared by several
 * services reads one range per instance and merges.
 */
import type Database from 'better-sqlite3';
import { UsageError } from '../core/errors.js';
import type { SqliteNames } from './sqlite-names.js';
import { mergePages, pageLimit, pageRequest, toPage, type PageRequest } from './sqlite-paging.js';
import { STATUS_OF_CODE, TRANSITION_LEVELS, type Page, type RangeQuery, type TransitionIds, type TransitionLevel, type TransitionRecord } from './types.js';

const COLS = 'id, check_ref, at, level, service_ref, instance_ref, from_status, to_status, reason_ref, output';
/** Raw row: id, check_ref, at, level, service_ref, instance_ref, from_status, to_status, reason_ref, output. */
type TransitionRow = [number, number, number, number, number, number, number, number, number, string];

/** The index a page reads: one key column (or none) and its value. */
type Target = { key: 'check_ref' | 'service_ref' | 'instance_ref' | null; refs: number[] } | null;

/** Transition reads on the main connection. */
export class SqliteTransitions {
  /** Page statements by shape, prepared on first use. */
  private readonly pages = new Map<string, Database.Statement>();
  private readonly st;

  constructor(
    private readonly db: Database.Database,
    private readonly names: SqliteNames,
  ) {
    this.st = {
      instancesNamed: db.prepare('SELECT id FROM instances WHERE name = ? ORDER BY id').pluck(),
      after: db.prepare(`SELECT ${COLS} FROM transitions WHERE id > ? ORDER BY id LIMIT ?`).raw(),
      counter: db.prepare('SELECT value FROM meta WHERE key = ?').pluck(),
    };
  }

  /** A page of transitions in [from, to), by (at, id). */
  page(query: RangeQuery): Page<TransitionRecord> {
    const req = pageRequest(query);
    const levels = levelCodes(query.levels);
    const target = this.resolve(query);
    let rows: TransitionRow[];
    if (!target || levels.length === 0) rows = [];
    else if (target.key === null) rows = this.run(null, 0, levels, req);
    else if (target.refs.length === 1) rows = this.run(target.key, target.refs[0]!, levels, req);
    else
      rows = mergePages(
        target.refs.map((ref) => this.run(target.key, ref, levels, req)),
        req,
      );
    return toPage(rows, req, (row) => this.toRecord(row));
  }

  /** Transitions with id > afterId, by id. */
  after(afterId: number, limit: number): TransitionRecord[] {
    if (!Number.isFinite(afterId)) throw new UsageError(`afterId: ${afterId} is not a transition id`);
    return (this.st.after.all(afterId, pageLimit(limit)) as TransitionRow[]).map((row) => this.toRecord(row));
  }

  ids(): TransitionIds {
    return { last: this.st.counter.get('last_transition_id') as number, horizon: this.st.counter.get('transition_horizon') as number };
  }

  private resolve(query: RangeQuery): Target {
    const { checkId, service, instance } = query;
    if (checkId !== undefined) {
      if (service !== undefined || instance !== undefined) {
        throw new UsageError('query: give checkId alone, or service and/or instance, not both');
      }
      const ref = this.names.check(checkId)?.ref;
      return ref === undefined ? null : { key: 'check_ref', refs: [ref] };
    }
    if (instance !== undefined) {
      if (service !== undefined) {
        const ref = this.names.instanceRef(service, instance);
        return ref === undefined ? null : { key: 'instance_ref', refs: [ref] };
      }
      const refs = this.st.instancesNamed.all(instance) as number[];
      return refs.length ? { key: 'instance_ref', refs } : null;
    }
    if (service !== undefined) {
      const ref = this.names.serviceRef(service);
      return ref === undefined ? null : { key: 'service_ref', refs: [ref] };
    }
    return { key: null, refs: [] };
  }

  /** Up to limit + 1 rows of one index range. */
  private run(key: 'check_ref' | 'service_ref' | 'instance_ref' | null, ref: number, levels: number[], req: PageRequest): TransitionRow[] {
    const after = req.cursor !== null;
    const desc = req.order === 'desc';
    const allLevels = levels.length === TRANSITION_LEVELS.length;
    const shape = `${key}|${desc}|${after}|${allLevels ? '' : levels.join(',')}`;
    let stmt = this.pages.get(shape);
    if (!stmt) {
      const dir = desc ? ' DESC' : '';
      const where = [
        ...(key ? [`${key} = ?`] : []),
        'at >= ? AND at < ?',
        ...(after ? [`(at, id) ${desc ? '<' : '>'} (?, ?)`] : []),
        ...(allLevels ? [] : [`level IN (${levels.join(', ')})`]),
      ];
      stmt = this.db.prepare(`SELECT ${COLS} FROM transitions WHERE ${where.join(' AND ')} ORDER BY at${dir}, id${dir} LIMIT ?`).raw();
      this.pages.set(shape, stmt);
    }
    const args: number[] = key ? [ref] : [];
    args.push(req.from, req.to);
    if (req.cursor) args.push(req.cursor[0], req.cursor[1]);
    args.push(req.limit + 1);
    return stmt.all(...args) as TransitionRow[];
  }

  private toRecord(row: TransitionRow): TransitionRecord {
    const [id, checkRef, at, level, serviceRef, instanceRef, from, to, reasonRef, output] = row;
    const check = level === 0 ? this.names.checkOfRef(checkRef) : null;
    return {
      id,
      level: TRANSITION_LEVELS[level] ?? 'check',
      checkId: check?.checkId ?? '',
      service: check?.service ?? this.names.serviceOfRef(serviceRef),
      instance: check?.instance ?? (instanceRef ? this.names.instanceOfRef(instanceRef) : ''),
      from: STATUS_OF_CODE[from] ?? 'UNKNOWN',
      to: STATUS_OF_CODE[to] ?? 'UNKNOWN',
      reason: this.names.reasonOfRef(reasonRef),
      output,
      at,
    };
  }
}

/** Storage codes of the levels asked for (all when left out); a UsageError naming `levels` for a bad one. */
function levelCodes(levels: readonly TransitionLevel[] | undefined): number[] {
  if (levels === undefined) return [0, 1, 2];
  return [...new Set(levels)]
    .map((l) => {
      const code = TRANSITION_LEVELS.indexOf(l);
      if (code < 0) throw new UsageError(`levels: "${String(l)}" is not one of ${TRANSITION_LEVELS.join(', ')}`);
      return code;
    })
    .sort();
}
