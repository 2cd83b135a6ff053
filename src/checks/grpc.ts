import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Channel, ChannelCredentials, ChannelOptions, Metadata, StatusObject } from '@grpc/grpc-js';
import type { CheckDeps, CheckFactory, CheckRunner, CheckSpec, PushListener, RunContext } from '../core/check.js';
import type { Clock, TimerHandle } from '../core/clock.js';
import { outcome, type ProbeOutcome, type Reason } from '../core/result.js';
import type { GrpcCheckConfig } from '../config/kinds/grpc.js';
import { describeError, reasonOfCode } from './errors.js';
import { formatHostPort, formatMs, parseHostPort } from './probe-support.js';

/**
 * gRPC check: the standard health protocol (`grpc.health.v1.Health`) on
 * @grpc/grpc-js, with the service definition from `grpc-health-check`.
 *
 * - mode `check`: one unary `Check` call a run, with a deadline and cancelled
 *   at once when ctx.signal aborts.
 * - mode `watch`: one server-streaming `Watch` kept open across runs; a run
 *   returns the latest status the server pushed (or why the stream is down)
 *   without a round trip, and a pushed change can be reported at once through
 *   `onPush` (see GrpcWatchRunner for when).
 *
 * One channel (one HTTP/2 connection, in a subchannel pool of its own so
 * close() really closes it) is created on the first run and reused. When a
 * call fails with UNAVAILABLE and the channel is not connected, the channel is
 * dropped and the next run (or stream reconnect) builds a fresh one: grpc-js
 * would otherwise answer every call from its reconnect backoff with the last
 * connection error, so a server that came back would still look down, and it
 * would keep reconnecting in the background between runs.
 *
 * Hot path: the request bytes, metadata template, deadline length and method
 * paths are prepared once; a run allocates one probe object that is the
 * call's listener and the AbortSignal listener at once (no closures), and
 * talks to the channel's call API directly instead of through a generated
 * client and its interceptor stack.
 */

/**
 * @grpc/grpc-js and the health service definition of grpc-health-check
 * (its proto, parsed by protobufjs at load), required on the first grpc
 * check built: together some 0.3 s of start-up that a process without grpc
 * checks (e.g. `healthmesh check http://…`) does not pay. Both are CommonJS.
 */
interface GrpcLib {
  grpc: typeof import('@grpc/grpc-js');
  checkPath: string;
  watchPath: string;
  serializeRequest: (request: { service: string }) => Buffer;
  decodeResponse: (message: Buffer) => { status?: unknown };
}

const requireCjs = createRequire(import.meta.url);
let loaded: GrpcLib | null = null;

function grpcLib(): GrpcLib {
  if (loaded === null) {
    const grpc = requireCjs('@grpc/grpc-js') as typeof import('@grpc/grpc-js');
    const { service } = requireCjs('grpc-health-check') as typeof import('grpc-health-check');
    const check = service.Check;
    const watch = service.Watch;
    if (check === undefined || watch === undefined) throw new Error('grpc-health-check has no Check/Watch method');
    loaded = {
      grpc,
      checkPath: check.path,
      watchPath: watch.path,
      serializeRequest: check.requestSerialize as GrpcLib['serializeRequest'],
      decodeResponse: check.responseDeserialize as GrpcLib['decodeResponse'],
    };
  }
  return loaded;
}

/** gRPC status codes used here (fixed by the gRPC spec). */
const Code = { OK: 0, CANCELLED: 1, DEADLINE_EXCEEDED: 4, NOT_FOUND: 5, UNIMPLEMENTED: 12, UNAVAILABLE: 14 } as const;

/** The raw call type of grpc-js' channel API (not exported by name). */
type RawCall = ReturnType<Channel['createCall']>;
/** The listener `RawCall.start` takes. */
type CallListener = Parameters<RawCall['start']>[1];

/** HealthCheckResponse.ServingStatus names → proto numbers (metric `serving_status`). */
const SERVING_STATUS: Readonly<Record<string, number>> = {
  UNKNOWN: 0,
  SERVING: 1,
  NOT_SERVING: 2,
  SERVICE_UNKNOWN: 3,
};

