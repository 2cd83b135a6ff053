import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { inProcessCheck, type CustomCheckReturn } from './checks/custom.js';
import type { HeartbeatStatus } from './checks/ttl.js';
import { realClock, type Clock } from './core/clock.js';
import type { Logger } from './core/logger.js';
import { realRandom, type Random } from './core/random.js';
import type { HealthStatus } from './core/status.js';
import { configSchema, type Config, type ConfigInput } from './config/schema.js';
import { customCheckSchema } from './config/kinds/custom.js';
import { parseDuration } from './config/duration.js';
import type { ServiceBalancer } from './balancer/service-balancer.js';
import { resolveCheck } from './registry/from-config.js';
import type { InstanceRecord, RegistrationStore, Registry } from './registry/registry.js';
import { VERSION } from './version.js';
import { startDaemonAnalysis, type DaemonAnalysis } from './wiring/analysis.js';
import { createCore, type Core } from './wiring/core.js';
import type { Engine } from './engine.js';
import type { BalancerSet } from './balancer/balancer-set.js';
import type { StatusRollup } from './status/rollup.js';

/** Options of createHealthmesh; every dependency can be injected. */
export interface HealthmeshOptions {
  /** A config object as in the YAML file (validated here); default: no services. */
  config?: ConfigInput | Config;
  clock?: Clock;
  random?: Random;
  logger?: Logger;
  /** Where API/library registrations are kept across restarts. */
  store?: RegistrationStore;
}

/** An in-process check of the embedding service. */
export interface LocalCheckOptions {
  /** Default 10s. */
  interval?: string | number;
  /** Default 2s. */
  timeout?: string | number;
  rise?: number;
  fall?: number;
  /**
   * A critical check failing makes the service UNHEALTHY (readiness fails);
   * a non-critical one only DEGRADED. Default true.
   */
  critical?: boolean;
}

/** health+json body as served at /health. */
export interface HealthBody {
  status: 'pass' | 'warn' | 'fail';
  version: string;
  checks: Record<string, Array<{ componentId: string; status: 'pass' | 'warn' | 'fail'; output?: string; time?: string }>>;
}

const WORD: Record<HealthStatus, 'pass' | 'warn' | 'fail'> = { HEALTHY: 'pass', DEGRADED: 'warn', UNKNOWN: 'warn', UNHEALTHY: 'fail' };
const LOCAL_SERVICE = 'self';

/**
 * healthmesh embedded in a Node service: the same engine, check kinds and
 * thresholds as the daemon, plus checks written as functions, and probe
 * routes for the service's own HTTP server.
 */
export class Healthmesh {
  readonly engine: Engine;
  readonly registry: Registry;
  readonly rollup: StatusRollup;
  /** A health-aware balancer per configured service (see README, "Load balancing"). */
  readonly balancers: BalancerSet;
  /**
   * Trends, forecasts and anomalies of the checks, instances and services
   * (the daemon's analysis, without history: no warm-up, no SLOs); null before start().
   */
  analysis: DaemonAnalysis | null = null;
  private readonly core: Core;
  private readonly logger: Logger | undefined;
  private readonly config: Config;
  private readonly clock: Clock;
  private ready = false;
  private shuttingDown = false;
  private readonly critical = new Set<string>();

  constructor(options: HealthmeshOptions = {}) {
    this.config = configSchema.parse(options.config ?? { services: {} });
    this.clock = options.clock ?? realClock;
    this.logger = options.logger;
    // The same core as the daemon; an embedded service's checks run at once rather than spread over their interval.
    this.core = createCore({
      config: this.config,
      clock: this.clock,
      random: options.random ?? realRandom,
      ...(options.logger ? { logger: options.logger } : {}),
      ...(options.store ? { registrations: options.store } : {}),
      spreadFirstRun: false,
    });
    ({ engine: this.engine, registry: this.registry, rollup: this.rollup, balancers: this.balancers } = this.core);
  }

  /**
   * The balancer of a configured service: `pick()` an instance for a request,
   * then `report(id, { ok, latencyMs, status })` (or `release(id)`) when it ends.
   * Throws for a service that is not in the config.
   */
  balancer(service: string): ServiceBalancer {
    const b = this.balancers.balancer(service);
    if (!b) throw new TypeError(`no service "${service}" in the config (known: ${this.balancers.services().join(', ') || 'none'})`);
    return b;
  }

  /** Start the checks of the config (and stored registrations). */
  async start(): Promise<void> {
    this.analysis ??= startDaemonAnalysis(this.core, { clock: this.clock, ...(this.logger ? { logger: this.logger } : {}) });
    await this.core.start();
    this.ready = true;
  }

  /** Add a check written as a function; it runs at once, then every interval. */
  addCheck(name: string, fn: (ctx: { signal: AbortSignal }) => Promise<CustomCheckReturn> | CustomCheckReturn, options: LocalCheckOptions = {}): string {
    const config = customCheckSchema.parse({ kind: 'custom', name, module: '<in-process>' });
    const defaults = { ...this.config.defaults };
    const spec = resolveCheck(config, defaults, LOCAL_SERVICE, 'local', '127.0.0.1:0');
    const interval = duration(options.interval, defaults.interval, 'interval');
    spec.intervalMs = spec.unhealthyIntervalMs = spec.edgeIntervalMs = interval;
    spec.timeoutMs = duration(options.timeout, defaults.timeout, 'timeout');
    spec.rise = options.rise ?? 1;
    spec.fall = options.fall ?? 1;
    spec.jitter = 0;
    if (options.critical ?? true) this.critical.add(spec.id);
    this.engine.add(spec, 0, inProcessCheck(fn));
    return spec.id;
  }

