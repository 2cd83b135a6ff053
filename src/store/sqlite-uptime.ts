/**
 * Uptime reads of the SQLite store (main connection), from the tables
 * sqlite-status-timeline.ts keeps: the whole UTC days of a range from
 * `status_days` (plus the share of the status still running, which no day
 * holds yet), the partial days at both ends from the subject's transition
 * rows. A year costs one aggregate over ~365 day rows and two short index
 * ranges of transitions, whatever the number of transitions.
 */
import type Database from 'better-sqlite3';
import type { HealthStatus } from '../core/status.js';
import { DAY_MS, dayOf, refOf, type Subject } from './sqlite-status-timeline.js';
import { STATUS_CODE, type Uptime } from './types.js';

const UNHEALTHY = STATUS_CODE.UNHEALTHY;

/** A subject's row of status_now: status code, since (ms), start of the open incident. */
type NowRow = [number, number, number | null];

/** What a range adds up to. */
interface Accumulated {
  /** ms HEALTHY, DEGRADED, UNHEALTHY. */
  ms: [number, number, number];
  incidents: number;
  recoveries: number;
  recoveryMs: number;
  /** Start of the incident open at the end of what was walked last. */
  incidentSince: number | null;
}

export class UptimeQueries {
  private readonly st;

  constructor(db: Database.Database) {
    const subjectRows = 'level = ? AND service_ref = ? AND instance_ref = ?';
    this.st = {
      now: db.prepare('SELECT status, since, incident_since FROM status_now WHERE level = ? AND ref = ?').raw(),
      days: db
        .prepare(
          `SELECT ifnull(sum(healthy_ms), 0), ifnull(sum(degraded_ms), 0), ifnull(sum(unhealthy_ms), 0),
                  ifnull(sum(incidents), 0), ifnull(sum(recoveries), 0), ifnull(sum(recovery_ms), 0)
           FROM status_days WHERE level = ? AND ref = ? AND day >= ? AND day < ?`,
        )
        .raw(),
      lastRowBefore: db.prepare(`SELECT to_status, incident_since FROM transitions WHERE ${subjectRows} AND at < ? ORDER BY at DESC, id DESC LIMIT 1`).raw(),
      firstRowFrom: db.prepare(`SELECT from_status FROM transitions WHERE ${subjectRows} AND at >= ? ORDER BY at, id LIMIT 1`).raw(),
      rowsIn: db
        .prepare(`SELECT at, to_status, opened, recovery_ms, incident_since FROM transitions WHERE ${subjectRows} AND at >= ? AND at < ? ORDER BY at, id`)
        .raw(),
      horizon: db.prepare("SELECT value FROM meta WHERE key = 'status_horizon'").pluck(),
    };
  }

  /** Uptime of a subject (null: unknown to the store) over [from, to). */
  uptime(subject: Subject | null, from: number, to: number): Uptime {
    const acc: Accumulated = { ms: [0, 0, 0], incidents: 0, recoveries: 0, recoveryMs: 0, incidentSince: null };
    if (subject && to > from) {
      const now = this.st.now.get(subject.level, refOf(subject)) as NowRow | undefined;
      // Time older than uptime retention is unknown, however much of it a day row might still hold.
      const start = Math.min(to, Math.max(from, this.st.horizon.get() as number));
      const firstDay = Math.ceil(start / DAY_MS) * DAY_MS;
      const lastDay = dayOf(to);
      if (firstDay < lastDay) {
        this.addDays(subject, now, firstDay, lastDay, acc);
        this.walk(subject, now, start, firstDay, acc);
        this.walk(subject, now, lastDay, to, acc);
      } else {
        this.walk(subject, now, start, to, acc);
      }
    }
    const [h, d, u] = acc.ms;
    const known = h + d + u;
    const ms: Record<HealthStatus, number> = { HEALTHY: h, DEGRADED: d, UNHEALTHY: u, UNKNOWN: Math.max(0, to - from) - known };
    return {
      from,
      to,
      ms,
      uptimePercent: known > 0 ? ((h + d) / known) * 100 : null,
      incidents: acc.incidents,
      recoveries: acc.recoveries,
      mttrMs: acc.recoveries > 0 ? acc.recoveryMs / acc.recoveries : null,
      openIncidentSince: acc.incidentSince,
    };
  }

  /** Whole days [firstDay, lastDay): their rows, and the running segment's share. */
  private addDays(subject: Subject, now: NowRow | undefined, firstDay: number, lastDay: number, acc: Accumulated): void {
    const [h, d, u, incidents, recoveries, recoveryMs] = this.st.days.get(subject.level, refOf(subject), firstDay, lastDay) as number[];
    acc.ms[0] += h!;
    acc.ms[1] += d!;
    acc.ms[2] += u!;
    acc.incidents += incidents!;
    acc.recoveries += recoveries!;
    acc.recoveryMs += recoveryMs!;
    if (now && now[0] <= UNHEALTHY && now[1] < lastDay) acc.ms[now[0]]! += lastDay - Math.max(now[1], firstDay);
  }

  /** [a, b) from the transition rows: the state at `a`, then each row in the range (a = b: the state at b only). */
  private walk(subject: Subject, now: NowRow | undefined, a: number, b: number, acc: Accumulated): void {
    const key = [subject.level, subject.serviceRef, subject.instanceRef] as const;
    let [status, incidentSince] = this.stateAt(subject, now, a);
    let t = a;
    for (const [at, to, opened, recoveryMs, since] of this.st.rowsIn.all(...key, a, b) as [number, number, number, number | null, number | null][]) {
      if (status <= UNHEALTHY) acc.ms[status]! += at - t;
      status = to;
      incidentSince = since;
      t = at;
      acc.incidents += opened;
      if (recoveryMs !== null) {
        acc.recoveries++;
        acc.recoveryMs += recoveryMs;
      }
    }
    if (status <= UNHEALTHY) acc.ms[status]! += b - t;
    acc.incidentSince = incidentSince;
  }

  /** Status code and open incident of the subject at `t` (UNKNOWN, none, before anything is known). */
  private stateAt(subject: Subject, now: NowRow | undefined, t: number): [number, number | null] {
    const key = [subject.level, subject.serviceRef, subject.instanceRef] as const;
    const before = this.st.lastRowBefore.get(...key, t) as [number, number | null] | undefined;
    if (before) return before;
    // Rows before t are gone (retention) or never were: the next row says what it changed from.
    const after = this.st.firstRowFrom.get(...key, t) as [number] | undefined;
    if (after) return [after[0], null];
    return now && now[1] <= t ? [now[0], now[2]] : [STATUS_CODE.UNKNOWN, null];
  }
}
