/**
 * One client request through the proxy: its attempts (pick, dispatch,
 * report or release, each exactly once), retries within the budget, the
 * response relayed with backpressure, and the proxy's own error answers.
 */
import { STATUS_CODES, type ServerResponse } from 'node:http';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { DeadlineQueue } from './deadlines.js';
import { Attempt, AttemptState, BodyTooLargeError, classifyError, type AttemptOwner, type FailureKind, type RequestBody } from './forward.js';
import { clientResponseHeaders } from './headers.js';
import { CODE_ERROR, codeClass, type InstanceCells, type ProxyMetrics, type ServiceCells } from './metrics.js';
import type { ProxyStats } from './proxy.js';
import type { RetryBudget } from './retry-budget.js';
import type { RouteMatch } from './routes.js';
import type { PickedUpstream, UpstreamBalancer } from '../balancer/types.js';

/** What an exchange uses of the proxy it runs in (proxy.ts' ProxyCore). */
export interface ExchangeContext {
  readonly clock: Clock;
  readonly logger: Logger;
  readonly counts: ProxyStats;
  readonly metrics: ProxyMetrics;
  readonly deadlines: DeadlineQueue<Attempt>;
  /** Extra attempts allowed (retries.attempts). */
  readonly maxRetries: number;
  /** retries.on as bits (see ON_BITS). */
  readonly retryOn: number;
  /** max_body_bytes, or Infinity. */
  readonly maxBody: number;
  readonly via: string | undefined;
  budget(service: string): RetryBudget;
}

/**
 * The client's side of an exchange, whichever engine reads the client:
 * node:http's ServerResponse (node-client.ts) or the lean engine's own
 * connection (lean-server.ts).
 */
export interface ClientSide {
  /** `fn` runs when the client connection closes (at most once). */
  onClose(fn: () => void): void;
  /** The whole response was handed to the connection (a close after this is no abort). */
  finished(): boolean;
  /** Send the status line and `headers` (flat, hop-by-hop already removed); throws when they cannot go on the wire. */
  writeHead(status: number, statusText: string, headers: string[]): void;
  /**
   * A body chunk; false when the client is slow (wait for onceDrain). From
   * the lean engine's upstream side it is a view of a reused read buffer:
   * copy it before holding on to it (a socket write may).
   */
  write(chunk: Buffer): boolean;
  onceDrain(fn: () => void): void;
  /** The body is complete. */
  end(): void;
  /** Send what is held back (the lean engine keeps a head to send it with the first body bytes in one write). */
  flush(): void;
  /** Break the response off (the client sees a truncated response, never a complete-looking one). */
  destroy(): void;
  /** Answer with one of the proxy's own JSON errors; breaks the response off when its head was already sent. */
  answer(status: number, body: Record<string, string | number>): void;
}

/** What goes upstream, the same for every attempt of an exchange. */
export interface UpstreamRequest {
  /** Target after strip_prefix. */
  path: string;
  method: string;
  /** Flat headers (see headers.ts' upstreamRequestHead). */
  headers: string[];
  body: RequestBody | null;
}

/** Sends one attempt to an address: undici's Pool.dispatch, or the lean engine's own pools. */
export interface UpstreamTransport {
  dispatch(address: string, request: UpstreamRequest, attempt: Attempt): void;
}

/** `exclude` of first attempts: nothing tried yet (shared, never written). */
const EMPTY: ReadonlySet<string> = new Set();
/** Abort reason when the client went away. */
const CLIENT_GONE = new Error('client went away');
/** Abort reason when response headers did not come within the timeout. */
const TIMED_OUT = new Error('upstream timeout');

/** Retry triggers as bits, tested on the hot path without string compares. */
export const ON_BITS: Record<string, number> = { 'connect-failure': 1, reset: 2, timeout: 4, '502': 8, '503': 16, '504': 32 };
function statusBit(status: number): number {
  return status === 502 ? 8 : status === 503 ? 16 : status === 504 ? 32 : 0;
}
function kindBit(kind: FailureKind): number {
  return kind === 'connect-failure' ? 1 : kind === 'reset' ? 2 : kind === 'timeout' ? 4 : 0;
}

/** One client request and its attempts. */
export class Exchange implements AttemptOwner {
  private readonly svc: ServiceCells;
  private readonly budget: RetryBudget;
  /** Instance of the first attempt; the set of tried ones is only built when a retry is considered. */
  private firstId = '';
  private tried: Set<string> | undefined = undefined;
  private attempts = 0;
  private current: Attempt | undefined = undefined;
  private clientGone = false;
  private readonly request: UpstreamRequest;
  private readonly body: RequestBody | undefined;

