/**
 * The lean engine's client side: one object per client connection on a raw
 * `net` socket, reading request heads itself (http1/request-head.ts, strict) and
 * writing responses straight to the socket, one request at a time
 * (pipelined requests wait in the read buffer for their turn).
 *
 * Only body-less HTTP/1.1 requests are served here. The first request with
 * a body, an Upgrade, an Expect or HTTP/1.0 hands the connection over to
 * node:http for the rest of its life: the bytes read but not yet used go
 * back into the socket (unshift) and the node:http server gets the socket as
 * a new connection, so it parses that request (and any pipelined after it)
 * from its first byte.
 */
import type { Socket } from 'node:net';
import { headLength, isNamed, MAX_REQUEST_HEAD_BYTES, putHead, putLatin1, readRequestHead, statusLine, type RequestHeadOk } from '../http1/index.js';
import type { DeadlineEntry, DeadlineQueue } from './deadlines.js';
import { rawErrorResponse, type ClientSide } from './exchange.js';
import { adoptWithSharedBuffer } from './shared-read.js';
import type { BatchedWriter, WriteBatch } from './write-batch.js';

/** What a lean connection needs from the proxy it belongs to. */
export interface LeanHost {
  /** Serve one request; the answer comes through the connection's ClientSide methods. */
  serveLean(conn: LeanConnection, head: RequestHeadOk): void;
  /** Give the socket to node:http (its bytes already unshifted). */
  handOver(socket: Socket): void;
  /** Time allowed from the end of a response (or the accept) to a complete request head: keep-alive idle and slow heads alike. */
  readonly headDeadlines: DeadlineQueue<LeanConnection>;
  /** Open lean connections (closed with the proxy). */
  readonly connections: Set<LeanConnection>;
  /** Where small response writes wait for the end of the current batch of socket events. */
  readonly writes: WriteBatch;
}

/** Bytes of pipelined requests read ahead while one is served; past it the socket pauses. */
const MAX_READ_AHEAD_BYTES = 64 * 1024;

/** Largest first body chunk sent in the same write as the head (copied into one Buffer), bytes. */
const MERGE_BYTES = 16 * 1024;

/**
 * One read buffer for every lean client socket of the process (see
 * shared-read.ts): a read is handled before the next one, and what outlives
 * the callback (a partial head, pipelined requests) is copied.
 */
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);

/** The lines a response head ends with, by (chunked ? 1 : 0) | (closing ? 2 : 0). */
const HEAD_TAILS = ['\r\n', 'transfer-encoding: chunked\r\n\r\n', 'connection: close\r\n\r\n', 'transfer-encoding: chunked\r\nconnection: close\r\n\r\n'];
const NO_HEADERS: readonly string[] = [];

/** A flat header list with only the first Content-Length (the parser let repeats through only when equal). */
function withoutRepeatedContentLength(headers: readonly string[]): string[] {
  const out: string[] = [];
  let seen = false;
  for (let i = 0; i < headers.length; i += 2) {
    if (isNamed(headers[i]!, 'content-length')) {
      if (seen) continue;
      seen = true;
    }
    out.push(headers[i]!, headers[i + 1]!);
  }
  return out;
}

const kLean = Symbol('healthmesh.leanConnection');
/** The lean connection reading the socket; undefined once it was handed over to node:http. */
type LeanSocket = Socket & { [kLean]?: LeanConnection };

// A module function, `this` being the socket: no closure per connection.
function onRead(this: Socket, nread: number, buf: Buffer): boolean {
  const conn = (this as LeanSocket)[kLean];
  if (conn !== undefined) {
    conn.received(buf, nread);
    return true;
  }
  // Handed over: whoever has the socket now (node:http, a tunnel) reads it as a stream, as from any socket.
  return this.push(Buffer.from(buf.subarray(0, nread)));
}

/**
 * Serve a connection the proxy's server accepted (created with
 * pauseOnConnect, see shared-read.ts) with the lean engine; returns the
 * socket now carrying it (the server no longer counts it), undefined when
 * the connection was already gone.
 */
export function acceptLean(accepted: Socket, host: LeanHost): Socket | undefined {
  const socket = adoptWithSharedBuffer(accepted, READ_BUFFER, onRead);
  if (socket === undefined) return undefined;
  socket.on('error', () => {}); // 'close' follows
  new LeanConnection(socket, host);
  return socket;
}

