/**
 * Sizes of the SQLite store for /metrics and the CLI: row counts kept in
 * `meta` by every write and delete (a count(*) of a 10M-row table would scan
 * it), and the bytes of the database file and its WAL.
 */
import type Database from 'better-sqlite3';
import { statSync } from 'node:fs';
import type { StoreStats } from './types.js';

/** Reads the store's sizes. */
export class SqliteStats {
  private readonly st;

  constructor(
    db: Database.Database,
    private readonly path: string,
  ) {
    this.st = {
      counters: db.prepare('SELECT key, value FROM meta').raw(),
      countChecks: db.prepare('SELECT count(*) FROM checks').pluck(),
      countRegistrations: db.prepare('SELECT count(*) FROM registrations').pluck(),
    };
  }

  read(backend: string): StoreStats {
    const counters = new Map(this.st.counters.all() as [string, number][]);
    return {
      backend,
      results: counters.get('results') ?? 0,
      transitions: counters.get('transitions') ?? 0,
      registrations: this.st.countRegistrations.get() as number,
      rollups: { minute: counters.get('rollups_minute') ?? 0, hour: counters.get('rollups_hour') ?? 0 },
      groupRollups: { minute: counters.get('group_rollups_minute') ?? 0, hour: counters.get('group_rollups_hour') ?? 0 },
      checks: this.st.countChecks.get() as number,
      bytes: this.bytes(),
    };
  }

  /** Database file + WAL, bytes; null for ":memory:". */
  private bytes(): number | null {
    if (this.path === ':memory:') return null;
    let bytes = 0;
    for (const suffix of ['', '-wal']) {
      try {
        bytes += statSync(this.path + suffix).size;
      } catch {
        // no WAL right now
      }
    }
    return bytes;
  }
}
