/**
 * The HTTP reverse proxy: routes each request (routes.ts) to a service, asks
 * the service's balancer for an instance, forwards it, streams bodies both
 * ways with backpressure, and retries idempotent body-less requests on
 * another instance within a retry budget (exchange.ts, the same for both
 * engines).
 *
 * Two engines move the bytes:
 * - `lean` (default): a raw `net` server reads request heads itself
 *   (http1/request-head.ts, strict) and sends body-less HTTP/1.1 requests over its
 *   own keep-alive upstream sockets (lean-server.ts, lean-upstream.ts): no
 *   node:http or undici on the common path. A request with a body, an
 *   Upgrade, an Expect or HTTP/1.0 hands its connection to node:http + undici
 *   for the rest of its life.
 * - `node`: node:http for clients, undici (one Pool per instance address,
 *   keep-alive, no pipelining) upstream, for everything.
 *
 * Answers of its own: 404 no route, 503 no healthy upstream, 504 upstream
 * timeout (until response headers), 502 other upstream failure, 413 body over
 * max_body_bytes, each a short JSON object `{ "error": code, ... }`.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createNetServer, Server as NetServer, type AddressInfo, type Socket } from 'node:net';
import type { Registry } from 'prom-client';
import { Pool } from 'undici';
import type { ProxyConfig } from '../config/balancer.js';
import { realClock, type Clock, type TimerHandle } from '../core/clock.js';
import { createHttpsListener, isTlsServer, loadListenerTls, reloadListenerTls } from '../security/tls.js';
import type { Logger } from '../core/logger.js';
import { requestHeadText, type RequestHeadOk } from '../http1/index.js';
import { DeadlineQueue } from './deadlines.js';
import { clip, Exchange, ON_BITS, type ClientSide, type ExchangeContext, type UpstreamTransport } from './exchange.js';
import { RequestBody, type Attempt } from './forward.js';
import { upstreamRequestHead, type RequestHead } from './headers.js';
import { acceptLean, type LeanConnection, type LeanHost } from './lean-server.js';
import { LeanUpstreams } from './lean-upstream.js';
import { NodeClient } from './node-client.js';
import { ProxyMetrics } from './metrics.js';
import { RetryBudget } from './retry-budget.js';
import { compileRoutes, type RouteMatch, type RouteTable } from './routes.js';
import type { ProxyUpstreams, UpstreamBalancer } from '../balancer/types.js';
import { answerRaw, Tunnel, type TunnelHost } from './upgrade.js';
import { WriteBatch } from './write-batch.js';

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
  /**
   * Stop accepting and drain: idle client connections close at once, requests
   * in flight get `drain_timeout` to finish (their responses carry
   * Connection: close); what is still open then is broken off. Every upstream
   * connection is closed at the end.
   */
  close(): Promise<void>;
  stats(): ProxyStats;
  /** Upstream addresses with an open connection pool; idle ones are closed by a periodic sweep. */
  upstreamPools(): string[];
  /** Read proxy.tls' files again (SIGHUP): new connections get the new pair; a bad pair keeps the old (logged). False without TLS. */
  reloadTls(): boolean;
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

/** Time from accept or the end of a response to a complete request head on a lean connection, ms (node:http's keep-alive and headers timeouts in one). */
const LEAN_HEAD_TIMEOUT_MS = 60_000;

