import type { Socket } from 'node:net';
import { buildConnector, Client } from 'undici';
import type { Dispatcher } from 'undici';
import type { CheckFactory, CheckRunner, CheckSpec, RunContext } from '../core/check.js';
import { outcome, type ProbeOutcome, type Reason } from '../core/result.js';
import type { HttpCheckConfig } from '../config/schema.js';
import { describeError, reasonFromError } from './errors.js';
import { compileHttp1Target, Http1Exchange, validateHeader, type Http1Target, type ResponseSink } from '../http1/index.js';
import { compileJsonPath, getJsonPath, MISSING, type JsonPath } from './jsonpath.js';
import { armDelayMs, formatMs, LazyAbortProbe } from './probe-support.js';

/**
 * HTTP(S) check, on two clients:
 *
 * - plain `http:` with `reuse_connections: false` and `follow_redirects: 0`
 *   (a new connection per probe, like blackbox_exporter) goes through the
 *   lean HTTP/1.1 client of http1/client.ts: the request bytes are encoded once per
 *   check, a probe is net.connect, one write and an incremental parser. On
 *   that path undici's connection machinery and its `reset` handling cost
 *   more CPU than everything else together: bench/probes, http-new against
 *   http-new-undici alternating in one run, 0.135 against 0.239 ms CPU per
 *   probe (medians of 7; 0.42–0.66× per round). It stays while it is at
 *   least 25 % cheaper (README, Measured choices).
 * - everything else (https, kept-alive connections, redirects, which may
 *   cross origins and schemes) goes through undici.
 *
 * Both share one judging code (ProbeBase): status table, body conditions on
 * at most max_body_bytes, degraded_after, timeout handling and messages.
 *
 * This is the product's hot path, so everything that does not depend on the
 * response is computed once in the factory (URL, origin, path, header list,
 * status table, compiled regex and JSON paths, dispatch options or request
 * bytes), and a run allocates one small probe object that is at once the
 * client's handler and the AbortSignal listener (`handleEvent`). The
 * response body is never buffered beyond `max_body_bytes`: past that the
 * request is aborted, which destroys the connection.
 *
 * The run's signal is read lazily (see armDelayMs): the scheduler creates an
 * AbortController only when a runner reads ctx.signal, and creating it plus
 * adding and removing the listener cost more CPU than the rest of our own
 * per-probe work; most probes are done long before anyone could abort them.
 */

const USER_AGENT = 'healthmesh/0.1';
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/** Abort reason used when the body cap is reached (never surfaces in a result). */
const BODY_CAP_REACHED = new Error('max_body_bytes reached');
/** Abort reason used at the attempt timeout. */
const TIMED_OUT = new Error('check timeout');
/** Error a pending connect is destroyed with at the timeout or at close(). */
const CONNECT_ABORTED = Object.assign(new Error('connect aborted by healthmesh'), { code: 'ABORT_ERR' });

interface JsonCondition {
  path: string;
  steps: JsonPath;
  equals: string | number | boolean | null;
}

interface BodyConditions {
  contains: string | undefined;
  notContains: string | undefined;
  regex: RegExp | undefined;
  json: JsonCondition[];
}

/** Everything one check needs per run, computed once from its spec. */
interface HttpPlan {
  url: URL;
  origin: string;
  /** Socket options for undici's connector (TLS verification, SNI, connect timeout). */
  connectOptions: buildConnector.BuildOptions;
  /** Client options without `connect`: each runner adds its own tracking connector. */
  clientOptions: Client.Options;
  request: Dispatcher.DispatchOptions;
  headers: string[];
  method: Dispatcher.HttpMethod;
  body: Buffer | null;
  reuse: boolean;
  /** statusOk[code] === 1 when the code is accepted. */
  statusOk: Uint8Array;
  expectText: string;
  conditions: BodyConditions | null;
  maxBodyBytes: number;
  degradedAfterMs: number | undefined;
  followRedirects: number;
  /** When a still-running probe starts listening to ctx.signal (ms after its start). */
  armDelayMs: number;
  /** Set when the lean HTTP/1.1 client serves this check (see the top of this file). */
  lean: Http1Target | null;
}

