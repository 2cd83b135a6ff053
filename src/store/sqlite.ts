/**
 * The default history store: one embedded SQLite file (better-sqlite3), WAL
 * journal, `synchronous=NORMAL` for batched history (a committed batch
 * survives a crash of the process; an OS crash may lose the last batches) and
 * `synchronous=FULL` for registrations (fsync before the API acknowledges).
 *
 * This class is the façade; each job is a module of its own:
 * - sqlite-schema.ts: the on-disk layout and its migrations (interned names,
 *   results indexed by (minute, ref, ms in the minute), `buckets` with the
 *   rowid range and generation of every minute and hour written);
 * - sqlite-names.ts: the interned names of a connection;
 * - sqlite-write-tx.ts: THE write transaction, run here for inline writes
 *   and by the writer thread (sqlite-writer-thread.ts, driven from
 *   sqlite-writer-client.ts) for `writes: 'worker'`;
 * - sqlite-paging.ts and sqlite-queries.ts: keyset pages and reads;
 * - sqlite-transitions.ts: transitions of every level, and their ids;
 * - sqlite-rollups.ts and sqlite-maintenance.ts: rollups and retention;
 * - sqlite-status-timeline.ts (kept in the write transaction) and
 *   sqlite-uptime.ts: uptime of instances and services;
 * - sqlite-registrations.ts, sqlite-stats.ts.
 *
 * better-sqlite3 is synchronous: each method does its work before its promise
 * settles. Work is bounded per call (a write is one batch; maintain yields
 * between chunks of at most `chunkRows` rows). A thread with its own
 * connection copies the WAL back into the database file (PASSIVE
 * checkpoints, sqlite-checkpointer-thread.ts), so a flush only appends to
 * the WAL and never waits for a checkpoint's copy and fsync (measured ~1.7×
 * the inline rate).
 *
 * With `writes: 'worker'` the main thread only encodes each batch into
 * messages (500-row parts in columns, sqlite-write-message.ts) and `write`
 * resolves when the thread reports the commit. Registrations stay on the
 * main connection (synchronous=FULL, durable before they resolve); they and
 * maintenance may wait (busy_timeout) for a writer-thread transaction to end.
 *
 * Write cost (bench/store.ts): a flush appends to the table and to the
 * current minute's few leaf pages of each index: well under 0.1 dirty page
 * (WAL frame) per row whatever the number of checks and services.
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { createPrivateFile } from '../security/files.js';
import { dirname } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { HealthmeshError, UsageError } from '../core/errors.js';
import type { StorageSettings, StoreFactory } from './backends.js';
import { autocheckpointPages, cacheSizeKib, configureConnection } from './sqlite-connection.js';
import type { CheckpointerMessage } from './sqlite-checkpointer-thread.js';
import { SqliteMaintenance } from './sqlite-maintenance.js';
import { SqliteNames } from './sqlite-names.js';
import { SqliteQueries } from './sqlite-queries.js';
import { SqliteRegistrations } from './sqlite-registrations.js';
import { SqliteRollups } from './sqlite-rollups.js';
import { migrate } from './sqlite-schema.js';
import { SqliteStats } from './sqlite-stats.js';
import type { Subject } from './sqlite-status-timeline.js';
import { UptimeQueries } from './sqlite-uptime.js';
import { SqliteTransitions } from './sqlite-transitions.js';
import { checkRange } from './sqlite-paging.js';
import { encodeResults } from './sqlite-write-message.js';
import { SqliteWriteTransaction } from './sqlite-write-tx.js';
import { WriterClient } from './sqlite-writer-client.js';
import { startStoreThread } from './store-threads.js';
import {
  DEFAULT_RETENTION,
  type HistoryStore,
  type MaintainOptions,
  type MaintainReport,
  type Page,
  type RangeQuery,
  type Registration,
  type ResultRecord,
  type RetentionPolicy,
  type Rollup,
  type RollupQuery,
  type StoreStats,
  type TransitionIds,
  type TransitionRecord,
  type Uptime,
  type UptimeQuery,
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
   * "background" (default for files) a thread with its own connection,
   * nudged after each write, so flushes only append to the WAL; "inline"
   * SQLite's automatic checkpoint inside the committing flush.
   */
  checkpoints?: 'background' | 'inline';
  /**
   * Where result/transition writes run: "worker" a dedicated writer thread
   * with its own connection (sqlite-writer-thread.ts), so a flush costs the
   * main thread only the copy of the batch into the message; `write`
   * resolves once its transaction committed. Batches queued behind a running
   * transaction are committed together (each still all-or-nothing).
   * "inline" (default) runs the transaction on the calling thread, so
   * `write` has committed before its promise settles. ":memory:" is always
   * inline. Registrations, maintenance and reads use the main connection in
   * both modes.
   */
  writes?: 'worker' | 'inline';
  /**
   * With `writes: 'worker'`, commit batches of fewer rows than this on the
   * calling thread, and start the writer thread (and the background
   * checkpointer) at the first batch this big. Each thread is a V8 isolate
   * of about 17 MB, a third of an idle daemon's memory above Node's own,
   * while a flush of a few rows costs the main thread well under a
   * millisecond. Until then the WAL is checkpointed inline every 1,000
   * pages. Default 0: threads from the first write.
   */
  threadsFromRows?: number;
  /** Insert each transaction's results ordered by (check, time) (default false). */
  sortRows?: boolean;
  /** Worker writes: most rows committed in one group transaction (default 50 000). */
  maxGroupRows?: number;
}

