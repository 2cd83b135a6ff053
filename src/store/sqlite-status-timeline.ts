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
import { STATUS_CODE } from './types.js';

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

/** The status tables' ref of a subject. */
export const refOf = (s: Subject): number => (s.level === 1 ? s.instanceRef : s.serviceRef);

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

/** Start of the UTC day holding `t`, ms. */
export const dayOf = (t: number): number => t - (((t % DAY_MS) + DAY_MS) % DAY_MS);

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
