/**
 * Header rewriting at the proxy: hop-by-hop headers (RFC 9110 §7.6.1) are
 * removed both ways, and the request gets the x-forwarded-* headers. Headers
 * travel as flat `[name, value, name, value, …]` arrays, the form node:http
 * and undici both read and write without building objects, and keep their
 * order, case and repetitions (Set-Cookie).
 */
import { isFieldValue, isNamed } from '../http1/index.js';

/** Hop-by-hop headers that never cross the proxy, lower case. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
]);

/** Headers the proxy sets itself on the upstream request; a client's copy is replaced (xff is appended to). */
const SET_BY_PROXY = new Set(['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'via']);

/** Whether a lower-case header name is hop-by-hop (including any `proxy-*`). */
export function isHopByHop(lower: string): boolean {
  return HOP_BY_HOP.has(lower) || lower.startsWith('proxy-');
}

/** Lower-case tokens of every Connection header in a flat raw array; undefined when there is none (the common case). */
function connectionTokens(raw: readonly string[]): Set<string> | undefined {
  let tokens: Set<string> | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (!isNamed(name, 'connection')) continue;
    for (const t of raw[i + 1]!.split(',')) {
      const token = t.trim().toLowerCase();
      if (token !== '') {
        tokens ??= new Set();
        tokens.add(token);
      }
    }
  }
  return tokens;
}

/** What the upstream request's headers get besides the client's address (one object per proxy). */
export interface ForwardInfo {
  /** Scheme the client used to reach the proxy: `http` (the proxy listens in plain HTTP). */
  proto: string;
  /** `Via` value to append (e.g. `1.1 healthmesh`); undefined to add none. */
  via?: string;
}

/** The upstream request's headers and what the proxy needs to know of the client's. */
export interface RequestHead {
  /** Flat headers for undici. */
  headers: string[];
  /** Host header as received, undefined when absent. */
  host: string | undefined;
  /** Content-Length as a number; -1 when absent. */
  contentLength: number;
  /** The client sent Transfer-Encoding (a chunked body of unknown length). */
  chunked: boolean;
}

/**
 * The upstream request's headers from the client's raw headers, in one pass
 * (reading `req.headers` would build an object node:http makes lazily):
 * hop-by-hop and Connection-named headers removed, `Expect` removed (node:http
 * answers 100-continue itself; undici refuses the header), Host kept as
 * received, `x-forwarded-for` appended to, `x-forwarded-proto` and
 * `x-forwarded-host` set, `via` appended when asked. `clientIp` is
 * socket.remoteAddress.
 */
export function upstreamRequestHead(raw: readonly string[], clientIp: string, info: ForwardInfo): RequestHead {
  const named = connectionTokens(raw);
  const out: string[] = [];
  let xff: string | undefined;
  let host: string | undefined;
  let via: string | undefined;
  let contentLength = -1;
  let chunked = false;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const value = raw[i + 1]!;
    if (named === undefined && !mayBeSpecial(name)) {
      out.push(name, value);
      continue;
    }
    const lower = name.toLowerCase();
    if (isHopByHop(lower) || lower === 'expect' || named?.has(lower)) {
      if (lower === 'transfer-encoding') chunked = true;
      continue;
    }
    if (SET_BY_PROXY.has(lower)) {
      if (lower === 'x-forwarded-for') xff = xff === undefined ? value : `${xff}, ${value}`;
      else if (lower === 'via') via = via === undefined ? value : `${via}, ${value}`;
      continue;
    }
    if (lower === 'host') host = value;
    else if (lower === 'content-length') contentLength = Number(value);
    out.push(name, value);
  }
  out.push('x-forwarded-for', xff === undefined ? clientIp : `${xff}, ${clientIp}`);
  out.push('x-forwarded-proto', info.proto);
  if (host !== undefined) out.push('x-forwarded-host', host);
  if (info.via !== undefined) out.push('via', via === undefined ? info.via : `${via}, ${info.via}`);
  else if (via !== undefined) out.push('via', via);
  return { headers: out, host, contentLength, chunked };
}

