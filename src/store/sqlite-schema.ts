/**
 * On-disk layout of the SQLite history store (sqlite.ts): the schema of a new
 * file, its version and the steps that bring an older file up to it.
 *
 * Why results are indexed by (minute, check, time in the minute) and not
 * (check, time): at
 * 10M rows a (check, time) index has every check's newest entries on its own
 * leaf page, so a flush with one row for each of 10k checks dirties ~10k index
 * pages, each written to the WAL and copied back by the checkpointer
 * (measured: ~0.5 pages per row, most of a flush's cost). Led by the minute,
 * the newest entries of all checks share the few leaf pages of the current
 * minute (~300 pages for 60k rows), so a flush dirties ~0.02 index pages per
 * row. The service index is led by the minute too, so the cost does not come
 * back with many small services. A check's or service's range is read minute
 * by minute: the `buckets` table lists the minutes that hold rows, and each
 * minute is one index seek.
 */

import type Database from 'better-sqlite3';
import { HealthmeshError } from '../core/errors.js';

/** Version of the layout, kept in `PRAGMA user_version`. */
export const SCHEMA_VERSION = 3;

/** Length of the minute that leads the results index, ms (the minute buckets of `buckets`). */
export const MINUTE_MS = 60_000;

/** `a` modulo `n`, non-negative also for times before 1970 (so `t - mod(t, MINUTE_MS)` floors t to its minute). */
export function mod(a: number, n: number): number {
  return ((a % n) + n) % n;
}

/**
 * SQL of the minute number (floor of ms / 60 000, also for times before
 * 1970) of time column `col`. Queries must spell the expression exactly like
 * the index, or SQLite does not use it.
 */
export function minuteOf(col: string): string {
  return `((${col} - ${offsetOf(col)}) / ${MINUTE_MS})`;
}

/**
 * SQL of the time column `col` within its minute, ms (0-59 999). The indexes
 * keep it instead of the full time: 3 bytes an entry instead of 6 (~7 B/row
 * over both indexes, measured), and (minute, offset) orders like the time.
 */
export function offsetOf(col: string): string {
  return `(((${col} % ${MINUTE_MS}) + ${MINUTE_MS}) % ${MINUTE_MS})`;
}

/** Schema of a new file at version 2; MIGRATIONS take it from there to SCHEMA_VERSION. */
export const SCHEMA_V2 = `
CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
INSERT INTO meta (key, value) VALUES
  ('results', 0), ('transitions', 0), ('rollups_minute', 0), ('rollups_hour', 0), ('raw_horizon', -9007199254740991);

CREATE TABLE services (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE instances (id INTEGER PRIMARY KEY, service_id INTEGER NOT NULL, name TEXT NOT NULL, UNIQUE (service_id, name));
CREATE INDEX instances_name ON instances (name);
-- last_minute: start (ms) of the newest minute holding a result of the check, NULL before
-- the first; where latestResults starts its walk back through the minutes.
CREATE TABLE checks (
  id INTEGER PRIMARY KEY, check_id TEXT NOT NULL UNIQUE,
  service_id INTEGER NOT NULL, instance_id INTEGER NOT NULL, kind TEXT NOT NULL,
  last_minute INTEGER
);
CREATE INDEX checks_instance ON checks (instance_id);
CREATE TABLE reasons (id INTEGER PRIMARY KEY, reason TEXT NOT NULL UNIQUE);

CREATE TABLE results (
  id INTEGER PRIMARY KEY,
  check_ref INTEGER NOT NULL,
  service_ref INTEGER NOT NULL,
  observed_at INTEGER NOT NULL,
  status INTEGER NOT NULL,
  reason_ref INTEGER NOT NULL,
  duration_us INTEGER NOT NULL,
  attempts INTEGER NOT NULL,
  output TEXT NOT NULL,
  metrics TEXT
);
CREATE INDEX results_minute_check ON results (${minuteOf('observed_at')}, check_ref, ${offsetOf('observed_at')});
CREATE INDEX results_minute_service ON results (${minuteOf('observed_at')}, service_ref, ${offsetOf('observed_at')});

CREATE TABLE transitions (
  id INTEGER PRIMARY KEY,
  check_ref INTEGER NOT NULL,
  service_ref INTEGER NOT NULL,
  at INTEGER NOT NULL,
  from_status INTEGER NOT NULL,
  to_status INTEGER NOT NULL,
  reason_ref INTEGER NOT NULL,
  output TEXT NOT NULL
);
CREATE INDEX transitions_check_time ON transitions (check_ref, at);
CREATE INDEX transitions_service_time ON transitions (service_ref, at);
CREATE INDEX transitions_time ON transitions (at);

CREATE TABLE rollups_minute (
  check_ref INTEGER NOT NULL, bucket INTEGER NOT NULL,
  count INTEGER NOT NULL, failures INTEGER NOT NULL,
  min_us INTEGER NOT NULL, sum_us INTEGER NOT NULL, p95_us INTEGER NOT NULL, max_us INTEGER NOT NULL,
  healthy INTEGER NOT NULL, degraded INTEGER NOT NULL, unhealthy INTEGER NOT NULL, unknown INTEGER NOT NULL,
  PRIMARY KEY (check_ref, bucket)
);
CREATE INDEX rollups_minute_bucket ON rollups_minute (bucket);
CREATE TABLE rollups_hour (
  check_ref INTEGER NOT NULL, bucket INTEGER NOT NULL,
  count INTEGER NOT NULL, failures INTEGER NOT NULL,
  min_us INTEGER NOT NULL, sum_us INTEGER NOT NULL, p95_us INTEGER NOT NULL, max_us INTEGER NOT NULL,
  healthy INTEGER NOT NULL, degraded INTEGER NOT NULL, unhealthy INTEGER NOT NULL, unknown INTEGER NOT NULL,
  PRIMARY KEY (check_ref, bucket)
);
CREATE INDEX rollups_hour_bucket ON rollups_hour (bucket);

-- resolution 0 = minute, 1 = hour; rows of the bucket have rowids in [min_id, max_id].
CREATE TABLE buckets (
  resolution INTEGER NOT NULL, start INTEGER NOT NULL,
  min_id INTEGER NOT NULL, max_id INTEGER NOT NULL,
  gen INTEGER NOT NULL, rolled_gen INTEGER NOT NULL,
  PRIMARY KEY (resolution, start)
) WITHOUT ROWID;

CREATE TABLE registrations (
  id TEXT PRIMARY KEY, service TEXT NOT NULL, address TEXT NOT NULL,
  tags TEXT NOT NULL, weight REAL NOT NULL, zone TEXT, metadata TEXT NOT NULL,
  checks TEXT NOT NULL, registered_at INTEGER NOT NULL
) WITHOUT ROWID;
`;

