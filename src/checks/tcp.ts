import { connect, type Socket, type TcpNetConnectOpts } from 'node:net';
import type { CheckFactory, CheckRunner, CheckSpec, RunContext } from '../core/check.js';
import { outcome, type ProbeOutcome } from '../core/result.js';
import type { TcpCheckConfig } from '../config/kinds/tcp.js';
import { describeError, reasonFromError } from './errors.js';
import { armDelayMs, formatHostPort, formatMs, LazyAbortProbe, parseHostPort } from './probe-support.js';

/**
 * TCP check: connect (Nagle off), optionally send bytes and read until an
 * expected substring shows up. The socket is always destroyed at the end.
 *
 * Lean on purpose: the connect options and the send/expect buffers are built
 * once per check; a run allocates one probe object, and socket events go to
 * module-level functions (the probe hangs off the socket) instead of closures.
 * Like the http check, a probe reads ctx.signal only once it has run for
 * armDelayMs, which most never do.
 */

/** Turns the two-character sequences \r \n \t \0 \\ into the bytes they name. */
export function unescapeBytes(s: string): string {
  return s.replace(/\\([rnt0\\])/g, (_m, c: string) => (c === 'r' ? '\r' : c === 'n' ? '\n' : c === 't' ? '\t' : c === '0' ? '\0' : '\\'));
}

interface TcpPlan {
  connectOptions: TcpNetConnectOpts;
  target: string;
  send: Buffer | null;
  expect: Buffer | null;
  expectText: string;
  maxBytes: number;
  degradedAfterMs: number | undefined;
  armDelayMs: number;
}

/**
 * Builds a TCP runner (throws for an address without a port). Holds no socket
 * between runs, so close() has nothing to release.
 */
export const tcpCheck: CheckFactory<TcpCheckConfig> = (spec) => new TcpCheckRunner(compilePlan(spec));

function compilePlan(spec: CheckSpec<TcpCheckConfig>): TcpPlan {
  const c = spec.config;
  const { host, port: addrPort } = parseHostPort(c.address ?? spec.address);
  const port = c.port ?? addrPort;
  if (port === undefined) throw new Error(`no port in ${JSON.stringify(c.address ?? spec.address)} (set port)`);
  const expectText = c.expect !== undefined ? unescapeBytes(c.expect) : '';
  return {
    // Shared by every run: net.connect only reads it.
    connectOptions: { host, port, noDelay: true },
    target: formatHostPort(host, port),
    send: c.send !== undefined && c.send !== '' ? Buffer.from(unescapeBytes(c.send)) : null,
    expect: expectText !== '' ? Buffer.from(expectText) : null,
    expectText,
    maxBytes: c.max_bytes,
    degradedAfterMs: c.degraded_after,
    armDelayMs: armDelayMs(spec.timeoutMs),
  };
}

class TcpCheckRunner implements CheckRunner {
  constructor(readonly plan: TcpPlan) {}

  run(ctx: RunContext): Promise<ProbeOutcome> {
    return new Promise<ProbeOutcome>((resolve) => {
      new TcpProbe(this.plan, ctx, resolve).start();
    });
  }

  close(): void {}
}

const kProbe = Symbol('healthmesh.tcpProbe');
type ProbeSocket = Socket & { [kProbe]: TcpProbe };

function onConnect(this: ProbeSocket): void {
  this[kProbe].connected();
}
function onData(this: ProbeSocket, chunk: Buffer): void {
  this[kProbe].data(chunk);
}
function onEnd(this: ProbeSocket): void {
  this[kProbe].peerClosed();
}
function onFinish(this: ProbeSocket): void {
  this[kProbe].sent();
}
function onError(this: ProbeSocket, err: Error): void {
  this[kProbe].failed(err);
}

const PHASE_CONNECT = 'connecting';
const PHASE_SEND = 'sending';
const PHASE_EXPECT = 'waiting for expected bytes';

/** One run; also the listener of the run's AbortSignal. Settles once via finish(). */
class TcpProbe extends LazyAbortProbe {
  private socket: ProbeSocket | null = null;
  private phase = PHASE_CONNECT;
  /** Bytes read so far, copied only when the expected text spans chunks. */
  private buf: Buffer | null = null;
  private len = 0;

