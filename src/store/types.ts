/**
 * The history store: what every backend (SQLite now, PostgreSQL later) keeps
 * and answers. Methods are async so a networked backend fits the same shape;
 * the contract suite in test/store/contract.ts pins the behaviour down.
 *
 * Conventions shared by every backend:
 * - Times are epoch milliseconds, stored at 1 ms resolution (fractions are
 *   floored). Durations are milliseconds, stored at 1 µs resolution.
 * - Time ranges are half-open: `from` inclusive, `to` exclusive.
 * - Pages are keyset-paginated on (time, insertion order), never OFFSET: a
 *   cursor stays valid while rows are added, and no row present when the
 *   first page was read is skipped or repeated.
 */
import type { HealthStatus } from '../core/status.js';

/** One check result as stored (input of `write`, output of queries). */
export interface ResultRecord {
  /** Check id: service/instance/name. */
  checkId: string;
  service: string;
  instance: string;
  /** Check kind (http, tcp, …). Stored once per check id: the newest kind written wins. */
  kind: string;
  status: HealthStatus;
  /** Reason code (see core/result.ts `Reason`); any short string is accepted. */
  reason: string;
  /** Run time in ms, stored at 1 µs resolution. */
  durationMs: number;
  /** When the result was observed, epoch ms (floored to whole ms when stored). */
  observedAt: number;
  /** Attempts made (1 without retries). */
  attempts: number;
  /** One human-readable line, truncated to OUTPUT_MAX_BYTES of UTF-8 when stored. */
  output: string;
  /** Numeric facts the check measured, or null. */
  metrics: Record<string, number> | null;
  /**
   * Health score 0–100 of the check once this result was applied (status/rollup.ts
   * `checkScore`), or null when none was computed. Stored as an integer.
   */
  checkScore?: number | null;
  /** Health score 0–100 of the check's instance (its worst check) once this result was applied, or null. */
  instanceScore?: number | null;
}

/**
 * What a transition is about: one check, an instance (the aggregate of its
 * checks) or a service (the aggregate of its instances).
 */
export type TransitionLevel = 'check' | 'instance' | 'service';

/** Every transition level, in storage-code order. */
export const TRANSITION_LEVELS: readonly TransitionLevel[] = ['check', 'instance', 'service'];

/**
 * A change of a thresholded status: a check's, or an instance's or a
 * service's aggregate status (status/rollup.ts emits those).
 */
export interface TransitionRecord {
  /**
   * Sequence number, unique and increasing across restarts (server/event-log.ts
   * assigns it; it is also the SSE event id). Optional when writing: the
   * store then numbers the row after the highest id it ever stored.
   */
  id?: number;
  /** What changed (default check). */
  level?: TransitionLevel;
  /** The check's id for level check, '' otherwise. */
  checkId: string;
  service: string;
  /** The instance name for levels check and instance, '' for a service. */
  instance: string;
  from: HealthStatus;
  to: HealthStatus;
  /** Reason code of the result that caused the change ('rollup' for an aggregate). */
  reason: string;
  /** Output of that result (an aggregate's: what caused it), truncated like a result's output. */
  output: string;
  /** Epoch ms of the change. */
  at: number;
}

/** Everything one writer flush stores, in ONE transaction. */
export interface WriteBatch {
  results: readonly ResultRecord[];
  transitions: readonly TransitionRecord[];
}

/**
 * An instance registered at run time through the API. Written durably before
 * `putRegistration` resolves, because the API acknowledges it.
 */
export interface Registration {
  /** Instance id; the key (a second put with the same id overwrites). */
  id: string;
  service: string;
  /** host:port */
  address: string;
  tags: string[];
  weight: number;
  zone?: string;
  metadata: Record<string, string>;
  /** The instance's check configs as JSON values (the API validates them; the store only keeps them). */
  checks: unknown[];
  /** Epoch ms. */
  registeredAt: number;
}

/**
 * Which rows a query selects. Exactly one of: `checkId`; `service` (optionally
 * narrowed by `instance`); `instance` alone (that instance name in any service).
 */
export interface Selector {
  checkId?: string;
  service?: string;
  instance?: string;
}

/** A time-range page query over results or transitions. */
export interface RangeQuery extends Selector {
  /**
   * Transitions only: the levels to return (default all). A service
   * selects its own, its instances' and its checks' transitions; an instance
   * its own and its checks'; a check id its own. Transitions may be queried
   * without a selector (all of them).
   */
  levels?: readonly TransitionLevel[];
  /** Inclusive lower bound, epoch ms (default: no bound). */
  from?: number;
  /** Exclusive upper bound, epoch ms (default: no bound). */
  to?: number;
  /** Page size, 1..MAX_PAGE (default DEFAULT_PAGE). */
  limit?: number;
  /** `nextCursor` of the previous page of the same query. */
  cursor?: string | null;
  /** Oldest first (default) or newest first. */
  order?: 'asc' | 'desc';
}