/** Watch stream reconnect backoff: first wait, cap (ms), and ± jitter share. */
const WATCH_BACKOFF_INITIAL_MS = 100;
const WATCH_BACKOFF_MAX_MS = 5_000;
const WATCH_BACKOFF_JITTER = 0.2;
/**
 * HTTP/2 keepalive ping period of a watch channel (ms), to notice a server
 * that vanished without closing the connection. 5 minutes is the least
 * servers accept by default (grpc-go and grpc-java enforce it and send
 * GOAWAY "too_many_pings" to clients that ping more often).
 */
const WATCH_KEEPALIVE_MS = 300_000;
/** Least time between two onPush calls (ms): a server flipping status fast cannot flood the owner. */
const PUSH_MIN_GAP_MS = 100;
/** Health responses are 2 bytes; anything huge is hostile. */
const MAX_RECEIVE_BYTES = 64 * 1024;
const USER_AGENT = 'healthmesh/0.1';
const NO_CONTEXT = {};

/** Everything a check needs, computed once from its spec. */
interface GrpcPlan {
  id: string;
  /** host:port as grpc-js parses it ([v6]:port for IPv6). */
  target: string;
  tls: boolean;
  tlsVerify: boolean;
  caFile: string | undefined;
  channelOptions: ChannelOptions;
  /** Serialized HealthCheckRequest { service }. */
  request: Buffer;
  /** Template, cloned per call (grpc-js adds headers to the object it is given). */
  metadata: Metadata;
  /** `server` or `service "name"`, for output lines. */
  what: string;
  timeoutMs: number;
  degradedAfterMs: number | undefined;
}

/**
 * Builds a gRPC health runner (throws for an address without a port). The
 * channel is made lazily on the first run and released by close(). In watch
 * mode the runner has `onPush`, and its stream timers run on deps.clock with
 * jitter from deps.random.
 */
export const grpcCheck: CheckFactory<GrpcCheckConfig> = (spec, deps) => {
  const lib = grpcLib();
  const conn = new Connection(compilePlan(spec, lib), lib);
  return spec.config.mode === 'watch' ? new GrpcWatchRunner(conn, deps) : new GrpcCheckRunner(conn);
};

function compilePlan(spec: CheckSpec<GrpcCheckConfig>, lib: GrpcLib): GrpcPlan {
  const c = spec.config;
  const { host, port: addrPort } = parseHostPort(c.address ?? spec.address);
  const port = c.port ?? addrPort;
  if (port === undefined) throw new Error(`no port in ${JSON.stringify(c.address ?? spec.address)} (set port)`);
  const target = formatHostPort(host, port);

  const channelOptions: ChannelOptions = {
    // A connection of its own: checks stay independent and close() frees the socket.
    'grpc.use_local_subchannel_pool': 1,
    // One result = one attempt; the scheduler does retries.
    'grpc.enable_retries': 0,
    // No DNS TXT lookups for a service config.
    'grpc.service_config_disable_resolution': 1,
    'grpc.enable_channelz': 0,
    // Reconnecting is ours (a failed channel is dropped and made anew); a long
    // backoff keeps grpc-js from racing that with a reconnect of its own.
    'grpc.initial_reconnect_backoff_ms': 5_000,
    'grpc.max_reconnect_backoff_ms': 30_000,
    'grpc.max_receive_message_length': MAX_RECEIVE_BYTES,
    'grpc.primary_user_agent': USER_AGENT,
  };
  if (c.mode === 'watch') channelOptions['grpc.keepalive_time_ms'] = WATCH_KEEPALIVE_MS;
  if (c.tls && c.tls_server_name !== undefined) channelOptions['grpc.ssl_target_name_override'] = c.tls_server_name;

  const metadata = new lib.grpc.Metadata();
  for (const [key, value] of Object.entries(c.metadata)) metadata.set(key.toLowerCase(), value);

  return {
    id: spec.id,
    target,
    tls: c.tls,
    tlsVerify: c.tls_verify,
    caFile: c.ca_file,
    channelOptions,
    request: lib.serializeRequest({ service: c.service }),
    metadata,
    what: c.service === '' ? 'server' : `service ${JSON.stringify(c.service)}`,
    timeoutMs: spec.timeoutMs,
    degradedAfterMs: c.degraded_after,
  };
}

