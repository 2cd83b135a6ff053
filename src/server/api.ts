import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { realClock, type Clock } from '../core/clock.js';
import type { CheckResult } from '../core/result.js';
import { HealthmeshError } from '../core/errors.js';
import type { HealthStatus } from '../core/status.js';
import { parseDuration } from '../config/duration.js';
import type { BalancerSet } from '../balancer/balancer-set.js';
import type { ServiceBalancer } from '../balancer/service-balancer.js';
import type { Engine } from '../engine.js';
import type { Admission } from '../registry/admission.js';
import type { InstanceRecord, Registry } from '../registry/registry.js';
import type { StatusRollup } from '../status/rollup.js';
import type { LoggedTransition, TransitionLog } from './event-log.js';
import type { SecurityOptions } from '../security/guard.js';
import type { ListenerTlsOptions } from '../security/tls.js';
import { withExtensions, type ServerExtension } from './extensions.js';
import { withHistoryApi } from './history-openapi.js';
import { registerHistoryRoutes, type HistoryRoutesDeps } from './history-routes.js';
import { InstanceLists, type InstanceFilter } from './instance-lists.js';
import { balancerReportsSchema, ttlBodySchema, buildOpenApi } from './openapi.js';

/** Reads of stored history the API needs (the HistoryStore provides them). */
export interface HistoryReader {
  queryResults(q: { checkId: string; from?: number; to?: number; limit: number; cursor?: string }): Promise<{ items: unknown[]; nextCursor: string | null }>;
}

/** Everything the API reads from; each part is built and tested on its own. */
export interface ApiDeps {
  engine: Engine;
  registry: Registry;
  rollup: StatusRollup;
  transitions: TransitionLog;
  version: string;
  isReady: () => boolean;
  history?: HistoryReader;
  metrics?: { contentType: string; render(): Promise<string> };
  /** Per-service balancers: their live state, and passive outcomes reported by clients. */
  balancers?: Pick<BalancerSet, 'balancer'>;
  /** Bearer token for mutating endpoints (and reads when protectReads). */
  token?: string;
  protectReads?: boolean;
  /** Scoped tokens, the audit log and the failure limit (security/guard.ts); default: `token` alone, as admin. */
  security?: Partial<SecurityOptions>;
  /** Checks run-time registrations against `registration:` (networks, ports, kinds, limits); without it all are taken. */
  admission?: Pick<Admission, 'admit' | 'registered' | 'forget' | 'maxBodyBytes'>;
  /** Serve HTTPS (mTLS with a client CA) instead of HTTP: `server.tls`, read by security/tls.ts. */
  https?: ListenerTlsOptions;
  /** Ask the daemon to reload its config; resolves with what changed or rejects with the config error. */
  reload?: () => Promise<unknown>;
  /** Alert events for the event stream (`event: alert`, live only: they carry no id to resume from). */
  alertEvents?: { subscribe(listener: (event: unknown) => void): () => void };
  /** Parts with routes of their own (alerts, analysis, reports), registered after the API and in its OpenAPI document. */
  extensions?: readonly ServerExtension[];
  /** Stored history for the rollup, transition and uptime routes (history-routes.ts). */
  historyStore?: HistoryRoutesDeps['store'];
  /** Maintenance windows covering a subject (alerts.maintenance), for uptime with `exclude_maintenance=true`. */
  maintenance?: HistoryRoutesDeps['maintenance'];
  /** Ages the cached answers; default the real clock. (Blocking queries time out on the registry's clock.) */
  clock?: Clock;
}

const MAX_PAGE = 1000;
/** Longest time a cached instance list is served while the index stands still (scores drift). */
const INSTANCE_CACHE_MS = 1000;
/** Bound on cached answers (services × filters × pages). */
const INSTANCE_CACHE_ENTRIES = 10_000;
const MAX_WAIT_MS = 5 * 60_000;

const pageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(MAX_PAGE).default(100),
  cursor: z.string().optional(),
});

