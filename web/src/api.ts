/**
 * The dashboard's whole view of the daemon's HTTP API: every route it calls
 * and the shapes it reads, in one file. The shapes are the daemon's real
 * answers (src/server/*-routes.ts), checked by the e2e tests in test/web
 * against a running daemon.
 *
 * Some routes exist only on some daemons: the alert and silence routes when
 * the config has an `alerts:` section, the history routes when it stores
 * history (an older daemon may lack them too). A 404 from such a list route
 * becomes `Unavailable`, which the views show as "not available" instead of
 * an error. A 404 from a route about one item (an alert, a silence) means
 * that item is gone. Times are epoch milliseconds, durations milliseconds.
 */
import { askToken, getToken } from './auth';

export type Status = 'HEALTHY' | 'DEGRADED' | 'UNHEALTHY' | 'UNKNOWN';
export const STATUSES: readonly Status[] = ['UNHEALTHY', 'UNKNOWN', 'DEGRADED', 'HEALTHY'];
export type Counts = Record<Status, number>;

/** A route this daemon does not have. */
export class Unavailable extends Error {
  constructor(readonly route: string) {
    super(`${route} is not available on this daemon`);
  }
}

/** Any other failed call; `status` 0 for a network failure. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

// ---------------------------------------------------------------- transport

interface CallOptions {
  method?: string;
  body?: unknown;
  /** A route some daemons lack: a 404 means the route is missing, not the resource. */
  optionalRoute?: string;
  /** Why a token is needed, shown when the page asks for it. */
  tokenReason?: string;
  /** A write: ask for the token before sending when the page has none (rather than after a 401). */
  requireToken?: boolean;
  /** Send no header but the token: the request then matches a <link rel="preload"> of the same URL. */
  plain?: boolean;
  signal?: AbortSignal;
}

/** Headers every call carries: the token when the page has one (kept in memory only). */
export function authHeaders(): Record<string, string> {
  const token = getToken();
  return token ? { authorization: `Bearer ${token}` } : {};
}

async function call<T>(path: string, options: CallOptions = {}): Promise<T> {
  if (options.requireToken && !getToken() && !(await askToken(options.tokenReason ?? 'This change needs the API token.'))) {
    throw new ApiError(401, 'no token was given');
  }
  for (let attempt = 0; ; attempt++) {
    let res: Response;
    try {
      res = await fetch(path, {
        method: options.method ?? 'GET',
        headers: options.plain
          ? authHeaders()
          : { accept: 'application/json', ...authHeaders(), ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}) },
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        signal: options.signal,
      });
    } catch (err) {
      if ((err as Error).name === 'AbortError') throw err;
      throw new ApiError(0, `the daemon did not answer (${(err as Error).message})`);
    }
    if (res.status === 401 && attempt === 0) {
      // Ask once; a wrong token is asked for again by the next call.
      const token = await askToken(options.tokenReason ?? 'This daemon protects its API (server.protect_reads): enter its token to read.');
      if (token) continue;
    }
    if (res.status === 404 && options.optionalRoute) throw new Unavailable(options.optionalRoute);
    if (res.status === 204) return undefined as T;
    const text = await res.text();
    let body: unknown = null;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      body = null;
    }
    if (!res.ok) {
      const message = (body as { message?: string } | null)?.message ?? `${res.status} ${res.statusText}`;
      throw new ApiError(res.status, message);
    }
    return body as T;
  }
}

const q = (params: Record<string, string | number | undefined | null>): string => {
  const s = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') s.set(k, String(v));
  const text = s.toString();
  return text ? `?${text}` : '';
};
/** Ids hold slashes (service/instance/name) that the API reads as they are; each part is encoded. */
const idPath = (id: string): string => id.split('/').map(encodeURIComponent).join('/');

// ------------------------------------------------- dashboard routes (ours)

/** GET /api/v1/web/summary: one service of the mesh view. */
export interface ServiceSummary {
  name: string;
  status: Status;
  score: number;
  cause: string | null;
  counts: Counts;
  tags: string[];
  zones: string[];
  dependsOn: string[];
  critical: boolean;
  /** Lowest score of each of the last 60 minutes, oldest first (null: no data); sent run-length encoded, expanded here. */
  spark: Array<number | null>;
}