/** Raised when credentials cannot be built (bad ca_file): config, not target, is to blame. */
class SetupError extends Error {}

/** The check's channel: made on demand, dropped after a connection failure, closed by close(). */
class Connection {
  private channel: Channel | null = null;
  private creds: ChannelCredentials | null = null;
  closed = false;

  constructor(
    readonly plan: GrpcPlan,
    readonly lib: GrpcLib,
  ) {}

  /** The live channel, made now if there is none. Throws SetupError when credentials cannot be built. */
  get(): Channel {
    if (this.channel !== null) return this.channel;
    const channel = new this.lib.grpc.Channel(this.plan.target, this.credentials(), this.plan.channelOptions);
    this.channel = channel;
    return channel;
  }

  /**
   * After UNAVAILABLE: drop `channel` unless it is connected (then the server
   * itself said UNAVAILABLE and the connection is fine).
   */
  failed(channel: Channel): void {
    if (channel !== this.channel) return;
    if (channel.getConnectivityState(false) === this.lib.grpc.connectivityState.READY) return;
    this.channel = null;
    channel.close();
  }

  close(): void {
    this.closed = true;
    this.channel?.close();
    this.channel = null;
  }

  private credentials(): ChannelCredentials {
    if (this.creds !== null) return this.creds;
    const p = this.plan;
    const credentials = this.lib.grpc.credentials;
    if (!p.tls) {
      this.creds = credentials.createInsecure();
      return this.creds;
    }
    let ca: Buffer | null = null;
    if (p.caFile !== undefined) {
      try {
        ca = readFileSync(p.caFile);
      } catch (err) {
        // Not cached: a ca_file that shows up later is picked up on the next run.
        throw new SetupError(`cannot read ca_file: ${describeError(err)}`);
      }
    }
    try {
      this.creds = p.tlsVerify
        ? credentials.createSsl(ca)
        : credentials.createSsl(ca, null, null, { rejectUnauthorized: false, checkServerIdentity: () => undefined });
    } catch (err) {
      throw new SetupError(`bad ca_file ${p.caFile ?? ''}: ${describeError(err)}`);
    }
    return this.creds;
  }
}

function setupFailure(err: unknown, plan: GrpcPlan): ProbeOutcome {
  return err instanceof SetupError
    ? outcome.unknown('error', `grpc check ${plan.id}: ${err.message}`)
    : outcome.unknown('error', `grpc check ${plan.id}: cannot start call: ${describeError(err)}`);
}

// ---------------------------------------------------------------- check mode

class GrpcCheckRunner implements CheckRunner {
  constructor(readonly conn: Connection) {}

  run(ctx: RunContext): Promise<ProbeOutcome> {
    if (ctx.signal.aborted) return Promise.resolve(outcome.unhealthy('timeout', 'aborted before start'));
    if (this.conn.closed) return Promise.resolve(outcome.unknown('aborted', 'check closed'));
    return new Promise<ProbeOutcome>((resolve) => {
      new CheckProbe(this.conn, ctx.clock, ctx.signal, resolve).start();
    });
  }

  close(): void {
    this.conn.close();
  }
}

/** One unary Check: the call's listener and the AbortSignal listener. Settles once via finish(). */
class CheckProbe implements CallListener {
  private done = false;
  private call: RawCall | null = null;
  private channel: Channel | null = null;
  private message: Buffer | null = null;
  private readonly t0: number;

  constructor(
    private readonly conn: Connection,
    private readonly clock: Clock,
    private readonly signal: AbortSignal,
    private readonly resolve: (o: ProbeOutcome) => void,
  ) {
    this.t0 = clock.now();
  }