const instancesQuery = pageQuery.extend({
  status: z.enum(['any', 'healthy', 'passing']).default('any'),
  wait: z.string().optional(),
  index: z.coerce.number().int().min(0).optional(),
});

const historyQuery = z.object({
  from: z.coerce.number().optional(),
  to: z.coerce.number().optional(),
  limit: z.coerce.number().int().min(1).max(MAX_PAGE).default(100),
  cursor: z.string().optional(),
});

/** health+json status words (draft-inadarei-api-health-check). */
const HEALTH_WORD: Record<HealthStatus, 'pass' | 'warn' | 'fail'> = { HEALTHY: 'pass', DEGRADED: 'warn', UNKNOWN: 'warn', UNHEALTHY: 'fail' };

/**
 * The daemon's HTTP API. Reads come from state kept current on events (the
 * rollup, the engine's check states), never recomputed per item; list
 * endpoints are paginated by keyset cursors.
 */
/** The balancer of `service`, or a 404 naming it. */
function balancerOf(balancers: Pick<BalancerSet, 'balancer'> | undefined, service: string): ServiceBalancer {
  const balancer = balancers?.balancer(service);
  if (!balancer) throw new HealthmeshError('not_found', `no service "${service}" with a balancer`);
  return balancer;
}

/** GET /api/v1/services/:service/balancer, the live state of a balancer: on the daemon's API and on the follower's admin server. */
export function registerBalancerState(app: FastifyInstance, balancers: Pick<BalancerSet, 'balancer'> | undefined): void {
  app.get<{ Params: { service: string } }>('/api/v1/services/:service/balancer', async (request) => balancerOf(balancers, request.params.service).snapshot());
}

