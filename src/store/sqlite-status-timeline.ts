/**
 * The status timeline of each instance and service in the SQLite store,
 * kept so uptime over any range is exact and cheap.
 *
 * A subject's (instance's or service's) status lasts from one of its
 * transitions to the next (ordered by time, then id). Two tables follow the
 * transitions as they are written (inside the write transaction):
 * - `status_now`: the current status, since when, and the start of the
 *   incident open now (if any);
 * - `status_days`: per UTC day, the ms spent HEALTHY, DEGRADED and UNHEALTHY
 *   in segments that have ended (a segment is added, split at midnights,
 *   when the next transition ends it), incidents begun and incidents ended
 *   with their total length. UNKNOWN time is never stored: it is what is
 *   left of a range.
 *
 * Each transition row also records its incident bookkeeping (`opened`,
 * `incident_since`, `recovery_ms`), so the partial days at the ends of a
 * range are read from the rows themselves, and a row is a checkpoint to
 * replay from. A transition older than its subject's current status (a
 * batch retried after a later one committed) replays the subject from the
 * start of the day before it, so the tables stay exact.
 *
 * An incident begins when the status becomes UNHEALTHY while none is open,
 * and ends when the status is next HEALTHY or DEGRADED; UNKNOWN in between
 * does not end it.
 */
import type Database from 'better-sqlite3';
import type { HealthStatus } from '../core/status.js';
import { STATUS_CODE, STATUS_OF_CODE, type Uptime } from './types.js';

/** A UTC day, ms. */
export const DAY_MS = 86_400_000;

const HEALTHY = STATUS_CODE.HEALTHY;
const DEGRADED = STATUS_CODE.DEGRADED;
const UNHEALTHY = STATUS_CODE.UNHEALTHY;

/** An instance (level 1, ref its instance ref) or a service (level 2, ref its service ref). */
export interface Subject {
  level: 1 | 2;
  serviceRef: number;
  /** 0 for a service. */
  instanceRef: number;
}

const refOf = (s: Subject): number => (s.level === 1 ? s.instanceRef : s.serviceRef);

/** A subject's state after a transition. */
interface State {
  status: number;
  since: number;
  incidentSince: number | null;
}

/** Per-day figures added by one step. */
interface DayDelta {
  ms: [number, number, number];
  incidents: number;
  recoveries: number;
  recoveryMs: number;
}

const dayOf = (t: number): number => t - (((t % DAY_MS) + DAY_MS) % DAY_MS);

/** Keeps status_now and status_days in step with the transitions written (on the writing connection). */
export class StatusTimelineWriter {
  private readonly st;

  constructor(db: Database.Database) {
    const subjectRows = 'level = ? AND service_ref = ? AND instance_ref = ?';
    this.st = {
      now: db.prepare('SELECT status, since, incident_since FROM status_now WHERE level = ? AND ref = ?').raw(),
      putNow: db.prepare('INSERT OR REPLACE INTO status_now (level, ref, status, since, incident_since) VALUES (?, ?, ?, ?, ?)'),
      addDay: db.prepare(
        `INSERT INTO status_days (level, ref, day, healthy_ms, degraded_ms, unhealthy_ms, incidents, recoveries, recovery_ms)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (level, ref, day) DO UPDATE SET
           healthy_ms = healthy_ms + excluded.healthy_ms, degraded_ms = degraded_ms + excluded.degraded_ms,
           unhealthy_ms = unhealthy_ms + excluded.unhealthy_ms, incidents = incidents + excluded.incidents,
           recoveries = recoveries + excluded.recoveries, recovery_ms = recovery_ms + excluded.recovery_ms`,
      ),
      markRow: db.prepare('UPDATE transitions SET opened = ?, incident_since = ?, recovery_ms = ? WHERE id = ?'),
      lastRowBefore: db
        .prepare(`SELECT at, to_status, incident_since FROM transitions WHERE ${subjectRows} AND at < ? ORDER BY at DESC, id DESC LIMIT 1`)
        .raw(),
      rowsFrom: db.prepare(`SELECT id, at, to_status FROM transitions WHERE ${subjectRows} AND at >= ? ORDER BY at, id`).raw(),
      deleteDaysFrom: db.prepare('DELETE FROM status_days WHERE level = ? AND ref = ? AND day >= ?'),
    };
  }