  start(): void {
    const plan = this.conn.plan;
    this.signal.addEventListener('abort', this);
    try {
      const channel = this.conn.get();
      this.channel = channel;
      // The deadline goes to the server too (grpc-timeout); the signal is the real bound.
      // grpc-js measures deadlines in wall-clock epoch ms, which is what ctx.clock gives
      // in production (realClock); a fake clock far in the past would expire every call.
      const call = channel.createCall(this.conn.lib.checkPath, this.t0 + plan.timeoutMs, null, null, null);
      this.call = call;
      call.start(plan.metadata.clone(), this);
      if (this.done) return;
      call.startRead();
      call.sendMessageWithContext(NO_CONTEXT, plan.request);
      call.halfClose();
    } catch (err) {
      if (!this.done) this.finish(setupFailure(err, plan));
    }
  }

  /** AbortSignal listener: the attempt timed out; cancel the call (RST_STREAM) and settle now. */
  handleEvent(): void {
    if (this.done) return;
    this.call?.cancelWithStatus(Code.CANCELLED, 'healthmesh: check timed out');
    const elapsed = this.clock.now() - this.t0;
    this.finish(outcome.unhealthy('timeout', `no Check answer within ${formatMs(elapsed)} (${this.conn.plan.target})`));
  }

  onReceiveMetadata(): void {}

  onReceiveMessage(message: Buffer): void {
    this.message = message;
  }

  onReceiveStatus(status: StatusObject): void {
    if (this.done) return;
    const plan = this.conn.plan;
    if (status.code !== Code.OK) {
      if (status.code === Code.UNAVAILABLE && this.channel !== null) this.conn.failed(this.channel);
      this.finish(statusFailure(status, plan));
      return;
    }
    const served = servingOutcome(this.message, plan, 'Check');
    if (served.status !== 'HEALTHY') {
      this.finish(served);
      return;
    }
    const latency = this.clock.now() - this.t0;
    const after = plan.degradedAfterMs;
    this.finish(
      after !== undefined && latency > after
        ? outcome.degraded(
            'slow',
            `${served.output} in ${formatMs(latency)}, over degraded_after ${formatMs(after)}`,
            served.metrics,
          )
        : outcome.healthy(`${served.output} in ${formatMs(latency)}`, served.metrics),
    );
  }

  private finish(result: ProbeOutcome): void {
    this.done = true;
    this.signal.removeEventListener('abort', this);
    this.message = null;
    this.resolve(result);
  }
}

// ---------------------------------------------------------------- watch mode

/**
 * Watch mode: one `Watch` stream, opened by the first run and kept open
 * across runs. When it ends it is reopened after an exponential backoff
 * (100 ms doubling to 5 s, ±20 % jitter; back to 100 ms after a stream that
 * lived at least 5 s).
 *
 * A stream that had delivered a status and then ended (server restart,
 * GOAWAY from max_connection_age, dropped connection) is reopened quietly:
 * its end status is not reported, and until the new stream answers the
 * status is unknown, so runs wait for it (bounded by their own timeout) and
 * the owner hears only what the new stream finds (SERVING again, or e.g.
 * connect_refused). A stream that fails before delivering anything is
 * reported at once.
 *
 * The listener given to onPush hears an outcome that differs (status or
 * reason) from the one last returned or pushed: a status pushed by the server
 * (SERVING → NOT_SERVING → SERVING, …), or the stream failing (e.g.
 * connect_refused once the server is gone); not one that a waiting run
 * receives, nor a repeated status. Calls are at least 100 ms apart: changes
 * within that gap are folded into one trailing call with the status the
 * server ended up in.
 *
 * Stream timers (reconnect backoff, push gap) run on the injected clock, not
 * a run's: they outlive any one run. A waiting run times itself on its own
 * ctx.clock, as every attempt does.
 */
