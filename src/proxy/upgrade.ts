/**
 * Upgraded connections (WebSocket, or any `Upgrade:` protocol) through the
 * proxy. The request goes to one instance the balancer picks, with the
 * Upgrade and `Connection: upgrade` the client asked for (both hop-by-hop,
 * so the ordinary header rules drop them) and the usual X-Forwarded-*.
 *
 * - 101 from the upstream: its head is relayed as is (interim 1xx heads
 *   before it too), then the bytes the client sent after its head, then
 *   bytes flow both ways untouched, with backpressure, until either side
 *   closes; the other side is closed then. Nothing of the client's goes
 *   upstream before the 101: an upstream that declines the upgrade would
 *   read it as more HTTP requests (smuggled past the routes). The balancer
 *   hears success once, at the 101.
 * - Any other answer (401, 426, 503...) is relayed as a response that closes
 *   its connection (framing re-done: the body is read by the checks'
 *   response parser, sent close-delimited or with its Content-Length).
 * - Connect failure, reset, a malformed head, or no head within the attempt
 *   timeout: 502/504 naming what happened, and the balancer hears a failure.
 *
 * No retry: the upstream may have acted on the request before failing.
 */
import { connect, type Socket } from 'node:net';
import type { Clock, TimerHandle } from '../core/clock.js';
import type { Reason } from '../core/result.js';
import { ResponseParser, responseHeadText, type ResponseSink } from '../http1/index.js';
import { clientResponseHeaders, isRelayable } from './headers.js';
import { countFailure, failureAnswer, rawErrorResponse, reportOutcome } from './exchange.js';
import { classifyError, type FailureKind } from './forward.js';
import type { InstanceCells } from './metrics.js';
import type { ProxyStats } from './proxy.js';
import { connectTarget } from './connect-target.js';
import type { PickedUpstream, UpstreamBalancer } from '../balancer/types.js';

/** Longest upstream response head read while waiting for the 101, bytes. */
const MAX_RESPONSE_HEAD_BYTES = 64 * 1024;

/** What a tunnel needs from the proxy. */
export interface TunnelHost {
  readonly clock: Clock;
  /** Attempt timeout: connect to response head, ms. */
  readonly timeoutMs: number;
  /** A tunnel silent both ways for this long is closed, ms. */
  readonly tunnelIdleMs: number;
  /** Failures are counted here like those of other attempts. */
  readonly counts: ProxyStats;
  /** Open tunnels; the proxy destroys what is left when it closes. */
  readonly tunnels: Set<Tunnel>;
  readonly via: string | undefined;
}

/** One upgrade request on its way, then one tunnel. */
export class Tunnel implements ResponseSink {
  private readonly upstream: Socket;
  private timer: TimerHandle | undefined;
  private readonly startedAt: number;
  /** The balancer and metrics were told (once). */
  private settled = false;
  private headBuf: Buffer | null = null;
  /** A non-101 answer being relayed through the parser. */
  private parser: ResponseParser | undefined;
  private reason = '';
  private headers: string[] = [];
  private closed = false;
  /** What the client sent after its head: held until the 101 (before it, the upstream would read it as HTTP). */
  private early: Buffer | null;
  /** Counted in the service's open tunnels (after the 101). */
  private open = false;

  constructor(
    private readonly host: TunnelHost,
    private readonly client: Socket,
    private readonly balancer: UpstreamBalancer,
    private readonly picked: PickedUpstream,
    private readonly cells: InstanceCells,
    /** Request line and headers to send, CRLF-terminated, then `early`: bytes the client sent after its head. */
    head: string,
    early: Buffer,
    /** The request was HEAD: a non-101 answer has no body. */
    private readonly noBody: boolean,
  ) {
    host.tunnels.add(this);
    this.startedAt = host.clock.now();
    cells.start();
    const up = connect(connectTarget(picked.address));
    this.upstream = up;
    up.setNoDelay(true);
    up.write(head, 'latin1');
    this.early = early.length > 0 ? early : null;
    up.on('data', this.onUpstreamHeadData);
    up.on('error', (err: Error) => this.failBeforeHead(classifyError(err)));
    up.on('close', () => this.upstreamClosed());
    client.on('error', () => {}); // 'close' follows
    client.on('close', () => this.clientClosed());
    // node:http's sockets allow half-open; a FIN before the answer means the client left (after a 101 the pipe relays it).
    client.on('end', () => {
      if (!this.settled) this.clientClosed();
    });
    this.timer = host.clock.setTimeout(() => this.failBeforeHead('timeout'), host.timeoutMs);
  }

  /** Close both sides (the proxy is closing). */
  destroy(): void {
    this.client.destroy();
    this.upstream.destroy();
  }

  private readonly onUpstreamHeadData = (chunk: Buffer): void => {
    let buf = this.headBuf === null ? chunk : Buffer.concat([this.headBuf, chunk]);
    this.headBuf = null;
    // Interim heads (100, 103) are relayed and the final one awaited, in a loop: one read may hold many.
    for (;;) {
      const end = buf.indexOf('\r\n\r\n');
      if (end === -1) {
        if (buf.length > MAX_RESPONSE_HEAD_BYTES) this.failBeforeHead('protocol');
        else if (buf.length > 0) this.headBuf = buf;
        return;
      }
      const status = /^HTTP\/1\.[01] (\d{3})[ \r]/.exec(buf.toString('latin1', 0, Math.min(end + 2, 64)));
      if (status === null) {
        this.failBeforeHead('protocol');
        return;
      }
      const code = status[1]!;
      if (code.startsWith('1') && code !== '101') {
        this.client.write(buf.subarray(0, end + 4));
        buf = buf.subarray(end + 4);
        continue;
      }
      this.upstream.off('data', this.onUpstreamHeadData);
      if (code === '101') this.switchProtocols(buf);
      else this.relayAnswer(buf);
      return;
    }
  };