/**
 * Steps from each older version: MIGRATIONS[v - 1] takes a file at version v
 * to v + 1. Each runs in the opening transaction.
 */
export const MIGRATIONS: readonly string[] = [
  // 1 → 2: the (check, time) and (service, time) indexes become (minute, check,
  // time in the minute) and (minute, service, time in the minute); checks learn their last minute (read
  // through the old index, before it goes). Rebuilding the indexes reads the
  // table once, at the first open: measured 19 s for 10.5M rows on the 2-core
  // bench machine.
  `ALTER TABLE checks ADD COLUMN last_minute INTEGER;
   UPDATE checks SET last_minute = (SELECT max(observed_at) FROM results WHERE check_ref = checks.id);
   UPDATE checks SET last_minute = last_minute - ((last_minute % ${MINUTE_MS}) + ${MINUTE_MS}) % ${MINUTE_MS};
   DROP INDEX IF EXISTS results_check_time;
   DROP INDEX IF EXISTS results_service_time;
   CREATE INDEX results_minute_check ON results (${minuteOf('observed_at')}, check_ref, ${offsetOf('observed_at')});
   CREATE INDEX results_minute_service ON results (${minuteOf('observed_at')}, service_ref, ${offsetOf('observed_at')});`,
  // 2 → 3: history a user can reach. Columns are added, never rewritten (ADD
  // COLUMN with a constant default costs no table pass), except one pass over
  // transitions (small) to learn each row's instance.
  // - results carry the scores the result left (0–100, NULL: none);
  // - check rollups keep min/sum/count of scores; instance (level 1, ref
  //   instances.id) and service (level 2, ref services.id) rollups live in
  //   group_rollups_*, computed from the same raw rows;
  // - transitions have a level (0 check, 1 instance, 2 service; check_ref 0
  //   for the last two, instance_ref 0 for a service) and, for instance and
  //   service rows, the incident bookkeeping of sqlite-status-timeline.ts:
  //   `opened` (this row began an incident), `incident_since` (start of the
  //   incident open after this row) and `recovery_ms` (length of the incident
  //   this row ended);
  // - status_now holds each instance's and service's current status and
  //   status_days the time it spent in each known status per UTC day, so an
  //   uptime over a year reads ~365 rows plus the transitions of two partial days.
  `ALTER TABLE results ADD COLUMN check_score INTEGER;
   ALTER TABLE results ADD COLUMN instance_score INTEGER;
   ALTER TABLE rollups_minute ADD COLUMN min_score INTEGER;
   ALTER TABLE rollups_minute ADD COLUMN sum_score REAL NOT NULL DEFAULT 0;
   ALTER TABLE rollups_minute ADD COLUMN score_count INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE rollups_hour ADD COLUMN min_score INTEGER;
   ALTER TABLE rollups_hour ADD COLUMN sum_score REAL NOT NULL DEFAULT 0;
   ALTER TABLE rollups_hour ADD COLUMN score_count INTEGER NOT NULL DEFAULT 0;
   ${groupRollupTable('group_rollups_minute')}
   ${groupRollupTable('group_rollups_hour')}
   ALTER TABLE transitions ADD COLUMN level INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE transitions ADD COLUMN instance_ref INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE transitions ADD COLUMN opened INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE transitions ADD COLUMN incident_since INTEGER;
   ALTER TABLE transitions ADD COLUMN recovery_ms INTEGER;
   UPDATE transitions SET instance_ref = ifnull((SELECT instance_id FROM checks WHERE checks.id = transitions.check_ref), 0);
   CREATE INDEX transitions_instance_time ON transitions (instance_ref, at);
   CREATE INDEX transitions_subject ON transitions (level, service_ref, instance_ref, at);
   CREATE TABLE status_now (
     level INTEGER NOT NULL, ref INTEGER NOT NULL, status INTEGER NOT NULL, since INTEGER NOT NULL, incident_since INTEGER,
     PRIMARY KEY (level, ref)
   ) WITHOUT ROWID;
   CREATE TABLE status_days (
     level INTEGER NOT NULL, ref INTEGER NOT NULL, day INTEGER NOT NULL,
     healthy_ms INTEGER NOT NULL DEFAULT 0, degraded_ms INTEGER NOT NULL DEFAULT 0, unhealthy_ms INTEGER NOT NULL DEFAULT 0,
     incidents INTEGER NOT NULL DEFAULT 0, recoveries INTEGER NOT NULL DEFAULT 0, recovery_ms INTEGER NOT NULL DEFAULT 0,
     PRIMARY KEY (level, ref, day)
   ) WITHOUT ROWID;
   CREATE INDEX status_days_day ON status_days (day);
   INSERT INTO meta (key, value) VALUES
     ('group_rollups_minute', 0), ('group_rollups_hour', 0), ('transition_horizon', 0), ('status_horizon', -9007199254740991),
     ('last_transition_id', (SELECT ifnull(max(id), 0) FROM transitions));`,
];