/**
 * Builds an HTTP(S) runner: on the lean client for plain http without reuse
 * or redirects, else with one undici Client per check, created here and
 * closed in close(). Throws for a config it cannot run (bad URL, regex or
 * JSON path).
 */
export const httpCheck: CheckFactory<HttpCheckConfig> = (spec) => {
  const plan = compilePlan(spec);
  return plan.lean !== null ? new LeanHttpRunner(plan, plan.lean) : new HttpCheckRunner(plan);
};

function compilePlan(spec: CheckSpec<HttpCheckConfig>): HttpPlan {
  const c = spec.config;
  const url = new URL(c.url ?? `${c.scheme}://${spec.address}${c.path}`);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Error(`unsupported scheme ${url.protocol} (use http or https)`);
  }
  const timeoutMs = spec.timeoutMs;

  const headers: string[] = [];
  let hasUserAgent = false;
  let hasAuthorization = false;
  for (const [name, value] of Object.entries(c.headers)) {
    const lower = name.toLowerCase();
    if (lower === 'user-agent') hasUserAgent = true;
    if (lower === 'authorization') hasAuthorization = true;
    // Here, not at each run: a header that cannot go on the wire makes the check invalid.
    validateHeader(name, value);
    headers.push(name, value);
  }
  if (!hasUserAgent) headers.push('user-agent', USER_AGENT);
  if (!hasAuthorization && (url.username !== '' || url.password !== '')) {
    const user = decodeURIComponent(url.username);
    const pass = decodeURIComponent(url.password);
    headers.push('authorization', `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`);
  }

  const body = c.body !== undefined && c.body !== '' ? Buffer.from(c.body) : null;
  const reuse = c.reuse_connections;
  const path = url.pathname + url.search;

  const connect: buildConnector.BuildOptions = { rejectUnauthorized: c.tls_verify, timeout: timeoutMs };
  if (c.tls_server_name !== undefined) connect.servername = c.tls_server_name;

  return {
    url,
    origin: url.origin,
    connectOptions: connect,
    clientOptions: {
      // Backstops only: the AbortSignal ends a run at its timeout.
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      pipelining: 1,
    },
    // Reused for every run: undici reads these options and does not keep or change them.
    request: requestOptions(path, c.method, headers, body, reuse),
    headers,
    method: c.method,
    body,
    reuse,
    statusOk: compileStatusTable(c.expect_status),
    expectText: c.expect_status.join(', '),
    conditions: compileConditions(c.expect_body),
    maxBodyBytes: c.max_body_bytes,
    degradedAfterMs: c.degraded_after,
    followRedirects: c.follow_redirects,
    armDelayMs: armDelayMs(timeoutMs),
    // Redirects stay on undici: a hop may change origin or scheme, and they are rare in health checks.
    lean:
      !reuse && url.protocol === 'http:' && c.follow_redirects === 0
        ? compileHttp1Target(url, c.method, headers, body)
        : null,
  };
}

function requestOptions(
  path: string,
  method: Dispatcher.HttpMethod,
  headers: string[],
  body: Buffer | null,
  reuse: boolean,
): Dispatcher.DispatchOptions {
  const opts: Dispatcher.DispatchOptions = { path, method, headers, body };
  // reset: undici sends `connection: close` and drops the socket after the response.
  if (!reuse) opts.reset = true;
  return opts;
}

/** A 600-entry table: table[status] is 1 for accepted codes. */
export function compileStatusTable(matchers: readonly (number | string)[]): Uint8Array {
  const table = new Uint8Array(600);
  for (const m of matchers) {
    let lo: number;
    let hi: number;
    if (typeof m === 'number') {
      lo = hi = m;
    } else if (/^[1-5]xx$/.test(m)) {
      lo = Number(m[0]) * 100;
      hi = lo + 99;
    } else {
      const dash = m.indexOf('-');
      lo = Number(dash < 0 ? m : m.slice(0, dash));
      hi = dash < 0 ? lo : Number(m.slice(dash + 1));
    }
    if (!Number.isInteger(lo) || !Number.isInteger(hi) || lo > hi) {
      throw new Error(`bad expect_status ${JSON.stringify(m)}`);
    }
    for (let s = Math.max(lo, 0); s <= Math.min(hi, 599); s++) table[s] = 1;
  }
  return table;
}