/** Start the proxy; resolves once it listens. */
export async function startProxy(options: ProxyOptions): Promise<RunningProxy> {
  // TLS files are checked before anything listens; validity is wall time.
  const tls = options.config.tls ? loadListenerTls(options.config.tls, 'proxy.tls', realClock.now()) : undefined;
  const core = new ProxyCore(options);
  const handler = (req: IncomingMessage, res: ServerResponse): void => core.handle(req, res);
  const httpServer = tls ? createHttpsListener({ ...tls, requestTimeout: 0 }, handler) : createServer({ requestTimeout: 0 }, handler);
  httpServer.on('upgrade', (req: IncomingMessage, socket: Socket, early: Buffer) => core.upgrade(req, socket, early));
  // Bodies stream for as long as they take (a 1 GB upload is fine); slow header senders are still cut by headersTimeout.
  httpServer.requestTimeout = 0;
  httpServer.keepAliveTimeout = 60_000;
  // The lean engine reads raw sockets: with TLS the node engine serves.
  const lean = (options.engine ?? 'lean') === 'lean' && !tls;
  if (tls && (options.engine ?? 'lean') === 'lean') options.logger.warn('proxy.tls: the lean engine speaks plain HTTP only; the node engine serves HTTPS');
  const server: NetServer = lean ? createNetServer({ allowHalfOpen: true, noDelay: true, pauseOnConnect: true }, (s) => core.accept(s)) : httpServer;
  core.httpServer = httpServer;
  httpServer.on('connection', (s: Socket) => core.trackHttpSocket(s));
  const { host, port } = parseListen(options.config.listen);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  // node:http tracks its connections (closeAllConnections, headersTimeout) from 'listening'; it never listens itself in the lean engine.
  if (lean) httpServer.emit('listening');
  const addr = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    address: { host: addr.address, port: addr.port },
    stats: () => core.snapshot(),
    upstreamPools: () => core.poolAddresses(),
    close: () => (closing ??= core.close(server)),
    reloadTls: () =>
      options.config.tls && isTlsServer(httpServer) ? reloadListenerTls(httpServer, options.config.tls, 'proxy.tls', realClock, options.logger) : false,
  };
}

/** State shared by all requests of one proxy. */
class ProxyCore implements ExchangeContext, LeanHost, TunnelHost {
  readonly clock: Clock;
  readonly logger: Logger;
  readonly maxRetries: number;
  readonly retryOn: number;
  readonly maxBody: number;
  readonly via: string | undefined;
  /** What every upstream request's headers get besides the client's address. */
  private readonly forward: { proto: string; via?: string };
  readonly metrics = new ProxyMetrics((service, id) => this.upstreams.balancer(service)?.has?.(id) ?? true);
  /** Header timeouts of all attempts in flight. */
  readonly deadlines: DeadlineQueue<Attempt>;
  /** Lean connections waiting for a request head. */
  readonly headDeadlines: DeadlineQueue<LeanConnection>;
  readonly connections = new Set<LeanConnection>();
  /** Upgraded connections (WebSocket...), destroyed when the proxy closes. */
  readonly tunnels = new Set<Tunnel>();
  /** Attempt timeout (config.timeout), ms. */
  readonly timeoutMs: number;
  readonly tunnelIdleMs: number;
  /** The lean engine's small writes, sent at the end of each batch of socket events. */
  readonly writes = new WriteBatch();
  httpServer: Server | undefined;
  /** node:http's connections (node engine, and the lean engine's hand-overs) and their responses in progress, for the drain. */
  private readonly httpSockets = new Set<Socket>();
  /** Every client socket of the lean engine until it closes (handed-over and upgraded ones included): the server does not count them (see shared-read.ts). */
  private readonly leanSockets = new Set<Socket>();
  private readonly httpResponses = new Set<ServerResponse>();
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
  /** The lean engine's upstream connections. */
  private readonly lean: LeanUpstreams;
  /** Sweep generation in which each address was last sent to; pools idle for a whole sweep period are closed. */
  private readonly poolGen = new Map<string, number>();
  private gen = 0;
  private sweepTimer: TimerHandle | undefined;
  private readonly budgets = new Map<string, RetryBudget>();
  private readonly bodyIdleTimeoutMs: number;
  private readonly budgetOptions: { budgetPercent: number; minPerSecond: number; windowMs: number };
  private closed = false;
  /** Stopping: no keep-alive after the response in progress (see close). */
  draining = false;
  private readonly drainMs: number;
  /** Attempts over undici (node:http clients, and requests with bodies). */
  private readonly undiciTransport: UpstreamTransport = {
    dispatch: (address, request, attempt) => this.pool(address).dispatch(request, attempt),
  };
  /** Attempts over the lean engine's own connections (body-less requests of lean clients). */
  private readonly leanTransport: UpstreamTransport = {
    dispatch: (address, request, attempt) => {
      this.touch(address);
      this.lean.dispatch(address, request, attempt);
    },
  };