/** One page of a range query; `nextCursor` is null on the last page. */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export type Resolution = 'minute' | 'hour';

/** Bucket length of each rollup resolution, ms. */
export const RESOLUTION_MS: Record<Resolution, number> = { minute: 60_000, hour: 3_600_000 };

/**
 * Rollups of one check (`checkId`), one instance (`service` and `instance`)
 * or one service (`service` alone: all its checks).
 */
export interface RollupQuery {
  checkId?: string;
  service?: string;
  instance?: string;
  resolution: Resolution;
  /** Inclusive lower bound on the bucket start, epoch ms. */
  from?: number;
  /** Exclusive upper bound on the bucket start, epoch ms. */
  to?: number;
}

/** What a rollup summarises: one check, one instance (all its checks) or one service (all its checks). */
export type RollupLevel = 'check' | 'instance' | 'service';

/**
 * Downsampled results of one check, instance or service over one bucket.
 * Every figure of every level is computed from the raw result rows of the
 * bucket at rollup time, never merged from other rollups: an instance's p95
 * is the p95 of all its checks' results in the bucket, a service's of all
 * its checks' results. p95 is the nearest-rank 95th percentile (see rollup-math.ts).
 *
 * Scores (0–100) come from the scores each result carried (ResultRecord):
 * a check's are min/avg of `checkScore`; an instance's min/avg of
 * `instanceScore`; a service's minScore is the lowest instance score seen
 * and its avgScore the mean over its instances of their avgScore (the
 * service score's own rule: the mean of its instances). Null when no result
 * of the bucket carried a score.
 */
export interface Rollup {
  level: RollupLevel;
  /** Check id, service/instance, or service name. */
  id: string;
  resolution: Resolution;
  /** Bucket start, epoch ms (a multiple of the bucket length). */
  bucketStart: number;
  count: number;
  /** Results that were not HEALTHY. */
  failures: number;
  minMs: number;
  avgMs: number;
  p95Ms: number;
  maxMs: number;
  statusCounts: Record<HealthStatus, number>;
  minScore: number | null;
  avgScore: number | null;
}

/** Uptime of one instance (`service` and `instance`) or one service over [from, to). */
export interface UptimeQuery {
  service: string;
  instance?: string;
  /** Inclusive, epoch ms. */
  from: number;
  /** Exclusive, epoch ms (a caller asking about the present passes its now). */
  to: number;
}

/**
 * How an instance or service fared over [from, to), from its stored
 * transitions (exact to the ms for any range). A status lasts from its
 * transition to the next transition of the same instance or service; time
 * before the first one, and time older than uptime retention, is UNKNOWN.
 */
export interface Uptime {
  from: number;
  to: number;
  /** Time in each status, ms; they add up to to − from. */
  ms: Record<HealthStatus, number>;
  /** (HEALTHY + DEGRADED) / (HEALTHY + DEGRADED + UNHEALTHY) × 100; null when nothing was known. */
  uptimePercent: number | null;
  /**
   * Incidents that began in [from, to). An incident begins when the status
   * becomes UNHEALTHY and ends when it is next HEALTHY or DEGRADED (UNKNOWN
   * in between does not end it).
   */
  incidents: number;
  /** Incidents that ended in [from, to) (they may have begun earlier). */
  recoveries: number;
  /** Mean duration of the incidents that ended in [from, to), ms; null when none did. */
  mttrMs: number | null;
  /** Start of the incident still open at `to`, epoch ms, or null. */
  openIncidentSince: number | null;
}

/** What the store knows about transition ids (for SSE resumes). */
export interface TransitionIds {
  /** The highest id ever stored (0 when none), also after retention deleted it. */
  last: number;
  /**
   * The highest id of a check transition deleted by retention (0 when none):
   * a resume after an id below it has lost events.
   */
  horizon: number;
}

/** How long each table keeps rows, ms. */
export interface RetentionPolicy {
  /** Raw results (never deleted before their minute and hour rollups exist). */
  resultsMs: number;
  minuteRollupsMs: number;
  hourRollupsMs: number;
  /** Check transitions. */
  transitionsMs: number;
  /** Instance and service transitions and the daily status time kept for uptime. */
  uptimeMs: number;
}

export const DEFAULT_RETENTION: RetentionPolicy = {
  resultsMs: 7 * 86_400_000,
  minuteRollupsMs: 30 * 86_400_000,
  hourRollupsMs: 400 * 86_400_000,
  transitionsMs: 90 * 86_400_000,
  uptimeMs: 400 * 86_400_000,
};

export interface MaintainOptions {
  /** Overrides of the store's retention policy for this run. */
  retention?: Partial<RetentionPolicy>;
  /**
   * A bucket is rolled up once `now ≥ bucket end + lateMs` (default 30 000), so
   * results still in writer buffers usually make it in. Rows arriving later
   * mark the bucket for a re-rollup, as long as its raw rows are kept.
   */
  lateMs?: number;
  /**
   * Most rows read or written per transaction, with a yield to the event loop
   * after each (default 2,000). At 10,000 checks a minute's rollup stalled
   * the loop 54 ms a step with 10,000, 15-22 ms with 2,000, for the same
   * total time (bench/store-maintain).
   */
  chunkRows?: number;
}

