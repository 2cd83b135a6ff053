/**
 * A strict HTTP/1.1 request-head reader for the proxy's lean engine
 * (proxy/lean-server.ts).
 *
 * Strict because a proxy and the server behind it must agree on where each
 * request ends: any head two parsers could read differently is refused with
 * 400 (request smuggling, RFC 9112 §11.2), never "repaired":
 *
 * - every line ends in CRLF; a bare LF or a CR inside a line is refused;
 * - obs-fold (a line starting with SP or HT) is refused (RFC 9112 §5.2);
 * - the method is one node:http knows (llhttp's list), CONNECT excepted:
 *   anything else is 501;
 * - the target is visible ASCII in origin-form (`/...`), asterisk-form
 *   (`*...`) or absolute-form (`scheme://authority...`) as llhttp reads
 *   them; anything else (authority-form included) is refused;
 * - header names are tokens, header values hold no control characters but
 *   HT; no space before the colon;
 * - Content-Length is digits only, once: a second one (equal or not), a
 *   list or an HT after the digits is refused;
 * - Transfer-Encoding must be exactly `chunked` (a final coding other than
 *   chunked is 400, another coding before it 501: its decoding would be lost),
 *   without empty list elements or an HT after it (llhttp reads those
 *   otherwise than a plain list reader would);
 * - Content-Length together with Transfer-Encoding is refused;
 * - HTTP/1.1 needs exactly one Host.
 *
 * The head is capped at {@link MAX_REQUEST_HEAD_BYTES} and
 * {@link MAX_REQUEST_HEADERS} lines (431 past either).
 *
 * Held against node's own parser (llhttp) by test/http1/differential.test.ts
 * and bench/fuzz.ts: what node refuses, this refuses too; what both accept,
 * both read alike; where this is stricter, the test lists why.
 */
import { METHODS } from 'node:http';
import { COLON, CR, HT, LF, MAX_LENGTH_DIGITS, SP, TOKEN, VALUE } from './syntax.js';

/** Longest request head accepted (request line and headers), bytes; node:http's default maxHeaderSize. */
export const MAX_REQUEST_HEAD_BYTES = 16 * 1024;
/** Most header lines in one request head. */
export const MAX_REQUEST_HEADERS = 100;

/**
 * The methods read: llhttp's (node:http refuses any other, so a head the
 * lean engine served could not be read by a node upstream), less CONNECT,
 * which asks a forward proxy for a tunnel (node:http without a 'connect'
 * listener, as the proxy's is, closes the connection).
 */
const METHODS_READ = new Set(METHODS.filter((m) => m !== 'CONNECT'));

/**
 * Absolute-form as llhttp takes it: a scheme of letters, `://`, an
 * authority without the bytes llhttp refuses there (`"#<>\^`{|}`), then
 * nothing or a path or query of visible ASCII (checked by the caller).
 */
