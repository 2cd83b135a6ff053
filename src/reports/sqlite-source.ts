/**
 * The report source of a SQLite history store: catalog and raw-result scans
 * read the store's tables through its connection (read-only statements),
 * everything else goes through the HistoryStore queries. The alert state is
 * read when its tables are in the file (the daemon keeps them there unless
 * alerts.outbox.path says otherwise); a store without them has no alerts to
 * report, and the alerts report says so.
 */
import { existsSync } from 'node:fs';
import type { Config } from '../config/schema.js';
import { openSqliteAlertStore, type SqliteAlertStore } from '../store/sqlite-alerts.js';
import type { SqliteHistoryStore } from '../store/sqlite.js';
import type { CatalogCheck, InstanceTopology, ReportSource, ResultVisitor } from './source.js';

/** A report source and what to close when done with it. */
export interface OpenedSource {
  source: ReportSource;
  close(): Promise<void>;
}

/** Rows of results read per statement when a minute's rowid range is long (late rows): it is read in slices of this many. */
const DEFAULT_SLICE = 20_000;

/** A scanned result: check ref, observed at, status code, reason ref, duration µs. */
type ResultRow = [number, number, number, number, number];

/**
 * A report source over an open SQLite store. `config` adds tags, zones and
 * maintenance windows (without it, registrations alone give tags and zones).
 * `sliceRows` (tests) sets the slice of long rowid ranges.
 */
