import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { buildConnector, Client, Dispatcher } from 'undici';
import type { CheckRunner, RunContext } from '../core/check.js';
import { outcome, type ProbeOutcome } from '../core/result.js';
import { reasonFromError } from './errors.js';
import { requestOptions, type HttpPlan } from './http-plan.js';
import { buildUndiciConnector, UndiciClient } from './undici-parts.js';
import { PHASE_BODY, PHASE_CONNECT, PHASE_HEADERS, ProbeBase, quote } from './http-judge.js';

/**
 * The HTTP check on undici: https, kept-alive connections and redirects
 * (see http.ts for which checks take this path).
 */

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/** Abort reason used when the body cap is reached (never surfaces in a result). */
const BODY_CAP_REACHED = new Error('max_body_bytes reached');
/** Abort reason used at the attempt timeout. */
const TIMED_OUT = new Error('check timeout');
/** Error a pending connect is destroyed with at the timeout or at close(). */
const CONNECT_ABORTED = Object.assign(new Error('connect aborted by healthmesh'), { code: 'ABORT_ERR' });

/**
 * The first error of each socket our connector made. A TLS 1.3 server that
 * refuses the client certificate does so after the client's handshake is
 * done: the socket emits the alert (ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED,
 * "unknown ca", ...) and undici then fails the request with its own
 * "other side closed", which would read as connect_reset. Keeping the first
 * error lets a run report the real cause (`tls`).
 */
const firstErrors = new WeakMap<Socket, Error>();

/** What a run reports when a server closed a new TLS connection at once though we sent client_cert (see tlsCause). */
const CLIENT_CERT_REFUSED = Object.assign(
  new Error('the server closed the new TLS connection before answering: it likely refused client_cert (untrusted issuer?)'),
  { code: 'ERR_TLS_CLIENT_CERT_REFUSED' },
);

function noteFirstError(this: Socket, err: Error): void {
  // undici destroys the socket with its own error after the real one: keep the real one.
  if (!firstErrors.has(this)) firstErrors.set(this, err);
}

/** undici's connector returns the socket it creates, though its type says void. */
type SocketConnector = (options: buildConnector.Options, callback: buildConnector.Callback) => Socket | undefined;

/** Runs a check on one undici Client, created here and closed in close(). */
export class HttpCheckRunner implements CheckRunner {
  /** The check's one dispatcher; null after it was torn down (recreated on next run). */
  private client: Client | null = null;
  private closed = false;
  /** Options for this runner's clients, with the tracking connector. */
  readonly clientOptions: Client.Options;
  /** The last socket undici asked our connector for (the one connecting, if any). */
  private lastSocket: Socket | null = null;
  /** Connections made so far: a run compares it to tell whether its socket is new. */
  connects = 0;

  constructor(readonly plan: HttpPlan) {
    const base = buildUndiciConnector(plan.connectOptions) as unknown as SocketConnector;
    // One closure per runner; undici calls it only for new connections.
    const connect: SocketConnector = (options, callback) => {
      const socket = base(options, callback);
      this.lastSocket = socket ?? null;
      this.connects++;
      // A plain function, not a closure: no allocation per connection beyond the listener.
      socket?.on('error', noteFirstError);
      return socket;
    };
    this.clientOptions = { ...plan.clientOptions, connect: connect as buildConnector.connector };
    this.client = new UndiciClient(plan.origin, this.clientOptions);
  }

  run(ctx: RunContext): Promise<ProbeOutcome> {
    if (this.closed) return Promise.resolve(outcome.unknown('aborted', 'check closed'));
    return new Promise<ProbeOutcome>((resolve) => {
      new HttpProbe(this, ctx, resolve).start();
    });
  }

  /** The dispatcher for the check's own origin. */
  dispatcher(): Client {
    if (this.client === null) this.client = new UndiciClient(this.plan.origin, this.clientOptions);
    return this.client;
  }

  /**
   * The TLS error the check's newest socket died of, when undici reported
   * its death only as a closed socket (see firstErrors); else undefined.
   * `freshUnanswered`: the socket was made during the run and no response
   * head came on it.
   */
  tlsCause(err: unknown, freshUnanswered: boolean): Error | undefined {
    const socket = this.lastSocket;
    if ((err as { code?: unknown } | null)?.code !== 'UND_ERR_SOCKET' || socket === null) return undefined;
    const first = firstErrors.get(socket);
    if (first !== undefined && reasonFromError(first) === 'tls') return first;
    // Node's own TLS servers refuse a client certificate by closing right
    // after the handshake, with no alert: with client_cert set, a new TLS
    // connection closed before any answer is that refusal far more often than not.
    const encrypted = (socket as Partial<TLSSocket>).encrypted === true;
    const undiciOwn = first === undefined || (first as { code?: unknown }).code === 'UND_ERR_SOCKET';
    return freshUnanswered && undiciOwn && encrypted && this.plan.sendsClientCert ? CLIENT_CERT_REFUSED : undefined;
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
  /** runner.connects when the run started. */
  private connectsAtStart = 0;

  constructor(
    private readonly runner: HttpCheckRunner,
    ctx: RunContext,
    resolve: (o: ProbeOutcome) => void,
  ) {
    super(runner.plan, ctx, resolve);
  }

  start(): void {
    this.armLater(this.plan.armDelayMs);
    this.connectsAtStart = this.runner.connects;
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

  onResponseStart(_controller: Dispatcher.DispatchController, statusCode: number, headers: Record<string, string | string[] | undefined>): void {
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
    const freshUnanswered = this.phaseText !== PHASE_BODY && this.runner.connects > this.connectsAtStart;
    this.fail(this.runner.tlsCause(err, freshUnanswered) ?? err);
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
      this.hopClient = new UndiciClient(next.origin, this.runner.clientOptions);
      d = this.hopClient;
    }
    this.dispatch(d, requestOptions(next.pathname + next.search, method, headers, body, plan.reuse));
  }
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
