/**
 * The HTTP reverse proxy: a node:http server that routes each request
 * (routes.ts) to a service, asks the service's balancer for an instance,
 * forwards with undici (one Pool per instance address, keep-alive, no
 * pipelining), streams bodies both ways with backpressure, and retries
 * idempotent body-less requests on another instance within a retry budget.
 *
 * Answers of its own: 404 no route, 503 no healthy upstream, 504 upstream
 * timeout (until response headers), 502 other upstream failure, 413 body over
 * max_body_bytes, each a short JSON object `{ "error": code, ... }`.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { Pool } from 'undici';
import type { ProxyConfig } from '../config/balancer.js';
import type { Clock, TimerHandle } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import { DeadlineQueue } from './deadlines.js';
import { clip, Exchange, ON_BITS, sendError, type ExchangeContext } from './exchange.js';
import { RequestBody, type Attempt } from './forward.js';
import { upstreamRequestHead } from './headers.js';
import { ProxyMetrics } from './metrics.js';
import { RetryBudget } from './retry-budget.js';
import { compileRoutes, type RouteTable } from './routes.js';
import type { ProxyUpstreams } from './upstreams.js';

/**
 * Which HTTP/1.1 machinery serves clients: `lean` reads request heads off raw
 * sockets and forwards body-less requests over its own upstream connections
 * (node:http and undici take the rest: bodies, upgrades, 100-continue,
 * HTTP/1.0); `node` is node:http + undici for everything.
 */
export type ProxyEngine = 'lean' | 'node';

/** Inputs of {@link startProxy}. */
export interface ProxyOptions {
  config: ProxyConfig;
  upstreams: ProxyUpstreams;
  clock: Clock;
  logger: Logger;
  /** A private registry for the proxy's families (never prom-client's global one); none: no metrics registered. */
  registry?: Registry;
  /** `Via` value to add both ways (e.g. `1.1 healthmesh`); default none. */
  via?: string;
  /** Longest silence between two upstream response body chunks, ms; default 300 000 (undici's). */
  bodyIdleTimeoutMs?: number;
  /** Retry budget sliding window, ms; default 10 000. */
  retryBudgetWindowMs?: number;
  /** Default `lean`. */
  engine?: ProxyEngine;
}

/** Plain counts since start, for tests and the bench. */
export interface ProxyStats {
  /** Client requests received. */
  requests: number;
  /** Upstream attempts sent (first tries and retries). */
  attempts: number;
  /** Retries sent. */
  retries: number;
  /** Retries the budget refused. */
  budgetExhausted: number;
  /** Failures by kind. Attempt failures count each attempt; the others count requests. */
  failures: {
    noRoute: number;
    noHealthyUpstream: number;
    connectFailure: number;
    reset: number;
    timeout: number;
    protocol: number;
    /** 5xx responses from upstreams (retried or relayed). */
    status5xx: number;
    /** The upstream failed after response headers were relayed; the client response was broken off. */
    midBody: number;
    bodyTooLarge: number;
    /** The client went away before its response was complete. */
    clientAbort: number;
  };
}

/** A running proxy. */
export interface RunningProxy {
  /** Where it listens (port resolved when the config said 0). */
  address: { host: string; port: number };
  /** Stop accepting, break off requests in flight, close every upstream connection. */
  close(): Promise<void>;
  stats(): ProxyStats;
  /** Upstream addresses with an open connection pool; idle ones are closed by a periodic sweep. */
  upstreamPools(): string[];
}

/** Period of the idle-pool sweep, ms: a pool unused for one to two periods is closed. */
const POOL_SWEEP_MS = 60_000;

/** Methods retried when the request has no body (RFC 9110 idempotent, without TRACE). */
const RETRYABLE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);