/** Open (creating if needed) a SQLite history store. */
export async function openSqliteStore(options: SqliteStoreOptions): Promise<SqliteHistoryStore> {
  return new SqliteHistoryStore(options);
}

/**
 * Rows in one flush from which the daemon's store moves its writes to the
 * writer thread: about 100 checks at a 1 s interval, 1,000 at 10 s. Below
 * it an inline commit costs the main thread 0.07 ms (6 rows) to 0.65 ms
 * (100 rows) at the median.
 */
const DAEMON_THREADS_FROM_ROWS = 100;

/**
 * WAL pages between checkpoints while commits are inline: SQLite's own
 * default. The checkpoint runs in the committing flush, on the main thread;
 * at 10,000 pages (the inline store's setting) it took 70–80 ms, at 1,000
 * about 11 ms, every few minutes at 6–50 rows a second.
 */
const BEFORE_THREADS_AUTOCHECKPOINT = 1000;

/**
 * The SQLite backend of config-driven stores (store/backends.ts): the
 * daemon's settings, commits on the writer thread (so a flush never stalls
 * the scheduler; the thread starts at the first flush of
 * DAEMON_THREADS_FROM_ROWS rows) with rows sorted by check.
 */
export const sqliteBackend: StoreFactory<StorageSettings<'sqlite'>> = async (settings) =>
  openSqliteStore({
    path: settings.path,
    writes: 'worker',
    // A daemon with a handful of checks never needs the threads (bench/daemon-idle).
    threadsFromRows: DAEMON_THREADS_FROM_ROWS,
    sortRows: true,
    retention: {
      resultsMs: settings.retention.results,
      minuteRollupsMs: settings.retention.minute_rollups,
      hourRollupsMs: settings.retention.hour_rollups,
      transitionsMs: settings.retention.transitions,
      uptimeMs: settings.retention.uptime,
    },
  });

/** HistoryStore on one SQLite file. Use `openSqliteStore`. */
export class SqliteHistoryStore implements HistoryStore {
  readonly backend = 'sqlite';
  /** The better-sqlite3 handle, for SQLite-specific tests and tools. */
  readonly db: Database.Database;
  readonly path: string;
  private closed = false;
  private maintaining: Promise<unknown> = Promise.resolve();
  private checkpointer: Worker | null = null;
  /** Background checkpoints wanted, and not started yet (they start with the writer thread). */
  private checkpointerDeferred = false;
  private readonly threadsFromRows: number;
  /** Threads started by this store that have not exited yet. */
  private liveThreadCount = 0;

