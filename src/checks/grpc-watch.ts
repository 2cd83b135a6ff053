import type { Channel, StatusObject } from '@grpc/grpc-js';
import type { CheckDeps, CheckRunner, PushListener, RunContext } from '../core/check.js';
import type { Clock, TimerHandle } from '../core/clock.js';
import { outcome, type ProbeOutcome } from '../core/result.js';
import { describeError } from './errors.js';
import { formatMs } from './probe-support.js';
import { Code, NO_CONTEXT, type CallListener, type RawCall } from './grpc-lib.js';
import { setupFailure, type Connection } from './grpc-plan.js';
import { servingOutcome, statusFailure } from './grpc-outcome.js';

/** Watch stream reconnect backoff: first wait, cap (ms), and ± jitter share. */
const WATCH_BACKOFF_INITIAL_MS = 100;
const WATCH_BACKOFF_MAX_MS = 5_000;
const WATCH_BACKOFF_JITTER = 0.2;
/** Least time between two onPush calls (ms): a server flipping status fast cannot flood the owner. */
const PUSH_MIN_GAP_MS = 100;

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
export class GrpcWatchRunner implements CheckRunner {
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
    this.settle(outcome.unhealthy('timeout', `no Watch status within ${formatMs(elapsed)} (${this.runner.conn.plan.target})`));
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