export async function sqliteReportSource(store: SqliteHistoryStore, config?: Config, options: { sliceRows?: number } = {}): Promise<OpenedSource> {
  const SLICE = Math.max(1, options.sliceRows ?? DEFAULT_SLICE);
  const db = store.db;
  const st = {
    checks: db
      .prepare(
        `SELECT c.id, c.check_id, s.name, i.name, c.kind FROM checks c
         JOIN services s ON s.id = c.service_id JOIN instances i ON i.id = c.instance_id ORDER BY c.check_id`,
      )
      .raw(),
    reasons: db.prepare('SELECT id, reason FROM reasons').raw(),
    minutes: db.prepare('SELECT start, min_id, max_id FROM buckets WHERE resolution = 0 AND start >= ? AND start < ? ORDER BY start').raw(),
    rows: db
      .prepare(
        'SELECT id, check_ref, observed_at, status, reason_ref, duration_us FROM results WHERE id >= ? AND id <= ? AND observed_at >= ? AND observed_at < ? ORDER BY id LIMIT ?',
      )
      .raw(),
    // A minute's rows when its rowid range is short (the common case): no id, no sort, the time filtered in SQLite.
    minuteRows: db
      .prepare('SELECT check_ref, observed_at, status, reason_ref, duration_us FROM results WHERE id >= ? AND id <= ? AND observed_at >= ? AND observed_at < ?')
      .raw(),
    metricRows: db
      .prepare('SELECT id, check_ref, observed_at, metrics FROM results WHERE id >= ? AND id <= ? AND metrics IS NOT NULL ORDER BY id LIMIT ?')
      .raw(),
    rawHorizon: db.prepare("SELECT value FROM meta WHERE key = 'raw_horizon'").pluck(),
    firstMinute: db.prepare('SELECT min(start) FROM buckets WHERE resolution = 0').pluck(),
    hasAlerts: db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alert_alerts'").pluck(),
  };

  /** check ref → index in `checks` (−1: not asked for). */
  const refIndex = (checks: readonly string[]): number[] => {
    const index = new Map(checks.map((c, i) => [c, i]));
    const byRef: number[] = [];
    for (const [ref, checkId] of st.checks.all() as [number, string][]) byRef[ref] = index.get(checkId) ?? -1;
    return byRef;
  };
  const floorMinute = (t: number): number => t - (((t % 60_000) + 60_000) % 60_000);

  const topologies = new Map<string, InstanceTopology>();
  for (const reg of await store.listRegistrations()) topologies.set(`${reg.service}/${reg.id}`, { tags: reg.tags, zone: reg.zone ?? null });
  for (const [service, sc] of Object.entries(config?.services ?? {})) {
    for (const inst of sc.instances) topologies.set(`${service}/${inst.id ?? inst.address}`, { tags: inst.tags, zone: inst.zone ?? null });
  }

  let alerts: SqliteAlertStore | null = null;
  const alertPath = config?.alerts?.outbox.path;
  if (alertPath !== undefined ? existsSync(alertPath) : st.hasAlerts.get() === 1) alerts = openSqliteAlertStore({ path: alertPath ?? store.path });

  const source: ReportSource = {
    history: store,
    maintenance: config?.alerts?.maintenance ?? [],
    alerts,
    topology: (service, instance) => topologies.get(`${service}/${instance}`),
    async catalog(): Promise<CatalogCheck[]> {
      return (st.checks.all() as [number, string, string, string, string][]).map(([, checkId, service, instance, kind]) => ({
        checkId,
        service,
        instance,
        kind,
      }));
    },
    async rawFrom(): Promise<number | null> {
      const first = st.firstMinute.get() as number | null;
      return first === null ? null : Math.max(first, st.rawHorizon.get() as number);
    },
    async scanMetrics(checks, from, to, visit): Promise<void> {
      const byRef = refIndex(checks);
      for (const [start, minId, maxId] of st.minutes.all(floorMinute(from), to) as [number, number, number][]) {
        let next = minId;
        for (;;) {
          const rows = st.metricRows.all(next, maxId, SLICE) as [number, number, number, string][];
          for (const [, ref, at, json] of rows) {
            if (at < start || at >= start + 60_000 || at < from || at >= to) continue;
            const i = byRef[ref] ?? -1;
            if (i >= 0) visit(i, at, JSON.parse(json) as Record<string, number>);
          }
          if (rows.length < SLICE) break;
          next = rows[rows.length - 1]![0] + 1;
        }
        await new Promise((resolve) => setImmediate(resolve));
      }
    },
    async scanResults(checks: readonly string[], from: number, to: number, visit: ResultVisitor, onMinute?: (minuteStart: number) => void): Promise<void> {
      const byRef = refIndex(checks);
      const reasons: string[] = [];
      for (const [ref, text] of st.reasons.all() as [number, string][]) reasons[ref] = text;
      const visitRows = (rows: ResultRow[]): void => {
        for (const [ref, at, status, reasonRef, us] of rows) {
          const i = byRef[ref] ?? -1;
          if (i >= 0) visit(i, at, status, reasons[reasonRef] ?? '', us / 1000);
        }
      };
      let sinceYield = 0;
      for (const [start, minId, maxId] of st.minutes.all(floorMinute(from), to) as [number, number, number][]) {
        // Rows of other minutes share the rowid range when they arrived late: the time filter decides.
        const a = Math.max(start, from);
        const b = Math.min(start + 60_000, to);
        if (maxId - minId < SLICE) {
          // The common case: one statement, no sort.
          const rows = st.minuteRows.all(minId, maxId, a, b) as ResultRow[];
          visitRows(rows);
          sinceYield += rows.length;
        } else {
          // A long rowid range (late rows): read it in id-ordered slices.
          for (let next = minId; ; ) {
            const rows = st.rows.all(next, maxId, a, b, SLICE) as Array<[number, ...ResultRow]>;
            visitRows(rows.map(([, ...row]) => row));
            sinceYield += rows.length;
            if (rows.length < SLICE) break;
            next = rows[rows.length - 1]![0] + 1;
          }
        }
        onMinute?.(start);
        // Let the event loop breathe (API requests, progress output) on long scans.
        if (sinceYield >= 200_000) {
          sinceYield = 0;
          await new Promise((resolve) => setImmediate(resolve));
        }
      }
    },
  };
  return {
    source,
    async close() {
      await alerts?.close();
    },
  };
}