/** Split `host:port` / `[v6]:port`; a bare host listens on port 80. */
function parseListen(listen: string): { host: string; port: number } {
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(listen) ?? /^([^:]+)(?::(\d+))?$/.exec(listen);
  if (!m) throw new Error(`proxy.listen: "${listen}" is not host:port`);
  return { host: m[1]!, port: m[2] === undefined ? 80 : Number(m[2]) };
}

/** Start the proxy; resolves once it listens. */
export async function startProxy(options: ProxyOptions): Promise<RunningProxy> {
  const core = new ProxyCore(options);
  const server = createServer({ requestTimeout: 0 }, (req, res) => core.handle(req, res));
  // Bodies stream for as long as they take (a 1 GB upload is fine); slow header senders are still cut by headersTimeout.
  server.requestTimeout = 0;
  server.keepAliveTimeout = 60_000;
  const { host, port } = parseListen(options.config.listen);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    address: { host: addr.address, port: addr.port },
    stats: () => core.snapshot(),
    upstreamPools: () => core.poolAddresses(),
    close: () => (closing ??= core.close(server)),
  };
}

/** State shared by all requests of one proxy. */
class ProxyCore implements ExchangeContext {
  readonly clock: Clock;
  readonly logger: Logger;
  readonly maxRetries: number;
  readonly retryOn: number;
  readonly maxBody: number;
  readonly via: string | undefined;
  /** What every upstream request's headers get besides the client's address. */
  private readonly forward: { proto: string; via?: string };
  readonly metrics = new ProxyMetrics();
  /** Header timeouts of all attempts in flight. */
  readonly deadlines: DeadlineQueue<Attempt>;
  readonly counts: ProxyStats = {
    requests: 0,
    attempts: 0,
    retries: 0,
    budgetExhausted: 0,
    failures: {
      noRoute: 0,
      noHealthyUpstream: 0,
      connectFailure: 0,
      reset: 0,
      timeout: 0,
      protocol: 0,
      status5xx: 0,
      midBody: 0,
      bodyTooLarge: 0,
      clientAbort: 0,
    },
  };
  private readonly routes: RouteTable;
  private readonly upstreams: ProxyUpstreams;
  private readonly pools = new Map<string, Pool>();
  /** Sweep generation in which each pool was last used; pools idle for a whole sweep period are closed. */
  private readonly poolGen = new Map<string, number>();
  private gen = 0;
  private sweepTimer: TimerHandle | undefined;
  private readonly budgets = new Map<string, RetryBudget>();
  private readonly bodyIdleTimeoutMs: number;
  private readonly budgetOptions: { budgetPercent: number; minPerSecond: number; windowMs: number };
  private closed = false;

  constructor(options: ProxyOptions) {
    const { config } = options;
    this.clock = options.clock;
    this.logger = options.logger;
    this.upstreams = options.upstreams;
    this.routes = compileRoutes(config.routes);
    this.deadlines = new DeadlineQueue<Attempt>(this.clock, config.timeout, (a) => a.owner.timedOut(a));
    this.maxRetries = config.retries.attempts;
    this.retryOn = config.retries.on.reduce((bits, on) => bits | (ON_BITS[on] ?? 0), 0);
    this.maxBody = config.max_body_bytes ?? Number.POSITIVE_INFINITY;
    this.via = options.via;
    this.forward = options.via === undefined ? { proto: 'http' } : { proto: 'http', via: options.via };
    this.bodyIdleTimeoutMs = options.bodyIdleTimeoutMs ?? 300_000;
    this.budgetOptions = {
      budgetPercent: config.retries.budget_percent,
      minPerSecond: config.retries.min_per_second,
      windowMs: options.retryBudgetWindowMs ?? 10_000,
    };
    if (options.registry) this.metrics.register(options.registry);
    this.sweepTimer = this.clock.setTimeout(this.sweepPools, POOL_SWEEP_MS);
  }

