/**
 * The alerting module's SQLite backend (AlertStore): the outbox, alert
 * records and API silences in tables of their own (prefix `alert_`), on the
 * history's database file (WAL is on there, so this connection and the
 * history's writers do not block each other's reads) or on a file of its
 * own.
 *
 * Durability (`synchronous`): with "normal" (the default, as the history's
 * batches) a committed row survives a crash of the process (kill -9): a
 * restart neither loses an enqueued notification nor resends a delivered
 * one; an OS crash or power loss may lose the newest commits. "full" fsyncs
 * every commit so they survive that too, at the cost of an fsync on the
 * path from a transition to the notifier (bench/alerts measures both).
 *
 * better-sqlite3 is synchronous; methods are async for the interface's sake
 * (a networked backend fits the same shape).
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Silence } from '../alerts/silences.js';
import { createPrivateFile } from '../security/files.js';
import type { AlertStore, FailedTry, NotifierStats, OutboxRow } from '../alerts/store.js';
import type { AlertRecord, AlertState } from '../alerts/types.js';

/** Version of the alert tables, in alert_schema (the history owns PRAGMA user_version). */
export const ALERT_SCHEMA_VERSION = 1;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS alert_schema (version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS alert_outbox (
  id TEXT PRIMARY KEY,
  notifier TEXT NOT NULL,
  notification TEXT NOT NULL,
  state TEXT NOT NULL,
  attempts INTEGER NOT NULL,
  next_attempt_at INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  delivered_at INTEGER,
  last_error TEXT,
  lease_owner TEXT,
  lease_until INTEGER
);
CREATE INDEX IF NOT EXISTS alert_outbox_due ON alert_outbox (notifier, state, next_attempt_at);
CREATE TABLE IF NOT EXISTS alert_notifier_status (
  notifier TEXT PRIMARY KEY, last_error TEXT, last_error_at INTEGER, last_delivered_at INTEGER
);
CREATE TABLE IF NOT EXISTS alert_alerts (
  id TEXT PRIMARY KEY, state TEXT NOT NULL, updated_at INTEGER NOT NULL, record TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS alert_alerts_state ON alert_alerts (state, updated_at);
CREATE TABLE IF NOT EXISTS alert_silences (id TEXT PRIMARY KEY, end_at INTEGER NOT NULL, silence TEXT NOT NULL);
`;

/** Options of the SQLite alert store. */
export interface SqliteAlertStoreOptions {
  /** Database file (the history's storage.path, or one of its own); its directory is created. ":memory:" works. */
  path: string;
  /** Wait for a lock held by another connection this long, ms (default 5000). */
  busyTimeoutMs?: number;
  /** "normal" (default): commits survive a process crash; "full": an OS crash too (an fsync per commit). */
  synchronous?: 'normal' | 'full';
}

interface OutboxDbRow {
  id: string;
  notifier: string;
  notification: string;
  state: OutboxRow['state'];
  attempts: number;
  next_attempt_at: number;
  created_at: number;
  delivered_at: number | null;
  last_error: string | null;
}

/** Open (and create or upgrade) the alert tables in the file at `options.path`. */
export function openSqliteAlertStore(options: SqliteAlertStoreOptions): SqliteAlertStore {
  if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true });
  createPrivateFile(options.path); // mode 0600: alert labels and notifier errors are in it
  const db = new Database(options.path);
  try {
    db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 5000}`);
    if (options.path !== ':memory:') db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${options.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
    db.exec(SCHEMA);
    const row = db.prepare('SELECT version FROM alert_schema').get() as { version: number } | undefined;
    if (!row) db.prepare('INSERT INTO alert_schema (version) VALUES (?)').run(ALERT_SCHEMA_VERSION);
    else if (row.version > ALERT_SCHEMA_VERSION)
      throw new Error(`alert tables are version ${row.version}, newer than this healthmesh (${ALERT_SCHEMA_VERSION})`);
  } catch (err) {
    db.close();
    throw err;
  }
  return new SqliteAlertStore(db);
}

/** AlertStore on one better-sqlite3 connection. */
export class SqliteAlertStore implements AlertStore {
  private readonly insertRow;
  private readonly selectDue;
  private readonly lease;
  private readonly delivered;
  private readonly failed;
  private readonly statusDelivered;
  private readonly statusFailed;
  private readonly claim;