/** One client connection of the lean engine, and the ClientSide of its current exchange. */
export class LeanConnection implements ClientSide, DeadlineEntry, BatchedWriter {
  deadline = 0;
  prevDeadline: LeanConnection | undefined = undefined;
  nextDeadline: LeanConnection | undefined = undefined;
  queued = false;

  /** Bytes read and not yet used: buf[start, buf.length). */
  private buf: Buffer | null = null;
  /** `buf` is a view of READ_BUFFER (during a read callback only). */
  private bufShared = false;
  /** Bytes read are ignored from now on (closing, or the socket belongs to node:http). */
  private ignoreReads = false;
  private start = 0;
  /** How far the current head was searched already. */
  private scanned = 0;
  /** A request is being served. */
  private busy = false;
  private inNext = false;
  /** Closing after the current response: Connection: close, or the client half-closed. */
  private closeAfter = false;
  private closed = false;
  private handedOver = false;
  // The current response.
  private headSent = false;
  private chunked = false;
  private bodyless = false;
  private done = false;
  /** The response head is held until the first body bytes (or the end of the upstream read) to leave in the same write... */
  private headPending = false;
  /** ...as its status line, headers and the connection's own lines up to the blank line (see http1/head-bytes.ts). */
  private headLine = '';
  private headHeaders: readonly string[] = NO_HEADERS;
  private headTail = '';
  private closeFn: (() => void) | undefined = undefined;
  /** Response bytes waiting in host.writes for the end of this batch of events (a string is latin1)... */
  private out: string | Buffer | undefined = undefined;
  /** ...and what was queued after a Buffer (a chunked response's last chunk), rarely. */
  private outMore: (string | Buffer)[] | undefined = undefined;

  private readonly onEnd = (): void => this.ended();
  private readonly onError = (): void => {}; // 'close' follows
  private readonly onClosed = (): void => this.socketClosed();

  constructor(
    readonly socket: Socket,
    private readonly host: LeanHost,
  ) {
    (socket as LeanSocket)[kLean] = this;
    host.connections.add(this);
    host.headDeadlines.add(this);
    socket.on('end', this.onEnd);
    socket.on('error', this.onError);
    socket.on('close', this.onClosed);
  }

  /** Client IP as node:http reports it. */
  remoteAddress(): string {
    return this.socket.remoteAddress ?? '';
  }

  /** No complete head in time (keep-alive idle or a slow head). */
  expire(): void {
    this.socket.destroy();
  }

  /** The proxy is stopping: an idle connection closes now, a busy one after its response (which says Connection: close if its head is not out yet). */
  drain(): void {
    if (!this.busy) {
      // Idle, but what it last answered may still be on its way (the write batch, a slow client): close once written.
      this.closeAfter = true;
      this.stopReading();
      this.flushBatched();
      this.socket.end(() => this.socket.destroy());
      return;
    }
    this.closeAfter = true;
  }

  private stopReading(): void {
    this.ignoreReads = true;
    this.buf = null;
  }

  /** shared[0, nread) was read: a view of READ_BUFFER, so whatever is still unused when this returns is copied. */
  received(shared: Buffer, nread: number): void {
    if (this.ignoreReads) return;
    if (this.buf === null) {
      this.buf = shared.subarray(0, nread);
      this.bufShared = true;
      this.start = 0;
      this.scanned = 0;
    } else {
      this.buf = Buffer.concat([this.buf.subarray(this.start), shared.subarray(0, nread)]);
      this.bufShared = false;
      this.scanned = Math.max(0, this.scanned - this.start);
      this.start = 0;
    }
    if (!this.busy) this.next();
    const buf = this.buf;
    if (buf === null) return;
    if (this.bufShared) {
      this.buf = Buffer.from(buf.subarray(this.start));
      this.bufShared = false;
      this.scanned -= this.start;
      this.start = 0;
    }
    if (this.busy && this.buf.length - this.start > MAX_READ_AHEAD_BYTES) this.socket.pause();
  }