export interface Summary {
  at: number;
  /** The stream's event id as of this state (`<daemon run>.<n>`): the stream resumes after it. */
  lastEventId: string;
  mesh: Status;
  uptimeSource: UptimeSource;
  services: ServiceSummary[];
}

export type UptimeSource = 'uptime' | 'rollups' | 'none';

/** Plain, so the first call takes the response index.html preloads. */
export async function getSummary(signal?: AbortSignal): Promise<Summary> {
  const summary = await call<Summary>('/api/v1/web/summary', { signal, plain: true });
  for (const s of summary.services) s.spark = expandRuns(s.spark);
  return summary;
}

/** The server sends sparklines run-length encoded ([value, count, …]); views want one value a minute. */
export function expandRuns(runs: ReadonlyArray<number | null>): Array<number | null> {
  const out: Array<number | null> = [];
  for (let i = 0; i + 1 < runs.length; i += 2) for (let n = 0; n < (runs[i + 1] ?? 0); n++) out.push(runs[i]!);
  return out;
}

export interface CheckBrief {
  id: string;
  name: string;
  kind: string;
  status: Status;
  reason: string | null;
  durationMs: number | null;
  output: string | null;
}

export interface InstanceRow {
  id: string;
  key: string;
  address: string;
  zone: string | null;
  tags: string[];
  weight: number;
  source: string;
  status: Status;
  score: number;
  latencyMs: number | null;
  checks: CheckBrief[];
}

/** GET /api/v1/web/services/:service */
export interface ServiceDetail extends ServiceSummary {
  dependents: string[];
  latency: { avgMs: number; maxMs: number; count: number } | null;
  total: number;
  offset: number;
  instances: InstanceRow[];
}

export async function getServiceDetail(name: string, offset: number, limit: number): Promise<ServiceDetail> {
  const detail = await call<ServiceDetail>(`/api/v1/web/services/${encodeURIComponent(name)}${q({ offset, limit })}`);
  detail.spark = expandRuns(detail.spark);
  return detail;
}

export interface DayUptime {
  start: number;
  uptimePercent: number | null;
  incidents: number | null;
}

/** GET /api/v1/web/services/:service/uptime?days= */
export const getServiceUptimeDays = (name: string, days: number) =>
  call<{ service: string; source: UptimeSource; days: DayUptime[] }>(`/api/v1/web/services/${encodeURIComponent(name)}/uptime${q({ days })}`);

// ------------------------------------------------------ existing API routes

/** GET /api/v1/services/:service/balancer (BalancerSnapshot in src/balancer/service-balancer.ts). */
export interface BalancerSnapshot {
  service: string;
  picker: string;
  panic: boolean;
  healthyShare: number;
  panicThreshold: number;
  zone: { local: string; usingLocal: boolean } | null;
  instances: Array<{
    id: string;
    address: string;
    zone: string | null;
    status: Status;
    score: number;
    usable: boolean;
    inRotation: boolean;
    weight: number;
    effectiveWeight: number;
    slowStart: { factor: number; endsAt: number } | null;
    inFlight: number;
    picks: number;
    successes: number;
    failures: number;
    breaker: { state: string; opens: number; reopensAt: number | null } | null;
    outlier: {
      ejected: boolean;
      detector: string | null;
      reason: string | null;
      timesEjected: number;
      ejectedAt: number | null;
      returnsAt: number | null;
    } | null;
  }>;
}

export const getBalancer = (service: string) =>
  call<BalancerSnapshot>(`/api/v1/services/${encodeURIComponent(service)}/balancer`, {
    optionalRoute: 'The balancer state (GET /api/v1/services/:service/balancer)',
  });

export interface LastResult {
  status: Status;
  reason: string;
  output: string;
  durationMs: number;
  observedAt: number;
  attempts: number;
  metrics: Record<string, number> | null;
}