  /**
   * Follow the transition row `id` just inserted: the subject went to
   * `status` (storage code) at `at`.
   */
  apply(subject: Subject, id: number, at: number, status: number): void {
    const ref = refOf(subject);
    const row = this.st.now.get(subject.level, ref) as [number, number, number | null] | undefined;
    if (row && at < row[1]) {
      this.replay(subject, at);
      return;
    }
    const state: State | null = row ? { status: row[0], since: row[1], incidentSince: row[2] } : null;
    const next = this.step(subject, state, id, at, status);
    this.st.putNow.run(subject.level, ref, next.status, next.since, next.incidentSince);
  }

  /**
   * One transition: close the segment of `state` at `at`, follow the
   * incident, record the row's bookkeeping; returns the new state.
   */
  private step(subject: Subject, state: State | null, id: number, at: number, status: number): State {
    if (state) this.addSegment(subject, state.status, state.since, at);
    let incidentSince = state?.incidentSince ?? null;
    let opened = 0;
    let recoveryMs: number | null = null;
    if (status === UNHEALTHY && incidentSince === null) {
      incidentSince = at;
      opened = 1;
      this.addDay(subject, dayOf(at), { ms: [0, 0, 0], incidents: 1, recoveries: 0, recoveryMs: 0 });
    } else if ((status === HEALTHY || status === DEGRADED) && incidentSince !== null) {
      recoveryMs = at - incidentSince;
      incidentSince = null;
      this.addDay(subject, dayOf(at), { ms: [0, 0, 0], incidents: 0, recoveries: 1, recoveryMs });
    }
    this.st.markRow.run(opened, incidentSince, recoveryMs, id);
    return { status, since: at, incidentSince };
  }

  /** Add [from, to) in `status` to the days it covers (known statuses only). */
  private addSegment(subject: Subject, status: number, from: number, to: number): void {
    if (status > UNHEALTHY || to <= from) return;
    for (let day = dayOf(from); day < to; day += DAY_MS) {
      const ms: [number, number, number] = [0, 0, 0];
      ms[status] = Math.min(to, day + DAY_MS) - Math.max(from, day);
      this.addDay(subject, day, { ms, incidents: 0, recoveries: 0, recoveryMs: 0 });
    }
  }

  private addDay(subject: Subject, day: number, d: DayDelta): void {
    this.st.addDay.run(subject.level, refOf(subject), day, d.ms[0], d.ms[1], d.ms[2], d.incidents, d.recoveries, d.recoveryMs);
  }

  /**
   * Rebuild the subject's days from a point before `at`: from the day of its
   * last transition before that day (whose segment may not have been added
   * yet), starting from the state the transition before it left.
   */
  private replay(subject: Subject, at: number): void {
    const key = [subject.level, subject.serviceRef, subject.instanceRef] as const;
    const before = this.st.lastRowBefore.get(...key, dayOf(at)) as [number, number, number | null] | undefined;
    const start = before ? dayOf(before[0]) : dayOf(at);
    const checkpoint = this.st.lastRowBefore.get(...key, start) as [number, number, number | null] | undefined;
    this.st.deleteDaysFrom.run(subject.level, refOf(subject), start);
    // Days before `start` hold every segment that ended before it; the one running at `start` begins there.
    let state: State | null = checkpoint ? { status: checkpoint[1], since: start, incidentSince: checkpoint[2] } : null;
    for (const [id, t, status] of this.st.rowsFrom.all(...key, start) as [number, number, number][]) {
      state = this.step(subject, state, id, t, status);
    }
    if (state) this.st.putNow.run(subject.level, refOf(subject), state.status, state.since, state.incidentSince);
  }
}

