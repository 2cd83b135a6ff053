/**
 * The interned names of the SQLite store: services, instances, checks and
 * reason codes live in small lookup tables and rows hold integer refs. Each
 * connection (the main thread's, the writer thread's) keeps its own cache of
 * them; a name another connection added is found by one small query, and
 * `refresh` reloads the cache when the tables grew.
 */
import type Database from 'better-sqlite3';

/** A check as the store knows it. */
export interface CheckEntry {
  ref: number;
  checkId: string;
  serviceRef: number;
  instanceRef: number;
  service: string;
  instance: string;
  kind: string;
  /** checks.last_minute as this connection last wrote or read it (ms, null: no result yet). */
  lastMinute: number | null;
}

/** Interned names of one connection. Interning methods must run inside a write transaction. */
export class SqliteNames {
  private readonly checksByKey = new Map<string, CheckEntry>();
  private readonly checksByRef = new Map<number, CheckEntry>();
  private readonly servicesByName = new Map<string, number>();
  private readonly servicesByRef = new Map<number, string>();
  private readonly instancesByKey = new Map<string, number>();
  private readonly instancesByRef = new Map<number, string>();
  private readonly reasonsByText = new Map<string, number>();
  private readonly reasonsByRef = new Map<number, string>();
  /** Highest ref of each name table when the names were last loaded. */
  private version = '';
  private readonly st;
  /**
   * Check ids whose stored kind the current transaction set → the kind; the
   * writer thread reports them so the main thread's cache follows. Null: not tracked.
   */
  kindChanges: Map<string, string> | null = null;

  constructor(db: Database.Database) {
    this.st = {
      insertService: db.prepare('INSERT OR IGNORE INTO services (name) VALUES (?)'),
      serviceId: db.prepare('SELECT id FROM services WHERE name = ?').pluck(),
      insertInstance: db.prepare('INSERT OR IGNORE INTO instances (service_id, name) VALUES (?, ?)'),
      instanceId: db.prepare('SELECT id FROM instances WHERE service_id = ? AND name = ?').pluck(),
      insertCheck: db.prepare('INSERT OR IGNORE INTO checks (check_id, service_id, instance_id, kind) VALUES (?, ?, ?, ?)'),
      checkRow: db.prepare('SELECT id, service_id, instance_id, kind, last_minute FROM checks WHERE check_id = ?').raw(),
      updateKind: db.prepare('UPDATE checks SET kind = ? WHERE id = ?'),
      insertReason: db.prepare('INSERT OR IGNORE INTO reasons (reason) VALUES (?)'),
      reasonId: db.prepare('SELECT id FROM reasons WHERE reason = ?').pluck(),
      allChecks: db
        .prepare(
          `SELECT c.id, c.check_id, c.service_id, c.instance_id, s.name, i.name, c.kind, c.last_minute
           FROM checks c JOIN services s ON s.id = c.service_id JOIN instances i ON i.id = c.instance_id`,
        )
        .raw(),
      allServices: db.prepare('SELECT name, id FROM services').raw(),
      allInstances: db.prepare('SELECT service_id, name, id FROM instances').raw(),
      allReasons: db.prepare('SELECT id, reason FROM reasons').raw(),
      version: db
        .prepare(
          `SELECT ifnull((SELECT max(id) FROM checks), 0) || '/' || ifnull((SELECT max(id) FROM services), 0) || '/' ||
                  ifnull((SELECT max(id) FROM instances), 0) || '/' || ifnull((SELECT max(id) FROM reasons), 0)`,
        )
        .pluck(),
    };
    this.load();
  }

  /** (Re)load every name; at open, after a rolled-back write (its names are gone from the file) and by refresh. */
  load(): void {
    this.version = this.st.version.get() as string;
    this.checksByKey.clear();
    this.checksByRef.clear();
    this.servicesByName.clear();
    this.servicesByRef.clear();
    this.instancesByKey.clear();
    this.instancesByRef.clear();
    this.reasonsByText.clear();
    this.reasonsByRef.clear();
    for (const [name, id] of this.st.allServices.all() as [string, number][]) {
      this.servicesByName.set(name, id);
      this.servicesByRef.set(id, name);
    }
    for (const [sid, name, id] of this.st.allInstances.all() as [number, string, number][]) {
      this.instancesByKey.set(instanceKey(sid, name), id);
      this.instancesByRef.set(id, name);
    }
    type CheckRow = [number, string, number, number, string, string, string, number | null];
    for (const [ref, checkId, serviceRef, instanceRef, service, instance, kind, lastMinute] of this.st.allChecks.all() as CheckRow[]) {
      const entry = { ref, checkId, serviceRef, instanceRef, service, instance, kind, lastMinute };
      this.checksByKey.set(checkId, entry);
      this.checksByRef.set(ref, entry);
    }
    for (const [id, reason] of this.st.allReasons.all() as [number, string][]) {
      this.reasonsByText.set(reason, id);
      this.reasonsByRef.set(id, reason);
    }
  }

  /**
   * Reload the names if another connection (a daemon next to this CLI, or
   * the writer thread) added some since the last load; a lookup of an
   * unknown name costs one small query, not a reload.
   */
  refresh(): void {
    if (this.st.version.get() !== this.version) this.load();
  }