  private readonly names: SqliteNames;
  /** Result reads (its statements are exposed for query-plan tests). */
  readonly queries: SqliteQueries;
  private readonly transitions: SqliteTransitions;
  private readonly uptimes: UptimeQueries;
  private readonly writeTx: SqliteWriteTransaction;
  /** The writer thread's client (writes: 'worker'), or null for inline writes. */
  private readonly writer: WriterClient | null;
  private readonly rollups: SqliteRollups;
  private readonly maintenance: SqliteMaintenance;
  private readonly registrations: SqliteRegistrations;
  private readonly sizes: SqliteStats;

  constructor(options: SqliteStoreOptions) {
    this.path = options.path;
    if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true });
    createPrivateFile(options.path); // mode 0600: registrations and check output are in it
    this.db = new Database(options.path);
    try {
      const background = options.checkpoints !== 'inline' && options.path !== ':memory:';
      const settings = { cacheSizeKib: cacheSizeKib(options.cacheSizeMb), autocheckpoint: autocheckpointPages(background) };
      this.threadsFromRows = options.writes === 'worker' ? Math.max(0, options.threadsFromRows ?? 0) : 0;
      // Until the threads start, this connection checkpoints inline.
      configureConnection(this.db, this.threadsFromRows > 0 ? { ...settings, autocheckpoint: BEFORE_THREADS_AUTOCHECKPOINT } : settings);
      migrate(this.db, this.path);
      this.names = new SqliteNames(this.db);
      this.queries = new SqliteQueries(this.db, this.names);
      this.transitions = new SqliteTransitions(this.db, this.names);
      this.uptimes = new UptimeQueries(this.db);
      this.writeTx = new SqliteWriteTransaction(this.db, this.names, { sortRows: options.sortRows ?? false });
      this.writer =
        options.writes === 'worker' && options.path !== ':memory:'
          ? new WriterClient(
              { path: this.path, ...settings, sortRows: options.sortRows ?? false, maxGroupRows: Math.max(1, options.maxGroupRows ?? 50_000) },
              { onCommitted: (kinds) => this.committed(kinds), onThread: (w) => this.trackThread(w) },
            )
          : null;
      this.rollups = new SqliteRollups(this.db, this.names);
      this.maintenance = new SqliteMaintenance(this.db, this.rollups, { ...DEFAULT_RETENTION, ...options.retention }, () => this.closed);
      this.registrations = new SqliteRegistrations(this.db);
      this.sizes = new SqliteStats(this.db, this.path);
      this.checkpointerDeferred = background;
      if (this.threadsFromRows === 0) this.startCheckpointer();
    } catch (err) {
      this.db.close();
      throw err;
    }
  }

  async write(batch: WriteBatch): Promise<void> {
    this.assertOpen();
    if (batch.results.length === 0 && batch.transitions.length === 0) return;
    const n = batch.results.length;
    if (this.writer && (this.writer.started || n >= this.threadsFromRows)) {
      this.startCheckpointer();
      return this.writer.write(batch);
    }
    const kinds = this.writeTx.commit([{ parts: [encodeResults(batch.results, 0, n)], rows: n, transitions: [...batch.transitions] }]);
    this.committed(kinds);
  }

  /** A batch committed (here or on the writer thread): follow its kind changes, nudge the checkpointer. */
  private committed(kinds: [string, string][] | null): void {
    for (const [checkId, kind] of kinds ?? []) {
      const entry = this.names.cachedCheck(checkId);
      if (entry) entry.kind = kind;
    }
    this.nudge('nudge');
  }

  /** Start the background checkpointer, if wanted and not started; this connection stops checkpointing inline. */
  private startCheckpointer(): void {
    if (!this.checkpointerDeferred) return;
    this.checkpointerDeferred = false;
    this.db.pragma(`wal_autocheckpoint = ${autocheckpointPages(true)}`);
    const worker = startStoreThread('sqlite-checkpointer-thread', { path: this.path });
    // A failed checkpointer only means inline checkpoints take over (wal_autocheckpoint).
    worker.on('error', () => undefined);
    worker.unref();
    this.checkpointer = worker;
    this.trackThread(worker);
  }

  private nudge(msg: CheckpointerMessage): void {
    this.checkpointer?.postMessage(msg);
  }

  /** Threads (writer, checkpointer) this store started that are still running; 0 after close(). */
  liveThreads(): number {
    return this.liveThreadCount;
  }

  private trackThread(worker: Worker): void {
    this.liveThreadCount++;
    worker.once('exit', () => this.liveThreadCount--);
  }

  async queryResults(query: RangeQuery): Promise<Page<ResultRecord>> {
    this.assertOpen();
    return this.queries.results(query);
  }

  async queryTransitions(query: RangeQuery): Promise<Page<TransitionRecord>> {
    this.assertOpen();
    return this.transitions.page(query);
  }

  async transitionsAfter(afterId: number, limit: number): Promise<TransitionRecord[]> {
    this.assertOpen();
    return this.transitions.after(afterId, limit);
  }

  async transitionIds(): Promise<TransitionIds> {
    this.assertOpen();
    return this.transitions.ids();
  }

  async queryUptime(query: UptimeQuery): Promise<Uptime> {
    this.assertOpen();
    checkRange(query.from, query.to);
    for (const [name, v] of [
      ['from', query.from],
      ['to', query.to],
    ] as const) {
      if (v === undefined) throw new UsageError(`${name}: an uptime needs both ends of its range (epoch ms)`);
    }
    if (query.to < query.from) throw new UsageError(`from: ${query.from} is after to (${query.to})`);
    const serviceRef = this.names.serviceRef(query.service);
    const instanceRef = query.instance === undefined ? 0 : this.names.instanceRef(query.service, query.instance);
    const subject: Subject | null =
      serviceRef === undefined || instanceRef === undefined ? null : { level: query.instance === undefined ? 2 : 1, serviceRef, instanceRef };
    return this.uptimes.uptime(subject, query.from, query.to);
  }

  async latestResults(checkIds: readonly string[]): Promise<Map<string, ResultRecord>> {
    this.assertOpen();
    return this.queries.latest(checkIds);
  }

  async queryRollups(query: RollupQuery): Promise<Rollup[]> {
    this.assertOpen();
    return this.rollups.query(query);
  }

  async putRegistration(reg: Registration): Promise<void> {
    this.assertOpen();
    this.registrations.put(reg);
  }

  async deleteRegistration(id: string): Promise<boolean> {
    this.assertOpen();
    return this.registrations.delete(id);
  }

  async listRegistrations(): Promise<Registration[]> {
    this.assertOpen();
    return this.registrations.list();
  }

  async maintain(now: number, options: MaintainOptions = {}): Promise<MaintainReport> {
    this.assertOpen();
    // One run at a time: a second call waits for the first.
    const run = this.maintaining.then(() => this.maintenance.run(now, options));
    this.maintaining = run.catch(() => undefined);
    return run;
  }

  async stats(): Promise<StoreStats> {
    this.assertOpen();
    return this.sizes.read(this.backend);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.maintaining;
    await this.writer?.close();
    const worker = this.checkpointer;
    if (worker) {
      this.checkpointer = null;
      const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
      // Keep the process alive until the thread has closed its connection.
      worker.ref();
      worker.postMessage('stop' satisfies CheckpointerMessage);
      await exited;
    }
    // The last connection to close checkpoints the WAL and removes it.
    this.db.close();
  }

  private assertOpen(): void {
    if (this.closed) throw new HealthmeshError('store_closed', `history store ${this.path} is closed`);
  }
}
