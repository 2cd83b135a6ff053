/**
 * The lean engine's upstream side: keep-alive raw sockets per upstream
 * address, one request at a time on each (no pipelining), responses read by
 * the shared incremental response parser (http1/response-parser.ts), so framing,
 * head caps and the strictness of both agree.
 *
 * It drives an attempt through the same callbacks undici's dispatch does
 * (onConnect / onHeaders / onData / onComplete / onError, false from onData
 * pauses until resume()), so forward.ts' Attempt and exchange.ts serve both
 * engines unchanged.
 *
 * A connection goes back to its pool only when the response ended cleanly on
 * an HTTP/1.1 keep-alive connection with no stray bytes after it; anything
 * else (Connection: close, HTTP/1.0, read-until-close, a failure, an abort)
 * closes it.
 */
import { connect, type Socket } from 'node:net';
import type { Reason } from '../core/result.js';
import { isNamed, RepeatedFields, requestHeadBytes, ResponseParser, type ResponseSink } from '../http1/index.js';
import type { UpstreamRequest } from './exchange.js';
import { isRelayable } from './headers.js';
import { connectTarget } from './connect-target.js';
import { WriteBatch, type BatchedWriter } from './write-batch.js';

/** What an upstream attempt must implement (forward.ts' Attempt does; the subset of undici's DispatchHandler used). */
export interface LeanHandler {
  /** Called once at dispatch with the function that aborts this request. */
  onConnect(abort: (err?: Error) => void): void;
  onHeaders(status: number, raw: string[], resume: () => void, statusText: string): boolean;
  /**
   * A body chunk: a view of a read buffer shared by every upstream socket,
   * valid during the call only (copy what is kept). false: the reader is
   * slow; the socket pauses until resume() (given to onHeaders).
   */
  onData(chunk: Buffer): boolean;
  onComplete(trailers: null): void;
  onError(err: Error): void;
  /** Optional: one socket read was parsed and the response goes on (a head held back for the body can leave now). */
  onReadEnd?(): void;
}

/** Options of {@link LeanUpstreams}. */
export interface LeanUpstreamOptions {
  /** Longest silence on a busy connection (between body reads, or before headers past the proxy's own timeout), ms. */
  bodyIdleTimeoutMs: number;
  /** clock.now(), ms: when connections went idle. */
  now: () => number;
  /** Open connections per address; requests past it wait in a FIFO. */
  maxConnectionsPerAddress?: number;
  /** A connection idle longer than this is not reused (the upstream may have closed it meanwhile), ms; default 4000 (undici's keep-alive). */
  idleReuseMs?: number;
  /** Where request heads wait for the end of the current batch of socket events (see write-batch.ts); default: a batch of their own. */
  writes?: WriteBatch;
}

/** Methods a stale keep-alive connection may replay on a fresh one (idempotent, RFC 9110 §9.2.2). */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);

/** Default cap of open connections per upstream address. */
export const MAX_CONNECTIONS_PER_ADDRESS = 1024;

/**
 * One read buffer for every upstream socket of the process (`onread`): the
 * callback runs synchronously after each read, before the next one, so no
 * Buffer is allocated per read and node's Readable machinery is skipped. What
 * outlives the callback is copied (body chunks, a line split across reads).
 */
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);

const kConn = Symbol('healthmesh.leanUpstream');
type ConnSocket = Socket & { [kConn]: UpstreamConnection };

// A module function, `this` being the socket (as http1/client.ts does): no closure per connection.
function onRead(this: ConnSocket, nread: number, buf: Buffer): boolean {
  this[kConn].onSocketData(buf, nread);
  return true;
}