function compileConditions(eb: HttpCheckConfig['expect_body']): BodyConditions | null {
  if (!eb) return null;
  const json = (eb.json ?? []).map((j) => ({ path: j.path, steps: compileJsonPath(j.path), equals: j.equals }));
  const conditions: BodyConditions = {
    contains: eb.contains,
    notContains: eb.not_contains,
    regex: eb.regex !== undefined ? new RegExp(eb.regex) : undefined,
    json,
  };
  const any =
    conditions.contains !== undefined ||
    conditions.notContains !== undefined ||
    conditions.regex !== undefined ||
    json.length > 0;
  return any ? conditions : null;
}

/** undici's connector returns the socket it creates, though its type says void. */
type SocketConnector = (options: buildConnector.Options, callback: buildConnector.Callback) => Socket | undefined;

class HttpCheckRunner implements CheckRunner {
  /** The check's one dispatcher; null after it was torn down (recreated on next run). */
  private client: Client | null = null;
  private closed = false;
  /** Options for this runner's clients, with the tracking connector. */
  readonly clientOptions: Client.Options;
  /** The last socket undici asked our connector for (the one connecting, if any). */
  private lastSocket: Socket | null = null;

  constructor(readonly plan: HttpPlan) {
    const base = buildConnector(plan.connectOptions) as unknown as SocketConnector;
    // One closure per runner; undici calls it only for new connections.
    const connect: SocketConnector = (options, callback) => {
      const socket = base(options, callback);
      this.lastSocket = socket ?? null;
      return socket;
    };
    this.clientOptions = { ...plan.clientOptions, connect: connect as buildConnector.connector };
    this.client = new Client(plan.origin, this.clientOptions);
  }

  run(ctx: RunContext): Promise<ProbeOutcome> {
    if (this.closed) return Promise.resolve(outcome.unknown('aborted', 'check closed'));
    return new Promise<ProbeOutcome>((resolve) => {
      new HttpProbe(this, ctx, resolve).start();
    });
  }

  /** The dispatcher for the check's own origin. */
  dispatcher(): Client {
    if (this.client === null) this.client = new Client(this.plan.origin, this.clientOptions);
    return this.client;
  }

  /**
   * A run timed out before undici put its request on a socket: the connect
   * (DNS, TCP or TLS handshake) is still pending, and neither aborting the
   * request nor destroying the client ends it before undici's connect timeout.
   * Failing the connecting socket does, and leaves the client usable.
   */
  abortConnect(): void {
    const s = this.lastSocket;
    if (s !== null && !s.destroyed) {
      // With an error, so undici's connect callback runs and fails the queued request.
      s.destroy(CONNECT_ABORTED);
    } else {
      // No socket to fail (should not happen): start over with a fresh client.
      const c = this.client;
      this.client = null;
      if (c !== null) c.destroy().catch(ignore);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    const c = this.client;
    this.client = null;
    const s = this.lastSocket;
    this.lastSocket = null;
    // Client first: it fails a run in flight as `aborted`; then end a connect it would wait for.
    const destroyed = c !== null ? c.destroy().catch(ignore) : undefined;
    if (s !== null && !s.destroyed) s.destroy(CONNECT_ABORTED);
    await destroyed;
  }
}

function ignore(): void {}

const PHASE_CONNECT = 'connecting';
const PHASE_HEADERS = 'waiting for response headers';
const PHASE_BODY = 'reading body';

/**
 * What every run shares, whichever client carries it: the lazily armed
 * AbortSignal listener (`handleEvent`), body accounting under
 * max_body_bytes, judging status and body, and settling exactly once
 * through finish(). Both clients judge with this code, so they agree.
 */
abstract class ProbeBase extends LazyAbortProbe {
  /** Status of the response being read; 0 before its head. */
  protected status = 0;
  /** Body bytes received of the response being read. */
  protected received = 0;
  private chunks: Buffer[] | null = null;
  private collected = 0;
  /** Body bytes are kept for the body conditions. */
  protected collecting = false;
  /** max_body_bytes was reached: the body is judged on its first bytes. */
  protected capped = false;

  constructor(
    protected readonly plan: HttpPlan,
    ctx: RunContext,
    private readonly resolve: (o: ProbeOutcome) => void,
  ) {
    super(ctx);
  }