export function registerApi(app: FastifyInstance, deps: ApiDeps): void {
  const { engine, registry, rollup } = deps;
  const clock = deps.clock ?? realClock;
  const lists = new InstanceLists(registry, (service, id) => rollup.instance(service, id));
  app.addHook('onClose', async () => lists.close());

  // Asked by every probe and load balancer: serialized once per registry index (at most a second old).
  let healthCache: { index: number; at: number; code: number; body: string } | null = null;
  app.get('/health', async (_req, reply) => {
    const index = registry.index;
    const now = clock.now();
    if (!healthCache || healthCache.index !== index || now - healthCache.at >= INSTANCE_CACHE_MS) {
      const mesh = rollup.meshStatus();
      const checks: Record<string, unknown[]> = {};
      for (const name of rollup.serviceNames()) {
        checks[`${name}:status`] = [
          {
            componentId: name,
            componentType: 'service',
            status: HEALTH_WORD[rollup.service(name)],
            observedValue: rollup.serviceScore(name),
            observedUnit: 'score',
          },
        ];
      }
      const body = JSON.stringify({ status: HEALTH_WORD[mesh], version: deps.version, description: `healthmesh mesh status ${mesh}`, checks });
      healthCache = { index, at: now, code: mesh === 'UNHEALTHY' ? 503 : 200, body };
    }
    reply.code(healthCache.code).header('content-type', 'application/health+json').header('cache-control', 'no-store');
    return healthCache.body;
  });

  if (deps.metrics) {
    const metrics = deps.metrics;
    app.get('/metrics', async (_req, reply) => {
      reply.header('content-type', metrics.contentType);
      return metrics.render();
    });
  }

  app.get('/api/v1/openapi.json', async () => withExtensions(withHistoryApi(buildOpenApi(deps.version)), deps.extensions ?? []));

  app.get('/api/v1/services', async (request) => {
    const q = pageQuery.parse(request.query);
    const names = registry.serviceNames().sort();
    const { items, nextCursor } = keysetPage(names, q.limit, q.cursor, (n) => n);
    return {
      items: items.map((name) => ({
        name,
        status: rollup.service(name),
        score: rollup.serviceScore(name),
        cause: rollup.serviceCause(name),
        instances: rollup.serviceCounts(name),
      })),
      nextCursor,
    };
  });

  app.get<{ Params: { service: string } }>('/api/v1/services/:service', async (request) => {
    const name = request.params.service;
    if (!registry.hasService(name)) throw new HealthmeshError('not_found', `no service "${name}"`);
    const q = pageQuery.parse(request.query);
    const { items, nextCursor } = instancePage(name, 'any', q.limit, q.cursor);
    return {
      name,
      status: rollup.service(name),
      score: rollup.serviceScore(name),
      minHealthy: registry.minHealthy(name),
      cause: rollup.serviceCause(name),
      counts: rollup.serviceCounts(name),
      instances: items.map((r) => instanceView(r, false)),
      nextCursor,
    };
  });

  // The load balancers' question is asked far more often than its answer
  // changes: serve the serialized answer until the service's index moves
  // (its membership, an instance or a check status) or it is a second old
  // (scores drift).
  const instanceCache = new Map<string, { index: number; at: number; body: string }>();
  app.get<{ Params: { service: string } }>('/api/v1/services/:service/instances', async (request, reply) => {
    const q = instancesQuery.parse(request.query);
    const name = request.params.service;
    if (q.index !== undefined && q.wait !== undefined) {
      const waitMs = parseDuration(q.wait);
      if (waitMs === undefined) throw new HealthmeshError('invalid', `wait: "${q.wait}" is not a duration (use e.g. 30s)`);
      await registry.waitForServiceChange(name, q.index, Math.min(waitMs, MAX_WAIT_MS));
    }
    const index = registry.serviceIndex(name);
    reply.header('x-healthmesh-index', String(index)).header('content-type', 'application/json; charset=utf-8');
    const key = `${name}|${q.status}|${q.limit}|${q.cursor ?? ''}`;
    const now = clock.now();
    const cached = instanceCache.get(key);
    if (cached && cached.index === index && now - cached.at < INSTANCE_CACHE_MS) return cached.body;
    const { items, nextCursor } = instancePage(name, q.status, q.limit, q.cursor);
    const body = JSON.stringify({ index, items: items.map((r) => instanceView(r, false)), nextCursor });
    if (instanceCache.size >= INSTANCE_CACHE_ENTRIES) instanceCache.clear();
    instanceCache.set(key, { index, at: now, body });
    return body;
  });

  registerBalancerState(app, deps.balancers);

  app.post<{ Params: { service: string } }>('/api/v1/services/:service/balancer/reports', async (request, reply) => {
    const balancer = balancerOf(deps.balancers, request.params.service);
    const { reports } = balancerReportsSchema.parse(request.body);
    reports.forEach((r, i) => {
      if (!balancer.has(r.instance))
        throw new HealthmeshError('invalid', `reports[${i}].instance: no instance "${r.instance}" in service "${request.params.service}"`);
    });
    // observe(), not report(): these requests were not picked here, so nothing in flight ends.
    for (const r of reports) balancer.observe(r.instance, { ok: r.ok, latencyMs: r.latency_ms, ...(r.status !== undefined ? { status: r.status } : {}) });
    return reply.code(202).send({ accepted: reports.length });
  });

  app.get('/api/v1/instances/*', async (request) => {
    const key = wildcard(request);
    const rec = registry.instance(key);
    if (!rec) throw new HealthmeshError('not_found', `no instance "${key}" (use service/id when ids repeat across services)`);
    return instanceView(rec, true);
  });

  const admission = deps.admission;
  app.post('/api/v1/instances', admission ? { bodyLimit: admission.maxBodyBytes } : {}, async (request, reply) => {
    const owner = request.principal?.name ?? '-';
    await admission?.admit(request.body, owner);
    const rec = await registry.register(request.body);
    admission?.registered(rec.key, owner);
    reply.code(201);
    return instanceView(rec, true);
  });

  app.delete('/api/v1/instances/*', async (request, reply) => {
    const key = wildcard(request);
    const rec = registry.instance(key);
    if (!rec) throw new HealthmeshError('not_found', `no instance "${key}"`);
    await registry.deregister(rec.key);
    admission?.forget(rec.key);
    reply.code(204);
  });

  app.get('/api/v1/checks', async (request) => {
    const q = pageQuery.parse(request.query);
    const ids = [...engine.all()].map((v) => v.spec.id).sort();
    const { items, nextCursor } = keysetPage(ids, q.limit, q.cursor, (id) => id);
    return { items: items.map((id) => checkView(id)), nextCursor };
  });

  app.get('/api/v1/checks/*', async (request) => {
    const path = wildcard(request);
    if (path.endsWith('/history')) {
      const id = path.slice(0, -'/history'.length);
      requireCheck(id);
      if (!deps.history) throw new HealthmeshError('not_found', 'history is not stored by this daemon');
      const q = historyQuery.parse(request.query);
      return deps.history.queryResults({ checkId: id, from: q.from, to: q.to, limit: q.limit, cursor: q.cursor });
    }
    requireCheck(path);
    return checkView(path);
  });

  app.put('/api/v1/checks/*', async (request, reply) => {
    const path = wildcard(request);
    if (!path.endsWith('/ttl')) throw new HealthmeshError('not_found', `no route PUT ${request.url}`);
    const id = path.slice(0, -'/ttl'.length);
    const body = ttlBodySchema.parse(request.body ?? {});
    engine.heartbeat(id, body.status, body.note);
    reply.code(200);
    return { check: id, accepted: body.status };
  });

  app.get('/api/v1/events', (request, reply) => streamTransitions(request, reply, deps.transitions, deps.alertEvents));
  registerHistoryRoutes(app, {
    store: deps.historyStore,
    instance: (key) => registry.instance(key),
    clock: deps.clock ?? realClock,
    ...(deps.maintenance ? { maintenance: deps.maintenance } : {}),
  });

  if (deps.reload) {
    const reload = deps.reload;
    app.post('/api/v1/reload', async () => ({ reloaded: true, changes: await reload() }));
  }

  /** A page of a service's instances in id order (cursor: the last id of the previous page). */
  function instancePage(
    service: string,
    filter: InstanceFilter,
    limit: number,
    cursor: string | undefined,
  ): { items: InstanceRecord[]; nextCursor: string | null } {
    const { items, more } = lists.page(service, filter, limit, cursor === undefined ? undefined : decodeCursor(cursor));
    return { items, nextCursor: more && items.length ? encodeCursor(items[items.length - 1]!.id) : null };
  }

  function requireCheck(id: string): void {
    if (!engine.get(id)) throw new HealthmeshError('not_found', `no check "${id}"`);
  }

  function checkView(id: string): unknown {
    const view = engine.get(id)!;
    const { spec, state } = view;
    return {
      id,
      kind: spec.kind,
      service: spec.service,
      instance: spec.instance,
      status: state.status,
      since: state.since,
      flapping: state.flapping,
      pending: state.pending,
      consecutiveFailures: state.consecutiveFailures,
      lastResult: state.lastResult ? resultView(state.lastResult) : null,
      intervalMs: spec.intervalMs,
      timeoutMs: spec.timeoutMs,
    };
  }

  function instanceView(rec: InstanceRecord, withChecks: boolean): unknown {
    return {
      id: rec.id,
      key: rec.key,
      service: rec.service,
      address: rec.address,
      zone: rec.zone ?? null,
      weight: rec.weight,
      tags: rec.tags,
      metadata: rec.metadata,
      source: rec.source,
      status: rollup.instance(rec.service, rec.id),
      score: rollup.instanceScore(rec.service, rec.id),
      checks: rec.checks.map((spec) => {
        const state = engine.get(spec.id)?.state;
        return withChecks
          ? { id: spec.id, kind: spec.kind, status: state?.status ?? 'UNKNOWN', lastResult: state?.lastResult ? resultView(state.lastResult) : null }
          : { id: spec.id, status: state?.status ?? 'UNKNOWN' };
      }),
    };
  }
}