  constructor(
    private readonly plan: TcpPlan,
    ctx: RunContext,
    private readonly resolve: (o: ProbeOutcome) => void,
  ) {
    super(ctx);
  }

  start(): void {
    this.armLater(this.plan.armDelayMs);
    let socket: ProbeSocket;
    try {
      socket = connect(this.plan.connectOptions) as ProbeSocket;
    } catch (err) {
      this.failed(err);
      return;
    }
    socket[kProbe] = this;
    this.socket = socket;
    socket.on('error', onError);
    socket.once('connect', onConnect);
  }

  /** AbortSignal listener: the attempt timed out. */
  override handleEvent(): void {
    if (this.done) return;
    const elapsed = this.clock.now() - this.t0;
    const what = `timed out after ${formatMs(elapsed)} ${this.phase} (${this.plan.target})`;
    this.finish(outcome.unhealthy('timeout', what));
  }

  connected(): void {
    if (this.done) return;
    const plan = this.plan;
    const socket = this.socket as ProbeSocket;
    if (plan.expect !== null) {
      this.phase = PHASE_EXPECT;
      socket.on('data', onData);
      socket.on('end', onEnd);
      if (plan.send !== null) socket.write(plan.send);
    } else if (plan.send !== null) {
      // Healthy once the bytes are handed to the kernel, not merely queued.
      this.phase = PHASE_SEND;
      socket.once('finish', onFinish);
      socket.end(plan.send);
    } else {
      this.pass('connected');
    }
  }

  sent(): void {
    if (!this.done) this.pass(`connected, sent ${this.plan.send?.length ?? 0} bytes`);
  }

  data(chunk: Buffer): void {
    if (this.done) return;
    const plan = this.plan;
    const expect = plan.expect as Buffer;
    const max = plan.maxBytes;
    const room = max - this.len;
    const part = chunk.length <= room ? chunk : chunk.subarray(0, room);
    let found: boolean;
    if (this.len === 0) {
      found = part.indexOf(expect) >= 0;
      if (!found && part.length < max) {
        this.buf = Buffer.allocUnsafe(max);
        part.copy(this.buf, 0);
      } else if (!found) {
        this.buf = part;
      }
      this.len = part.length;
    } else {
      const buf = this.buf as Buffer;
      part.copy(buf, this.len);
      // Search only where a match can end inside the new bytes.
      const from = Math.max(0, this.len - expect.length + 1);
      this.len += part.length;
      found = buf.subarray(0, this.len).indexOf(expect, from) >= 0;
    }
    if (found) {
      this.pass(`found ${quote(plan.expectText)}`);
    } else if (this.len >= max) {
      this.finish(outcome.unhealthy('banner_mismatch', `no ${quote(plan.expectText)} in first ${this.len} bytes: ${preview(this.buf, this.len)}`));
    }
  }

  peerClosed(): void {
    if (this.done) return;
    const got = this.len === 0 ? 'nothing' : `${this.len} bytes: ${preview(this.buf, this.len)}`;
    this.finish(outcome.unhealthy('banner_mismatch', `peer closed before ${quote(this.plan.expectText)}; got ${got}`));
  }

  failed(err: unknown): void {
    if (this.done) return;
    this.finish(outcome.unhealthy(reasonFromError(err), describeError(err)));
  }

  private pass(what: string): void {
    const latency = this.clock.now() - this.t0;
    const after = this.plan.degradedAfterMs;
    if (after !== undefined && latency > after) {
      this.finish(outcome.degraded('slow', `${what} in ${formatMs(latency)}, over degraded_after ${formatMs(after)}`));
    } else {
      this.finish(outcome.healthy(`${what} in ${formatMs(latency)}`));
    }
  }

  private finish(result: ProbeOutcome): void {
    this.done = true;
    this.disarm();
    this.buf = null;
    // The 'error' listener stays: a destroyed socket may still report a late error.
    this.socket?.destroy();
    this.resolve(result);
  }
}

function quote(s: string): string {
  return JSON.stringify(s.length > 60 ? `${s.slice(0, 57)}...` : s);
}

/** First bytes read, as a quoted printable string. */
function preview(buf: Buffer | null, len: number): string {
  if (buf === null || len === 0) return '""';
  return quote(buf.toString('latin1', 0, Math.min(len, 60)));
}