/** GET /api/v1/instances/:service/:id */
export interface InstanceDetail {
  id: string;
  key: string;
  service: string;
  address: string;
  zone: string | null;
  weight: number;
  tags: string[];
  metadata: Record<string, string>;
  source: string;
  status: Status;
  score: number;
  checks: Array<{ id: string; kind: string; status: Status; lastResult: LastResult | null }>;
}

export const getInstance = (key: string) => call<InstanceDetail>(`/api/v1/instances/${idPath(key)}`);

/** GET /api/v1/checks/:id */
export interface CheckDetail {
  id: string;
  kind: string;
  service: string;
  instance: string;
  status: Status;
  since: number;
  flapping: boolean;
  pending: unknown;
  consecutiveFailures: number;
  lastResult: LastResult | null;
  intervalMs: number;
  timeoutMs: number;
}

export const getCheck = (id: string) => call<CheckDetail>(`/api/v1/checks/${idPath(id)}`);

/** One stored result (GET /api/v1/checks/:id/history, newest first). */
export interface ResultRecord {
  checkId: string;
  status: Status;
  reason: string;
  durationMs: number;
  observedAt: number;
  attempts: number;
  output: string;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export const getCheckResults = (id: string, p: { from?: number; to?: number; limit?: number; cursor?: string | null }) =>
  call<Page<ResultRecord>>(`/api/v1/checks/${idPath(id)}/history${q({ from: p.from, to: p.to, limit: p.limit, cursor: p.cursor })}`, {
    optionalRoute: 'Stored results (GET /api/v1/checks/:id/history)',
  });

// ------------------------------------------- history (src/server/history-routes.ts)

export type Step = '1m' | '1h';
export type Level = 'checks' | 'instances' | 'services';

/**
 * GET /api/v1/{checks/:id,instances/:service/:id,services/:service}/rollups?step=1m|1h&from=&to=
 * answers a RollupPage: the buckets oldest first; `from` is the first bucket's start (a bucket overlapping `from` is included).
 */
export interface Rollup {
  bucketStart: number;
  count: number;
  failures: number;
  minMs: number;
  avgMs: number;
  p95Ms: number;
  maxMs: number;
  statusCounts: Counts;
  minScore: number | null;
  avgScore: number | null;
}

export interface RollupPage {
  id: string;
  step: Step;
  from: number;
  to: number;
  items: Rollup[];
}

export async function getRollups(level: Level, id: string, step: Step, from: number, to: number): Promise<Rollup[]> {
  const path = level === 'services' ? encodeURIComponent(id) : idPath(id);
  const page = await call<RollupPage>(`/api/v1/${level}/${path}/rollups${q({ step, from, to })}`, {
    optionalRoute: `Rollups (GET /api/v1/${level}/:id/rollups)`,
  });
  return page.items;
}

/**
 * GET /api/v1/transitions?service=&instance=&check=&level=&from=&to=&limit=&cursor=
 * answers `{ items, nextCursor }`, newest first, of every level unless `level=` narrows it.
 */
export interface TransitionRecord {
  /** The SSE event id; null for a row stored without one. */
  id: number | null;
  level: 'check' | 'instance' | 'service';
  /** The check id at level check, else null. */
  check: string | null;
  service: string;
  /** The instance at levels check and instance, else null. */
  instance: string | null;
  from: Status;
  to: Status;
  reason: string;
  output: string;
  at: number;
}

export const getTransitions = (p: {
  service?: string;
  instance?: string;
  check?: string;
  level?: string;
  from?: number;
  to?: number;
  limit?: number;
  cursor?: string | null;
}) => call<Page<TransitionRecord>>(`/api/v1/transitions${q(p)}`, { optionalRoute: 'Transitions (GET /api/v1/transitions)' });

/** GET /api/v1/services/:service/uptime?from=&to= and /api/v1/instances/:service/:id/uptime (`to` ends now at the latest). */
export interface Uptime {
  service: string;
  instance: string | null;
  from: number;
  to: number;
  /** Time with a known status, and UNKNOWN time (before anything was stored, or while the daemon was stopped). */
  knownMs: number;
  unknownMs: number;
  ms: Counts;
  uptimePercent: number | null;
  incidents: number;
  recoveries: number;
  mttrMs: number | null;
  openIncidentSince: number | null;
}

export const getUptime = (level: 'services' | 'instances', id: string, from: number, to: number) =>
  call<Uptime>(`/api/v1/${level}/${level === 'services' ? encodeURIComponent(id) : idPath(id)}/uptime${q({ from, to })}`, {
    optionalRoute: `Uptime (GET /api/v1/${level}/:id/uptime)`,
  });

// ------------------------------------------------------------- analysis

/** A trend as src/analysis/trend.ts computes it. */
export interface Trend {
  series: string;
  direction: 'improving' | 'stable' | 'degrading' | 'volatile';
  /** Value units per second. */
  slopePerSecond: number;
  r2: number;
  /** 1 − p of the Mann–Kendall test. */
  confidence: number;
  n: number;
}

/** When the headline series crosses its threshold (score 50; a check's degraded_after or timeout). */
export interface ForecastView {
  series: string;
  threshold: number | null;
  crossing: { threshold: number; already: boolean; at: number | null; earliest: number | null; latest: number | null } | null;
  interval: { at: number; value: number; lower: number; upper: number };
  coverage: number;
  slopePerSecond: number;
  reachMs: number;
}

export interface SloView {
  kind: 'availability' | 'latency';
  objective: number;
  objectivePercent: number;
  windowMs: number;
  latencyThresholdMs: number | null;
  excludeMaintenance: boolean;
  good: number;
  total: number;
  attainment: number | null;
  budgetRemaining: number;
  burns: Array<{
    condition: { name: string; severity: 'page' | 'ticket'; longMs: number; shortMs: number; factor: number };
    longBurn: number;
    shortBurn: number;
    firing: boolean;
  }>;
  firing: 'page' | 'ticket' | null;
}

/**
 * GET /api/v1/services/:service/analysis (src/server/analysis-openapi.ts):
 * each part is null when the data does not support it, with the reason in `reasons`.
 */
export interface Analysis {
  level: 'service' | 'instance' | 'check';
  id: string;
  at: number;
  series: string;
  trend: Trend | null;
  forecast: ForecastView | null;
  anomalies: Array<{ at: number; score: number; value: number; level: string; subject: string; series: string }> | null;
  slo: SloView | null;
  /** The maintenance window covering the subject now: status is still recorded and shown. */
  maintenance: { name: string; start: number; end: number } | null;
  reasons: { trend: string | null; forecast: string | null; anomalies: string | null; slo: string | null };
}

export const getAnalysis = (service: string) => call<Analysis>(`/api/v1/services/${encodeURIComponent(service)}/analysis`);

// ---------------------- alerts (src/server/alert-routes.ts; with an alerts: section)

export type AlertState = 'pending' | 'firing' | 'resolved';
export type AlertLevel = 'info' | 'warning' | 'critical';

/** The alerting module's AlertRecord (src/alerts/types.ts). */
export interface Alert {
  id: string;
  rule: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  level: AlertLevel;
  state: AlertState;
  activeSince: number;
  firedAt: number | null;
  resolvedAt: number | null;
  value: number | null;
  summary: string;
  /** Reminders sent in this firing episode. */
  reminders: number;
  foldedInto: string | null;
  /** Epoch ms of the last change. */
  updatedAt: number;
}

export interface TimelineEntry {
  at: number;
  type: string;
  detail?: string;
  notifier?: string;
  notification?: string;
}

/** In the list: everything but the timeline, and how long it is. */
export type AlertSummary = Alert & { timelineEntries: number };
/** GET /api/v1/alerts/:id: with the timeline. */
export type AlertDetail = Alert & { timeline: TimelineEntry[] };

/** Most firing and pending alerts read (the route's largest page), and recently resolved ones shown. */
export const MAX_ACTIVE_ALERTS = 1000;
export const RECENT_RESOLVED = 50;

export interface AlertLists {
  /** Firing and pending, newest first; `activeMore` when more exist than were read. */
  active: AlertSummary[];
  activeMore: boolean;
  /** The newest resolved ones. */
  resolved: AlertSummary[];
}

/**
 * GET /api/v1/alerts?state=&limit=: `{ items, nextCursor }`, newest first (by activeSince). Asked per state:
 * unfiltered, its first page (100) can be all resolved alerts and hide older ones still firing.
 */
export async function getAlerts(): Promise<AlertLists> {
  const optionalRoute = 'Alerts (GET /api/v1/alerts)';
  const [active, resolved] = await Promise.all([
    call<Page<AlertSummary>>(`/api/v1/alerts${q({ state: 'firing,pending', limit: MAX_ACTIVE_ALERTS })}`, { optionalRoute }),
    call<Page<AlertSummary>>(`/api/v1/alerts${q({ state: 'resolved', limit: RECENT_RESOLVED })}`, { optionalRoute }),
  ]);
  return { active: active.items, activeMore: active.nextCursor !== null, resolved: resolved.items };
}

/** Only asked after the list answered: a 404 means the alert is gone, not the route. */
export const getAlert = (id: string) => call<AlertDetail>(`/api/v1/alerts/${encodeURIComponent(id)}`);

/** The alerting module's Silence (src/alerts/silences.ts). */
export interface Silence {
  id: string;
  /** label → accepted values (`*` wildcards). */
  matchers: Record<string, string[]>;
  start: number | null;
  end: number;
  comment: string;
  createdBy: string;
  createdAt: number;
  source: 'config' | 'api';
}

/** GET /api/v1/silences: `{ items }`, the silences not yet ended. */
export async function getSilences(): Promise<Silence[]> {
  const page = await call<{ items: Silence[] }>('/api/v1/silences', { optionalRoute: 'Silences (GET /api/v1/silences)' });
  return page.items;
}

/** Body of POST /api/v1/silences (snake_case, `silenceBody` in src/server/alert-routes.ts): `duration` or `ends_at`, one of them. */
export interface NewSilence {
  matchers: Record<string, string[]>;
  /** From the daemon's now, e.g. "1h", "7d" (the daemon's clock, not the browser's). */
  duration: string;
  comment: string;
  created_by: string;
}

const WRITE_REASON = 'Silences are changed with the API token. The page keeps it in memory only (a reload forgets it).';

/** POST /api/v1/silences (bearer token) answers 201 with the Silence. */
export const createSilence = (body: NewSilence) => call<Silence>('/api/v1/silences', { method: 'POST', body, tokenReason: WRITE_REASON, requireToken: true });

/** DELETE /api/v1/silences/:id (bearer token) expires it: 204; 404 when it is already gone. */
export const expireSilence = (id: string) =>
  call<void>(`/api/v1/silences/${encodeURIComponent(id)}`, { method: 'DELETE', tokenReason: WRITE_REASON, requireToken: true });

// --------------------------------------------------------------- status page

export interface StatusPageData {
  slug: string;
  title: string;
  description: string | null;
  generatedAt: number;
  overall: Status;
  uptimeSource: UptimeSource;
  services: Array<{ name: string; status: Status; uptimePercent: number | null; days: Array<{ start: number; uptimePercent: number | null }> }>;
  incidents: {
    current: Array<{ service: string; status: Status; since: number | null }>;
    history: Array<{ service: string; start: number; end: number; durationMs: number }>;
  };
}

export const getStatusPage = (slug: string) =>
  call<StatusPageData>(`/api/v1/status/${encodeURIComponent(slug)}`, { tokenReason: 'This status page is not public: enter its token.' });

// ------------------------------------------------------------- live events

/** GET /api/v1/web/events `transition`: a check transition with what it did to its service(s). */
export interface LiveTransition {
  id: number;
  check: string;
  service: string;
  instance: string;
  from: Status;
  to: Status;
  reason: string;
  output: string;
  at: number;
  inst: { status: Status; score: number };
  svcs: Array<{ name: string; status: Status; score: number; cause: string | null; counts: Counts }>;
  mesh: Status;
}

/** `tick`, once a minute: [service, lowest score of the closed minute, score now]. */
export interface LiveTick {
  at: number;
  services: Array<[string, number | null, number]>;
}

export const EVENTS_PATH = '/api/v1/web/events';