  /** Serve the requests whose heads are complete, one at a time. */
  private next(): void {
    this.inNext = true;
    try {
      while (!this.busy && !this.closed && !this.handedOver && this.buf !== null) {
        const buf = this.buf;
        const head = readRequestHead(buf, this.start, this.scanned);
        if (head === undefined) {
          if (buf.length - this.start > MAX_REQUEST_HEAD_BYTES) this.refuse(431, 'request_head_too_large');
          else this.scanned = buf.length;
          return;
        }
        if (!head.ok) {
          this.refuse(head.status, head.code);
          return;
        }
        if (head.minor === 0 || head.special || head.contentLength > 0 || head.chunked) {
          this.handOverNow();
          return;
        }
        if (head.end >= buf.length) this.buf = null;
        else this.start = this.scanned = head.end;
        this.host.headDeadlines.remove(this);
        this.busy = true;
        this.closeAfter = head.close;
        this.headSent = false;
        this.chunked = false;
        this.bodyless = head.method === 'HEAD';
        this.done = false;
        this.headPending = false;
        this.headHeaders = NO_HEADERS;
        this.closeFn = undefined;
        this.host.serveLean(this, head);
      }
    } finally {
      this.inNext = false;
    }
  }

  /** A head the lean reader refuses: answer and close (the rest of the stream cannot be trusted). */
  private refuse(status: number, code: string): void {
    this.host.headDeadlines.remove(this);
    this.busy = true;
    this.closeAfter = true;
    this.stopReading();
    this.writeAnswer(status, { error: code });
  }

  private handOverNow(): void {
    this.handedOver = true;
    this.host.headDeadlines.remove(this);
    this.host.connections.delete(this);
    this.flushBatched(); // the previous response goes before node:http's
    const s = this.socket as LeanSocket;
    s[kLean] = undefined;
    s.off('end', this.onEnd);
    s.off('error', this.onError);
    s.off('close', this.onClosed);
    // A copy: the bytes are read again after this read callback (READ_BUFFER is reused by then).
    const rest = this.buf === null ? null : Buffer.from(this.buf.subarray(this.start));
    this.stopReading();
    if (rest !== null && rest.length > 0) s.unshift(rest);
    this.host.handOver(s);
    if (s.isPaused()) s.resume();
  }

  /**
   * The client half-closed. As node:http does (httpAllowHalfOpen off), that
   * is the end of the exchange: a request in flight is aborted (its upstream
   * request closed, the instance released) rather than answered to a client
   * that may be gone.
   */
  private ended(): void {
    if (this.busy) {
      this.flushBatched(); // a pipelined request's finished response still goes out
      this.socket.destroy();
    } else {
      this.flushBatched();
      this.socket.end(() => this.socket.destroy());
    }
  }

  private socketClosed(): void {
    this.closed = true;
    this.buf = null;
    this.out = undefined;
    this.outMore = undefined;
    this.host.headDeadlines.remove(this);
    this.host.connections.delete(this);
    const fn = this.closeFn;
    this.closeFn = undefined;
    if (this.busy && fn !== undefined) fn();
  }

  /** The current response is complete: close, or wait for the next head. */
  private finishResponse(): void {
    this.done = true;
    this.busy = false;
    this.closeFn = undefined;
    if (this.closed) return;
    if (this.closeAfter) {
      this.stopReading();
      this.flushBatched();
      // Close once written (node:http's destroySoon).
      this.socket.end(() => this.socket.destroy());
      return;
    }
    this.host.headDeadlines.add(this);
    if (this.socket.isPaused()) this.socket.resume();
    if (!this.inNext) this.next();
  }

  // ClientSide

  onClose(fn: () => void): void {
    this.closeFn = fn;
  }

  finished(): boolean {
    return this.done;
  }

  writeHead(status: number, statusText: string, headers: string[]): void {
    let length = false;
    let list: readonly string[] = headers;
    for (let i = 0; i < headers.length; i += 2) {
      if (!isNamed(headers[i]!, 'content-length')) continue;
      // The parser accepted repeats only when equal; one goes on.
      if (length) {
        list = withoutRepeatedContentLength(headers);
        break;
      }
      length = true;
    }
    if (status === 204 || status === 304) this.bodyless = true;
    this.chunked = !this.bodyless && !length;
    // Held: head and the first body bytes (usually in the same upstream read) leave in one write (see flush).
    this.headLine = statusLine(status, statusText);
    this.headHeaders = list;
    this.headTail = HEAD_TAILS[(this.chunked ? 1 : 0) | (this.closeAfter ? 2 : 0)]!;
    this.headPending = true;
    this.headSent = true;
  }