function resultView(r: CheckResult): unknown {
  return {
    status: r.status,
    reason: r.reason,
    output: r.output,
    durationMs: Math.round(r.durationMs * 1000) / 1000,
    observedAt: Math.round(r.observedAt),
    attempts: r.attempts,
    metrics: r.metrics,
  };
}

/**
 * The `*` of a route, percent-decoded once more (ids holding "/" arrive as
 * %2F). A stray "%" is bad input, not a server error.
 */
function wildcard(request: FastifyRequest): string {
  const raw = (request.params as { '*': string })['*'];
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new HealthmeshError('invalid', `(path): ${JSON.stringify(raw)} is not valid percent-encoding (write % as %25)`);
  }
}

/** A cursor is the last key of the previous page, base64url-encoded so it passes in a query string as is. */
function encodeCursor(key: string): string {
  return Buffer.from(key).toString('base64url');
}

function decodeCursor(cursor: string): string {
  return Buffer.from(cursor, 'base64url').toString();
}

/** Keyset pagination over a sorted in-memory list: the cursor is the last key of the previous page. */
function keysetPage<T>(sorted: readonly T[], limit: number, cursor: string | undefined, key: (t: T) => string): { items: T[]; nextCursor: string | null } {
  let start = 0;
  if (cursor !== undefined) {
    const after = decodeCursor(cursor);
    start = sorted.findIndex((t) => key(t) > after);
    if (start < 0) start = sorted.length;
  }
  const items = sorted.slice(start, start + limit);
  const more = start + limit < sorted.length;
  return { items, nextCursor: more && items.length ? encodeCursor(key(items[items.length - 1]!)) : null };
}