/** What one `maintain` run did. */
export interface MaintainReport {
  /** Buckets rolled up, per resolution. */
  bucketsRolledUp: Record<Resolution, number>;
  /** Rollup rows written (inserted or replaced), of every level. */
  rollupRows: number;
  deleted: { results: number; minuteRollups: number; hourRollups: number; transitions: number; statusDays: number };
  /** Buckets that received rows after their raw rows fell out of retention (not re-rolled). */
  lateBucketsIgnored: number;
  /** Read or write transactions used, each touching at most `chunkRows` rows, with a yield after each. */
  chunks: number;
}

/** Sizes for /metrics and the CLI. */
export interface StoreStats {
  backend: string;
  results: number;
  transitions: number;
  registrations: number;
  /** Check rollups per resolution. */
  rollups: Record<Resolution, number>;
  /** Instance and service rollups per resolution. */
  groupRollups: Record<Resolution, number>;
  /** Distinct check ids ever written. */
  checks: number;
  /** Bytes on disk (SQLite: database + WAL), or null when unknown. */
  bytes: number | null;
}

/**
 * Keeps check history: results, transitions, rollups and run-time
 * registrations. One implementation per backend, all passing the contract suite.
 */
export interface HistoryStore {
  /** Backend name ("sqlite", "postgres"). */
  readonly backend: string;
  /** Store results and transitions in ONE transaction; resolves once committed. */
  write(batch: WriteBatch): Promise<void>;
  /** A page of results in [from, to), by (observedAt, insertion order). */
  queryResults(query: RangeQuery): Promise<Page<ResultRecord>>;
  /** A page of transitions in [from, to), by (at, id). */
  queryTransitions(query: RangeQuery): Promise<Page<TransitionRecord>>;
  /** Transitions with id > afterId, by id, at most `limit` (1..MAX_PAGE) of them. */
  transitionsAfter(afterId: number, limit: number): Promise<TransitionRecord[]>;
  /** The highest transition id stored and the retention horizon of check transitions. */
  transitionIds(): Promise<TransitionIds>;
  /** Rollups of one check, instance or service with bucketStart in [from, to), oldest first. */
  queryRollups(query: RollupQuery): Promise<Rollup[]>;
  /** Uptime of one instance or service over [from, to), from its transitions. */
  queryUptime(query: UptimeQuery): Promise<Uptime>;
  /** The newest result of each check id that has one, in ONE query. */
  latestResults(checkIds: readonly string[]): Promise<Map<string, ResultRecord>>;
  /** Insert or overwrite; resolves only after the row is durably committed. */
  putRegistration(reg: Registration): Promise<void>;
  /** Resolves true when a registration was deleted (durably, like put). */
  deleteRegistration(id: string): Promise<boolean>;
  /** All registrations, ordered by id. */
  listRegistrations(): Promise<Registration[]>;
  /**
   * Roll complete buckets up and delete rows beyond retention, in bounded
   * chunks with yields between them. Runs one at a time (a second call waits).
   */
  maintain(now: number, options?: MaintainOptions): Promise<MaintainReport>;
  stats(): Promise<StoreStats>;
  /** Finish pending work and release the backend; the store is unusable afterwards. */
  close(): Promise<void>;
}

/** Default and largest page size of range queries. */
export const DEFAULT_PAGE = 100;
export const MAX_PAGE = 10_000;

/** Outputs are cut to this many bytes of UTF-8 when stored. */
export const OUTPUT_MAX_BYTES = 1024;

/**
 * Stable integer code of each status in storage. Never renumber: rows on disk
 * keep these. 0 is HEALTHY so "failures" is `status <> 0`.
 */
export const STATUS_CODE: Record<HealthStatus, number> = { HEALTHY: 0, DEGRADED: 1, UNHEALTHY: 2, UNKNOWN: 3 };
/** Status of each storage code (inverse of STATUS_CODE). */
export const STATUS_OF_CODE: readonly HealthStatus[] = ['HEALTHY', 'DEGRADED', 'UNHEALTHY', 'UNKNOWN'];

/**
 * Cut `s` to at most `maxBytes` bytes of UTF-8, on a character boundary. The
 * common short output returns at once without encoding.
 */
export function truncateOutput(s: string, maxBytes = OUTPUT_MAX_BYTES): string {
  // A UTF-16 code unit is at most 3 bytes of UTF-8 (a surrogate pair, 2 units, is 4).
  if (s.length * 3 <= maxBytes) return s;
  const buf = Buffer.from(s, 'utf8');
  if (buf.length <= maxBytes) return s;
  let end = maxBytes;
  // Step back over continuation bytes (10xxxxxx) to the start of a character.
  while (end > 0 && (buf[end]! & 0xc0) === 0x80) end--;
  return buf.toString('utf8', 0, end);
}
