/**
 * The default history store: one embedded SQLite file (better-sqlite3), WAL
 * journal, `synchronous=NORMAL` for batched history (a committed batch
 * survives a crash of the process; an OS crash may lose the last batches) and
 * `synchronous=FULL` for registrations (fsync before the API acknowledges).
 *
 * Storage layout (SCHEMA in sqlite-schema.ts):
 * - Names are interned: services, instances, checks and reasons live in small
 *   lookup tables; a result row holds integer refs, the status as an integer
 *   code (types.ts STATUS_CODE), the duration in µs and the epoch ms time.
 * - results are indexed by (minute, check_ref, ms in the minute) and (minute,
 *   service_ref, ms in the minute) (sqlite-schema.ts says why the minute
 *   leads). SQLite appends the rowid to every index entry, so both serve
 *   keyset pages on (time, rowid) without a sort; a page walks the minutes
 *   listed in `buckets`, one index seek each. An instance query runs the check page
 *   once per check of the instance (LIMIT page+1 each) and merges: cost grows
 *   with checks per instance, not with history.
 * - `buckets` remembers, for every minute and hour bucket written, the rowid
 *   range its rows fell in and a generation bumped by each write touching it.
 *   Rollups scan that rowid range (sequential, no time index needed) and
 *   retention deletes by it; a bucket whose generation moved since its last
 *   rollup is rolled up again, so late rows are not lost from rollups.
 *
 * better-sqlite3 is synchronous: each method does its work before its promise
 * settles. Work is bounded per call (a write is one batch; maintain yields
 * between chunks of at most `chunkRows` rows). A worker thread with its own
 * connection copies the WAL back into the database file (PASSIVE
 * checkpoints), so a flush only appends to the WAL and never waits for a
 * checkpoint's copy and fsync (measured ~1.7× the inline rate).
 *
 * With `writes: 'worker'` the result/transition transaction runs on a
 * writer thread instead (sqlite-write-worker.ts, its own connection): the
 * main thread only encodes the batch into messages (500-row parts in
 * columns, sqlite-write-message.ts) and
 * `write` resolves when the worker reports the commit. Registrations stay on
 * the main connection (synchronous=FULL, durable before they resolve); they
 * and maintenance may wait (busy_timeout) for a worker transaction to end.
 *
 * Write cost (bench/store.ts): a flush appends to the table and to the
 * current minute's few leaf pages of each index: well under 0.1 dirty page
 * (WAL frame) per row whatever the number of checks and services, where the
 * (check, time) index of schema 1 cost ~0.5 with 10k checks (one tail page
 * per check per transaction).
 */