  constructor(private readonly db: Database.Database) {
    this.insertRow = db.prepare(
      `INSERT OR IGNORE INTO alert_outbox (id, notifier, notification, state, attempts, next_attempt_at, created_at, delivered_at, last_error)
       VALUES (@id, @notifier, @notification, 'pending', @attempts, @nextAttemptAt, @createdAt, NULL, @lastError)`,
    );
    this.selectDue = db.prepare(
      `SELECT * FROM alert_outbox WHERE notifier = ? AND state = 'pending' AND next_attempt_at <= ? AND (lease_until IS NULL OR lease_until <= ?)
       ORDER BY next_attempt_at, rowid LIMIT ?`,
    );
    this.lease = db.prepare('UPDATE alert_outbox SET lease_owner = ?, lease_until = ? WHERE id = ?');
    this.delivered = db.prepare(
      `UPDATE alert_outbox SET state = 'delivered', delivered_at = ?, lease_owner = NULL, lease_until = NULL WHERE id = ? RETURNING notifier`,
    );
    this.failed = db.prepare(
      `UPDATE alert_outbox SET state = ?, attempts = ?, next_attempt_at = ?, last_error = ?, lease_owner = NULL, lease_until = NULL
       WHERE id = ? AND state != 'delivered' RETURNING notifier`,
    );
    this.statusDelivered = db.prepare(
      `INSERT INTO alert_notifier_status (notifier, last_delivered_at) VALUES (?, ?)
       ON CONFLICT (notifier) DO UPDATE SET last_delivered_at = excluded.last_delivered_at`,
    );
    this.statusFailed = db.prepare(
      `INSERT INTO alert_notifier_status (notifier, last_error, last_error_at) VALUES (?, ?, ?)
       ON CONFLICT (notifier) DO UPDATE SET last_error = excluded.last_error, last_error_at = excluded.last_error_at`,
    );
    // IMMEDIATE: the select and the lease happen under the write lock, so two connections never claim the same row.
    this.claim = db.transaction((notifier: string, now: number, limit: number, owner: string, until: number) => {
      const rows = this.selectDue.all(notifier, now, now, limit) as OutboxDbRow[];
      for (const r of rows) this.lease.run(owner, until, r.id);
      return rows;
    });
  }

  async enqueue(rows: readonly OutboxRow[]): Promise<void> {
    const insert = this.db.transaction((list: readonly OutboxRow[]) => {
      for (const r of list) {
        this.insertRow.run({
          id: r.id,
          notifier: r.notifier,
          notification: JSON.stringify(r.notification),
          attempts: r.attempts,
          nextAttemptAt: Math.floor(r.nextAttemptAt),
          createdAt: Math.floor(r.createdAt),
          lastError: r.lastError,
        });
      }
    });
    insert(rows);
  }

  async claimDue(notifier: string, now: number, limit: number, lease: { owner: string; until: number }): Promise<OutboxRow[]> {
    return this.claim.immediate(notifier, Math.floor(now), limit, lease.owner, Math.floor(lease.until)).map(toRow);
  }

  async markDelivered(id: string, at: number): Promise<void> {
    this.db.transaction(() => {
      const r = this.delivered.get(Math.floor(at), id) as { notifier: string } | undefined;
      if (r) this.statusDelivered.run(r.notifier, Math.floor(at));
    })();
  }

  async markFailed(id: string, f: FailedTry): Promise<void> {
    this.db.transaction(() => {
      const r = this.failed.get(f.dead ? 'dead' : 'pending', f.attempts, Math.floor(f.nextAttemptAt), f.error, id) as { notifier: string } | undefined;
      if (r) this.statusFailed.run(r.notifier, f.error, Math.floor(f.at));
    })();
  }

  async nextDue(notifier: string): Promise<number | null> {
    const r = this.db.prepare(`SELECT MIN(next_attempt_at) AS next FROM alert_outbox WHERE notifier = ? AND state = 'pending'`).get(notifier) as {
      next: number | null;
    };
    return r.next;
  }

  async releaseLeases(owner: string): Promise<void> {
    this.db.prepare('UPDATE alert_outbox SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = ?').run(owner);
  }

