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
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import { DeadlineQueue } from './deadlines.js';
import { Attempt, AttemptState, BodyTooLargeError, classifyError, RequestBody, type AttemptOwner, type FailureKind } from './forward.js';
import { clientResponseHeaders, upstreamRequestHead } from './headers.js';
import { CODE_ERROR, codeClass, ProxyMetrics, type ServiceCells } from './metrics.js';
import { RetryBudget } from './retry-budget.js';
import { compileRoutes, type RouteMatch, type RouteTable } from './routes.js';
import type { PickedUpstream, ProxyUpstreams, UpstreamBalancer } from './upstreams.js';

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
}

/** Methods retried when the request has no body (RFC 9110 idempotent, without TRACE). */
const RETRYABLE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);
const EMPTY: ReadonlySet<string> = new Set();
/** Abort reason when the client went away. */
const CLIENT_GONE = new Error('client went away');
const TIMED_OUT = new Error('upstream timeout');

/** Retry triggers as bits, tested on the hot path without string compares. */
const ON_BITS: Record<string, number> = { 'connect-failure': 1, reset: 2, timeout: 4, '502': 8, '503': 16, '504': 32 };
function statusBit(status: number): number {
  return status === 502 ? 8 : status === 503 ? 16 : status === 504 ? 32 : 0;
}
function kindBit(kind: FailureKind): number {
  return kind === 'connect-failure' ? 1 : kind === 'reset' ? 2 : kind === 'timeout' ? 4 : 0;
}

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
    close: () => (closing ??= core.close(server)),
  };
}

/** State shared by all requests of one proxy. */
class ProxyCore {
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
    const exchange = new Exchange(this, req, res, match, method, head.headers, body, balancer, retryable, clientIp);
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
    return p;
  }

  snapshot(): ProxyStats {
    return { ...this.counts, failures: { ...this.counts.failures } };
  }

  async close(server: Server): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.deadlines.close();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
    await Promise.all([...this.pools.values()].map((p) => p.destroy().catch(() => undefined)));
    this.pools.clear();
  }
}

/** One client request and its attempts. */
class Exchange implements AttemptOwner {
  private readonly svc: ServiceCells;
  private readonly budget: RetryBudget;
  /** Instance of the first attempt; the set of tried ones is only built when a retry is considered. */
  private firstId = '';
  private tried: Set<string> | undefined = undefined;
  private attempts = 0;
  private current: Attempt | undefined = undefined;
  private clientGone = false;
  private readonly onClose = (): void => this.clientClosed();

  constructor(
    private readonly core: ProxyCore,
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    private readonly match: RouteMatch,
    private readonly method: string,
    private readonly headers: string[],
    private readonly body: RequestBody | undefined,
    private readonly balancer: UpstreamBalancer,
    private readonly retryable: boolean,
    private readonly key: string,
  ) {
    this.svc = core.metrics.service(match.service);
    this.budget = core.budget(match.service);
  }

  start(): void {
    this.res.once('close', this.onClose);
    this.budget.recordRequest();
    const picked = this.balancer.pick(this.key, EMPTY);
    if (picked === undefined) {
      this.core.counts.failures.noHealthyUpstream++;
      this.error(503, { error: 'no_healthy_upstream', service: this.match.service });
      return;
    }
    this.send(picked);
  }

  /** Send one attempt to `picked`. */
  private send(picked: PickedUpstream): void {
    const core = this.core;
    core.counts.attempts++;
    this.attempts++;
    if (this.tried !== undefined) this.tried.add(picked.id);
    else this.firstId = picked.id;
    const cells = this.svc.instance(picked.id);
    cells.start();
    const now = core.clock.now();
    const a = new Attempt(this, picked, cells, now);
    this.current = a;
    core.deadlines.add(a, now);
    core.pool(picked.address).dispatch(
      { path: this.match.path, method: this.method, headers: this.headers, body: this.body ?? null },
      a,
    );
  }

  /** Tell the balancer and the metrics how the attempt went; exactly once per attempt. */
  private settle(a: Attempt, status: number | undefined): void {
    if (a.settled) return;
    a.settled = true;
    this.core.deadlines.remove(a);
    const ms = this.core.clock.now() - a.startedAt;
    if (status === undefined) {
      a.cells.end(CODE_ERROR, ms);
      this.balancer.report(a.upstream.id, { ok: false, latencyMs: ms });
    } else {
      a.cells.end(codeClass(status), ms);
      this.balancer.report(a.upstream.id, { ok: status < 500, latencyMs: ms, status });
    }
  }

  /** The attempt ends without an outcome: the client went away. */
  private release(a: Attempt): void {
    if (a.settled) return;
    a.settled = true;
    this.core.deadlines.remove(a);
    a.cells.inFlight--;
    this.balancer.release(a.upstream.id);
  }

