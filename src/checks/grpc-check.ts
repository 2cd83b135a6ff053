import type { Channel, StatusObject } from '@grpc/grpc-js';
import type { CheckRunner, RunContext } from '../core/check.js';
import type { Clock } from '../core/clock.js';
import { outcome, type ProbeOutcome } from '../core/result.js';
import { formatMs } from './probe-support.js';
import { Code, NO_CONTEXT, type CallListener, type RawCall } from './grpc-lib.js';
import { setupFailure, type Connection } from './grpc-plan.js';
import { servingOutcome, statusFailure } from './grpc-outcome.js';

/** The gRPC check in mode `check`: one unary Check call a run. */
export class GrpcCheckRunner implements CheckRunner {
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
        ? outcome.degraded('slow', `${served.output} in ${formatMs(latency)}, over degraded_after ${formatMs(after)}`, served.metrics)
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