  /** AbortSignal listener: the attempt timed out. */
  override handleEvent(): void {
    if (this.done) return;
    const elapsed = this.clock.now() - this.t0;
    this.finish(outcome.unhealthy('timeout', `timed out after ${formatMs(elapsed)} ${this.phase()}`));
    this.cancel();
  }

  /** What the run is waiting for, for the timeout message. */
  protected abstract phase(): string;

  /** Called once the run timed out (already settled): stop the request and free its connection. */
  protected abstract cancel(): void;

  /** Called when the run settles, before it resolves: release what the run holds. */
  protected abstract release(): void;

  /** The final response's head: keep its body only when there is something to judge in it. */
  protected responseHead(status: number): void {
    this.status = status;
    // Only a response whose status passed is worth reading.
    this.collecting = this.plan.conditions !== null && this.plan.statusOk[status] === 1;
  }

  /**
   * Body bytes chunk[start, end) arrived; `copy` when chunk is reused after
   * this returns. True once the body is over max_body_bytes: the caller
   * stops reading (and judges, or fails a redirect).
   */
  protected bodyBytes(chunk: Buffer, start: number, end: number, copy: boolean): boolean {
    const cap = this.plan.maxBodyBytes;
    const n = end - start;
    this.received += n;
    if (this.collecting && this.collected < cap) {
      const take = Math.min(n, cap - this.collected);
      let part = start === 0 && take === chunk.length ? chunk : chunk.subarray(start, start + take);
      if (copy) part = Buffer.from(part);
      (this.chunks ??= []).push(part);
      this.collected += take;
    }
    return this.received > cap;
  }

  protected fail(err: unknown): void {
    this.failWith(reasonFromError(err), describeError(err));
  }

  protected failWith(reason: Reason, message: string): void {
    if (this.done) return;
    const metrics = this.status !== 0 ? { status_code: this.status } : undefined;
    this.finish(outcome.unhealthy(reason, message, metrics));
  }

  /** Judges the response read: status, then body conditions, then latency. */
  protected judge(): void {
    const plan = this.plan;
    const status = this.status;
    const metrics = { status_code: status };
    if (plan.statusOk[status] !== 1) {
      this.finish(outcome.unhealthy('status_mismatch', `HTTP ${status}, expected ${plan.expectText}`, metrics));
      return;
    }
    if (plan.conditions !== null) {
      const problem = checkBody(plan.conditions, this.bodyText(), this.capped, this.collected);
      if (problem !== null) {
        this.finish(outcome.unhealthy('body_mismatch', problem, metrics));
        return;
      }
    }
    const latency = this.clock.now() - this.t0;
    if (plan.degradedAfterMs !== undefined && latency > plan.degradedAfterMs) {
      this.finish(
        outcome.degraded(
          'slow',
          `HTTP ${status} in ${formatMs(latency)}, over degraded_after ${formatMs(plan.degradedAfterMs)}`,
          metrics,
        ),
      );
      return;
    }
    this.finish(outcome.healthy(`HTTP ${status} in ${formatMs(latency)}`, metrics));
  }

  private bodyText(): string {
    const chunks = this.chunks;
    if (chunks === null) return '';
    if (chunks.length === 1) return (chunks[0] as Buffer).toString('utf8');
    return Buffer.concat(chunks, this.collected).toString('utf8');
  }

  /** Forgets the response read so far (a redirect hop starts a new one). */
  protected resetResponse(): void {
    this.status = 0;
    this.received = 0;
  }

  protected finish(result: ProbeOutcome): void {
    if (this.done) return;
    this.done = true;
    this.chunks = null;
    this.disarm();
    this.release();
    this.resolve(result);
  }
}

/**
 * One run on undici: the handler for the request (and any redirect hops)
 * and the listener of the run's AbortSignal. Settles exactly once through finish().
 */
class HttpProbe extends ProbeBase implements Dispatcher.DispatchHandler {
  private controller: Dispatcher.DispatchController | null = null;
  private redirectTo: string | null = null;
  private hops = 0;
  private currentUrl: URL | null = null;
  private hopClient: Client | null = null;
  private phaseText = PHASE_CONNECT;