  /** 101: relay the head and the new protocol's bytes that came with it, then pipe both ways. */
  private switchProtocols(buf: Buffer): void {
    this.settle(101);
    this.open = true;
    this.cells.owner.tunnels++;
    this.client.write(buf);
    if (this.early !== null) this.upstream.write(this.early);
    this.early = null;
    this.upstream.pipe(this.client);
    this.client.pipe(this.upstream);
    this.startIdle();
  }

  /** A peer that vanished without a FIN would hold both sockets for ever: silence both ways for this long ends the tunnel. */
  private startIdle(): void {
    let lastActive = this.host.clock.now();
    const active = (): void => {
      lastActive = this.host.clock.now();
    };
    this.client.on('data', active);
    this.upstream.on('data', active);
    const check = (): void => {
      if (this.closed) return;
      const idle = this.host.clock.now() - lastActive;
      if (idle >= this.host.tunnelIdleMs) this.destroy();
      else this.timer = this.host.clock.setTimeout(check, this.host.tunnelIdleMs - idle);
    };
    this.timer = this.host.clock.setTimeout(check, this.host.tunnelIdleMs);
  }

  /** Any other status: read it with the response parser and relay it as a response that closes its connection. */
  private relayAnswer(buf: Buffer): void {
    this.early = null; // not upgraded: the client's next bytes are not for the upstream
    this.parser = new ResponseParser(this, this.noBody);
    this.startIdle();
    this.upstream.on('data', (chunk: Buffer) => this.parser?.execute(chunk, 0, chunk.length));
    this.upstream.on('end', () => this.parser?.eof());
    this.parser.execute(buf, 0, buf.length);
  }

  // ResponseSink (non-101 answers)

  onStatus(_status: number, _minor: number, reason: string): void {
    this.reason = reason;
    this.headers = [];
  }

  onHeader(name: string, value: string, clean: boolean): void {
    if (!isRelayable(value, clean)) {
      this.parser?.stop();
      this.onFail('protocol', 'upstream header with control characters');
      return;
    }
    this.headers.push(name, value);
  }

  onHead(status: number): void {
    this.settle(status);
    const headers = clientResponseHeaders(this.headers, this.host.via);
    this.client.write(responseHeadText(status, this.reason, [...headers, 'connection', 'close']), 'latin1');
  }

  onBody(chunk: Buffer, start: number, end: number): void {
    // A copy: the chunk may be a view of a reused buffer. Backpressure: the upstream pauses while the client is slow.
    if (!this.client.write(Buffer.from(chunk.subarray(start, end)))) {
      this.upstream.pause();
      this.client.once('drain', () => this.upstream.resume());
    }
  }

  onEnd(): void {
    this.parser = undefined;
    this.upstream.destroy();
    this.endClient();
  }

  /** Nothing more to relay: close the client once what it is owed is written (node:http's destroySoon). */
  private endClient(): void {
    if (!this.client.destroyed) this.client.end(() => this.client.destroy());
  }

  onFail(_reason: Reason, _message: string): void {
    this.parser = undefined;
    if (!this.settled) this.failBeforeHead('protocol');
    else this.destroy();
  }

  /** No usable head: answer the client with our own error, tell the balancer, close both. */
  private failBeforeHead(kind: FailureKind): void {
    if (this.settled) {
      this.destroy();
      return;
    }
    this.settle(undefined);
    countFailure(this.host.counts, kind);
    this.upstream.destroy();
    const answer = failureAnswer(kind);
    answerRaw(this.client, answer.status, { error: answer.error, instance: this.picked.id });
  }

  /** Tell the balancer and the metrics how the attempt went (status undefined: transport failure). */
  private settle(status: number | undefined): void {
    if (this.settled) return;
    this.settled = true;
    if (this.timer !== undefined) this.host.clock.clearTimeout(this.timer);
    this.timer = undefined;
    reportOutcome(this.balancer, this.picked.id, this.cells, status, this.host.clock.now() - this.startedAt);
  }

  private upstreamClosed(): void {
    if (!this.settled) {
      this.failBeforeHead('reset');
      return;
    }
    if (this.parser === undefined) this.endClient(); // a tunnel's upstream side ended: so does the client's
    this.leaveOpenCount();
  }

  /** No longer an open tunnel in the service's gauge (once). */
  private leaveOpenCount(): void {
    if (!this.open) return;
    this.open = false;
    this.cells.owner.tunnels--;
  }

  private clientClosed(): void {
    if (!this.settled) {
      // Gone before the upstream answered: no verdict on the instance.
      this.settled = true;
      this.host.counts.failures.clientAbort++;
      this.cells.inFlight--;
      this.balancer.release(this.picked.id);
    }
    this.upstream.destroy();
    this.client.destroy();
    this.forget();
  }

  private forget(): void {
    if (this.closed) return;
    this.closed = true;
    this.leaveOpenCount();
    if (this.timer !== undefined) this.host.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.host.tunnels.delete(this);
  }
}

/** One of the proxy's JSON errors on a raw client socket (no HTTP machinery left on it), then close. */
export function answerRaw(socket: Socket, status: number, body: Record<string, string | number>): void {
  if (socket.destroyed) return;
  socket.end(rawErrorResponse(status, body, true), () => socket.destroy());
}