/** An instance/service rollup table: keyed by (level, ref, bucket), columns as the check rollups'. */
function groupRollupTable(table: string): string {
  return `CREATE TABLE ${table} (
     level INTEGER NOT NULL, ref INTEGER NOT NULL, bucket INTEGER NOT NULL,
     count INTEGER NOT NULL, failures INTEGER NOT NULL,
     min_us INTEGER NOT NULL, sum_us INTEGER NOT NULL, p95_us INTEGER NOT NULL, max_us INTEGER NOT NULL,
     healthy INTEGER NOT NULL, degraded INTEGER NOT NULL, unhealthy INTEGER NOT NULL, unknown INTEGER NOT NULL,
     min_score INTEGER, sum_score REAL NOT NULL, score_count INTEGER NOT NULL,
     PRIMARY KEY (level, ref, bucket)
   );
   CREATE INDEX ${table}_bucket ON ${table} (bucket);`;
}

/**
 * Bring the file behind `db` to SCHEMA_VERSION in one transaction: create
 * the schema in a new file, or run the migrations from its version. A file
 * of a newer healthmesh is refused, naming the fix.
 */
export function migrate(db: Database.Database, path: string): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version === SCHEMA_VERSION) return;
  if (version > SCHEMA_VERSION) {
    throw new HealthmeshError(
      'store_schema',
      `${path}: history schema version ${version} is newer than this healthmesh supports (${SCHEMA_VERSION}); upgrade healthmesh`,
    );
  }
  db.transaction(() => {
    // A new file starts from the version-2 schema and takes the same steps as an old file.
    if (version === 0) db.exec(SCHEMA_V2);
    for (const step of MIGRATIONS.slice((version === 0 ? 2 : version) - 1)) db.exec(step);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  })();
}