  constructor(options: ProxyOptions) {
    const { config } = options;
    this.clock = options.clock;
    this.logger = options.logger;
    this.upstreams = options.upstreams;
    this.routes = compileRoutes(config.routes);
    this.deadlines = new DeadlineQueue<Attempt>(this.clock, config.timeout, (a) => a.owner.timedOut(a));
    this.headDeadlines = new DeadlineQueue<LeanConnection>(this.clock, LEAN_HEAD_TIMEOUT_MS, (c) => c.expire());
    this.maxRetries = config.retries.attempts;
    this.retryOn = config.retries.on.reduce((bits, on) => bits | (ON_BITS[on] ?? 0), 0);
    this.maxBody = config.max_body_bytes ?? Number.POSITIVE_INFINITY;
    this.via = options.via;
    const proto = options.config.tls ? 'https' : 'http';
    this.forward = options.via === undefined ? { proto } : { proto, via: options.via };
    this.bodyIdleTimeoutMs = options.bodyIdleTimeoutMs ?? 300_000;
    this.drainMs = config.drain_timeout;
    this.timeoutMs = config.timeout;
    this.tunnelIdleMs = config.tunnel_idle_timeout;
    this.lean = new LeanUpstreams({ bodyIdleTimeoutMs: this.bodyIdleTimeoutMs, now: () => this.clock.now(), writes: this.writes });
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
    for (const address of this.poolAddresses()) {
      if ((this.poolGen.get(address) ?? -1) >= this.gen) continue;
      const pool = this.pools.get(address);
      if (pool !== undefined && (pool.stats.running > 0 || pool.stats.pending > 0)) continue;
      if (this.lean.busy(address)) continue;
      if (pool !== undefined) {
        this.pools.delete(address);
        pool.close().catch(() => undefined);
      }
      this.lean.closePool(address);
      this.poolGen.delete(address);
    }
    this.lean.prune();
    this.gen++;
    this.sweepTimer = this.clock.setTimeout(this.sweepPools, POOL_SWEEP_MS);
  };

  /** Upstream addresses with an open pool (tests, stats). */
  poolAddresses(): string[] {
    const all = new Set(this.pools.keys());
    for (const a of this.lean.addresses()) all.add(a);
    return [...all];
  }

  private touch(address: string): void {
    if (this.poolGen.get(address) !== this.gen) this.poolGen.set(address, this.gen);
  }

  /** A new client connection of the lean engine. */
  accept(socket: Socket): void {
    if (this.closed) {
      socket.destroy();
      return;
    }
    const s = acceptLean(socket, this);
    if (s !== undefined) holdUntilClose(this.leanSockets, s);
  }

  handOver(socket: Socket): void {
    this.httpServer!.emit('connection', socket);
  }

  serveLean(conn: LeanConnection, head: RequestHeadOk): void {
    this.route(conn, head.raw, conn.remoteAddress(), head.target, head.method, false, undefined, this.leanTransport);
  }

  handle(req: IncomingMessage, res: ServerResponse): void {
    // We relay the upstream's Date; node:http would add a second one.
    res.sendDate = false;
    const raw = req.rawHeaders;
    const contentLength = headerValue(raw, 'content-length');
    const hasBody = (contentLength !== undefined && Number(contentLength) > 0) || headerValue(raw, 'transfer-encoding') !== undefined;
    holdUntilClose(this.httpResponses, res);
    const client = new NodeClient(req, res, hasBody, this);
    this.route(client, raw, req.socket.remoteAddress ?? '', req.url ?? '/', req.method ?? 'GET', hasBody, req, this.undiciTransport);
  }

  trackHttpSocket(s: Socket): void {
    holdUntilClose(this.httpSockets, s);
  }