/** Uptime reads (main connection). */
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
      lastRowBefore: db
        .prepare(`SELECT to_status, incident_since FROM transitions WHERE ${subjectRows} AND at < ? ORDER BY at DESC, id DESC LIMIT 1`)
        .raw(),
      firstRowFrom: db
        .prepare(`SELECT from_status FROM transitions WHERE ${subjectRows} AND at >= ? ORDER BY at, id LIMIT 1`)
        .raw(),
      rowsIn: db
        .prepare(`SELECT at, to_status, opened, recovery_ms, incident_since FROM transitions WHERE ${subjectRows} AND at >= ? AND at < ? ORDER BY at, id`)
        .raw(),
      horizon: db.prepare("SELECT value FROM meta WHERE key = 'status_horizon'").pluck(),
    };
  }

  /**
   * Uptime of a subject over [from, to): whole days from status_days (plus
   * the segment still running, which no day holds yet), the partial days at
   * both ends from the transition rows.
   */
  uptime(subject: Subject | null, from: number, to: number): Uptime {
    const acc = { ms: [0, 0, 0], incidents: 0, recoveries: 0, recoveryMs: 0, openIncidentSince: null as number | null };
    if (subject && to > from) {
      // Time older than uptime retention is unknown, however much of it a day row might still hold.
      const start = Math.min(to, Math.max(from, this.st.horizon.get() as number));
      const firstDay = Math.ceil(start / DAY_MS) * DAY_MS;
      const lastDay = dayOf(to);
      if (firstDay < lastDay) {
        this.addDays(subject, firstDay, lastDay, acc);
        this.walk(subject, start, firstDay, acc);
        this.walk(subject, lastDay, to, acc);
      } else {
        this.walk(subject, start, to, acc);
      }
      acc.openIncidentSince = this.incidentAt(subject, to);
    }
    const [h, d, u] = acc.ms as [number, number, number];
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
      openIncidentSince: acc.openIncidentSince,
    };
  }

  /** Whole days [firstDay, lastDay): their rows, and the running segment's share. */
  private addDays(subject: Subject, firstDay: number, lastDay: number, acc: Accumulated): void {
    const ref = refOf(subject);
    const [h, d, u, incidents, recoveries, recoveryMs] = this.st.days.get(subject.level, ref, firstDay, lastDay) as number[];
    acc.ms[0]! += h!;
    acc.ms[1]! += d!;
    acc.ms[2]! += u!;
    acc.incidents += incidents!;
    acc.recoveries += recoveries!;
    acc.recoveryMs += recoveryMs!;
    const now = this.st.now.get(subject.level, ref) as [number, number, number | null] | undefined;
    if (now && now[0] <= UNHEALTHY && now[1] < lastDay) acc.ms[now[0]]! += lastDay - Math.max(now[1], firstDay);
  }

  /** [a, b) from the transition rows: the status at `a`, then each row in the range. */
  private walk(subject: Subject, a: number, b: number, acc: Accumulated): void {
    if (b <= a) return;
    const key = [subject.level, subject.serviceRef, subject.instanceRef] as const;
    let status = this.statusAt(subject, a);
    let t = a;
    for (const [at, to, opened, recoveryMs] of this.st.rowsIn.all(...key, a, b) as [number, number, number, number | null][]) {
      if (status <= UNHEALTHY) acc.ms[status]! += at - t;
      status = to;
      t = at;
      acc.incidents += opened;
      if (recoveryMs !== null) {
        acc.recoveries++;
        acc.recoveryMs += recoveryMs;
      }
    }
    if (status <= UNHEALTHY) acc.ms[status]! += b - t;
  }

  /** Storage code of the subject's status at `t` (UNKNOWN before anything is known). */
  private statusAt(subject: Subject, t: number): number {
    const key = [subject.level, subject.serviceRef, subject.instanceRef] as const;
    const before = this.st.lastRowBefore.get(...key, t) as [number, number | null] | undefined;
    if (before) return before[0];
    // Rows before t are gone (retention) or never were: the next row says what it changed from.
    const after = this.st.firstRowFrom.get(...key, t) as [number] | undefined;
    if (after) return after[0];
    const now = this.st.now.get(subject.level, refOf(subject)) as [number, number, number | null] | undefined;
    return now && now[1] <= t ? now[0] : STATUS_CODE.UNKNOWN;
  }

  /** Start of the incident open just before `t`, or null. */
  private incidentAt(subject: Subject, t: number): number | null {
    const key = [subject.level, subject.serviceRef, subject.instanceRef] as const;
    const before = this.st.lastRowBefore.get(...key, t) as [number, number | null] | undefined;
    if (before) return before[1];
    const now = this.st.now.get(subject.level, refOf(subject)) as [number, number, number | null] | undefined;
    return now && now[1] < t ? now[2] : null;
  }
}

interface Accumulated {
  ms: number[];
  incidents: number;
  recoveries: number;
  recoveryMs: number;
  openIncidentSince: number | null;
}

/** The status of a storage code (for callers that print it). */
export function statusOfCode(code: number): HealthStatus {
  return STATUS_OF_CODE[code] ?? 'UNKNOWN';
}
