/**
 * HTTP/1.1 heads written straight into the Buffer that goes on the wire.
 *
 * Building a head as a string (`head += name + ': ' + value + '\r\n'`) makes
 * a few cons strings per header and a flat copy of the whole head when it is
 * written: about 1.3 KB of garbage per proxied response and 1 KB per
 * upstream request head, measured with the sampling heap profiler, so more
 * scavenges (each one a pause every request in flight waits for). Here a
 * head costs its Buffer and nothing else.
 *
 * Strings are latin1 (one byte per character, as the parsers read them).
 */
import { STATUS_CODES } from 'node:http';
import { isFieldValue } from './syntax.js';

/** Bytes of `name: value\r\n` for each pair of a flat header list. */
export function headersLength(headers: readonly string[]): number {
  let n = 0;
  for (let i = 0; i < headers.length; i += 2) n += headers[i]!.length + headers[i + 1]!.length + 4;
  return n;
}

/** Writes `s` (latin1) at out[at]; returns the offset past it. */
export function putLatin1(out: Buffer, at: number, s: string): number {
  // A loop beats Buffer#write for strings this short (a native call each); assignment keeps the low byte, as latin1 does.
  for (let i = 0; i < s.length; i++) out[at + i] = s.charCodeAt(i);
  return at + s.length;
}

/** Writes each `name: value\r\n` of a flat header list at out[at]; returns the offset past them. */
export function putHeaders(out: Buffer, at: number, headers: readonly string[]): number {
  let o = at;
  for (let i = 0; i < headers.length; i += 2) {
    o = putLatin1(out, o, headers[i]!);
    out[o++] = 0x3a; // ':'
    out[o++] = 0x20;
    o = putLatin1(out, o, headers[i + 1]!);
    out[o++] = 0x0d;
    out[o++] = 0x0a;
  }
  return o;
}

/** `HTTP/1.1 status reason\r\n` of the standard reason phrases, made once each. */
const STANDARD_STATUS_LINES = new Map<number, string>();

/** The status line, CRLF included: the upstream's reason phrase when valid, else the standard one. */
export function statusLine(status: number, upstreamReason: string): string {
  const reason = isFieldValue(upstreamReason) ? upstreamReason : (STATUS_CODES[status] ?? '');
  if (reason !== STATUS_CODES[status]) return `HTTP/1.1 ${status} ${reason}\r\n`;
  let line = STANDARD_STATUS_LINES.get(status);
  if (line === undefined) {
    line = `HTTP/1.1 ${status} ${reason}\r\n`;
    STANDARD_STATUS_LINES.set(status, line);
  }
  return line;
}

/** Bytes of a head: its first line (CRLF included), its headers, then `tail` (the last lines and the blank line). */
export function headLength(line: string, headers: readonly string[], tail: string): number {
  return line.length + headersLength(headers) + tail.length;
}

/**
 * A request head (`method path HTTP/1.1`, the headers, the blank line) in a
 * Buffer of its own: the lean upstream writes it once the batch flushes.
 * Small heads come from node's Buffer pool, so one costs a Buffer object.
 */
export function requestHeadBytes(method: string, path: string, headers: readonly string[]): Buffer {
  // The space after the method, and the blank line's CRLF.
  const out = Buffer.allocUnsafe(method.length + 1 + path.length + REQUEST_VERSION.length + headersLength(headers) + 2);
  let o = putLatin1(out, 0, method);
  out[o++] = 0x20;
  o = putLatin1(out, o, path);
  o = putHeaders(out, putLatin1(out, o, REQUEST_VERSION), headers);
  out[o++] = 0x0d;
  out[o] = 0x0a;
  return out;
}

/** What follows the target on a request line. */
const REQUEST_VERSION = ' HTTP/1.1\r\n';

/** Writes a head (see headLength) at out[0]; returns the offset past it. */
export function putHead(out: Buffer, line: string, headers: readonly string[], tail: string): number {
  return putLatin1(out, putHeaders(out, putLatin1(out, 0, line), headers), tail);
}