  /**
   * Close the pools of addresses nobody sent to for a whole period (an
   * instance that left its service, an address that changed), so their
   * connections do not stay open for ever.
   */
  private readonly sweepPools = (): void => {
    if (this.closed) return;
    for (const [address, pool] of this.pools) {
      const stats = pool.stats;
      if ((this.poolGen.get(address) ?? -1) < this.gen && stats.running === 0 && stats.pending === 0) {
        this.pools.delete(address);
        this.poolGen.delete(address);
        pool.close().catch(() => undefined);
      }
    }
    this.gen++;
    this.sweepTimer = this.clock.setTimeout(this.sweepPools, POOL_SWEEP_MS);
  };

  /** Upstream addresses with an open pool (tests, stats). */
  poolAddresses(): string[] {
    return [...this.pools.keys()];
  }

  handle(req: IncomingMessage, res: ServerResponse): void {
    this.counts.requests++;
    // We relay the upstream's Date; node:http would add a second one.
    res.sendDate = false;
    const clientIp = req.socket.remoteAddress ?? '';
    const head = upstreamRequestHead(req.rawHeaders, clientIp, this.forward);
    const target = req.url ?? '/';
    const hasBody = head.contentLength > 0 || head.chunked;
    if (target.charCodeAt(0) !== 47) {
      // Absolute-form (`GET http://h/p`) and asterisk-form targets are for forward proxies; a reverse proxy refuses them
      // rather than forward a path the upstream client would reject (and blame the upstream for it).
      sendError(res, hasBody, 400, { error: 'bad_request_target', path: clip(target) });
      return;
    }
    const match = this.routes.match(head.host, target);
    if (match === undefined) {
      this.counts.failures.noRoute++;
      this.metrics.unrouted++;
      sendError(res, hasBody, 404, { error: 'no_route', host: clip(head.host ?? ''), path: clip(target) });
      return;
    }
    if (head.contentLength > this.maxBody) {
      this.counts.failures.bodyTooLarge++;
      sendError(res, true, 413, { error: 'body_too_large', limit: this.maxBody });
      return;
    }
    const balancer = this.upstreams.balancer(match.service);
    if (balancer === undefined) {
      this.counts.failures.noHealthyUpstream++;
      sendError(res, hasBody, 503, { error: 'no_healthy_upstream', service: match.service });
      return;
    }
    const method = req.method ?? 'GET';
    let body: RequestBody | undefined;
    if (hasBody) {
      body = new RequestBody(this.maxBody);
      req.pipe(body);
    }
    const retryable = !hasBody && RETRYABLE_METHODS.has(method);
    const hashed = balancer.hashHeader === undefined ? undefined : req.headers[balancer.hashHeader];
    const key = typeof hashed === 'string' ? hashed : clientIp;
    const exchange = new Exchange(this, req, res, match, method, head.headers, body, balancer, retryable, key);
    exchange.start();
  }

  budget(service: string): RetryBudget {
    let b = this.budgets.get(service);
    if (b === undefined) {
      b = new RetryBudget({ clock: this.clock, ...this.budgetOptions });
      this.budgets.set(service, b);
    }
    return b;
  }

  pool(address: string): Pool {
    let p = this.pools.get(address);
    if (p === undefined) {
      p = new Pool(`http://${address}`, {
        pipelining: 1,
        connections: null,
        // The attempt timeout (config.timeout, until headers) is the proxy's own timer, which also covers connecting and queueing.
        headersTimeout: 0,
        bodyTimeout: this.bodyIdleTimeoutMs,
      });
      this.pools.set(address, p);
    }
    if (this.poolGen.get(address) !== this.gen) this.poolGen.set(address, this.gen);
    return p;
  }

  snapshot(): ProxyStats {
    return { ...this.counts, failures: { ...this.counts.failures } };
  }

  async close(server: Server): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.deadlines.close();
    if (this.sweepTimer !== undefined) this.clock.clearTimeout(this.sweepTimer);
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
    await Promise.all([...this.pools.values()].map((p) => p.destroy().catch(() => undefined)));
    this.pools.clear();
  }
}
