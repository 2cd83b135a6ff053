/**
 * HTTP/1.1 heads as text, for the rare paths (an upgrade request sent
 * upstream, a tunnel's relayed non-101 head); the lean engine's per-request
 * heads are written as bytes instead (head-bytes.ts).
 */
import { statusLine } from './head-bytes.js';

/** A request line and flat headers as HTTP/1.1 text, up to the blank line (latin1). */
export function requestHeadText(method: string, path: string, headers: readonly string[]): string {
  return headText(`${method} ${path} HTTP/1.1\r\n`, headers);
}

/** A status line (see head-bytes' statusLine) and flat headers as HTTP/1.1 text. */
export function responseHeadText(status: number, reason: string, headers: readonly string[]): string {
  return headText(statusLine(status, reason), headers);
}

/** `firstLine` (CRLF included), each `name: value`, then the blank line. */
function headText(firstLine: string, headers: readonly string[]): string {
  let s = firstLine;
  for (let i = 0; i < headers.length; i += 2) s += `${headers[i]}: ${headers[i + 1]}\r\n`;
  return `${s}\r\n`;
}
