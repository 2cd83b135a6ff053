/**
 * Run-time registrations in the SQLite store, on the main connection. Each
 * put or delete is one autocommit statement run with `synchronous=FULL`, so
 * the WAL is fsynced before the promise resolves: an acknowledged
 * registration survives an OS crash, not only a process crash. Batched
 * history keeps NORMAL.
 */
import type Database from 'better-sqlite3';
import type { Registration } from './types.js';

type RegistrationRow = [string, string, string, string, number, string | null, string, string, number];

/** Registrations table access. */
export class SqliteRegistrations {
  private readonly st;

  constructor(private readonly db: Database.Database) {
    this.st = {
      put: db.prepare(
        `INSERT OR REPLACE INTO registrations (id, service, address, tags, weight, zone, metadata, checks, registered_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      delete: db.prepare('DELETE FROM registrations WHERE id = ?'),
      list: db.prepare('SELECT id, service, address, tags, weight, zone, metadata, checks, registered_at FROM registrations ORDER BY id').raw(),
    };
  }

  put(reg: Registration): void {
    this.durably(() =>
      this.st.put.run(
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

  /** True when a registration was deleted. */
  delete(id: string): boolean {
    return this.durably(() => this.st.delete.run(id).changes > 0);
  }

  /** All registrations, ordered by id. */
  list(): Registration[] {
    return (this.st.list.all() as RegistrationRow[]).map(([id, service, address, tags, weight, zone, metadata, checks, registeredAt]) => {
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

  /** Run one autocommit statement with synchronous=FULL (fsync before returning). */
  private durably<T>(fn: () => T): T {
    this.db.pragma('synchronous = FULL');
    try {
      return fn();
    } finally {
      this.db.pragma('synchronous = NORMAL');
    }
  }
}