  /** Record a heartbeat of a ttl check. */
  heartbeat(checkId: string, status: HeartbeatStatus, note?: string): void {
    this.engine.heartbeat(checkId, status, note);
  }

  /** Register an instance at run time, as POST /api/v1/instances does. */
  register(input: unknown): Promise<InstanceRecord> {
    return this.registry.register(input);
  }

  /** Status of the embedding service: its local checks, critical ones decide UNHEALTHY. */
  selfStatus(): HealthStatus {
    let status: HealthStatus = 'HEALTHY';
    let any = false;
    for (const view of this.engine.all()) {
      if (view.spec.service !== LOCAL_SERVICE) continue;
      any = true;
      const s = view.state.status;
      if (s === 'HEALTHY') continue;
      if (this.critical.has(view.spec.id) && (s === 'UNHEALTHY' || s === 'UNKNOWN')) return 'UNHEALTHY';
      status = 'DEGRADED';
    }
    return any ? status : 'HEALTHY';
  }

  /** The /health body and HTTP code (503 when UNHEALTHY). */
  health(): { code: number; body: HealthBody } {
    const checks: HealthBody['checks'] = {};
    for (const view of this.engine.all()) {
      const r = view.state.lastResult;
      checks[view.spec.id] = [
        { componentId: view.spec.id, status: WORD[view.state.status], output: r?.output, time: r ? new Date(r.observedAt).toISOString() : undefined },
      ];
    }
    const self = this.selfStatus();
    const mesh = this.rollup.meshStatus();
    const worst = self === 'UNHEALTHY' ? 'UNHEALTHY' : self === 'DEGRADED' || (mesh !== 'HEALTHY' && mesh !== 'UNKNOWN') ? 'DEGRADED' : 'HEALTHY';
    return { code: worst === 'UNHEALTHY' ? 503 : 200, body: { status: WORD[worst], version: VERSION, checks } };
  }

  /** Ready: started, not shutting down, and no critical local check failing. */
  isReady(): boolean {
    return this.ready && !this.shuttingDown && this.selfStatus() !== 'UNHEALTHY';
  }

  isLive(): boolean {
    return true;
  }

  /**
   * Graceful shutdown: readiness fails first so load balancers stop sending
   * traffic, then after `drainMs` the checks stop. Close your server after.
   */
  async shutdown(options: { drainMs?: number } = {}): Promise<void> {
    this.shuttingDown = true;
    const drainMs = options.drainMs ?? 0;
    if (drainMs > 0) await new Promise<void>((r) => this.clock.setTimeout(r, drainMs));
    await this.core.stop();
    await this.analysis?.stop();
  }
}

function duration(value: string | number | undefined, fallback: number, field: string): number {
  if (value === undefined) return fallback;
  const ms = parseDuration(value);
  if (ms === undefined || ms <= 0) throw new TypeError(`${field}: ${JSON.stringify(value)} is not a duration (use e.g. 500ms, 10s)`);
  return ms;
}

/** Build an embedded healthmesh. Call start() to run the config's checks. */
export function createHealthmesh(options: HealthmeshOptions = {}): Healthmesh {
  return new Healthmesh(options);
}

/** Paths the probe routes answer on. */
export interface HealthRouteOptions {
  health?: string;
  live?: string;
  ready?: string;
}

function answer(hm: Healthmesh, path: string, paths: Required<HealthRouteOptions>): { code: number; type: string; body: unknown } | undefined {
  if (path === paths.live) return { code: 200, type: 'application/json', body: { status: 'pass' } };
  if (path === paths.ready) {
    const ready = hm.isReady();
    return { code: ready ? 200 : 503, type: 'application/json', body: { status: ready ? 'pass' : 'fail' } };
  }
  if (path === paths.health) {
    const { code, body } = hm.health();
    return { code, type: 'application/health+json', body };
  }
  return undefined;
}

const DEFAULT_PATHS: Required<HealthRouteOptions> = { health: '/health', live: '/livez', ready: '/readyz' };

/**
 * Probe routes as a Node/express handler `(req, res, next)`: answers
 * /health, /livez and /readyz, passes anything else to next().
 */
export function healthHandler(hm: Healthmesh, options: HealthRouteOptions = {}) {
  const paths = { ...DEFAULT_PATHS, ...options };
  return (req: IncomingMessage, res: ServerResponse, next?: () => void): void => {
    const path = (req.url ?? '/').split('?')[0]!;
    const hit = req.method === 'GET' || req.method === 'HEAD' ? answer(hm, path, paths) : undefined;
    if (!hit) {
      if (next) next();
      else {
        res.statusCode = 404;
        res.end();
      }
      return;
    }
    res.statusCode = hit.code;
    res.setHeader('content-type', hit.type);
    res.setHeader('cache-control', 'no-store');
    res.end(JSON.stringify(hit.body));
  };
}

/** Probe routes as a fastify plugin: `app.register(healthRoutes, { healthmesh })`. */
export async function healthRoutes(app: FastifyInstance, options: HealthRouteOptions & { healthmesh: Healthmesh }): Promise<void> {
  const paths = { ...DEFAULT_PATHS, ...options };
  for (const path of [paths.health, paths.live, paths.ready]) {
    app.get(path, async (_req, reply) => {
      const hit = answer(options.healthmesh, path, paths)!;
      reply.code(hit.code).header('content-type', hit.type).header('cache-control', 'no-store');
      return hit.body;
    });
  }
}
// Let fastify register the routes on the parent, not in an encapsulated child.
(healthRoutes as unknown as Record<symbol, boolean>)[Symbol.for('skip-override')] = true;