class GrpcWatchRunner implements CheckRunner {
  /** What a run returns now; null while the status is not known (first stream, quiet reopen). */
  private latest: ProbeOutcome | null = null;
  /** The last outcome returned or pushed, to tell changes from repeats. */
  private reported: ProbeOutcome | null = null;
  private listener: PushListener | null = null;
  private stream: WatchStream | null = null;
  private readonly clock: Clock;
  private timer: TimerHandle | null = null;
  private backoffMs = WATCH_BACKOFF_INITIAL_MS;
  /** Trailing push of a change that came within PUSH_MIN_GAP_MS of the previous push. */
  private pushTimer: TimerHandle | null = null;
  private lastPushAt = -Infinity;
  private readonly waiters = new Set<WatchWaiter>();

  constructor(
    readonly conn: Connection,
    private readonly deps: CheckDeps,
  ) {
    this.clock = deps.clock;
  }

  onPush(listener: PushListener): void {
    this.listener = listener;
  }

  run(ctx: RunContext): Promise<ProbeOutcome> {
    if (ctx.signal.aborted) return Promise.resolve(outcome.unhealthy('timeout', 'aborted before start'));
    if (this.conn.closed) return Promise.resolve(outcome.unknown('aborted', 'check closed'));
    if (this.stream === null && this.timer === null) this.open();
    const latest = this.latest;
    if (latest !== null) {
      this.reported = latest;
      return Promise.resolve(latest);
    }
    return new Promise<ProbeOutcome>((resolve) => {
      const waiter = new WatchWaiter(this, ctx.signal, ctx.clock, resolve);
      this.waiters.add(waiter);
      ctx.signal.addEventListener('abort', waiter);
    });
  }

  close(): void {
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    if (this.pushTimer !== null) this.clock.clearTimeout(this.pushTimer);
    this.timer = null;
    this.pushTimer = null;
    const stream = this.stream;
    this.stream = null;
    stream?.cancel();
    this.conn.close();
    const closed = outcome.unknown('aborted', 'check closed');
    for (const w of this.waiters) w.settle(closed);
    this.waiters.clear();
  }

  /** A waiting run gave up (timeout). */
  forget(waiter: WatchWaiter): void {
    this.waiters.delete(waiter);
  }

  /** Open a stream now; a failure to even start counts as a failed stream. */
  private open(): void {
    const stream = new WatchStream(this, this.clock.now());
    this.stream = stream;
    try {
      stream.start(this.conn.get());
    } catch (err) {
      if (this.stream !== stream) return;
      this.stream = null;
      this.update(setupFailure(err, this.conn.plan));
      this.reopenAfter(WATCH_BACKOFF_MAX_MS);
    }
  }

  /** A status pushed on the current stream. */
  received(stream: WatchStream, message: Buffer): void {
    if (stream !== this.stream) return;
    this.update(servingOutcome(message, this.conn.plan, 'Watch'));
  }