  /** A request with Upgrade (node:http's 'upgrade' event, both engines): route it, pick one instance, open a Tunnel. */
  upgrade(req: IncomingMessage, socket: Socket, early: Buffer): void {
    if (this.closed || this.draining) {
      this.counts.requests++;
      // A tunnel opened now would be cut at the end of the drain: the client had better reconnect to another proxy.
      if (this.closed) socket.destroy();
      else answerRaw(socket, 503, { error: 'proxy_draining' });
      return;
    }
    const raw = req.rawHeaders;
    const routed = this.resolve(raw, socket.remoteAddress ?? '', req.url ?? '/', (status, body) => answerRaw(socket, status, body));
    if (routed === undefined) return;
    const { head, match, balancer, key } = routed;
    const picked = balancer.pick(key);
    if (picked === undefined) {
      this.counts.failures.noHealthyUpstream++;
      answerRaw(socket, 503, { error: 'no_healthy_upstream', service: match.service });
      return;
    }
    this.counts.attempts++;
    // Upgrade and Connection are hop-by-hop (dropped from head.headers); the upstream must see the client's request for them.
    const text = requestHeadText(req.method ?? 'GET', match.path, [...head.headers, 'connection', 'upgrade', 'upgrade', headerValue(raw, 'upgrade') ?? '']);
    new Tunnel(this, socket, balancer, picked, this.metrics.service(match.service).instance(picked.id), text, early, req.method === 'HEAD');
  }

  /**
   * Route a request (both engines, upgrades too): its upstream head, route,
   * balancer and hash key; undefined once `answer` was given the proxy's own
   * error (bad target 400, no route 404, body over max_body_bytes 413, no
   * balancer 503).
   */
  private resolve(
    raw: readonly string[],
    clientIp: string,
    target: string,
    answer: (status: number, body: Record<string, string | number>) => void,
  ): { head: RequestHead; match: RouteMatch; balancer: UpstreamBalancer; key: string } | undefined {
    this.counts.requests++;
    const head = upstreamRequestHead(raw, clientIp, this.forward);
    if (target.charCodeAt(0) !== 47) {
      // Absolute-form (`GET http://h/p`) and asterisk-form targets are for forward proxies; a reverse proxy refuses them
      // rather than forward a path the upstream client would reject (and blame the upstream for it).
      answer(400, { error: 'bad_request_target', path: clip(target) });
      return undefined;
    }
    const match = this.routes.match(head.host, target);
    if (match === undefined) {
      this.counts.failures.noRoute++;
      this.metrics.unrouted++;
      answer(404, { error: 'no_route', host: clip(head.host ?? ''), path: clip(target) });
      return undefined;
    }
    if (head.contentLength > this.maxBody) {
      this.counts.failures.bodyTooLarge++;
      answer(413, { error: 'body_too_large', limit: this.maxBody });
      return undefined;
    }
    const balancer = this.upstreams.balancer(match.service);
    if (balancer === undefined) {
      this.counts.failures.noHealthyUpstream++;
      answer(503, { error: 'no_healthy_upstream', service: match.service });
      return undefined;
    }
    const hashed = balancer.hashHeader === undefined ? undefined : headerValue(raw, balancer.hashHeader);
    return { head, match, balancer, key: hashed ?? clientIp };
  }

  /** One request, whichever engine read it: route, checks, then an Exchange. */
  private route(
    client: ClientSide,
    raw: readonly string[],
    clientIp: string,
    target: string,
    method: string,
    hasBody: boolean,
    req: IncomingMessage | undefined,
    transport: UpstreamTransport,
  ): void {
    const routed = this.resolve(raw, clientIp, target, (status, body) => client.answer(status, body));
    if (routed === undefined) return;
    const { head, match, balancer, key } = routed;
    let body: RequestBody | undefined;
    if (hasBody && req !== undefined) {
      body = new RequestBody(this.maxBody);
      req.pipe(body);
    }
    const retryable = !hasBody && RETRYABLE_METHODS.has(method);
    const exchange = new Exchange(this, client, transport, match, method, head.headers, body, balancer, retryable, key);
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
    this.touch(address);
    return p;
  }