  constructor(
    private readonly runner: HttpCheckRunner,
    ctx: RunContext,
    resolve: (o: ProbeOutcome) => void,
  ) {
    super(runner.plan, ctx, resolve);
  }

  start(): void {
    this.armLater(this.plan.armDelayMs);
    this.dispatch(this.runner.dispatcher(), this.plan.request);
  }

  private dispatch(d: Dispatcher, opts: Dispatcher.DispatchOptions): void {
    try {
      d.dispatch(opts, this);
    } catch (err) {
      this.fail(err);
    }
  }

  protected phase(): string {
    return this.phaseText;
  }

  protected cancel(): void {
    if (this.controller !== null) {
      // Destroys the socket the request is on.
      this.controller.abort(TIMED_OUT);
    } else {
      // Cross-origin redirect clients share the runner's connector, so this covers them too.
      this.runner.abortConnect();
    }
  }

  protected release(): void {
    if (this.hopClient !== null) {
      this.hopClient.destroy().catch(ignore);
      this.hopClient = null;
    }
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    if (this.done) {
      controller.abort(TIMED_OUT);
      return;
    }
    this.controller = controller;
    this.phaseText = PHASE_HEADERS;
  }

  onResponseStart(
    _controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: Record<string, string | string[] | undefined>,
  ): void {
    if (this.done) return;
    this.phaseText = PHASE_BODY;
    if (this.hops < this.plan.followRedirects && REDIRECT_STATUSES.has(statusCode)) {
      const loc = headers.location;
      const location = Array.isArray(loc) ? loc[0] : loc;
      if (location !== undefined && location !== '') {
        this.status = statusCode;
        this.redirectTo = location;
        return;
      }
    }
    this.responseHead(statusCode);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.done) return;
    if (!this.bodyBytes(chunk, 0, chunk.length, false)) return;
    // Judge on what we have and drop the connection rather than read on.
    this.capped = true;
    if (this.redirectTo !== null) {
      this.redirectTo = null;
      this.finish(outcome.unhealthy('body_too_large', `redirect response body over ${this.plan.maxBodyBytes} bytes`));
    } else {
      this.judge();
    }
    controller.abort(BODY_CAP_REACHED);
  }

  onResponseEnd(): void {
    if (this.done) return;
    if (this.redirectTo !== null) {
      this.followRedirect(this.redirectTo);
      return;
    }
    this.judge();
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    if (this.done) return;
    this.fail(err);
  }

  private followRedirect(location: string): void {
    const plan = this.plan;
    let next: URL;
    try {
      next = new URL(location, this.currentUrl ?? plan.url);
    } catch {
      this.finish(outcome.unhealthy('protocol', `HTTP ${this.status} with bad Location ${quote(location)}`));
      return;
    }
    if (next.protocol !== 'http:' && next.protocol !== 'https:') {
      this.finish(outcome.unhealthy('protocol', `HTTP ${this.status} redirects to unsupported ${next.protocol}`));
      return;
    }
    const status = this.status;
    this.hops++;
    this.currentUrl = next;
    this.controller = null;
    this.redirectTo = null;
    this.resetResponse();
    this.phaseText = PHASE_CONNECT;

    // 303, and 301/302 after a POST, turn into GET without body (what browsers do).
    let method = plan.method;
    let body = plan.body;
    if ((status === 303 && method !== 'HEAD') || ((status === 301 || status === 302) && method === 'POST')) {
      method = 'GET';
      body = null;
    }
    const sameOrigin = next.origin === plan.origin;
    let headers = plan.headers;
    if (!sameOrigin) headers = dropCredentials(headers);

    if (this.hopClient !== null) {
      this.hopClient.destroy().catch(ignore);
      this.hopClient = null;
    }
    let d: Dispatcher;
    if (sameOrigin) {
      d = this.runner.dispatcher();
    } else {
      this.hopClient = new Client(next.origin, this.runner.clientOptions);
      d = this.hopClient;
    }
    this.dispatch(d, requestOptions(next.pathname + next.search, method, headers, body, plan.reuse));
  }
}

/**
 * The runner for plain http without connection reuse: every run is a new
 * connection carrying the check's pre-encoded request (http1/client.ts). Holds no
 * connection between runs; close() ends the runs in flight as `aborted`.
 */