  async notifierStats(): Promise<NotifierStats[]> {
    const counts = this.db
      .prepare(
        `SELECT notifier, SUM(state = 'pending') AS queued, SUM(state = 'dead') AS dead, SUM(state = 'delivered') AS delivered FROM alert_outbox GROUP BY notifier`,
      )
      .all() as Array<{ notifier: string; queued: number; dead: number; delivered: number }>;
    const status = this.db.prepare('SELECT * FROM alert_notifier_status').all() as Array<{
      notifier: string;
      last_error: string | null;
      last_error_at: number | null;
      last_delivered_at: number | null;
    }>;
    const byName = new Map<string, NotifierStats>();
    const get = (notifier: string): NotifierStats => {
      let s = byName.get(notifier);
      if (!s) {
        s = { notifier, queued: 0, dead: 0, delivered: 0, lastError: null, lastErrorAt: null, lastDeliveredAt: null };
        byName.set(notifier, s);
      }
      return s;
    };
    for (const c of counts) Object.assign(get(c.notifier), { queued: c.queued, dead: c.dead, delivered: c.delivered });
    for (const s of status) Object.assign(get(s.notifier), { lastError: s.last_error, lastErrorAt: s.last_error_at, lastDeliveredAt: s.last_delivered_at });
    return [...byName.values()].sort((a, b) => a.notifier.localeCompare(b.notifier));
  }

  async deadLetters(q: { notifier?: string; limit: number }): Promise<OutboxRow[]> {
    const rows =
      q.notifier === undefined
        ? this.db.prepare(`SELECT * FROM alert_outbox WHERE state = 'dead' ORDER BY rowid DESC LIMIT ?`).all(q.limit)
        : this.db.prepare(`SELECT * FROM alert_outbox WHERE state = 'dead' AND notifier = ? ORDER BY rowid DESC LIMIT ?`).all(q.notifier, q.limit);
    return (rows as OutboxDbRow[]).map(toRow);
  }

  async pruneOutbox(before: number): Promise<number> {
    return this.db.prepare(`DELETE FROM alert_outbox WHERE state != 'pending' AND created_at < ?`).run(Math.floor(before)).changes;
  }

  async saveAlerts(records: readonly AlertRecord[]): Promise<void> {
    const put = this.db.prepare(
      'INSERT INTO alert_alerts (id, state, updated_at, record) VALUES (?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at, record = excluded.record',
    );
    this.db.transaction((list: readonly AlertRecord[]) => {
      for (const r of list) put.run(r.id, r.state, Math.floor(r.updatedAt), JSON.stringify(r));
    })(records);
  }

  async loadAlerts(q: { states?: readonly AlertState[]; limit?: number } = {}): Promise<AlertRecord[]> {
    const limit = q.limit ?? -1;
    const rows = q.states
      ? this.db
          .prepare(`SELECT record FROM alert_alerts WHERE state IN (${q.states.map(() => '?').join(',')}) ORDER BY updated_at DESC, id LIMIT ?`)
          .all(...q.states, limit)
      : this.db.prepare('SELECT record FROM alert_alerts ORDER BY updated_at DESC, id LIMIT ?').all(limit);
    return (rows as Array<{ record: string }>).map((r) => JSON.parse(r.record) as AlertRecord);
  }

  async getAlert(id: string): Promise<AlertRecord | undefined> {
    const r = this.db.prepare('SELECT record FROM alert_alerts WHERE id = ?').get(id) as { record: string } | undefined;
    return r ? (JSON.parse(r.record) as AlertRecord) : undefined;
  }

  async putSilence(s: Silence): Promise<void> {
    this.db
      .prepare(
        'INSERT INTO alert_silences (id, end_at, silence) VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE SET end_at = excluded.end_at, silence = excluded.silence',
      )
      .run(s.id, Math.floor(s.end), JSON.stringify(s));
  }

  async deleteSilence(id: string): Promise<boolean> {
    return this.db.prepare('DELETE FROM alert_silences WHERE id = ?').run(id).changes > 0;
  }

  async listSilences(): Promise<Silence[]> {
    return (this.db.prepare('SELECT silence FROM alert_silences ORDER BY end_at, id').all() as Array<{ silence: string }>).map(
      (r) => JSON.parse(r.silence) as Silence,
    );
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}

function toRow(r: OutboxDbRow): OutboxRow {
  return {
    id: r.id,
    notifier: r.notifier,
    notification: JSON.parse(r.notification) as OutboxRow['notification'],
    state: r.state,
    attempts: r.attempts,
    nextAttemptAt: r.next_attempt_at,
    createdAt: r.created_at,
    deliveredAt: r.delivered_at,
    lastError: r.last_error,
  };
}