  write(chunk: Buffer): boolean {
    // An empty chunk would read as the last one in chunked framing.
    if (this.closed || chunk.length === 0) return true;
    const s = this.socket;
    if (this.bodyless) {
      if (this.headPending) this.flush();
      return true;
    }
    if (this.headPending) {
      if (chunk.length <= MERGE_BYTES) {
        // Head and body copied into one buffer: one write syscall.
        const size = this.chunked ? `${chunk.length.toString(16)}\r\n` : '';
        const out = Buffer.allocUnsafe(this.headLength() + size.length + chunk.length + (this.chunked ? 2 : 0));
        let at = putLatin1(out, this.takeHead(out), size);
        at += chunk.copy(out, at);
        if (this.chunked) putLatin1(out, at, '\r\n');
        this.send(out);
        return true;
      }
      this.flushBatched();
      s.cork();
      s.write(this.headBytes(''));
      const ok = this.writeBody(chunk);
      s.uncork();
      return ok;
    }
    return this.writeBody(chunk);
  }

  /** Bytes of the held head. */
  private headLength(): number {
    return headLength(this.headLine, this.headHeaders, this.headTail);
  }

  /** Writes the held head at out[0], no longer held, and lets go of its headers (an idle connection keeps none); returns the offset past it. */
  private takeHead(out: Buffer): number {
    const at = putHead(out, this.headLine, this.headHeaders, this.headTail);
    this.headPending = false;
    this.headHeaders = NO_HEADERS;
    return at;
  }

  /** The held head, then `after`, as one Buffer. */
  private headBytes(after: string): Buffer {
    const out = Buffer.allocUnsafe(this.headLength() + after.length);
    putLatin1(out, this.takeHead(out), after);
    return out;
  }

  /** `chunk` is a view of the upstream side's shared read buffer (see ClientSide.write): the socket gets a copy. */
  private writeBody(chunk: Buffer): boolean {
    const s = this.socket;
    this.flushBatched();
    const copy = Buffer.from(chunk);
    if (!this.chunked) return s.write(copy);
    s.cork();
    s.write(`${chunk.length.toString(16)}\r\n`, 'latin1');
    s.write(copy);
    const ok = s.write('\r\n', 'latin1');
    s.uncork();
    return ok;
  }

  flush(): void {
    if (!this.headPending || this.closed) return;
    this.send(this.headBytes(''));
  }

  /** Queue bytes (a string is latin1) for the end of this batch of events (see write-batch.ts). */
  private send(bytes: string | Buffer): void {
    const out = this.out;
    if (out === undefined) {
      this.out = bytes;
      this.host.writes.add(this);
    } else if (this.outMore === undefined && typeof out === 'string' && typeof bytes === 'string') {
      this.out = out + bytes;
    } else {
      this.outMore ??= [];
      this.outMore.push(bytes);
    }
  }

  flushBatched(): void {
    const out = this.out;
    if (out === undefined) return;
    const more = this.outMore;
    this.out = undefined;
    this.outMore = undefined;
    const s = this.socket;
    if (this.closed || s.destroyed) return; // destroy() earlier in this batch: 'close' is still to come
    if (more === undefined) {
      s.write(out, 'latin1');
      return;
    }
    s.cork();
    s.write(out, 'latin1');
    for (const bytes of more) s.write(bytes, 'latin1');
    s.uncork();
  }

  onceDrain(fn: () => void): void {
    this.socket.once('drain', fn);
  }

  end(): void {
    if (this.done) return;
    if (!this.closed) {
      const last = this.chunked ? '0\r\n\r\n' : '';
      if (this.headPending) this.send(this.headBytes(last));
      else if (last !== '') this.send(last);
    }
    this.finishResponse();
  }

  destroy(): void {
    this.socket.destroy();
  }

  answer(status: number, body: Record<string, string | number>): void {
    if (this.done || this.closed) return;
    if (this.headSent) {
      this.socket.destroy();
      return;
    }
    this.writeAnswer(status, body);
  }

  private writeAnswer(status: number, body: Record<string, string | number>): void {
    this.flushBatched(); // a pipelined request's response before this one
    this.headSent = true;
    this.socket.write(rawErrorResponse(status, body, this.closeAfter));
    this.finishResponse();
  }
}
