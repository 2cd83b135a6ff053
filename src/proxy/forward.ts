/**
 * One upstream attempt as an undici dispatch handler (which the lean
 * engine's upstream pools drive the same way, lean-upstream.ts), and the
 * request body stream the attempts read. The handler is undici's native (legacy) callback
 * interface: no Readable per response, no header object, backpressure by
 * returning false from onData and calling resume() on 'drain'.
 */
import { Transform, type TransformCallback } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { DeadlineEntry } from './deadlines.js';
import type { InstanceCells } from './metrics.js';
import type { PickedUpstream } from '../balancer/types.js';

/** Why an attempt failed before response headers. */
export type FailureKind = 'connect-failure' | 'reset' | 'timeout' | 'protocol' | 'request-body';

/** Where an attempt is: before headers, relaying the body, discarding a retried response's body, or over. */
export enum AttemptState {
  Pending,
  Streaming,
  Discarding,
  Done,
}

/** What an attempt tells the request it belongs to (see proxy.ts' Exchange). */
export interface AttemptOwner {
  /** Response headers arrived; true to relay the body to the client, false to discard it (a retry is under way). */
  onResponse(a: Attempt, status: number, raw: readonly (Buffer | string)[], statusText: string): boolean;
  /** The attempt failed before response headers. */
  onFailure(a: Attempt, err: Error): void;
  /** A body chunk to relay; false when the client is slow (the owner calls a.resume on 'drain'). */
  onBody(a: Attempt, chunk: Buffer): boolean;
  /** The relayed body ended. */
  onEnd(a: Attempt): void;
  /** The upstream failed after headers were relayed: the client response must be broken, not ended. */
  onBodyError(a: Attempt, err: Error): void;
  /** No response headers within the timeout. */
  timedOut(a: Attempt): void;
  /** The lean engine parsed one upstream read and the body goes on: what the client side holds back may leave. */
  onReadEnd(a: Attempt): void;
}

/**
 * A retried 5xx response's body is read and dropped up to this many bytes so
 * the connection can be reused (undici's body.dump() limit); past it the
 * attempt is aborted, closing that connection.
 */
export const DISCARD_LIMIT_BYTES = 128 * 1024;

/** One attempt to one instance. */
export class Attempt implements Dispatcher.DispatchHandler, DeadlineEntry {
  state = AttemptState.Pending;
  // Header timeout, kept by the proxy's DeadlineQueue.
  deadline = 0;
  prevDeadline: Attempt | undefined = undefined;
  nextDeadline: Attempt | undefined = undefined;
  queued = false;
  /** The balancer has been told (report or release). */
  settled = false;
  private abortFn: ((err?: Error) => void) | undefined = undefined;
  private abortReason: Error | undefined = undefined;
  private resumeFn: (() => void) | undefined = undefined;
  private discarded = 0;
  private resumeBound: (() => void) | undefined = undefined;

  constructor(
    readonly owner: AttemptOwner,
    readonly upstream: PickedUpstream,
    readonly cells: InstanceCells,
    /** clock.now() when the attempt started, ms. */
    readonly startedAt: number,
  ) {}

  /** The 'drain' listener that resumes reading the upstream body after the client was slow; made on first use. */
  get resume(): () => void {
    this.resumeBound ??= () => this.resumeFn?.();
    return this.resumeBound;
  }

  /** Abort the upstream request (now, or as soon as undici hands over the abort function). Idempotent. */
  abort(reason: Error): void {
    if (this.abortFn !== undefined) this.abortFn(reason);
    else this.abortReason ??= reason;
  }

  onConnect(abort: (err?: Error) => void): void {
    // A request still queued in the pool when it was aborted (timeout, client gone) is ended here.
    if (this.abortReason !== undefined) abort(this.abortReason);
    else this.abortFn = abort;
  }

  onHeaders(status: number, raw: (Buffer | string)[], resume: () => void, statusText: string): boolean {
    if (status < 200) return true; // 1xx interim responses are not relayed
    if (this.state !== AttemptState.Pending) return true;
    this.resumeFn = resume;
    this.state = this.owner.onResponse(this, status, raw, statusText) ? AttemptState.Streaming : AttemptState.Discarding;
    return true;
  }

  onData(chunk: Buffer): boolean {
    if (this.state === AttemptState.Streaming) return this.owner.onBody(this, chunk);
    if (this.state === AttemptState.Discarding) {
      this.discarded += chunk.length;
      if (this.discarded > DISCARD_LIMIT_BYTES) {
        this.state = AttemptState.Done;
        this.abort(new Error('discarded body over limit'));
      }
    }
    return true;
  }

  onReadEnd(): void {
    if (this.state === AttemptState.Streaming) this.owner.onReadEnd(this);
  }

  onComplete(): void {
    const was = this.state;
    this.state = AttemptState.Done;
    if (was === AttemptState.Streaming) this.owner.onEnd(this);
  }

  onError(err: Error): void {
    const was = this.state;
    this.state = AttemptState.Done;
    if (was === AttemptState.Pending) this.owner.onFailure(this, err);
    else if (was === AttemptState.Streaming) this.owner.onBodyError(this, err);
  }
}

/** The kind of a transport error from undici or node:net. */
export function classifyError(err: Error): FailureKind {
  const code = (err as { code?: unknown }).code;
  if (typeof code !== 'string') return 'reset';
  switch (code) {
    case 'ECONNREFUSED':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EADDRNOTAVAIL':
    case 'UND_ERR_CONNECT_TIMEOUT':
      return 'connect-failure';
    case 'UND_ERR_HEADERS_OVERFLOW':
    case 'UND_ERR_INVALID_ARG':
    case 'UND_ERR_NOT_SUPPORTED':
    case 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH':
      return 'protocol';
    case 'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH':
      return 'request-body';
    default:
      return code.startsWith('HPE_') ? 'protocol' : 'reset';
  }
}

/** Raised inside the request body stream when it passes max_body_bytes. */
export class BodyTooLargeError extends Error {
  readonly code = 'HM_BODY_TOO_LARGE';
  constructor(readonly limit: number) {
    super(`request body over ${limit} bytes`);
  }
}

/**
 * The client's request body as the upstream request reads it. A separate
 * stream (fed by req.pipe) so that undici destroying it on an upstream
 * failure does not destroy the client's socket: the proxy can still answer
 * 502/504/413. Counts bytes and fails past `limit` (max_body_bytes).
 */
export class RequestBody extends Transform {
  /** Bytes received from the client so far. */
  bytes = 0;
  /** The body went past the limit. */
  exceeded = false;

  constructor(private readonly limit: number) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.limit) {
      this.exceeded = true;
      cb(new BodyTooLargeError(this.limit));
      return;
    }
    cb(null, chunk);
  }
}