/**
 * Whether a header name of this length and first character can be one the
 * proxy looks at (hop-by-hop, Expect, Host, Content-Length, x-forwarded-*,
 * Via): lets the common headers (Accept, User-Agent, Date, ...) skip the
 * lower-casing and set lookups. Lengths: te 2, via 3, host 4, expect 6,
 * trailer/upgrade 7, connection/keep-alive 10, content-length 14,
 * x-forwarded-for 15, x-forwarded-host 16, transfer-encoding/x-forwarded-proto 17;
 * proxy-* any length from 6.
 */
export function mayBeSpecial(name: string): boolean {
  const n = name.length;
  if (n >= 6 && (name.charCodeAt(0) | 32) === 112) return true; // 'p': proxy-*
  return n === 2 || n === 3 || n === 4 || n === 6 || n === 7 || n === 10 || (n >= 14 && n <= 17);
}

/**
 * Whether a response header name can be hop-by-hop or Via, the only ones
 * clientResponseHeaders looks at: the first letter and the length, so the
 * common names (Date, Server, ETag, Content-Length...) skip lower-casing and
 * set lookups. A false "maybe" only costs the exact check.
 */
export function mayBeHopByHop(name: string): boolean {
  const n = name.length;
  switch (name.charCodeAt(0) | 32) {
    case 99: // c: connection
    case 107: // k: keep-alive
      return n === 10;
    case 116: // t: te, trailer, transfer-encoding
      return n === 2 || n === 7 || n === 17;
    case 117: // u: upgrade
      return n === 7;
    case 112: // p: proxy-*
      return n >= 6;
    case 118: // v: via
      return n === 3;
    default:
      return false;
  }
}

/**
 * The client response's headers from the upstream's raw response headers
 * (flat; Buffers from undici, latin1 strings from the lean engine):
 * hop-by-hop and Connection-named headers removed. The client side adds the
 * client connection's own Connection / Keep-Alive / Transfer-Encoding.
 * `via` is appended to when given.
 */
export function clientResponseHeaders(raw: readonly (Buffer | string)[], via?: string): string[] {
  const out: string[] = [];
  let named: Set<string> | undefined;
  let viaAt = -1;
  for (let i = 0; i < raw.length; i += 2) {
    // latin1: header bytes map one to one, as node:http reads them.
    const n = raw[i]!;
    const v = raw[i + 1]!;
    const name = typeof n === 'string' ? n : n.toString('latin1');
    const value = typeof v === 'string' ? v : v.toString('latin1');
    if (mayBeHopByHop(name)) {
      // Connection comes on nearly every response: named without a lower-cased copy.
      const lower = isNamed(name, 'connection') ? 'connection' : name.toLowerCase();
      if (isHopByHop(lower)) {
        // "keep-alive" and "close" name no header beyond the hop-by-hop ones; anything else is rare and filtered below.
        if (lower === 'connection') {
          for (const t of value.split(',')) {
            const token = t.trim().toLowerCase();
            if (token !== '' && token !== 'keep-alive' && token !== 'close') {
              named ??= new Set();
              named.add(token);
            }
          }
        }
        continue;
      }
      if (lower === 'via') viaAt = out.length;
    }
    out.push(name, value);
  }
  if (named !== undefined) {
    let w = 0;
    for (let i = 0; i < out.length; i += 2) {
      if (named.has(out[i]!.toLowerCase())) {
        if (i === viaAt) viaAt = -1;
        continue;
      }
      if (i === viaAt) viaAt = w;
      out[w++] = out[i]!;
      out[w++] = out[i + 1]!;
    }
    out.length = w;
  }
  if (via !== undefined) {
    if (viaAt >= 0) out[viaAt + 1] = `${out[viaAt + 1]}, ${via}`;
    else out.push('via', via);
  }
  return out;
}

/**
 * Whether an upstream header value (the response parser's, see onHeader) may
 * be relayed: no control characters but HT, looked for only when the parser
 * saw some in the line (`clean` false).
 */
export function isRelayable(value: string, clean: boolean): boolean {
  return clean || isFieldValue(value);
}
