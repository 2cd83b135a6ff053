/**
 * The history routes: rollups of a check, an instance or a service,
 * transitions of every level, and uptime of an instance or a service, read
 * from the history store. Registered by server/api.ts; their OpenAPI entries
 * are in history-openapi.ts.
 *
 * Check ids (service/instance/name) and instance keys (service/id) hold
 * slashes: each route takes them as path segments
 * (`/api/v1/checks/api/a1/http/rollups`) or URL-encoded in one
 * (`/api/v1/checks/api%2Fa1%2Fhttp/rollups`).
 */
import type { FastifyInstance } from 'fastify';
import type { Clock } from '../core/clock.js';
import { HealthmeshError } from '../core/errors.js';
import type { HistoryStore, Rollup, TransitionRecord, Uptime } from '../store/types.js';
import { invalid, parseLevels, parseLimit, parseRange, parseStep, parseTime } from './history-params.js';
import { uptimeExcluding, type MaintenanceIntervals } from './uptime-excluding.js';

/** What the history routes read. */
export interface HistoryRoutesDeps {
  /** The history store; without one the routes answer 404. */
  store?: Pick<HistoryStore, 'queryRollups' | 'queryTransitions' | 'queryUptime'>;
  /** Finds an instance by `service/id` or by an id unique in the mesh. */
  instance(key: string): { service: string; id: string } | undefined;
  clock: Clock;
  /** Maintenance windows covering a subject, for `exclude_maintenance=true` on the uptime routes. */
  maintenance?: MaintenanceIntervals;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Default span of a rollup query per step, and of an uptime query, ms. */
const DEFAULT_SPAN = { minute: DAY, hour: 7 * DAY, uptime: 30 * DAY };
/** Most buckets one rollup query may span (a week of minutes). */
export const MAX_BUCKETS = 10_080;
const STEP_MS = { minute: 60_000, hour: HOUR };
/** Largest page of transitions. */
export const MAX_TRANSITIONS_PAGE = 1000;

type Query = Record<string, string | undefined>;

export function registerHistoryRoutes(app: FastifyInstance, deps: HistoryRoutesDeps): void {
  const store = (): NonNullable<HistoryRoutesDeps['store']> => {
    if (!deps.store) throw new HealthmeshError('not_found', 'history is not stored by this daemon');
    return deps.store;
  };
  const now = (): number => Math.floor(deps.clock.now());

  /** service/id of an instance key; one the registry no longer knows still names its history. */
  const instanceOf = (key: string): { service: string; instance: string } => {
    const known = deps.instance(key);
    if (known) return { service: known.service, instance: known.id };
    const slash = key.indexOf('/');
    if (slash > 0 && slash < key.length - 1) return { service: key.slice(0, slash), instance: key.slice(slash + 1) };
    throw new HealthmeshError('not_found', `no instance "${key}" (use service/id when ids repeat across services)`);
  };

  const rollups = async (selector: { checkId: string } | { service: string; instance?: string }, id: string, query: Query) => {
    const resolution = parseStep(query.step);
    const { from, to } = parseRange(query, now(), DEFAULT_SPAN[resolution]);
    if ((to - from) / STEP_MS[resolution] > MAX_BUCKETS) {
      throw invalid(
        'from',
        `[from, to) spans more than ${MAX_BUCKETS} buckets of step=${query.step ?? '1m'}${resolution === 'minute' ? ' (use step=1h)' : ''}`,
      );
    }
    // Buckets that began before `from` but overlap it are included.
    const start = from - (((from % STEP_MS[resolution]) + STEP_MS[resolution]) % STEP_MS[resolution]);
    const items = await store().queryRollups({ ...selector, resolution, from: start, to });
    return { id, step: resolution === 'minute' ? '1m' : '1h', from: start, to, items: items.map(rollupView) };
  };

  const uptime = async (service: string, instance: string | undefined, query: Query) => {
    const t = now();
    const range = parseRange(query, t, DEFAULT_SPAN.uptime);
    // The future is not known yet: a range reaching past now ends now.
    const to = Math.min(range.to, t);
    if (range.from >= to) throw invalid('from', `${range.from} is not before now (${t})`);
    const q = { service, ...(instance !== undefined ? { instance } : {}), from: range.from, to };
    if (!parseFlag('exclude_maintenance', query.exclude_maintenance)) return uptimeView(service, instance, await store().queryUptime(q));
    const u = await uptimeExcluding(store(), q, deps.maintenance ?? (() => []));
    return { ...uptimeView(service, instance, u), maintenanceMs: u.maintenanceMs, excludeMaintenance: true };
  };

  type Checked = { Params: { service: string; instance: string; name: string }; Querystring: Query };
  app.get<Checked>('/api/v1/checks/:service/:instance/:name/rollups', async (req) => {
    const id = `${req.params.service}/${req.params.instance}/${req.params.name}`;
    return rollups({ checkId: id }, id, req.query);
  });
  app.get<{ Params: { id: string }; Querystring: Query }>('/api/v1/checks/:id/rollups', async (req) =>
    rollups({ checkId: req.params.id }, req.params.id, req.query),
  );

  const instanceRollups = async (key: string, query: Query) => {
    const { service, instance } = instanceOf(key);
    return rollups({ service, instance }, `${service}/${instance}`, query);
  };
  type Keyed = { Params: { service: string; id: string }; Querystring: Query };
  app.get<Keyed>('/api/v1/instances/:service/:id/rollups', async (req) => instanceRollups(`${req.params.service}/${req.params.id}`, req.query));
  app.get<Keyed>('/api/v1/instances/:id/rollups', async (req) => instanceRollups(req.params.id, req.query));
  app.get<{ Params: { service: string }; Querystring: Query }>('/api/v1/services/:service/rollups', async (req) =>
    rollups({ service: req.params.service }, req.params.service, req.query),
  );

  const instanceUptime = async (key: string, query: Query) => {
    const { service, instance } = instanceOf(key);
    return uptime(service, instance, query);
  };
  app.get<Keyed>('/api/v1/instances/:service/:id/uptime', async (req) => instanceUptime(`${req.params.service}/${req.params.id}`, req.query));
  app.get<Keyed>('/api/v1/instances/:id/uptime', async (req) => instanceUptime(req.params.id, req.query));
  app.get<{ Params: { service: string }; Querystring: Query }>('/api/v1/services/:service/uptime', async (req) =>
    uptime(req.params.service, undefined, req.query),
  );

  app.get<{ Querystring: Query }>('/api/v1/transitions', async (req) => {
    const q = req.query;
    const t = now();
    const from = parseTime('from', q.from, t);
    const to = parseTime('to', q.to, t);
    if (from !== undefined && to !== undefined && from >= to) throw invalid('from', `${from} is not before to (${to})`);
    let service = q.service || undefined;
    let instance = q.instance || undefined;
    const checkId = q.check || undefined;
    if (checkId && (service || instance)) throw invalid('check', 'give check alone, or service and/or instance');
    if (instance?.includes('/')) {
      const { service: s, instance: i } = instanceOf(instance);
      if (service !== undefined && service !== s) throw invalid('instance', `"${instance}" is not an instance of service "${service}"`);
      [service, instance] = [s, i];
    }
    const levels = parseLevels(q.level);
    const page = await store().queryTransitions({
      ...(checkId ? { checkId } : {}),
      ...(service ? { service } : {}),
      ...(instance ? { instance } : {}),
      ...(levels ? { levels } : {}),
      ...(from !== undefined ? { from } : {}),
      ...(to !== undefined ? { to } : {}),
      limit: parseLimit(q.limit, MAX_TRANSITIONS_PAGE),
      cursor: q.cursor || null,
      order: 'desc',
    });
    return { items: page.items.map(transitionView), nextCursor: page.nextCursor };
  });
}

/** A true/false query flag (also 1/0); false when left out. */
function parseFlag(field: string, value: string | undefined): boolean {
  if (value === undefined || value === '' || value === 'false' || value === '0') return false;
  if (value === 'true' || value === '1') return true;
  throw invalid(field, `${JSON.stringify(value)} is not true or false`);
}

function rollupView(r: Rollup) {
  return {
    bucketStart: r.bucketStart,
    count: r.count,
    failures: r.failures,
    minMs: r.minMs,
    avgMs: r.avgMs,
    p95Ms: r.p95Ms,
    maxMs: r.maxMs,
    statusCounts: r.statusCounts,
    minScore: r.minScore,
    avgScore: r.avgScore,
  };
}

function transitionView(t: TransitionRecord) {
  return {
    id: t.id ?? null,
    level: t.level ?? 'check',
    check: t.checkId || null,
    service: t.service,
    instance: t.instance || null,
    from: t.from,
    to: t.to,
    reason: t.reason,
    output: t.output,
    at: t.at,
  };
}

function uptimeView(service: string, instance: string | undefined, u: Uptime) {
  const unknownMs = u.ms.UNKNOWN;
  return {
    service,
    instance: instance ?? null,
    from: u.from,
    to: u.to,
    uptimePercent: u.uptimePercent,
    knownMs: u.to - u.from - unknownMs,
    unknownMs,
    ms: u.ms,
    incidents: u.incidents,
    recoveries: u.recoveries,
    mttrMs: u.mttrMs,
    openIncidentSince: u.openIncidentSince,
  };
}