const ABSOLUTE_FORM = /^[A-Za-z]+:\/\/[^"#<>\\^`{|}/?]*(?:[/?].*)?$/s;

/** A request head the lean engine read. */
export interface RequestHeadOk {
  ok: true;
  /** Offset just past the head's empty line. */
  end: number;
  method: string;
  /** Request target as sent. */
  target: string;
  /** HTTP/1.x minor version: 0 or 1. */
  minor: number;
  /** Flat [name, value, …] as received (latin1), values without surrounding whitespace. */
  raw: string[];
  /** Content-Length; -1 when absent. */
  contentLength: number;
  /** Transfer-Encoding: chunked. */
  chunked: boolean;
  /** The client asked to close after this request (`Connection: close`). */
  close: boolean;
  /** Upgrade or Expect present: node:http handles those. */
  special: boolean;
}

/** A head refused: answer `status` with `code` and close the connection. */
export interface RequestHeadError {
  ok: false;
  status: 400 | 431 | 501;
  code: string;
}

/**
 * Reads the request head starting at buf[start]; undefined when it is not
 * complete yet (the caller checks the size cap with {@link MAX_REQUEST_HEAD_BYTES}).
 * `from` is where the previous call stopped looking (saves rescanning a head
 * that arrives in pieces); pass `start` the first time.
 */
export function readRequestHead(buf: Buffer, start: number, from = start): RequestHeadOk | RequestHeadError | undefined {
  // Empty lines before the request line are skipped (RFC 9112 §2.2), so two of them are not taken for the head's end.
  let first = start;
  while (buf[first] === CR && buf[first + 1] === LF) first += 2;
  // Find the empty line: the first CRLFCRLF. Checking every line ending for a bare LF comes with the parse.
  const at = buf.indexOf('\r\n\r\n', Math.max(first, from - 3), 'latin1');
  if (at === -1) {
    // A bare LF line end would never make a CRLFCRLF: refuse it now rather than wait for the size cap.
    for (let lf = buf.indexOf(LF, Math.max(start, from)); lf !== -1; lf = buf.indexOf(LF, lf + 1)) {
      if (lf === start || buf[lf - 1] !== CR) return bad('bare_lf');
    }
    return undefined;
  }
  const end = at + 4;
  if (end - start > MAX_REQUEST_HEAD_BYTES) return { ok: false, status: 431, code: 'request_head_too_large' };
  return parse(buf.toString('latin1', start, at + 2), end);
}

const SLASH = 0x2f;
const STAR = 0x2a;

function bad(code: string): RequestHeadError {
  return { ok: false, status: 400, code };
}

/**
 * Parses the head's lines, `t` being them as latin1 text (one native call
 * for the whole head; every step after is string indexing, no more calls
 * into C++ per name and value). Each line ends in CRLF; `end` is the offset
 * past the empty line in the buffer.
 */
function parse(t: string, end: number): RequestHeadOk | RequestHeadError {
  const e = t.length;
  let s = 0;
  // RFC 9112 §2.2: a server SHOULD ignore empty lines before the request line (left over after a body).
  while (s + 1 < e && t.charCodeAt(s) === CR && t.charCodeAt(s + 1) === LF) s += 2;
  let lineEnd = lineEndAt(t, s, e);
  if (lineEnd < 0) return bad('bare_cr_or_lf');
  // Request line: method SP target SP HTTP/1.x
  let i = s;
  while (i < lineEnd && TOKEN[t.charCodeAt(i)] === 1) i++;
  if (i === s || t.charCodeAt(i) !== SP) return bad('bad_request_line');
  const method = t.slice(s, i);
  if (method !== 'GET' && !METHODS_READ.has(method)) return { ok: false, status: 501, code: 'method_not_implemented' };
  const ts = ++i;
  while (i < lineEnd && t.charCodeAt(i) > SP && t.charCodeAt(i) < 0x7f) i++;
  if (i === ts || t.charCodeAt(i) !== SP) return bad('bad_request_line');
  const target = t.slice(ts, i);
  const form = target.charCodeAt(0);
  if (form !== SLASH && form !== STAR && !ABSOLUTE_FORM.test(target)) return bad('bad_request_target');
  i++;
  const version = t.slice(i, lineEnd);
  if (version !== 'HTTP/1.1' && version !== 'HTTP/1.0') return bad('bad_http_version');
  const minor = version === 'HTTP/1.1' ? 1 : 0;

  const raw: string[] = [];
  let contentLength = -1;
  let te: string | undefined;
  let badTe = false;
  let hosts = 0;
  let close = minor === 0;
  let special = false;
  let count = 0;
  let pos = lineEnd + 2;
  while (pos < e) {
    lineEnd = lineEndAt(t, pos, e);
    if (lineEnd < 0) return bad('bare_cr_or_lf');
    if (++count > MAX_REQUEST_HEADERS) return { ok: false, status: 431, code: 'too_many_headers' };
    const first = t.charCodeAt(pos);
    if (first === SP || first === HT) return bad('obs_fold');
    let c = pos;
    while (c < lineEnd && TOKEN[t.charCodeAt(c)] === 1) c++;
    if (c === pos || t.charCodeAt(c) !== COLON) return bad('bad_header_line');
    let vs = c + 1;
    let ve = lineEnd;
    while (vs < ve && (t.charCodeAt(vs) === SP || t.charCodeAt(vs) === HT)) vs++;
    while (ve > vs && (t.charCodeAt(ve - 1) === SP || t.charCodeAt(ve - 1) === HT)) ve--;
    for (let k = vs; k < ve; k++) if (VALUE[t.charCodeAt(k)] !== 1) return bad('bad_header_value');
    const name = t.slice(pos, c);
    const value = t.slice(vs, ve);
    raw.push(name, value);
    pos = lineEnd + 2;
    // Only names of these lengths matter here: host 4, expect 6, upgrade 7, connection 10, content-length 14, transfer-encoding 17.
    const n = name.length;
    if (n !== 4 && n !== 6 && n !== 7 && n !== 10 && n !== 14 && n !== 17) continue;
    const lower = name.toLowerCase();
    if (lower === 'content-length') {
      if (contentLength >= 0) return bad('duplicate_content_length');
      // An HT after the digits: llhttp refuses what a trimming reader would take for a length.
      if (value.length === 0 || value.length > MAX_LENGTH_DIGITS || hasHt(t, ve, lineEnd)) return bad('bad_content_length');
      let v = 0;
      for (let k = 0; k < value.length; k++) {
        const d = value.charCodeAt(k) - 0x30;
        if (d < 0 || d > 9) return bad('bad_content_length');
        v = v * 10 + d;
      }
      contentLength = v;
    } else if (lower === 'transfer-encoding') {
      // llhttp reads `chunked` followed by HT as another coding, and refuses empty list elements where we would skip them.
      // Judged after the last line, so a later obs-fold or bad line is what the refusal names.
      if (hasHt(t, ve, lineEnd) || hasEmptyElement(value)) badTe = true;
      te = te === undefined ? value : `${te},${value}`;
    } else if (lower === 'host') {
      hosts++;
    } else if (lower === 'connection') {
      for (const tok of value.split(',')) {
        const token = tok.trim().toLowerCase();
        if (token === 'close') close = true;
        else if (token === 'upgrade') special = true;
      }
    } else if (lower === 'upgrade' || lower === 'expect') {
      special = true;
    }
  }
  let chunked = false;
  if (te !== undefined) {
    if (badTe) return bad('bad_transfer_encoding');
    if (contentLength >= 0) return bad('content_length_and_transfer_encoding');
    const codings = te.split(',').map((x) => x.trim().toLowerCase());
    if (codings[codings.length - 1] !== 'chunked') return bad('transfer_encoding_not_chunked');
    if (codings.length > 1) return { ok: false, status: 501, code: 'transfer_encoding_not_supported' };
    chunked = true;
  }
  if (minor === 1 && hosts !== 1) return bad(hosts === 0 ? 'missing_host' : 'duplicate_host');
  if (hosts > 1) return bad('duplicate_host');
  return { ok: true, end, method, target, minor, raw, contentLength, chunked, close, special };
}

/** Whether t[s, e) holds an HT. */
function hasHt(t: string, s: number, e: number): boolean {
  for (let i = s; i < e; i++) if (t.charCodeAt(i) === HT) return true;
  return false;
}

/** Whether a list value (trimmed) is empty or has an empty element (`,chunked`, `gzip,,chunked`, `chunked,`). */
function hasEmptyElement(value: string): boolean {
  for (const element of value.split(',')) if (element.trim() === '') return true;
  return false;
}

/** Index of the CR of the line starting at `s` (which ends in CRLF before `e`); -1 for a bare CR or LF inside it. */
function lineEndAt(t: string, s: number, e: number): number {
  for (let i = s; i < e; i++) {
    const b = t.charCodeAt(i);
    if (b === CR) return t.charCodeAt(i + 1) === LF ? i : -1;
    if (b === LF) return -1;
  }
  return -1;
}