  /** Ref of a service, interning it on first sight. */
  internService(service: string): number {
    let ref = this.servicesByName.get(service);
    if (ref === undefined) {
      this.st.insertService.run(service);
      ref = this.st.serviceId.get(service) as number;
      this.servicesByName.set(service, ref);
      this.servicesByRef.set(ref, service);
    }
    return ref;
  }

  /** Ref of an instance of a service (by the service's ref), interning it on first sight. */
  internInstance(serviceRef: number, instance: string): number {
    const key = instanceKey(serviceRef, instance);
    let ref = this.instancesByKey.get(key);
    if (ref === undefined) {
      this.st.insertInstance.run(serviceRef, instance);
      ref = this.st.instanceId.get(serviceRef, instance) as number;
      this.instancesByKey.set(key, ref);
      this.instancesByRef.set(ref, instance);
    }
    return ref;
  }

  /**
   * A check, interning it (and its service and instance) on first sight. The
   * newest kind written wins, also over a kind another connection stored.
   */
  internCheck(checkId: string, service: string, instance: string, kind: string): CheckEntry {
    const known = this.checksByKey.get(checkId);
    if (known) {
      if (known.kind !== kind) this.setKind(known, kind);
      return known;
    }
    const serviceRef = this.internService(service);
    const instanceRef = this.internInstance(serviceRef, instance);
    this.st.insertCheck.run(checkId, serviceRef, instanceRef, kind);
    const row = this.st.checkRow.get(checkId) as [number, number, number, string, number | null];
    const entry: CheckEntry = { ref: row[0], checkId, serviceRef: row[1], instanceRef: row[2], service, instance, kind: row[3], lastMinute: row[4] };
    this.checksByKey.set(checkId, entry);
    this.checksByRef.set(entry.ref, entry);
    // Another connection interned it first with another kind: ours is newer.
    if (entry.kind !== kind) this.setKind(entry, kind);
    this.kindChanges?.set(checkId, kind);
    return entry;
  }

  private setKind(entry: CheckEntry, kind: string): void {
    this.st.updateKind.run(kind, entry.ref);
    entry.kind = kind;
    this.kindChanges?.set(entry.checkId, kind);
  }

  /** Ref of a reason code, interning it on first sight. */
  internReason(reason: string): number {
    let ref = this.reasonsByText.get(reason);
    if (ref === undefined) {
      this.st.insertReason.run(reason);
      ref = this.st.reasonId.get(reason) as number;
      this.reasonsByText.set(reason, ref);
      this.reasonsByRef.set(ref, reason);
    }
    return ref;
  }

  /** The cached check of `checkId`, without a refresh (the write path). */
  cachedCheck(checkId: string): CheckEntry | undefined {
    return this.checksByKey.get(checkId);
  }

  /** A check written by any connection, by ref; a placeholder if it is unknown even after a refresh. */
  checkOfRef(ref: number): CheckEntry {
    let entry = this.checksByRef.get(ref);
    if (!entry) {
      this.refresh();
      entry = this.checksByRef.get(ref);
    }
    return entry ?? { ref, checkId: `#${ref}`, serviceRef: 0, instanceRef: 0, service: '', instance: '', kind: '', lastMinute: null };
  }

  /** A service's name by ref ('' if unknown even after a refresh). */
  serviceOfRef(ref: number): string {
    if (!this.servicesByRef.has(ref)) this.refresh();
    return this.servicesByRef.get(ref) ?? '';
  }

  /** An instance's name by ref ('' if unknown even after a refresh). */
  instanceOfRef(ref: number): string {
    if (!this.instancesByRef.has(ref)) this.refresh();
    return this.instancesByRef.get(ref) ?? '';
  }

  reasonOfRef(ref: number): string {
    let reason = this.reasonsByRef.get(ref);
    if (reason === undefined) {
      this.refresh();
      reason = this.reasonsByRef.get(ref);
    }
    return reason ?? 'error';
  }

  /** A check by id, written by any connection, or undefined. */
  check(checkId: string): CheckEntry | undefined {
    if (!this.checksByKey.has(checkId)) this.refresh();
    return this.checksByKey.get(checkId);
  }

  serviceRef(service: string): number | undefined {
    if (!this.servicesByName.has(service)) this.refresh();
    return this.servicesByName.get(service);
  }

  /** Ref of the instance `instance` of `service`, or undefined. */
  instanceRef(service: string, instance: string): number | undefined {
    const serviceRef = this.serviceRef(service);
    if (serviceRef === undefined) return undefined;
    const key = instanceKey(serviceRef, instance);
    if (!this.instancesByKey.has(key)) this.refresh();
    return this.instancesByKey.get(key);
  }

  /** Whether every check id is in the cache (so a batch lookup needs no refresh). */
  hasAll(checkIds: readonly string[]): boolean {
    return checkIds.every((id) => this.checksByKey.has(id));
  }
}

function instanceKey(serviceRef: number, instance: string): string {
  return `${serviceRef}\u0000${instance}`;
}