  /**
   * The next instance for a retry after a failure of kind `bit`, with the
   * retry counted; undefined when no retry may go out (not retryable, out of
   * attempts, no other instance, budget exhausted).
   */
  private nextForRetry(bit: number): PickedUpstream | undefined {
    const core = this.core;
    if (!this.retryable || this.clientGone || (core.retryOn & bit) === 0 || this.attempts > core.maxRetries) return undefined;
    if (!this.budget.allows()) {
      core.counts.budgetExhausted++;
      this.svc.budgetExhausted++;
      return undefined;
    }
    const tried = (this.tried ??= new Set([this.firstId]));
    const next = this.balancer.pick(this.key, tried);
    if (next === undefined) return undefined;
    if (tried.has(next.id)) {
      // Only an instance already tried is left: each retry goes to another instance.
      this.balancer.release(next.id);
      return undefined;
    }
    this.budget.tryRetry();
    core.counts.retries++;
    this.svc.retries++;
    return next;
  }

  onResponse(a: Attempt, status: number, raw: Buffer[], statusText: string): boolean {
    this.settle(a, status);
    if (status >= 500) this.core.counts.failures.status5xx++;
    const bit = statusBit(status);
    if (bit !== 0) {
      const next = this.nextForRetry(bit);
      if (next !== undefined) {
        this.send(next);
        return false;
      }
    }
    if (this.clientGone) return false;
    try {
      this.res.writeHead(status, statusText || undefined, clientResponseHeaders(raw, this.core.via));
    } catch (err) {
      // A header node:http refuses to write (invalid characters): the upstream is at fault.
      this.core.counts.failures.protocol++;
      this.core.logger.debug({ err, upstream: a.upstream.id }, 'proxy: upstream response headers not relayable');
      a.abort(err as Error);
      this.error(502, { error: 'upstream_protocol_error', service: this.match.service });
      return false;
    }
    return true;
  }

  onBody(a: Attempt, chunk: Buffer): boolean {
    if (this.res.write(chunk)) return true;
    this.res.once('drain', a.resume);
    return false;
  }

  onEnd(): void {
    this.res.end();
  }

  onBodyError(a: Attempt, err: Error): void {
    if (this.clientGone) return;
    this.core.counts.failures.midBody++;
    this.core.logger.debug({ err, upstream: a.upstream.id }, 'proxy: upstream failed mid-body');
    // Broken off, not ended: the client must see a truncated response, never a complete-looking one.
    this.res.destroy();
  }

  onFailure(a: Attempt, err: Error): void {
    if (this.clientGone || a.settled) return;
    const body = this.body;
    if (body?.exceeded === true || err instanceof BodyTooLargeError) {
      this.release(a);
      this.core.counts.failures.bodyTooLarge++;
      this.error(413, { error: 'body_too_large', limit: this.core.maxBody });
      return;
    }
    const kind = classifyError(err);
    if (kind === 'request-body') {
      // The client's body ended short of its Content-Length: not the upstream's fault.
      this.release(a);
      this.error(400, { error: 'bad_request_body' });
      return;
    }
    this.settle(a, undefined);
    this.failed(kind, err, a);
  }

  timedOut(a: Attempt): void {
    if (a.settled || a.state !== AttemptState.Pending) return;
    a.state = AttemptState.Done;
    this.settle(a, undefined);
    a.abort(TIMED_OUT);
    this.failed('timeout', TIMED_OUT, a);
  }

  /** An attempt failed before headers: retry it or answer 502/504. */
  private failed(kind: FailureKind, err: Error, a: Attempt): void {
    const f = this.core.counts.failures;
    if (kind === 'connect-failure') f.connectFailure++;
    else if (kind === 'reset') f.reset++;
    else if (kind === 'timeout') f.timeout++;
    else f.protocol++;
    this.core.logger.debug({ err, kind, upstream: a.upstream.id, service: this.match.service }, 'proxy: upstream attempt failed');
    const next = this.nextForRetry(kindBit(kind));
    if (next !== undefined) {
      this.send(next);
      return;
    }
    if (kind === 'timeout') this.error(504, { error: 'upstream_timeout', service: this.match.service });
    else this.error(502, { error: kind === 'connect-failure' ? 'upstream_connect_failure' : kind === 'reset' ? 'upstream_reset' : 'upstream_protocol_error', service: this.match.service });
  }

  private error(status: number, body: Record<string, string | number>): void {
    if (this.clientGone) return;
    sendError(this.res, this.body !== undefined && !this.req.complete, status, body);
  }

  private clientClosed(): void {
    if (this.res.writableFinished) return;
    this.clientGone = true;
    this.core.counts.failures.clientAbort++;
    const a = this.current;
    if (a !== undefined && a.state !== AttemptState.Done) {
      this.release(a);
      a.state = AttemptState.Done;
      a.abort(CLIENT_GONE);
    }
    this.body?.destroy();
  }
}

/** Longest host or path echoed in an error body, characters. */
const CLIP = 200;
function clip(s: string): string {
  return s.length > CLIP ? `${s.slice(0, CLIP)}…` : s;
}

/**
 * Answer with a JSON error. When the request body is not fully read the
 * connection is closed after the answer rather than reading (maybe 1 GB of)
 * body only to keep it alive. Headers already sent: the response is broken off.
 */
function sendError(res: ServerResponse, bodyPending: boolean, status: number, body: Record<string, string | number>): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  if (res.destroyed) return;
  const text = JSON.stringify(body);
  const headers: Record<string, string | number> = {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  };
  if (bodyPending) headers.connection = 'close';
  res.writeHead(status, headers);
  res.end(text);
}