  /** The current stream ended: report why (unless it had been delivering) and reopen after the backoff. */
  ended(stream: WatchStream, status: StatusObject, channel: Channel): void {
    if (stream !== this.stream) return;
    this.stream = null;
    if (status.code === Code.UNAVAILABLE) this.conn.failed(channel);
    if (this.clock.now() - stream.openedAt >= WATCH_BACKOFF_MAX_MS) this.backoffMs = WATCH_BACKOFF_INITIAL_MS;
    let base = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, WATCH_BACKOFF_MAX_MS);
    if (stream.messages > 0) {
      // Unknown until the new stream says; runs meanwhile wait for it.
      this.latest = null;
    } else if (status.code === Code.OK) {
      this.update(outcome.unknown('grpc_error', `Watch stream ended by the server (${this.conn.plan.target})`));
    } else {
      // UNIMPLEMENTED: the protocol says not to retry; try again rarely in case the server is upgraded.
      if (status.code === Code.UNIMPLEMENTED) base = WATCH_BACKOFF_MAX_MS;
      this.update(statusFailure(status, this.conn.plan));
    }
    this.reopenAfter(base);
  }

  private reopenAfter(baseMs: number): void {
    const delay = baseMs * (1 - WATCH_BACKOFF_JITTER + 2 * WATCH_BACKOFF_JITTER * this.deps.random());
    this.timer = this.clock.setTimeout(() => {
      this.timer = null;
      if (!this.conn.closed) this.open();
    }, delay);
  }

  /** New known outcome: waiting runs get it; otherwise the owner hears of it if it changed. */
  private update(result: ProbeOutcome): void {
    this.latest = result;
    const prev = this.reported;
    if (this.waiters.size > 0) {
      this.reported = result;
      for (const w of this.waiters) w.settle(result);
      this.waiters.clear();
      return;
    }
    if (this.listener === null || sameVerdict(prev, result)) return;
    const clock = this.clock;
    const wait = this.lastPushAt + PUSH_MIN_GAP_MS - clock.now();
    if (wait <= 0) {
      this.push(result);
    } else if (this.pushTimer === null) {
      // A server flipping fast gets one push per gap, with the status it ends up in.
      this.pushTimer = clock.setTimeout(() => {
        this.pushTimer = null;
        const latest = this.latest;
        if (latest !== null && !sameVerdict(this.reported, latest)) this.push(latest);
      }, wait);
    }
  }

  private push(result: ProbeOutcome): void {
    this.reported = result;
    this.lastPushAt = this.clock.now();
    try {
      this.listener?.(result);
    } catch (err) {
      // The owner's listener must not break the stream handling.
      this.deps.logger?.error({ check: this.conn.plan.id, err: describeError(err) }, 'grpc push listener threw');
    }
  }
}

function sameVerdict(a: ProbeOutcome | null, b: ProbeOutcome): boolean {
  return a !== null && a.status === b.status && a.reason === b.reason;
}

/** A run waiting for the first status of a stream; the AbortSignal listener too. */
class WatchWaiter {
  private done = false;
  private readonly t0: number;

  constructor(
    private readonly runner: GrpcWatchRunner,
    private readonly signal: AbortSignal,
    private readonly clock: Clock,
    private readonly resolve: (o: ProbeOutcome) => void,
  ) {
    this.t0 = clock.now();
  }

  settle(result: ProbeOutcome): void {
    if (this.done) return;
    this.done = true;
    this.signal.removeEventListener('abort', this);
    this.resolve(result);
  }

  handleEvent(): void {
    if (this.done) return;
    this.runner.forget(this);
    const elapsed = this.clock.now() - this.t0;
    this.settle(
      outcome.unhealthy('timeout', `no Watch status within ${formatMs(elapsed)} (${this.runner.conn.plan.target})`),
    );
  }
}

/** One Watch call; its listener forwards to the runner, which ignores stale streams. */
class WatchStream implements CallListener {
  /** Statuses received so far. */
  messages = 0;
  private call: RawCall | null = null;
  private channel: Channel | null = null;
  private ended = false;

  constructor(
    private readonly runner: GrpcWatchRunner,
    readonly openedAt: number,
  ) {}

  start(channel: Channel): void {
    const plan = this.runner.conn.plan;
    this.channel = channel;
    const call = channel.createCall(this.runner.conn.lib.watchPath, Infinity, null, null, null);
    this.call = call;
    call.start(plan.metadata.clone(), this);
    if (this.ended) return;
    call.startRead();
    call.sendMessageWithContext(NO_CONTEXT, plan.request);
    call.halfClose();
  }

  cancel(): void {
    this.ended = true;
    this.call?.cancelWithStatus(Code.CANCELLED, 'healthmesh: check closed');
  }

  onReceiveMetadata(): void {}

  onReceiveMessage(message: Buffer): void {
    if (this.ended) return;
    this.messages++;
    this.runner.received(this, message);
    // Ask for the next pushed status.
    this.call?.startRead();
  }

  onReceiveStatus(status: StatusObject): void {
    if (this.ended) return;
    this.ended = true;
    this.runner.ended(this, status, this.channel as Channel);
  }
}

// ---------------------------------------------------------------- results