  constructor(
    private readonly core: ExchangeContext,
    private readonly client: ClientSide,
    private readonly transport: UpstreamTransport,
    private readonly match: RouteMatch,
    method: string,
    headers: string[],
    body: RequestBody | undefined,
    private readonly balancer: UpstreamBalancer,
    private readonly retryable: boolean,
    private readonly key: string,
  ) {
    this.svc = core.metrics.service(match.service);
    this.budget = core.budget(match.service);
    this.body = body;
    this.request = { path: match.path, method, headers, body: body ?? null };
  }

  start(): void {
    this.client.onClose(() => this.clientClosed());
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
    this.transport.dispatch(picked.address, this.request, a);
  }

  /** Tell the balancer and the metrics how the attempt went; exactly once per attempt. */
  private settle(a: Attempt, status: number | undefined): void {
    if (a.settled) return;
    a.settled = true;
    this.core.deadlines.remove(a);
    reportOutcome(this.balancer, a.upstream.id, a.cells, status, this.core.clock.now() - a.startedAt);
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
    this.tried ??= new Set([this.firstId]);
    const tried = this.tried;
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

  onResponse(a: Attempt, status: number, raw: readonly (Buffer | string)[], statusText: string): boolean {
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
      this.client.writeHead(status, statusText, clientResponseHeaders(raw, this.core.via));
    } catch (err) {
      // A header the client side refuses to write (invalid characters): the upstream is at fault.
      this.core.counts.failures.protocol++;
      this.core.logger.debug({ err, upstream: a.upstream.id }, 'proxy: upstream response headers not relayable');
      a.abort(err as Error);
      this.error(502, { error: 'upstream_protocol_error', service: this.match.service });
      return false;
    }
    return true;
  }

  onBody(a: Attempt, chunk: Buffer): boolean {
    if (this.client.write(chunk)) return true;
    this.client.onceDrain(a.resume);
    return false;
  }

  onEnd(): void {
    this.client.end();
  }

  onReadEnd(): void {
    this.client.flush();
  }

  onBodyError(a: Attempt, err: Error): void {
    if (this.clientGone) return;
    this.core.counts.failures.midBody++;
    this.core.logger.debug({ err, upstream: a.upstream.id }, 'proxy: upstream failed mid-body');
    // Broken off, not ended: the client must see a truncated response, never a complete-looking one.
    this.client.destroy();
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
    countFailure(this.core.counts, kind);
    this.core.logger.debug({ err, kind, upstream: a.upstream.id, service: this.match.service }, 'proxy: upstream attempt failed');
    const next = this.nextForRetry(kindBit(kind));
    if (next !== undefined) {
      this.send(next);
      return;
    }
    const answer = failureAnswer(kind);
    this.error(answer.status, { error: answer.error, service: this.match.service });
  }

  private error(status: number, body: Record<string, string | number>): void {
    if (this.clientGone) return;
    this.client.answer(status, body);
  }

  private clientClosed(): void {
    if (this.client.finished()) return;
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

/** Tell the balancer and the metrics how an attempt to `id` ended after `ms` (status undefined: a transport failure). */
export function reportOutcome(balancer: UpstreamBalancer, id: string, cells: InstanceCells, status: number | undefined, ms: number): void {
  if (status === undefined) {
    cells.end(CODE_ERROR, ms);
    balancer.report(id, { ok: false, latencyMs: ms });
  } else {
    cells.end(codeClass(status), ms);
    balancer.report(id, { ok: status < 500, latencyMs: ms, status });
  }
}

/** Count an attempt that failed before response headers. */
export function countFailure(counts: ProxyStats, kind: FailureKind): void {
  const f = counts.failures;
  if (kind === 'connect-failure') f.connectFailure++;
  else if (kind === 'reset') f.reset++;
  else if (kind === 'timeout') f.timeout++;
  else f.protocol++;
}

/** The proxy's own answer when the last attempt failed before headers. */
export function failureAnswer(kind: FailureKind): { status: number; error: string } {
  if (kind === 'timeout') return { status: 504, error: 'upstream_timeout' };
  return { status: 502, error: kind === 'connect-failure' ? 'upstream_connect_failure' : kind === 'reset' ? 'upstream_reset' : 'upstream_protocol_error' };
}

/** One of the proxy's JSON errors as raw HTTP/1.1 bytes, for sockets node:http does not write (UTF-8: the echoed host or path may hold any character). */
export function rawErrorResponse(status: number, body: Record<string, string | number>, close: boolean): string {
  const text = JSON.stringify(body);
  return `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(text)}\r\n${close ? 'connection: close\r\n' : ''}\r\n${text}`;
}

/** Longest host or path echoed in an error body, characters. */
const CLIP = 200;
export function clip(s: string): string {
  return s.length > CLIP ? `${s.slice(0, CLIP)}…` : s;
}

/**
 * Answer with a JSON error. When the request body is not fully read the
 * connection is closed after the answer rather than reading (maybe 1 GB of)
 * body only to keep it alive. Headers already sent: the response is broken off.
 */
export function sendError(res: ServerResponse, bodyPending: boolean, status: number, body: Record<string, string | number>): void {
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