import Database from 'better-sqlite3';
import { mkdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { Worker } from 'node:worker_threads';
import { HealthmeshError, UsageError } from '../core/errors.js';
import { BucketAccumulator } from './rollup-math.js';
import { MIGRATIONS, minuteOf, MINUTE_MS, offsetOf, SCHEMA, SCHEMA_VERSION } from './sqlite-schema.js';
import { encodeResults } from './sqlite-write-message.js';
import { WRITE_WORKER_SOURCE } from './sqlite-write-worker.js';
import {
  DEFAULT_PAGE,
  DEFAULT_RETENTION,
  MAX_PAGE,
  RESOLUTION_MS,
  STATUS_CODE,
  STATUS_OF_CODE,
  truncateOutput,
  type HistoryStore,
  type MaintainOptions,
  type MaintainReport,
  type Page,
  type RangeQuery,
  type Registration,
  type Resolution,
  type ResultRecord,
  type RetentionPolicy,
  type Rollup,
  type RollupQuery,
  type StoreStats,
  type TransitionRecord,
  type WriteBatch,
} from './types.js';

export { SCHEMA_VERSION } from './sqlite-schema.js';

/** Options of the SQLite backend. */
export interface SqliteStoreOptions {
  /** Database file; its directory is created if missing. ":memory:" works (no WAL). */
  path: string;
  /** Default retention; `maintain` may override per run. */
  retention?: Partial<RetentionPolicy>;
  /** Page cache size in MiB (default 64). */
  cacheSizeMb?: number;
  /**
   * Who copies the WAL back into the database file (and fsyncs it):
   * "background" (default for files) a worker thread with its own
   * connection, nudged after each write, so flushes only append to the WAL;
   * "inline" SQLite's automatic checkpoint inside the committing flush.
   */
  checkpoints?: 'background' | 'inline';
  /**
   * Where result/transition writes run: "worker" a dedicated writer thread
   * with its own connection (sqlite-write-worker.ts), so a flush costs the
   * main thread only the copy of the batch into the message; `write` resolves
   * once its transaction committed. Batches queued behind a running
   * transaction are committed together (each still all-or-nothing).
   * "inline" (default) runs the transaction on the calling thread, so
   * `write` has committed before its promise settles. ":memory:" is always
   * inline. Registrations, maintenance and reads use the main connection in
   * both modes.
   */
  writes?: 'worker' | 'inline';
  /** Worker writes: insert each transaction's results ordered by (check, time) (default false). */
  sortRows?: boolean;
  /** Worker writes: most rows committed in one group transaction (default 50 000). */
  maxGroupRows?: number;
}

/**
 * The background checkpointer (CommonJS, run with `eval`). Each 'nudge'
 * message asks for a PASSIVE checkpoint; nudges that arrive while one runs
 * coalesce into one more run. PASSIVE never waits for or blocks the writer
 * and does not reset the WAL, so the writer's page cache stays valid; the
 * writer itself restarts the WAL at its next transaction once everything is
 * copied back (and journal_size_limit trims the file). A TRUNCATE here was
 * measured to hold flushes up for up to ~1.3 s on a 10M-row table.
 * busy_timeout 0: a busy attempt is simply retried at the next nudge.
 */
const CHECKPOINTER_SOURCE = String.raw`'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.path);
db.pragma('busy_timeout = 0');
db.pragma('synchronous = NORMAL');
let pending = false;
let scheduled = false;
const run = () => {
  scheduled = false;
  if (!pending || !db.open) return;
  pending = false;
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch {
    // SQLITE_BUSY or a closing database: the next nudge tries again.
  }
  if (pending) { scheduled = true; setImmediate(run); }
};
parentPort.on('message', (msg) => {
  if (msg === 'stop') {
    db.close();
    parentPort.close();
    return;
  }
  pending = true;
  if (!scheduled) { scheduled = true; setImmediate(run); }
});
`;

const RES_CODE: Record<Resolution, number> = { minute: 0, hour: 1 };
const ROLLUP_TABLE: Record<Resolution, string> = { minute: 'rollups_minute', hour: 'rollups_hour' };
const MIN_TIME = -Number.MAX_SAFE_INTEGER;
const MAX_TIME = Number.MAX_SAFE_INTEGER;

interface CheckEntry {
  ref: number;
  checkId: string;
  serviceRef: number;
  service: string;
  instance: string;
  kind: string;
  /** checks.last_minute as this connection last wrote or read it (ms, null: no result yet). */
  lastMinute: number | null;
}

/** A selector resolved to refs: one index range, several to merge, or nothing. */
type Target = { by: 'check'; refs: number[] } | { by: 'service'; ref: number } | { by: 'none' };

/** Raw result row: id, check_ref, observed_at, status, reason_ref, duration_us, attempts, output, metrics. */
type ResultRow = [number, number, number, number, number, number, number, string, string | null];
/** Raw transition row: id, check_ref, at, from_status, to_status, reason_ref, output. */
type TransitionRow = [number, number, number, number, number, number, string];

const yieldNow = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Open (creating if needed) a SQLite history store. */
export async function openSqliteStore(options: SqliteStoreOptions): Promise<SqliteHistoryStore> {
  return new SqliteHistoryStore(options);
}

/** HistoryStore on one SQLite file. Use `openSqliteStore`. */
export class SqliteHistoryStore implements HistoryStore {
  readonly backend = 'sqlite';
  /** The better-sqlite3 handle, for SQLite-specific tests and tools. */
  readonly db: Database.Database;
  readonly path: string;
  private readonly retention: RetentionPolicy;
  private closed = false;
  private maintaining: Promise<unknown> = Promise.resolve();
  private checkpointer: Worker | null = null;
  /** The writer thread (writes: 'worker'), started lazily at the first write. */
  private writerThread: Worker | null = null;
  private readonly writerOptions: { cacheSizeKib: number; autocheckpoint: number; sortRows: boolean; maxGroupRows: number } | null;
  /** Writes posted to the writer thread and not yet answered, by message id. */
  private readonly pendingWrites = new Map<number, { resolve: () => void; reject: (err: Error) => void }>();
  private nextWriteId = 1;
  /** Posting of the previous batch's parts; batches are posted one after another, in call order. */
  private posting: Promise<void> = Promise.resolve();
  /** Threads started by this store that have not exited yet. */
  private liveThreadCount = 0;

  private readonly checksByKey = new Map<string, CheckEntry>();
  private readonly checksByRef = new Map<number, CheckEntry>();
  private readonly servicesByName = new Map<string, number>();
  private readonly instancesByKey = new Map<string, number>();
  private readonly reasonsByText = new Map<string, number>();
  private readonly reasonsByRef = new Map<number, string>();

  private readonly st: Statements;
  private readonly writeTx: (batch: WriteBatch) => void;

  constructor(options: SqliteStoreOptions) {
    this.path = options.path;
    this.retention = { ...DEFAULT_RETENTION, ...options.retention };
    if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true });
    this.db = new Database(options.path);
    try {
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = NORMAL');
      this.db.pragma('busy_timeout = 5000');
      this.db.pragma(`cache_size = ${-Math.round((options.cacheSizeMb ?? 64) * 1024)}`);
      this.db.pragma('temp_store = MEMORY');
      // Inline checkpoints every ~40 MB of WAL instead of 4 MB: the hot index
      // pages that consecutive flushes rewrite are copied (and fsynced) once
      // instead of once per flush. With the background checkpointer this is a
      // fallback (~100 MB) for when the worker cannot keep up.
      const background = options.checkpoints !== 'inline' && options.path !== ':memory:';
      const autocheckpoint = background ? 25_000 : 10_000;
      this.db.pragma(`wal_autocheckpoint = ${autocheckpoint}`);
      this.writerOptions =
        options.writes === 'worker' && options.path !== ':memory:'
          ? {
              cacheSizeKib: -Math.round((options.cacheSizeMb ?? 64) * 1024),
              autocheckpoint,
              sortRows: options.sortRows ?? false,
              maxGroupRows: Math.max(1, options.maxGroupRows ?? 50_000),
            }
          : null;
      // Let the WAL shrink back after a checkpoint instead of keeping its peak size.
      this.db.pragma('journal_size_limit = 67108864');
      this.migrate();
      this.st = prepareStatements(this.db);
      this.writeTx = this.db.transaction((batch: WriteBatch) => this.writeRows(batch));
      this.loadNames();
      if (background) {
        this.checkpointer = startCheckpointer(options.path);
        this.trackThread(this.checkpointer);
      }
    } catch (err) {
      this.db.close();
      throw err;
    }
  }

  private migrate(): void {
    const version = this.db.pragma('user_version', { simple: true }) as number;
    if (version === SCHEMA_VERSION) return;
    if (version > SCHEMA_VERSION) {
      throw new HealthmeshError(
        'store_schema',
        `${this.path}: history schema version ${version} is newer than this healthmesh supports (${SCHEMA_VERSION}); upgrade healthmesh`,
      );
    }
    this.db.transaction(() => {
      if (version === 0) this.db.exec(SCHEMA);
      else for (const step of MIGRATIONS.slice(version - 1)) this.db.exec(step);
      this.db.pragma(`user_version = ${SCHEMA_VERSION}`);
    })();
  }

  // ---------------------------------------------------------------- names

  /** Highest ref of each name table when the names were last loaded. */
  private namesVersion = '';

  /**
   * Reload the names if another connection (a daemon next to this CLI) added
   * some since the last load; a lookup of an unknown name costs one small
   * query, not a reload.
   */
  private refreshNames(): void {
    if (this.st.namesVersion.get() !== this.namesVersion) this.loadNames();
  }

  /** (Re)load the interned names; called at open, after a failed write and by refreshNames. */
  private loadNames(): void {
    this.namesVersion = this.st.namesVersion.get() as string;
    this.checksByKey.clear();
    this.checksByRef.clear();
    this.servicesByName.clear();
    this.instancesByKey.clear();
    this.reasonsByText.clear();
    this.reasonsByRef.clear();
    for (const [name, id] of this.st.allServices.all() as [string, number][]) this.servicesByName.set(name, id);
    for (const [sid, name, id] of this.st.allInstances.all() as [number, string, number][]) {
      this.instancesByKey.set(`${sid}\u0000${name}`, id);
    }
    for (const [ref, checkId, serviceRef, service, instance, kind, lastMinute] of this.st.allChecks.all() as [
      number,
      string,
      number,
      string,
      string,
      string,
      number | null,
    ][]) {
      const entry = { ref, checkId, serviceRef, service, instance, kind, lastMinute };
      this.checksByKey.set(checkId, entry);
      this.checksByRef.set(ref, entry);
    }
    for (const [id, reason] of this.st.allReasons.all() as [number, string][]) {
      this.reasonsByText.set(reason, id);
      this.reasonsByRef.set(id, reason);
    }
  }

  /** Ref of a check, interning it (and its service and instance) on first sight. Inside a write transaction. */
  private internCheck(checkId: string, service: string, instance: string, kind: string): CheckEntry {
    const known = this.checksByKey.get(checkId);
    if (known) {
      if (known.kind !== kind) {
        this.st.updateKind.run(kind, known.ref);
        known.kind = kind;
      }
      return known;
    }
    let serviceRef = this.servicesByName.get(service);
    if (serviceRef === undefined) {
      this.st.insertService.run(service);
      serviceRef = this.st.serviceId.get(service) as number;
      this.servicesByName.set(service, serviceRef);
    }
    const instanceKey = `${serviceRef}\u0000${instance}`;
    let instanceRef = this.instancesByKey.get(instanceKey);
    if (instanceRef === undefined) {
      this.st.insertInstance.run(serviceRef, instance);
      instanceRef = this.st.instanceId.get(serviceRef, instance) as number;
      this.instancesByKey.set(instanceKey, instanceRef);
    }
    this.st.insertCheck.run(checkId, serviceRef, instanceRef, kind);
    const row = this.st.checkRow.get(checkId) as [number, number, number, string, number | null];
    const entry: CheckEntry = { ref: row[0], checkId, serviceRef: row[1], service, instance, kind: row[3], lastMinute: row[4] };
    this.checksByKey.set(checkId, entry);
    this.checksByRef.set(entry.ref, entry);
    return entry;
  }

  private internReason(reason: string): number {
    let ref = this.reasonsByText.get(reason);
    if (ref === undefined) {
      this.st.insertReason.run(reason);
      ref = this.st.reasonId.get(reason) as number;
      this.reasonsByText.set(reason, ref);
      this.reasonsByRef.set(ref, reason);
    }
    return ref;
  }

  private checkOfRef(ref: number): CheckEntry {
    let entry = this.checksByRef.get(ref);
    if (!entry) {
      this.refreshNames();
      entry = this.checksByRef.get(ref);
    }
    return entry ?? { ref, checkId: `#${ref}`, serviceRef: 0, service: '', instance: '', kind: '', lastMinute: null };
  }

  private reasonOfRef(ref: number): string {
    let reason = this.reasonsByRef.get(ref);
    if (reason === undefined) {
      this.refreshNames();
      reason = this.reasonsByRef.get(ref);
    }
    return reason ?? 'error';
  }

  private checkRefOf(checkId: string): number | undefined {
    if (!this.checksByKey.has(checkId)) this.refreshNames();
    return this.checksByKey.get(checkId)?.ref;
  }

  private serviceRefOf(service: string): number | undefined {
    if (!this.servicesByName.has(service)) this.refreshNames();
    return this.servicesByName.get(service);
  }

  // ---------------------------------------------------------------- writes

  async write(batch: WriteBatch): Promise<void> {
    this.assertOpen();
    if (batch.results.length === 0 && batch.transitions.length === 0) return;
    if (this.writerOptions) return this.writeInWorker(batch);
    try {
      this.writeTx(batch);
    } catch (err) {
      // Interned names inserted by the rolled-back transaction are gone from the file.
      this.loadNames();
      throw err;
    }
    this.checkpointer?.postMessage('nudge');
  }

  /** Threads (writer, checkpointer) this store started that are still running; 0 after close(). */
  liveThreads(): number {
    return this.liveThreadCount;
  }

  private trackThread(worker: Worker): void {
    this.liveThreadCount++;
    worker.once('exit', () => this.liveThreadCount--);
  }

  /** Post the batch to the writer thread; settles when its transaction committed or rolled back. */
  private writeInWorker(batch: WriteBatch): Promise<void> {
    const worker = this.writerThread ?? this.startWriter();
    const id = this.nextWriteId++;
    const done = new Promise<void>((resolve, reject) => {
      this.pendingWrites.set(id, { resolve, reject });
      // Keep the process alive while writes are in flight.
      if (this.pendingWrites.size === 1) worker.ref();
    });
    this.posting = this.posting.then(() =>
      postParts(worker, id, batch).catch((err: unknown) => {
        // Not encodable (a BigInt in metrics) or not cloneable: the worker drops the parts it got.
        worker.postMessage({ id, abort: true });
        const pending = this.pendingWrites.get(id);
        this.pendingWrites.delete(id);
        if (this.pendingWrites.size === 0) worker.unref();
        pending?.reject(err instanceof Error ? err : new Error(String(err)));
      }),
    );
    return done;
  }

  private startWriter(): Worker {
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    const worker = new Worker(WRITE_WORKER_SOURCE, {
      eval: true,
      workerData: { path: this.path, driver, ...this.writerOptions },
    });
    this.writerThread = worker;
    this.trackThread(worker);
    worker.unref();
    worker.on('message', (msg: WriterReply) => {
      if (msg.id === undefined) return;
      const pending = this.pendingWrites.get(msg.id);
      if (!pending) return;
      this.pendingWrites.delete(msg.id);
      if (this.pendingWrites.size === 0) worker.unref();
      if (msg.ok) {
        if (msg.kinds) {
          for (const [checkId, kind] of msg.kinds) {
            const entry = this.checksByKey.get(checkId);
            if (entry) entry.kind = kind;
          }
        }
        this.checkpointer?.postMessage('nudge');
        pending.resolve();
      } else {
        const err = new Error(msg.error?.message ?? 'write failed') as Error & { code?: string };
        err.name = msg.error?.name ?? 'Error';
        if (msg.error?.code !== undefined) err.code = msg.error.code;
        pending.reject(err);
      }
    });
    const fail = (err: Error): void => {
      if (this.writerThread === worker) this.writerThread = null;
      const pending = [...this.pendingWrites.values()];
      this.pendingWrites.clear();
      for (const p of pending) p.reject(err);
    };
    worker.on('error', (err) => fail(new HealthmeshError('store_writer', `history writer thread failed: ${err.message}`)));
    worker.on('exit', (code) => fail(new HealthmeshError('store_writer', `history writer thread exited (code ${code})`)));
    return worker;
  }

  /** Body of the write transaction (run through `writeTx`). */
  private writeRows(batch: WriteBatch): void {
    const st = this.st;
    // Minute buckets touched by this batch: start → [min rowid, max rowid].
    const minutes = new Map<number, [number, number]>();
    let lastStart = NaN;
    let last: [number, number] | undefined;
    const advanced = new Set<CheckEntry>();
    for (const r of batch.results) {
      const check = this.internCheck(r.checkId, r.service, r.instance, r.kind);
      const t = Math.floor(r.observedAt);
      const info = st.insertResult.run(
        check.ref,
        check.serviceRef,
        t,
        STATUS_CODE[r.status] ?? 3,
        this.internReason(r.reason),
        Math.max(0, Math.round(r.durationMs * 1000)),
        r.attempts ?? 1,
        truncateOutput(r.output ?? ''),
        r.metrics ? JSON.stringify(r.metrics) : null,
      );
      const id = Number(info.lastInsertRowid);
      const start = t - mod(t, 60_000);
      if (check.lastMinute === null || start > check.lastMinute) {
        check.lastMinute = start;
        advanced.add(check);
      }
      if (start !== lastStart) {
        lastStart = start;
        last = minutes.get(start);
        if (!last) minutes.set(start, (last = [id, id]));
      }
      if (id < last![0]) last![0] = id;
      if (id > last![1]) last![1] = id;
    }
    const hours = new Map<number, [number, number]>();
    for (const [start, range] of minutes) {
      st.touchBucket.run(0, start, range[0], range[1]);
      const hour = start - mod(start, 3_600_000);
      const h = hours.get(hour);
      if (!h) hours.set(hour, [range[0], range[1]]);
      else {
        h[0] = Math.min(h[0], range[0]);
        h[1] = Math.max(h[1], range[1]);
      }
    }
    for (const [start, range] of hours) st.touchBucket.run(1, start, range[0], range[1]);
    for (const check of advanced) st.advanceLastMinute.run(check.lastMinute, check.ref, check.lastMinute);

    for (const t of batch.transitions) {
      const check = this.internCheck(t.checkId, t.service, t.instance, this.checksByKey.get(t.checkId)?.kind ?? 'unknown');
      st.insertTransition.run(
        check.ref,
        check.serviceRef,
        Math.floor(t.at),
        STATUS_CODE[t.from] ?? 3,
        STATUS_CODE[t.to] ?? 3,
        this.internReason(t.reason),
        truncateOutput(t.output ?? ''),
      );
    }
    if (batch.results.length) st.addCounter.run(batch.results.length, 'results');
    if (batch.transitions.length) st.addCounter.run(batch.transitions.length, 'transitions');
  }

  async putRegistration(reg: Registration): Promise<void> {
    this.assertOpen();
    this.durably(() =>
      this.st.putRegistration.run(
        reg.id,
        reg.service,
        reg.address,
        JSON.stringify(reg.tags ?? []),
        reg.weight,
        reg.zone ?? null,
        JSON.stringify(reg.metadata ?? {}),
        JSON.stringify(reg.checks ?? []),
        Math.floor(reg.registeredAt),
      ),
    );
  }

  async deleteRegistration(id: string): Promise<boolean> {
    this.assertOpen();
    return this.durably(() => this.st.deleteRegistration.run(id).changes > 0);
  }

  /**
   * Run one autocommit statement with `synchronous=FULL`, so the WAL is
   * fsynced before we return: an acknowledged registration survives an OS
   * crash, not only a process crash. Batched history keeps NORMAL.
   */
  private durably<T>(fn: () => T): T {
    this.db.pragma('synchronous = FULL');
    try {
      return fn();
    } finally {
      this.db.pragma('synchronous = NORMAL');
    }
  }

  async listRegistrations(): Promise<Registration[]> {
    this.assertOpen();
    const rows = this.st.listRegistrations.all() as [string, string, string, string, number, string | null, string, string, number][];
    return rows.map(([id, service, address, tags, weight, zone, metadata, checks, registeredAt]) => {
      const reg: Registration = {
        id,
        service,
        address,
        tags: JSON.parse(tags) as string[],
        weight,
        metadata: JSON.parse(metadata) as Record<string, string>,
        checks: JSON.parse(checks) as unknown[],
        registeredAt,
      };
      if (zone !== null) reg.zone = zone;
      return reg;
    });
  }

  // ---------------------------------------------------------------- queries

  async queryResults(query: RangeQuery): Promise<Page<ResultRecord>> {
    this.assertOpen();
    return this.page(query, this.st.resultsByCheck, this.st.resultsByService, (row: ResultRow) => this.toResult(row));
  }

  async queryTransitions(query: RangeQuery): Promise<Page<TransitionRecord>> {
    this.assertOpen();
    return this.page(query, this.st.transitionsByCheck, this.st.transitionsByService, (row: TransitionRow) =>
      this.toTransition(row),
    );
  }

  async latestResults(checkIds: readonly string[]): Promise<Map<string, ResultRecord>> {
    this.assertOpen();
    const out = new Map<string, ResultRecord>();
    if (checkIds.length === 0) return out;
    if (checkIds.some((id) => !this.checksByKey.has(id))) this.refreshNames();
    const refs: number[] = [];
    for (const id of checkIds) {
      const entry = this.checksByKey.get(id);
      if (entry) refs.push(entry.ref);
    }
    if (refs.length === 0) return out;
    for (const row of this.st.latest.all(JSON.stringify(refs)) as ResultRow[]) {
      const r = this.toResult(row);
      out.set(r.checkId, r);
    }
    return out;
  }

  async queryRollups(query: RollupQuery): Promise<Rollup[]> {
    this.assertOpen();
    if (query.resolution !== 'minute' && query.resolution !== 'hour') {
      throw new UsageError(`resolution: "${String(query.resolution)}" is not one of minute, hour`);
    }
    checkRange(query.from, query.to);
    const ref = this.checkRefOf(query.checkId);
    if (ref === undefined) return [];
    const rows = this.st.rollups[query.resolution].query.raw().all(ref, query.from ?? MIN_TIME, query.to ?? MAX_TIME) as number[][];
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

  /**
   * Keyset page over one table. Ties on the time are broken by rowid
   * (insertion order), so the cursor (time, rowid) names one exact position.
   */
  private page<Row extends [number, number, number, ...unknown[]], T>(
    query: RangeQuery,
    byCheck: PageStatements,
    byService: PageStatements,
    map: (row: Row) => T,
  ): Page<T> {
    const limit = pageLimit(query.limit);
    const order = query.order ?? 'asc';
    if (order !== 'asc' && order !== 'desc') throw new UsageError(`order: "${String(order)}" is not asc or desc`);
    const cursor = query.cursor ? decodeCursor(query.cursor, order) : null;
    checkRange(query.from, query.to);
    const from = query.from ?? MIN_TIME;
    const to = query.to ?? MAX_TIME;
    const target = this.resolve(query);
    const run = (stmts: PageStatements, key: number): Row[] => {
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
    };
    let rows: Row[];
    if (target.by === 'none') rows = [];
    else if (target.by === 'service') rows = run(byService, target.ref);
    else if (target.refs.length === 1) rows = run(byCheck, target.refs[0]!);
    else {
      // Each check's page is already in order; merge them and keep the first limit+1.
      rows = target.refs.flatMap((ref) => run(byCheck, ref));
      const dir = order === 'asc' ? 1 : -1;
      rows.sort((a, b) => dir * (a[2] - b[2] || a[0] - b[0]));
      rows.length = Math.min(rows.length, limit + 1);
    }
    const more = rows.length > limit;
    if (more) rows.length = limit;
    const lastRow = rows[rows.length - 1];
    return {
      items: rows.map(map),
      nextCursor: more && lastRow ? encodeCursor(order, lastRow[2], lastRow[0]) : null,
    };
  }

  private resolve(query: RangeQuery): Target {
    const { checkId, service, instance } = query;
    if (checkId !== undefined) {
      if (service !== undefined || instance !== undefined) {
        throw new UsageError('query: give checkId alone, or service and/or instance, not both');
      }
      const ref = this.checkRefOf(checkId);
      return ref === undefined ? { by: 'none' } : { by: 'check', refs: [ref] };
    }
    if (instance !== undefined) {
      const refs = (
        service !== undefined ? this.st.checksOfServiceInstance.all(instance, service) : this.st.checksOfInstance.all(instance)
      ) as number[];
      return refs.length ? { by: 'check', refs } : { by: 'none' };
    }
    if (service !== undefined) {
      const ref = this.serviceRefOf(service);
      return ref === undefined ? { by: 'none' } : { by: 'service', ref };
    }
    throw new UsageError('query: give checkId, service or instance');
  }

  private toResult(row: ResultRow): ResultRecord {
    const check = this.checkOfRef(row[1]);
    return {
      checkId: check.checkId,
      service: check.service,
      instance: check.instance,
      kind: check.kind,
      status: STATUS_OF_CODE[row[3]] ?? 'UNKNOWN',
      reason: this.reasonOfRef(row[4]),
      durationMs: row[5] / 1000,
      observedAt: row[2],
      attempts: row[6],
      output: row[7],
      metrics: row[8] === null ? null : (JSON.parse(row[8]) as Record<string, number>),
    };
  }

  private toTransition(row: TransitionRow): TransitionRecord {
    const check = this.checkOfRef(row[1]);
    return {
      checkId: check.checkId,
      service: check.service,
      instance: check.instance,
      from: STATUS_OF_CODE[row[3]] ?? 'UNKNOWN',
      to: STATUS_OF_CODE[row[4]] ?? 'UNKNOWN',
      reason: this.reasonOfRef(row[5]),
      output: row[6],
      at: row[2],
    };
  }

  // ---------------------------------------------------------------- maintenance

  async maintain(now: number, options: MaintainOptions = {}): Promise<MaintainReport> {
    this.assertOpen();
    const run = this.maintaining.then(() => this.maintainNow(now, options));
    this.maintaining = run.catch(() => undefined);
    return run;
  }

  private async maintainNow(now: number, options: MaintainOptions): Promise<MaintainReport> {
    const retention = { ...this.retention, ...options.retention };
    const lateMs = options.lateMs ?? 30_000;
    const chunk = Math.max(1, Math.floor(options.chunkRows ?? 10_000));
    const report: MaintainReport = {
      bucketsRolledUp: { minute: 0, hour: 0 },
      rollupRows: 0,
      deleted: { results: 0, minuteRollups: 0, hourRollups: 0, transitions: 0 },
      lateBucketsIgnored: 0,
      chunks: 0,
    };
    const horizon = this.st.getCounter.get('raw_horizon') as number;

    for (const resolution of ['minute', 'hour'] as const) {
      const size = RESOLUTION_MS[resolution];
      const due = this.st.dirtyBuckets.all(RES_CODE[resolution], size + lateMs, now) as [number, number, number, number][];
      for (const [start, minId, maxId, gen] of due) {
        if (this.closed) return report;
        if (start < horizon) {
          // Its other raw rows are gone: a re-rollup would replace good figures with a partial bucket.
          this.st.markRolled.run(gen, RES_CODE[resolution], start);
          report.lateBucketsIgnored++;
          continue;
        }
        await this.rollupBucket(resolution, start, minId, maxId, gen, chunk, report);
        report.bucketsRolledUp[resolution]++;
      }
    }

    // Raw rows go only once every bucket they belong to is rolled up.
    let cutoff = now - retention.resultsMs;
    cutoff -= mod(cutoff, 60_000);
    const earliestDirty = this.st.earliestDirty.get() as number | null;
    if (earliestDirty !== null) cutoff = Math.min(cutoff, earliestDirty);
    for (const [start, minId, maxId] of this.st.oldMinuteBuckets.all(cutoff) as [number, number, number][]) {
      for (let lo = minId; lo <= maxId; lo += chunk) {
        if (this.closed) return report;
        const hi = Math.min(maxId, lo + chunk - 1);
        this.db.transaction(() => {
          const n = this.st.deleteResultRange.run(lo, hi, cutoff).changes;
          if (n) this.st.addCounter.run(-n, 'results');
          report.deleted.results += n;
          if (hi === maxId) this.st.deleteBucket.run(0, start);
        })();
        report.chunks++;
        await yieldNow();
      }
    }
    this.db.transaction(() => {
      this.st.deleteOldHourBuckets.run(cutoff);
      if (cutoff > horizon) this.st.setCounter.run(cutoff, 'raw_horizon');
    })();

    report.deleted.minuteRollups = await this.deleteChunked(
      this.st.rollups.minute.deleteOld,
      now - retention.minuteRollupsMs,
      chunk,
      'rollups_minute',
      report,
    );
    report.deleted.hourRollups = await this.deleteChunked(
      this.st.rollups.hour.deleteOld,
      now - retention.hourRollupsMs,
      chunk,
      'rollups_hour',
      report,
    );
    report.deleted.transitions = await this.deleteChunked(
      this.st.deleteOldTransitions,
      now - retention.transitionsMs,
      chunk,
      'transitions',
      report,
    );
    return report;
  }

  /** Roll one bucket up from its raw rows: scan its rowid range in chunks, then write the figures in chunks. */
  private async rollupBucket(
    resolution: Resolution,
    start: number,
    minId: number,
    maxId: number,
    gen: number,
    chunk: number,
    report: MaintainReport,
  ): Promise<void> {
    const end = start + RESOLUTION_MS[resolution];
    const perCheck = new Map<number, BucketAccumulator>();
    let after = minId - 1;
    while (after < maxId) {
      if (this.closed) return;
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
      await yieldNow();
    }

    const st = this.st.rollups[resolution];
    const counter = ROLLUP_TABLE[resolution];
    // Replace, not merge: drop what an earlier rollup of this bucket wrote, counting it out.
    for (;;) {
      if (this.closed) return;
      const removed = this.db.transaction(() => {
        const n = st.deleteBucket.run(start, chunk).changes;
        if (n) this.st.addCounter.run(-n, counter);
        return n;
      })();
      if (removed === 0) break;
      report.chunks++;
      await yieldNow();
    }
    const entries = [...perCheck];
    for (let i = 0; i < entries.length || i === 0; i += chunk) {
      if (this.closed) return;
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
      await yieldNow();
    }
  }

  private async deleteChunked(
    stmt: Database.Statement,
    before: number,
    chunk: number,
    counter: string,
    report: MaintainReport,
  ): Promise<number> {
    let total = 0;
    for (;;) {
      if (this.closed) return total;
      const n = this.db.transaction(() => {
        const changes = stmt.run(before, chunk).changes;
        if (changes) this.st.addCounter.run(-changes, counter);
        return changes;
      })();
      total += n;
      if (n === 0) break;
      report.chunks++;
      if (n < chunk) break;
      await yieldNow();
    }
    return total;
  }

  // ---------------------------------------------------------------- stats, close

  async stats(): Promise<StoreStats> {
    this.assertOpen();
    const counters = new Map(this.st.counters.all() as [string, number][]);
    let bytes: number | null = null;
    if (this.path !== ':memory:') {
      bytes = 0;
      for (const suffix of ['', '-wal']) {
        try {
          bytes += statSync(this.path + suffix).size;
        } catch {
          // no WAL right now
        }
      }
    }
    return {
      backend: this.backend,
      results: counters.get('results') ?? 0,
      transitions: counters.get('transitions') ?? 0,
      registrations: this.st.countRegistrations.get() as number,
      rollups: { minute: counters.get('rollups_minute') ?? 0, hour: counters.get('rollups_hour') ?? 0 },
      checks: this.st.countChecks.get() as number,
      bytes,
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.maintaining;
    const writer = this.writerThread;
    if (writer) {
      // Writes posted before close() are committed first: the thread takes messages in order,
      // and 'stop' goes after the last part of every batch.
      await this.posting;
      const exited = new Promise<void>((resolve) => writer.once('exit', () => resolve()));
      writer.ref();
      writer.postMessage('stop');
      await exited;
      this.writerThread = null;
    }
    const worker = this.checkpointer;
    if (worker) {
      this.checkpointer = null;
      const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
      // Keep the process alive until the worker has closed its connection.
      worker.ref();
      worker.postMessage('stop');
      await exited;
    }
    // The last connection to close checkpoints the WAL and removes it.
    this.db.close();
  }

  private assertOpen(): void {
    if (this.closed) throw new HealthmeshError('store_closed', `history store ${this.path} is closed`);
  }
}

/** Every statement the store runs, prepared once at open. */
function prepareStatements(db: Database.Database) {
  const resultCols = 'id, check_ref, observed_at, status, reason_ref, duration_us, attempts, output, metrics';
  const transitionCols = 'id, check_ref, at, from_status, to_status, reason_ref, output';
  /** Keyset page statements of one table and one index prefix column. */
  const pages = (table: string, cols: string, key: string, time: string) => ({
    asc: db.prepare(
      `SELECT ${cols} FROM ${table} WHERE ${key} = ? AND ${time} >= ? AND ${time} < ? ORDER BY ${time}, id LIMIT ?`,
    ),
    ascAfter: db.prepare(
      `SELECT ${cols} FROM ${table} WHERE ${key} = ? AND ${time} >= ? AND ${time} < ? AND (${time}, id) > (?, ?) ORDER BY ${time}, id LIMIT ?`,
    ),
    desc: db.prepare(
      `SELECT ${cols} FROM ${table} WHERE ${key} = ? AND ${time} >= ? AND ${time} < ? ORDER BY ${time} DESC, id DESC LIMIT ?`,
    ),
    descAfter: db.prepare(
      `SELECT ${cols} FROM ${table} WHERE ${key} = ? AND ${time} >= ? AND ${time} < ? AND (${time}, id) < (?, ?) ORDER BY ${time} DESC, id DESC LIMIT ?`,
    ),
  });
  const rollupCols =
    'check_ref, bucket, count, failures, min_us, sum_us, p95_us, max_us, healthy, degraded, unhealthy, unknown';
  const rollupStatements = (table: string) => ({
    insert: db.prepare(`INSERT OR REPLACE INTO ${table} (${rollupCols}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
    query: db.prepare(`SELECT ${rollupCols} FROM ${table} WHERE check_ref = ? AND bucket >= ? AND bucket < ? ORDER BY bucket`),
    deleteBucket: db.prepare(`DELETE FROM ${table} WHERE rowid IN (SELECT rowid FROM ${table} WHERE bucket = ? LIMIT ?)`),
    deleteOld: db.prepare(`DELETE FROM ${table} WHERE rowid IN (SELECT rowid FROM ${table} WHERE bucket < ? LIMIT ?)`),
  });
  /**
   * Keyset pages of results by check or service (indexes results_minute_*,
   * see sqlite-schema.ts): the outer loop walks the minutes of `buckets` in
   * page order, each one index seek for the key, so rows come out in order
   * without a sort and LIMIT stops the walk. In the first and last minute
   * the offset bounds let the seek start at the page's edge (the indexes hold
   * the time in the minute, not the time). Parameters: key ref, bucket start
   * bounds (both exclusive, ms), first minute's start and lowest offset, last
   * minute's start and offset bound (exclusive), from, to, [cursor time,
   * cursor id,] limit.
   */
  const minutePages = (key: 'check_ref' | 'service_ref') => {
    const cols = resultCols
      .split(', ')
      .map((c) => `r.${c}`)
      .join(', ');
    const page = (desc: boolean, after: boolean) => {
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
  };
  return {
    insertResult: db.prepare(
      'INSERT INTO results (check_ref, service_ref, observed_at, status, reason_ref, duration_us, attempts, output, metrics) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
    ),
    insertTransition: db.prepare(
      'INSERT INTO transitions (check_ref, service_ref, at, from_status, to_status, reason_ref, output) VALUES (?, ?, ?, ?, ?, ?, ?)',
    ),
    touchBucket: db.prepare(
      `INSERT INTO buckets (resolution, start, min_id, max_id, gen, rolled_gen) VALUES (?, ?, ?, ?, 1, 0)
       ON CONFLICT (resolution, start) DO UPDATE SET
         min_id = min(min_id, excluded.min_id), max_id = max(max_id, excluded.max_id), gen = gen + 1`,
    ),
    addCounter: db.prepare('UPDATE meta SET value = value + ? WHERE key = ?'),
    setCounter: db.prepare('UPDATE meta SET value = ? WHERE key = ?'),
    getCounter: db.prepare('SELECT value FROM meta WHERE key = ?').pluck(),
    counters: db.prepare('SELECT key, value FROM meta').raw(),

    insertService: db.prepare('INSERT OR IGNORE INTO services (name) VALUES (?)'),
    serviceId: db.prepare('SELECT id FROM services WHERE name = ?').pluck(),
    insertInstance: db.prepare('INSERT OR IGNORE INTO instances (service_id, name) VALUES (?, ?)'),
    instanceId: db.prepare('SELECT id FROM instances WHERE service_id = ? AND name = ?').pluck(),
    insertCheck: db.prepare('INSERT OR IGNORE INTO checks (check_id, service_id, instance_id, kind) VALUES (?, ?, ?, ?)'),
    checkRow: db.prepare('SELECT id, service_id, instance_id, kind, last_minute FROM checks WHERE check_id = ?').raw(),
    // Only forward: a late row does not move it back, nor does a stale cache.
    advanceLastMinute: db.prepare('UPDATE checks SET last_minute = ? WHERE id = ? AND (last_minute IS NULL OR last_minute < ?)'),
    updateKind: db.prepare('UPDATE checks SET kind = ? WHERE id = ?'),
    insertReason: db.prepare('INSERT OR IGNORE INTO reasons (reason) VALUES (?)'),
    reasonId: db.prepare('SELECT id FROM reasons WHERE reason = ?').pluck(),
    allChecks: db
      .prepare(
        `SELECT c.id, c.check_id, c.service_id, s.name, i.name, c.kind, c.last_minute
         FROM checks c JOIN services s ON s.id = c.service_id JOIN instances i ON i.id = c.instance_id`,
      )
      .raw(),
    allServices: db.prepare('SELECT name, id FROM services').raw(),
    allInstances: db.prepare('SELECT service_id, name, id FROM instances').raw(),
    allReasons: db.prepare('SELECT id, reason FROM reasons').raw(),
    checksOfInstance: db
      .prepare('SELECT c.id FROM checks c JOIN instances i ON i.id = c.instance_id WHERE i.name = ? ORDER BY c.id')
      .pluck(),
    checksOfServiceInstance: db
      .prepare(
        `SELECT c.id FROM checks c JOIN instances i ON i.id = c.instance_id
         WHERE i.name = ? AND i.service_id = (SELECT id FROM services WHERE name = ?) ORDER BY c.id`,
      )
      .pluck(),
    countChecks: db.prepare('SELECT count(*) FROM checks').pluck(),
    namesVersion: db
      .prepare(
        `SELECT ifnull((SELECT max(id) FROM checks), 0) || '/' || ifnull((SELECT max(id) FROM services), 0) || '/' ||
                ifnull((SELECT max(id) FROM instances), 0) || '/' || ifnull((SELECT max(id) FROM reasons), 0)`,
      )
      .pluck(),

    resultsByCheck: minutePages('check_ref'),
    resultsByService: minutePages('service_ref'),
    transitionsByCheck: pages('transitions', transitionCols, 'check_ref', 'at'),
    transitionsByService: pages('transitions', transitionCols, 'service_ref', 'at'),
    // json_each yields the refs; the correlated subquery walks the minutes back from the check's
    // last_minute, one index seek each: the first one holds its newest row (unless retention took it).
    latest: db
      .prepare(
        `SELECT r.${resultCols.split(', ').join(', r.')} FROM json_each(?) j
         JOIN checks c ON c.id = j.value
         JOIN results r ON r.id = (
           SELECT r2.id FROM buckets b CROSS JOIN results r2
             ON ${minuteOf('r2.observed_at')} = b.start / ${MINUTE_MS} AND r2.check_ref = c.id
           WHERE b.resolution = 0 AND b.start <= c.last_minute
           ORDER BY b.start DESC, ${offsetOf('r2.observed_at')} DESC, r2.id DESC LIMIT 1)`,
      )
      .raw(),

    rollups: { minute: rollupStatements('rollups_minute'), hour: rollupStatements('rollups_hour') },
    dirtyBuckets: db
      .prepare(
        `SELECT start, min_id, max_id, gen FROM buckets
         WHERE resolution = ? AND gen <> rolled_gen AND start + ? <= ? ORDER BY start`,
      )
      .raw(),
    markRolled: db.prepare('UPDATE buckets SET rolled_gen = ? WHERE resolution = ? AND start = ?'),
    scanRange: db
      .prepare('SELECT id, check_ref, observed_at, status, duration_us FROM results WHERE id > ? AND id <= ? ORDER BY id LIMIT ?')
      .raw(),
    earliestDirty: db.prepare('SELECT min(start) FROM buckets WHERE gen <> rolled_gen').pluck(),
    oldMinuteBuckets: db
      .prepare('SELECT start, min_id, max_id FROM buckets WHERE resolution = 0 AND start + 60000 <= ? ORDER BY start')
      .raw(),
    deleteResultRange: db.prepare('DELETE FROM results WHERE id >= ? AND id <= ? AND observed_at < ?'),
    deleteBucket: db.prepare('DELETE FROM buckets WHERE resolution = ? AND start = ?'),
    deleteOldHourBuckets: db.prepare('DELETE FROM buckets WHERE resolution = 1 AND start + 3600000 <= ? AND gen = rolled_gen'),
    deleteOldTransitions: db.prepare(
      'DELETE FROM transitions WHERE id IN (SELECT id FROM transitions WHERE at < ? ORDER BY at LIMIT ?)',
    ),

    putRegistration: db.prepare(
      `INSERT OR REPLACE INTO registrations (id, service, address, tags, weight, zone, metadata, checks, registered_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    deleteRegistration: db.prepare('DELETE FROM registrations WHERE id = ?'),
    listRegistrations: db
      .prepare('SELECT id, service, address, tags, weight, zone, metadata, checks, registered_at FROM registrations ORDER BY id')
      .raw(),
    countRegistrations: db.prepare('SELECT count(*) FROM registrations').pluck(),
  };
}

type Statements = ReturnType<typeof prepareStatements>;

/** Start the background checkpointer on `path`; unref'd so it never keeps the process alive. */
function startCheckpointer(path: string): Worker {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(CHECKPOINTER_SOURCE, {
    eval: true,
    workerData: { path, driver },
  });
  // A failed checkpointer only means inline checkpoints take over (wal_autocheckpoint).
  worker.on('error', () => undefined);
  worker.unref();
  return worker;
}

/**
 * Rows per message to the writer thread. Encoding a part (sqlite-write-message.ts)
 * costs the main thread well under 1 µs a row; parts of 500 rows with a
 * yield between them keep each turn short however large the batch.
 */
const PART_ROWS = 500;

/** Post one batch to the writer thread in encoded parts, yielding to the event loop between parts. */
async function postParts(worker: Worker, id: number, batch: WriteBatch): Promise<void> {
  const { results, transitions } = batch;
  const none: never[] = [];
  for (let i = 0; ; i += PART_ROWS) {
    const last = i + PART_ROWS >= results.length;
    const part = encodeResults(results, i, Math.min(results.length, i + PART_ROWS));
    worker.postMessage({ id, results: part, transitions: last ? transitions : none, last }, [part.nums.buffer, part.refs.buffer]);
    if (last) return;
    await yieldNow();
  }
}

/** Message from the writer thread (see sqlite-write-worker.ts). */
interface WriterReply {
  id?: number;
  ok?: boolean;
  kinds?: [string, string][] | null;
  error?: { name: string; message: string; code?: string };
}

interface PageStatements {
  asc: Database.Statement;
  ascAfter: Database.Statement;
  desc: Database.Statement;
  descAfter: Database.Statement;
  /** Statements of `minutePages`: they take the bucket start bounds after the key. */
  byMinute?: boolean;
}

function mod(a: number, n: number): number {
  return ((a % n) + n) % n;
}

function checkRange(from: number | undefined, to: number | undefined): void {
  for (const [name, v] of [['from', from], ['to', to]] as const) {
    if (v !== undefined && !Number.isFinite(v)) throw new UsageError(`${name}: ${v} is not a time (epoch ms)`);
  }
}

function pageLimit(limit: number | undefined): number {
  if (limit === undefined) return DEFAULT_PAGE;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE) {
    throw new UsageError(`limit: ${limit} is not an integer from 1 to ${MAX_PAGE}`);
  }
  return limit;
}

/** Opaque cursor: direction, time and rowid of the last row of the page, base 36. */
function encodeCursor(order: 'asc' | 'desc', time: number, id: number): string {
  return `${order === 'asc' ? 'a' : 'd'}${time.toString(36)}.${id.toString(36)}`;
}

function decodeCursor(cursor: string, order: 'asc' | 'desc'): [number, number] {
  const m = /^([ad])(-?[0-9a-z]+)\.([0-9a-z]+)$/.exec(cursor);
  if (!m || (m[1] === 'a') !== (order === 'asc')) {
    throw new UsageError(`cursor: "${cursor}" is not a cursor of this query (pass nextCursor back unchanged, with the same order)`);
  }
  return [parseInt(m[2]!, 36), parseInt(m[3]!, 36)];
}
