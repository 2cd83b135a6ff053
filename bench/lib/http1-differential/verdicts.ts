/**
 * What each side made of a head (a verdict), and ours: the proxy's reader
 * run on the head and BODY_PROBE, the bytes the lean engine would hold.
 */
import { MAX_REQUEST_HEAD_BYTES, readRequestHead } from '../../../src/http1/request-head.js';

/** Sent after every head: a chunked body of "hello" (see index.ts). */
export const BODY_PROBE = '5\r\nhello\r\n0\r\n\r\n';

/** How a request's body is delimited. */
export type Framing =
  | { kind: 'length'; n: number }
  /** A Content-Length larger than BODY_PROBE: node is still waiting for body bytes. */
  | { kind: 'length-over' }
  | { kind: 'chunked' }
  /** The connection leaves HTTP after the head (node's 'upgrade'), or ours hands it to node:http (Upgrade, Expect). */
  | { kind: 'upgrade' };

/** A head one side accepted: what the proxy would forward. */
export interface Accepted {
  ok: true;
  method: string;
  target: string;
  /** "1.1", "1.0"... */
  version: string;
  /** Flat [name, value, …]: names as received, values without surrounding whitespace. */
  headers: string[];
  framing: Framing;
}

/** A head one side refused, and the code it gave. */
export interface Rejected {
  ok: false;
  code: string;
}

/** One side's reading of a head. */
export type Verdict = Accepted | Rejected;

/** What the proxy's reader makes of `head` followed by BODY_PROBE (the bytes the lean engine would hold). */
export function oursVerdict(head: string): Verdict {
  const buf = Buffer.from(head + BODY_PROBE, 'latin1');
  const r = readRequestHead(buf, 0);
  if (r === undefined) {
    // The lean engine waits for more, and refuses past the cap.
    return { ok: false, code: buf.length > MAX_REQUEST_HEAD_BYTES ? 'request_head_too_large' : 'incomplete' };
  }
  if (!r.ok) return { ok: false, code: r.code };
  let framing: Framing;
  if (r.special) framing = { kind: 'upgrade' };
  else if (r.chunked) framing = { kind: 'chunked' };
  else framing = { kind: 'length', n: Math.max(0, r.contentLength) };
  return { ok: true, method: r.method, target: r.target, version: `1.${r.minor}`, headers: r.raw, framing };
}
