import type { CheckRunner, RunContext } from '../core/check.js';
import { outcome, type ProbeOutcome, type Reason } from '../core/result.js';
import { Http1Exchange, type Http1Target, type ResponseSink } from '../http1/index.js';
import type { HttpPlan } from './http-plan.js';
import { PHASE_CONNECT, ProbeBase } from './http-judge.js';

/**
 * The runner for plain http without connection reuse: every run is a new
 * connection carrying the check's pre-encoded request (http1/client.ts). Holds no
 * connection between runs; close() ends the runs in flight as `aborted`.
 */
export class LeanHttpRunner implements CheckRunner {
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