/** An error with a code classifyError (forward.ts) knows. */
function coded(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

/** One request on its way: queued, then on a connection; the handle abort() works through. */
class Ticket {
  conn: UpstreamConnection | undefined = undefined;
  queued = false;
  done = false;
  /** Sent again once on a fresh connection after a reused one turned out closed. */
  staleRetried = false;

  constructor(
    readonly pool: AddressPool,
    readonly request: UpstreamRequest,
    readonly head: Buffer,
    readonly handler: LeanHandler,
  ) {}

  readonly abort = (err?: Error): void => {
    if (this.done) return;
    const reason = err ?? new Error('aborted');
    if (this.queued) {
      this.pool.unqueue(this);
      this.done = true;
      this.handler.onError(reason);
    } else if (this.conn !== undefined) {
      this.conn.fail(reason);
    } else {
      // Aborted from onConnect, before it reached a connection or the queue.
      this.done = true;
      this.handler.onError(reason);
    }
  };
}

/** One keep-alive connection to an upstream. */
class UpstreamConnection implements ResponseSink, BatchedWriter {
  readonly socket: Socket;
  ticket: Ticket | undefined = undefined;
  private parser: ResponseParser | undefined = undefined;
  /** The previous response's header fields: most repeat, and then make no string. */
  private readonly repeats = new RepeatedFields();
  private headers: string[] = [];
  private reason = '';
  /** Reusable after this response (HTTP/1.1, no Connection: close). */
  private keepAlive = true;
  /** The parser reported the end inside execute(); finished after it returns. */
  private completed = false;
  /** Bytes received for the current request (0: the upstream never answered it). */
  private received = 0;
  /** Taken from the idle list at least once: a failure before any byte may be a keep-alive race. */
  reused = false;
  idleSince = 0;
  closed = false;
  /** The request head, waiting in the write batch. */
  private out: Buffer | undefined = undefined;
  readonly resume = (): void => {
    if (!this.closed) this.socket.resume();
  };

  constructor(
    readonly pool: AddressPool,
    timeoutMs: number,
  ) {
    const s = connect({ host: pool.host, port: pool.port, onread: { buffer: READ_BUFFER, callback: onRead } }) as ConnSocket;
    s[kConn] = this;
    this.socket = s;
    s.setNoDelay(true);
    s.setTimeout(timeoutMs);
    s.on('end', () => this.onSocketEnd());
    s.on('error', (err) => this.onSocketError(err));
    s.on('close', () => this.onSocketClose());
    s.on('timeout', () => this.fail(coded('HM_UPSTREAM_IDLE_TIMEOUT', 'upstream connection idle past the body timeout')));
  }

  /** Send `t` on this connection. */
  start(t: Ticket): void {
    this.ticket = t;
    t.conn = this;
    this.parser = new ResponseParser(this, t.request.method === 'HEAD', this.repeats);
    this.keepAlive = true;
    this.completed = false;
    this.received = 0;
    this.out = t.head;
    this.pool.options.writes.add(this);
  }

  flushBatched(): void {
    const out = this.out;
    if (out === undefined) return;
    this.out = undefined;
    if (!this.closed) this.socket.write(out);
  }

  // ResponseSink

  onStatus(_status: number, minor: number, reason: string): void {
    this.headers = [];
    this.reason = reason;
    if (minor === 0) this.keepAlive = false;
  }

  onHeader(name: string, value: string, clean: boolean): void {
    if (!isRelayable(value, clean)) {
      this.parser?.stop();
      this.fail(coded('HPE_LEAN_INVALID_HEADER', `upstream header ${name} has control characters`));
      return;
    }
    if (isNamed(name, 'connection') && /(^|,)\s*close\s*(,|$)/i.test(value)) this.keepAlive = false;
    this.headers.push(name, value);
  }

  onHead(status: number): void {
    this.ticket?.handler.onHeaders(status, this.headers, this.resume, this.reason);
  }

  onBody(chunk: Buffer, start: number, end: number): void {
    const t = this.ticket;
    if (t === undefined) return;
    // A view of the shared read buffer, valid during the call only: the client side copies what it keeps (LeanHandler.onData).
    if (!t.handler.onData(chunk.subarray(start, end)) && !this.closed) this.socket.pause();
  }

  onEnd(): void {
    this.completed = true;
  }

  onFail(reason: Reason, message: string): void {
    this.fail(coded(reason === 'protocol' ? 'HPE_LEAN_PROTOCOL' : 'ECONNRESET', message));
  }

  // Socket events

  /** buf[0, nread) was read. */
  onSocketData(buf: Buffer, nread: number): void {
    const p = this.parser;
    if (p === undefined) {
      // Bytes nobody asked for (on an idle connection): whatever they are, this connection is no longer in step.
      this.destroy();
      return;
    }
    this.received += nread;
    const stop = p.execute(buf, 0, nread);
    if (this.parser !== p) return; // failed or aborted meanwhile
    if (this.completed) {
      if (stop < nread) this.keepAlive = false;
      this.finish();
    } else {
      this.ticket?.handler.onReadEnd?.();
    }
  }

  private onSocketEnd(): void {
    const p = this.parser;
    if (p === undefined || this.ticket === undefined) {
      this.destroy();
      return;
    }
    if (this.retryStale()) return;
    this.keepAlive = false;
    p.eof(); // a read-until-close body ends here; anything else fails
    if (this.completed && this.parser === p) this.finish();
  }

  private onSocketError(err: Error): void {
    if (this.retryStale()) return;
    this.fail(err);
  }

  private onSocketClose(): void {
    this.closed = true;
    this.pool.forget(this);
    if (this.ticket !== undefined) this.fail(coded('ECONNRESET', 'upstream connection closed'));
  }

  /**
   * A reused connection that closed before any byte of the answer: the
   * upstream closed it while idle, racing our request. Sent again once on a
   * fresh connection when replaying is harmless: an idempotent method (RFC
   * 9110 §9.2.2; the upstream may have seen it) and no body.
   */
  private retryStale(): boolean {
    const t = this.ticket;
    if (t === undefined || !this.reused || this.received > 0 || t.staleRetried || !IDEMPOTENT.has(t.request.method)) return false;
    t.staleRetried = true;
    this.ticket = undefined;
    this.parser = undefined;
    t.conn = undefined;
    this.destroy();
    this.pool.startFresh(t);
    return true;
  }

  /** The response ended: back to the pool (or closed), then tell the handler. */
  private finish(): void {
    const t = this.ticket!;
    this.ticket = undefined;
    this.parser = undefined;
    this.completed = false;
    t.done = true;
    t.conn = undefined;
    if (this.keepAlive && !this.closed) {
      if (this.socket.isPaused()) this.socket.resume();
      this.pool.release(this);
    } else {
      this.destroy();
    }
    t.handler.onComplete(null);
  }

  /** The request failed (or was aborted): close, then tell the handler once. */
  fail(err: Error): void {
    const t = this.ticket;
    this.ticket = undefined;
    this.parser?.stop();
    this.parser = undefined;
    this.destroy();
    if (t !== undefined && !t.done) {
      t.done = true;
      t.conn = undefined;
      t.handler.onError(err);
    }
  }

  destroy(): void {
    this.out = undefined;
    if (!this.closed) {
      this.closed = true;
      this.socket.destroy();
    }
    this.pool.forget(this);
  }
}

/** Connections to one address. */
class AddressPool {
  readonly host: string;
  readonly port: number;
  private readonly idle: UpstreamConnection[] = [];
  private readonly all = new Set<UpstreamConnection>();
  private readonly queue: Ticket[] = [];
  private closed = false;

  constructor(
    address: string,
    readonly options: Required<LeanUpstreamOptions>,
  ) {
    ({ host: this.host, port: this.port } = connectTarget(address));
  }

  /** Connections open (busy or idle). */
  size(): number {
    return this.all.size;
  }

  /** Requests on a connection or waiting for one. */
  busy(): number {
    return this.all.size - this.idle.length + this.queue.length;
  }

  dispatch(t: Ticket): void {
    t.handler.onConnect(t.abort);
    if (t.done) return;
    if (this.closed) {
      t.done = true;
      t.handler.onError(coded('ECONNRESET', 'proxy closing'));
      return;
    }
    const now = this.options.now();
    let conn = this.idle.pop();
    while (conn !== undefined && now - conn.idleSince > this.options.idleReuseMs) {
      conn.destroy();
      conn = this.idle.pop();
    }
    if (conn !== undefined) {
      conn.reused = true;
      conn.start(t);
    } else if (this.all.size < this.options.maxConnectionsPerAddress) {
      this.startFresh(t);
    } else {
      t.queued = true;
      this.queue.push(t);
    }
  }

  /** Send `t` on a new connection. */
  startFresh(t: Ticket): void {
    if (this.closed) {
      t.done = true;
      t.handler.onError(coded('ECONNRESET', 'proxy closing'));
      return;
    }
    const conn = new UpstreamConnection(this, this.options.bodyIdleTimeoutMs);
    this.all.add(conn);
    conn.start(t);
  }

  unqueue(t: Ticket): void {
    const i = this.queue.indexOf(t);
    if (i !== -1) this.queue.splice(i, 1);
    t.queued = false;
  }

  /** A connection done with its response and reusable. */
  release(conn: UpstreamConnection): void {
    if (this.closed) {
      conn.destroy();
      return;
    }
    const next = this.queue.shift();
    if (next !== undefined) {
      next.queued = false;
      conn.reused = true;
      conn.start(next);
      return;
    }
    conn.idleSince = this.options.now();
    this.idle.push(conn);
  }

  /** Close the connections idle for longer than they may be reused. */
  prune(now: number): void {
    for (const c of this.idle.filter((c) => now - c.idleSince > this.options.idleReuseMs)) c.destroy();
  }

  /** A connection closed: drop it from the lists; a waiting request gets a new one. */
  forget(conn: UpstreamConnection): void {
    if (!this.all.delete(conn)) return;
    const i = this.idle.indexOf(conn);
    if (i !== -1) this.idle.splice(i, 1);
    const next = this.queue.shift();
    if (next !== undefined) {
      next.queued = false;
      this.startFresh(next);
    }
  }

  close(): void {
    this.closed = true;
    for (const t of this.queue.splice(0)) {
      t.queued = false;
      t.done = true;
      t.handler.onError(coded('ECONNRESET', 'proxy closing'));
    }
    for (const c of [...this.all]) c.fail(coded('ECONNRESET', 'proxy closing'));
  }
}

/** Every lean upstream pool of one proxy, by address. */
export class LeanUpstreams {
  private readonly pools = new Map<string, AddressPool>();
  private readonly options: Required<LeanUpstreamOptions>;

  constructor(options: LeanUpstreamOptions) {
    this.options = {
      maxConnectionsPerAddress: MAX_CONNECTIONS_PER_ADDRESS,
      idleReuseMs: 4000,
      writes: new WriteBatch(),
      ...options,
    };
  }

  /** Send a body-less request to `address`; the handler hears how it goes. */
  dispatch(address: string, request: UpstreamRequest, handler: LeanHandler): void {
    let p = this.pools.get(address);
    if (p === undefined) {
      p = new AddressPool(address, this.options);
      this.pools.set(address, p);
    }
    p.dispatch(new Ticket(p, request, requestHeadBytes(request.method, request.path, request.headers), handler));
  }

  /** Addresses with a pool. */
  addresses(): string[] {
    return [...this.pools.keys()];
  }

  /** Whether the pool of `address` has requests in flight or waiting. */
  busy(address: string): boolean {
    return (this.pools.get(address)?.busy() ?? 0) > 0;
  }

  /** Close every idle connection past its reuse window (the proxy's periodic sweep), so none stays open for ever. */
  prune(): void {
    const now = this.options.now();
    for (const p of this.pools.values()) p.prune(now);
  }

  /** Close the pool of `address` (its idle connections). */
  closePool(address: string): void {
    const p = this.pools.get(address);
    if (p === undefined) return;
    this.pools.delete(address);
    p.close();
  }

  /** Close everything, failing requests in flight. */
  close(): void {
    for (const p of this.pools.values()) p.close();
    this.pools.clear();
  }
}
