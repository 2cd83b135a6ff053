import { connect, type Socket, type TcpNetConnectOpts } from 'node:net';
import { describeError, reasonFromError } from '../checks/errors.js';
import { ResponseParser, type ResponseSink } from './response-parser.js';
import { TOKEN } from './syntax.js';

/**
 * A lean HTTP/1.1 client for one request per connection, used by the http
 * check for plain `http:` without connection reuse (see checks/http.ts).
 *
 * undici's per-request cost on a fresh connection is mostly its connection
 * machinery and the `reset` path (an Error with a stack trace per response).
 * Here the request bytes are encoded once per check (encodeRequest), and a
 * probe is `net.connect`, one write, and an incremental response parser
 * (response-parser.ts) fed from a read buffer shared by every socket
 * (`onread`): no stream chunks, no per-read Buffer, no Error object unless
 * something failed. Measured against undici with `reset: true` on the same
 * checks (bench/probes http-new vs http-new-undici): 0.135 vs 0.239 ms CPU
 * per probe, medians of 7 alternating rounds.
 */

/** Request headers the client owns: it frames the message and closes the connection itself. */
const FRAMING_HEADERS = new Set(['connection', 'content-length', 'transfer-encoding', 'keep-alive']);

/** The methods whose requests carry a `content-length: 0` without a body (undici does the same). */
const PAYLOAD_METHODS = new Set(['POST', 'PUT', 'PATCH']);

/** Bytes a header value may not hold: controls other than HT (CR and LF would inject lines), and non-latin1. */
const BAD_VALUE = /[^\t\x20-\x7e\x80-\xff]/;

/**
 * Throws unless `name: value` can go on the wire as one header line: the
 * name a token, the value without control characters (the rule undici
 * applies, so both clients accept the same headers).
 */
export function validateHeader(name: string, value: string): void {
  if (name === '' || ![...name].every((c) => c.charCodeAt(0) < 256 && TOKEN[c.charCodeAt(0)] === 1)) {
    throw new Error(`bad header name ${JSON.stringify(name)}`);
  }
  if (BAD_VALUE.test(value)) {
    throw new Error(`bad value of header ${name}: control characters (CR, LF…) and non-latin1 text are not allowed`);
  }
}

/** What one request looks like; encoded once per check by encodeRequest. */
export interface Http1RequestSpec {
  method: string;
  /** Path and query, already percent-encoded (URL.pathname + URL.search). */
  path: string;
  /** Host header value (URL.host: host, and port when not the default). */
  host: string;
  /** Flat [name, value, name, value, …] list, sent in this order. */
  headers: readonly string[];
  body: Buffer | null;
}

/**
 * The request bytes: request line, Host (unless the headers hold one),
 * the headers, `connection: close`, content-length and the body.
 * The client's own framing headers replace any configured ones.
 */
export function encodeRequest(spec: Http1RequestSpec): Buffer {
  let head = `${spec.method} ${spec.path} HTTP/1.1\r\n`;
  let hasHost = false;
  let lines = '';
  for (let i = 0; i < spec.headers.length; i += 2) {
    const name = spec.headers[i] as string;
    const value = spec.headers[i + 1] as string;
    validateHeader(name, value);
    const lower = name.toLowerCase();
    if (FRAMING_HEADERS.has(lower)) continue;
    if (lower === 'host') hasHost = true;
    lines += `${name}: ${value}\r\n`;
  }
  if (!hasHost) head += `host: ${spec.host}\r\n`;
  head += `${lines}connection: close\r\n`;
  const body = spec.body;
  if (body !== null) head += `content-length: ${body.length}\r\n`;
  else if (PAYLOAD_METHODS.has(spec.method)) head += 'content-length: 0\r\n';
  head += '\r\n';
  // latin1 like undici and node:http: header text is bytes, not UTF-8.
  const bytes = Buffer.from(head, 'latin1');
  return body === null ? bytes : Buffer.concat([bytes, body]);
}

/** Where to connect and what to send, computed once per check. */
export interface Http1Target {
  /** Shared by every probe: net.connect only reads it. */
  connectOptions: TcpNetConnectOpts;
  /** The whole request, head and body. */
  request: Buffer;
  /** The request is HEAD: the response has no body. */
  head: boolean;
}

/**
 * One read buffer for every socket of the process: an `onread` callback runs
 * synchronously after each read into it, before any other socket's read, and
 * the parser copies whatever it keeps.
 */
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);

/**
 * The target of a check: connect options (with the shared read buffer), the
 * encoded request, and whether it is a HEAD. Throws on a bad header.
 */
export function compileHttp1Target(url: URL, method: string, headers: readonly string[], body: Buffer | null): Http1Target {
  // URL.hostname keeps the brackets of an IPv6 literal; net.connect wants none.
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  const port = url.port === '' ? 80 : Number(url.port);
  return {
    connectOptions: { host, port, onread: { buffer: READ_BUFFER, callback: onRead } },
    request: encodeRequest({ method, path: url.pathname + url.search, host: url.host, headers, body }),
    head: method === 'HEAD',
  };
}

const kExchange = Symbol('healthmesh.http1Exchange');
type ExchangeSocket = Socket & { [kExchange]: Http1Exchange };

// Socket listeners are module functions, `this` being the socket, so a probe makes no closures.
// Node calls the onread callback as a method of the socket too (`stream[kBufferCb](nread, buf)`,
// Node 12 to 24); test/http1/response-parser.test.ts pins that.
function onRead(this: ExchangeSocket, nread: number, buf: Buffer): boolean {
  this[kExchange].execute(buf, 0, nread);
  return true;
}
function onEnd(this: ExchangeSocket): void {
  this[kExchange].eof();
}
function onError(this: ExchangeSocket, err: Error): void {
  this[kExchange].socketError(err);
}

/**
 * One request on a new connection: connects, writes the request (queued
 * until the connection is up), parses the response and reports to the sink.
 * The sink ends it with destroy() once it has what it needs.
 */
export class Http1Exchange extends ResponseParser {
  private socket: ExchangeSocket | null = null;

  constructor(target: Http1Target, sink: ResponseSink) {
    super(sink, target.head);
    let socket: ExchangeSocket;
    try {
      socket = connect(target.connectOptions) as ExchangeSocket;
    } catch (err) {
      // Bad options only (validated in the factory); report like a socket error, after the constructor returns.
      queueMicrotask(() => this.socketError(err));
      return;
    }
    socket[kExchange] = this;
    this.socket = socket;
    socket.on('error', onError);
    socket.on('end', onEnd);
    socket.write(target.request);
  }

  /** What the exchange is waiting for, for a timeout message. */
  phase(): string {
    const s = this.socket;
    if (s === null || s.connecting) return 'connecting';
    return this.inHead() ? 'waiting for response headers' : 'reading body';
  }

  /** The socket failed (refused, reset, DNS…): reported unless the response was already complete. */
  socketError(err: unknown): void {
    if (this.done()) return;
    this.stop();
    this.sink.onFail(reasonFromError(err), describeError(err));
  }

  /** Closes the connection; no callbacks after this. The 'error' listener stays for late errors. */
  destroy(): void {
    this.stop();
    const s = this.socket;
    if (s !== null) {
      this.socket = null;
      s.destroy();
    }
  }
}