/** The outcome of a HealthCheckResponse (from Check or pushed by Watch). */
function servingOutcome(message: Buffer | null, plan: GrpcPlan, method: 'Check' | 'Watch'): ProbeOutcome {
  if (message === null) {
    return outcome.unhealthy('protocol', `${method} returned OK without a HealthCheckResponse (${plan.target})`);
  }
  let name: string;
  try {
    const status = grpcLib().decodeResponse(message).status;
    name = typeof status === 'string' ? status : String(status ?? 'UNKNOWN');
  } catch (err) {
    return outcome.unhealthy('protocol', `bad HealthCheckResponse from ${plan.target}: ${describeError(err)}`);
  }
  const code = SERVING_STATUS[name];
  const metrics = { serving_status: code ?? -1 };
  switch (name) {
    case 'SERVING':
      return outcome.healthy(`${plan.what} SERVING`, metrics);
    case 'NOT_SERVING':
      return outcome.unhealthy('grpc_not_serving', `${plan.what} NOT_SERVING (${plan.target})`, metrics);
    case 'SERVICE_UNKNOWN':
      return outcome.unhealthy('grpc_service_unknown', `${plan.what} SERVICE_UNKNOWN to ${plan.target}`, metrics);
    default:
      // UNKNOWN (0) or a value newer than this code: not serving as far as we can tell.
      return outcome.unhealthy('grpc_not_serving', `${plan.what} status ${name} (${plan.target})`, metrics);
  }
}

/** The outcome of a call that ended with a non-OK gRPC status. */
function statusFailure(status: StatusObject, plan: GrpcPlan): ProbeOutcome {
  const name = grpcLib().grpc.status[status.code] ?? `code ${status.code}`;
  const details = cleanDetails(status.details);
  const text = `${name}: ${details}`;
  const metrics = { grpc_code: status.code };
  switch (status.code) {
    case Code.NOT_FOUND:
      return outcome.unhealthy('grpc_service_unknown', `${plan.what} unknown to ${plan.target}: ${text}`, metrics);
    case Code.UNIMPLEMENTED:
      return outcome.unhealthy('grpc_unimplemented', `no health service on ${plan.target}: ${text}`, metrics);
    case Code.DEADLINE_EXCEEDED:
      return outcome.unhealthy('timeout', `${text} (${plan.target})`, metrics);
    case Code.UNAVAILABLE:
      return outcome.unhealthy(unavailableReason(details), `${text} (${plan.target})`, metrics);
    default:
      return outcome.unhealthy('grpc_error', `${text} (${plan.target})`, metrics);
  }
}

const ERROR_CODE = /\b(E[A-Z]{3,}|ERR_[A-Z0-9_]+|CERT_[A-Z_]+|[A-Z]+_SELF_SIGNED_CERT[A-Z_]*|UNABLE_TO_[A-Z_]+)\b/;
const TLS_TEXT = /certificate|SSL routines|self[- ]signed|handshake|TLS|wrong version number|alert/i;

/**
 * The Reason of an UNAVAILABLE status. grpc-js reports connection failures
 * as UNAVAILABLE with the Node error only as text ("No connection
 * established. Last error: Error: connect ECONNREFUSED …"); the error code in
 * it maps with the same table as the other network checks, TLS failures by
 * their wording, a connection the peer closed as `connect_reset`, and
 * anything else is `unreachable`. Exported for tests.
 */
export function unavailableReason(details: string): Reason {
  if (details.startsWith('Name resolution failed')) return 'dns';
  const m = ERROR_CODE.exec(details);
  const byCode = m !== null ? reasonOfCode(m[1] as string) : undefined;
  if (byCode !== undefined) return byCode;
  if (TLS_TEXT.test(details)) return 'tls';
  // The peer closed the connection before HTTP/2 was up (e.g. plaintext to a TLS port), or during the call.
  if (/Failed to connect|Connection dropped/.test(details)) return 'connect_reset';
  return 'unreachable';
}

/** Drop grpc-js' empty "Resolution note" tail and keep the line short. */
function cleanDetails(details: string): string {
  return details
    .replace(/\.? Resolution note: ?$/, '')
    .replace(/[\r\n]+/g, ' ')
    .trim()
    .slice(0, 300);
}