/**
 * Server-Sent Events of check transitions. A client that sends Last-Event-ID
 * (or ?last_event_id=) gets what it missed first, from the log's ring or the
 * store (ids are the stored ids, monotonic across restarts); when that
 * cannot be served in full it gets one `reset` event (re-read the state; its
 * id is where the stream goes on from) and then the live stream.
 */
async function streamTransitions(request: FastifyRequest, reply: FastifyReply, log: TransitionLog, alertEvents?: ApiDeps['alertEvents']): Promise<void> {
  const header = request.headers['last-event-id'];
  const query = (request.query as { last_event_id?: string }).last_event_id;
  const resumeAfter = Array.isArray(header) ? header[0] : (header ?? query);
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
  res.write('retry: 2000\n\n');
  let sentUpTo = log.lastId;
  const send = (t: LoggedTransition): void => {
    if (t.id <= sentUpTo) return;
    sentUpTo = t.id;
    res.write(`id: ${t.id}\nevent: transition\ndata: ${JSON.stringify(t)}\n\n`);
  };
  // Live events wait while the replay is read, so none is lost or sent twice.
  const held: LoggedTransition[] = [];
  let live = resumeAfter === undefined;
  const off = log.subscribe((t) => (live ? send(t) : held.push(t)));
  // Alert events are live only: no id, so a resume never skips transitions because of them.
  const offAlerts = alertEvents?.subscribe((e) => res.write(`event: alert\ndata: ${JSON.stringify(e)}\n\n`)) ?? (() => {});
  const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
  const close = (): void => {
    clearInterval(keepAlive);
    off();
    offAlerts();
  };
  request.raw.on('close', close);
  res.on('error', close);
  if (resumeAfter === undefined) return;
  const afterId = /^\d+$/.test(resumeAfter.trim()) ? Number(resumeAfter) : NaN;
  const replay = await log.replay(afterId);
  if (replay.reset) {
    sentUpTo = log.lastId;
    res.write(`id: ${sentUpTo}\nevent: reset\ndata: ${JSON.stringify({ reason: replay.why, lastId: sentUpTo })}\n\n`);
  } else {
    sentUpTo = afterId;
    for (const t of replay.events) send(t);
  }
  for (const t of held) send(t);
  live = true;
}
