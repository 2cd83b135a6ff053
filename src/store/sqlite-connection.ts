/**
 * How every connection of the SQLite store is set up: the main thread's and
 * the writer thread's use the same journal, durability and cache settings, so
 * a batch committed by either has the same guarantees.
 */
import type Database from 'better-sqlite3';

/** Connection settings shared by the main thread and the writer thread. */
export interface ConnectionSettings {
  /** Page cache, KiB (passed to `PRAGMA cache_size` as a negative number of KiB). */
  cacheSizeKib: number;
  /** WAL pages after which a committing transaction checkpoints inline. */
  autocheckpoint: number;
}

/**
 * Page cache in KiB for a cache of `mb` MiB (default 64), as `PRAGMA
 * cache_size` wants it: a negative count of KiB.
 */
export function cacheSizeKib(mb: number | undefined): number {
  return -Math.round((mb ?? 64) * 1024);
}

/**
 * WAL pages between inline checkpoints: ~100 MB with the background
 * checkpointer (only a fallback for when it cannot keep up), ~40 MB without.
 * Either is far above SQLite's 4 MB default, so the hot index pages that
 * consecutive flushes rewrite are copied (and fsynced) once, not once per flush.
 */
export function autocheckpointPages(background: boolean): number {
  return background ? 25_000 : 10_000;
}

/**
 * Apply the store's pragmas: WAL journal, `synchronous=NORMAL` (a committed
 * batch survives a crash of the process; registrations switch to FULL for
 * their own statement), a 5 s busy timeout for the other connection's
 * transactions, and a WAL that shrinks back to 64 MiB after a checkpoint
 * instead of keeping its peak size.
 */
export function configureConnection(db: Database.Database, settings: ConnectionSettings): void {
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  db.pragma(`cache_size = ${settings.cacheSizeKib}`);
  db.pragma('temp_store = MEMORY');
  db.pragma(`wal_autocheckpoint = ${settings.autocheckpoint}`);
  db.pragma('journal_size_limit = 67108864');
}