class LeanHttpRunner implements CheckRunner {
  private closed = false;
  /** Runs in flight, an intrusive list (close() ends them): no allocation per run. */
  inflight: LeanHttpProbe | null = null;

  constructor(
    readonly plan: HttpPlan,
    readonly target: Http1Target,
  ) {}

  run(ctx: RunContext): Promise<ProbeOutcome> {
    if (this.closed) return Promise.resolve(outcome.unknown('aborted', 'check closed'));
    return new Promise<ProbeOutcome>((resolve) => {
      new LeanHttpProbe(this, ctx, resolve).start();
    });
  }

  close(): void {
    this.closed = true;
    for (let p = this.inflight; p !== null; p = this.inflight) p.closed();
  }
}

/**
 * One run on the lean client: the exchange's sink and the listener of the
 * run's AbortSignal. Settles exactly once through finish().
 */
class LeanHttpProbe extends ProbeBase implements ResponseSink {
  private exchange: Http1Exchange | null = null;
  /** Neighbours in the runner's in-flight list. */
  prev: LeanHttpProbe | null = null;
  next: LeanHttpProbe | null = null;

  constructor(
    private readonly runner: LeanHttpRunner,
    ctx: RunContext,
    resolve: (o: ProbeOutcome) => void,
  ) {
    super(runner.plan, ctx, resolve);
  }

  start(): void {
    const head = this.runner.inflight;
    this.next = head;
    if (head !== null) head.prev = this;
    this.runner.inflight = this;
    this.armLater(this.plan.armDelayMs);
    this.exchange = new Http1Exchange(this.runner.target, this);
  }

  /** The check was closed under this run. */
  closed(): void {
    this.finish(outcome.unhealthy('aborted', 'check closed while the probe was running'));
  }

  protected phase(): string {
    return this.exchange?.phase() ?? PHASE_CONNECT;
  }

  // release() has destroyed the socket already.
  protected cancel(): void {}

  protected release(): void {
    this.exchange?.destroy();
    this.exchange = null;
    const { prev, next } = this;
    if (prev !== null) prev.next = next;
    else this.runner.inflight = next;
    if (next !== null) next.prev = prev;
    this.prev = this.next = null;
  }

  onHead(status: number): void {
    if (!this.done) this.responseHead(status);
  }

  onBody(chunk: Buffer, start: number, end: number): void {
    // The exchange reads into a buffer shared by every socket: keep copies.
    if (this.done || !this.bodyBytes(chunk, start, end, true)) return;
    this.capped = true;
    this.judge();
  }

  onEnd(): void {
    if (!this.done) this.judge();
  }

  onFail(reason: Reason, message: string): void {
    this.failWith(reason, message);
  }
}

/** Null when every body condition holds, else one line saying which failed. */
function checkBody(c: BodyConditions, body: string, capped: boolean, bytes: number): string | null {
  const where = capped ? ` (first ${bytes} bytes)` : '';
  if (c.contains !== undefined && !body.includes(c.contains)) {
    return `body does not contain ${quote(c.contains)}${where}`;
  }
  if (c.notContains !== undefined && body.includes(c.notContains)) {
    return `body contains ${quote(c.notContains)}`;
  }
  if (c.regex !== undefined && !c.regex.test(body)) {
    return `body does not match /${c.regex.source}/${where}`;
  }
  if (c.json.length > 0) {
    let doc: unknown;
    try {
      doc = JSON.parse(body);
    } catch {
      return `body is not JSON${where}`;
    }
    for (const j of c.json) {
      const actual = getJsonPath(doc, j.steps);
      if (actual === MISSING) return `${j.path} not found in body`;
      if (actual !== j.equals) {
        return `${j.path} is ${clip(JSON.stringify(actual) ?? String(actual))}, expected ${JSON.stringify(j.equals)}`;
      }
    }
  }
  return null;
}

function dropCredentials(headers: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < headers.length; i += 2) {
    const name = (headers[i] as string).toLowerCase();
    if (name === 'authorization' || name === 'cookie' || name === 'proxy-authorization' || name === 'host') continue;
    out.push(headers[i] as string, headers[i + 1] as string);
  }
  return out;
}

function quote(s: string): string {
  return JSON.stringify(clip(s));
}

function clip(s: string): string {
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}