  snapshot(): ProxyStats {
    return { ...this.counts, failures: { ...this.counts.failures } };
  }

  /**
   * node:http connections with no response in progress close once what they
   * were sent is written. Not closeIdleConnections(): it destroys a connection
   * whose response has ended while its bytes are still on their way to a slow
   * client.
   */
  private closeIdleHttp(): void {
    const busy = new Set<Socket>();
    for (const res of this.httpResponses) if (res.socket) busy.add(res.socket);
    for (const s of this.httpSockets) if (!busy.has(s) && !s.writableEnded) s.end(() => s.destroy());
  }

  /** Let requests in flight finish, for at most drainMs; resolves early once `closed` (every connection gone) does. */
  private async drain(closed: Promise<void>): Promise<void> {
    this.draining = true;
    for (const c of [...this.connections]) c.drain();
    this.closeIdleHttp();
    let sweep: TimerHandle | undefined;
    let grace: TimerHandle | undefined;
    const sweepIdle = (): void => {
      this.closeIdleHttp();
      sweep = this.clock.setTimeout(sweepIdle, DRAIN_SWEEP_MS);
    };
    sweep = this.clock.setTimeout(sweepIdle, DRAIN_SWEEP_MS);
    const over = new Promise<void>((resolve) => (grace = this.clock.setTimeout(resolve, this.drainMs)));
    await Promise.race([closed, over]);
    this.clock.clearTimeout(sweep);
    if (grace !== undefined) this.clock.clearTimeout(grace);
  }

  async close(server: NetServer): Promise<void> {
    if (this.closed) return;
    this.writes.flushAll(); // responses completed in this turn leave before anything closes
    // Stop listening: the net.Server close, not node:http's, which would first run closeIdleConnections() (see
    // closeIdleHttp). It resolves once the connections the server counts are gone (the node engine's); the lean
    // engine's (handed-over and upgraded ones included) are not counted there and are waited for by leanSockets.
    const stopped = new Promise<void>((resolve) => NetServer.prototype.close.call(server, () => resolve()));
    const closed = stopped.then(() => allClosed(this.leanSockets)); // none is added once stopped
    const http = this.httpServer!;
    if (this.drainMs > 0) await this.drain(closed);
    this.closed = true;
    this.deadlines.close();
    this.headDeadlines.close();
    if (this.sweepTimer !== undefined) this.clock.clearTimeout(this.sweepTimer);
    for (const c of [...this.connections]) c.destroy();
    for (const t of [...this.tunnels]) t.destroy(); // node:http no longer tracks upgraded sockets
    // node:http's own close now: it stops its connection tracking ("not running" is expected: the listener is closed).
    http.close(() => undefined);
    http.closeAllConnections();
    await closed;
    this.lean.close();
    await Promise.all([...this.pools.values()].map((p) => p.destroy().catch(() => undefined)));
    this.pools.clear();
  }
}

/** `x` is in `set` until its 'close'. */
function holdUntilClose<T extends Socket | ServerResponse>(set: Set<T>, x: T): void {
  set.add(x);
  x.once('close', () => set.delete(x));
}

/** Resolves once every socket in `sockets` has closed. */
async function allClosed(sockets: ReadonlySet<Socket>): Promise<void> {
  await Promise.all([...sockets].map((s) => (s.closed ? undefined : new Promise((resolve) => s.once('close', resolve)))));
}

/** How often node:http's idle connections are closed while draining (a response that ended before the drain leaves its connection idle), ms. */
const DRAIN_SWEEP_MS = 50;

/** First value of header `lower` (a lower-case name) in a flat raw list; undefined when absent. */
function headerValue(raw: readonly string[], lower: string): string | undefined {
  const n = lower.length;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length === n && name.toLowerCase() === lower) return raw[i + 1];
  }
  return undefined;
}
