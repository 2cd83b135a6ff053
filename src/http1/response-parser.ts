import type { Reason } from '../core/result.js';
import { knownHeaderName } from './header-names.js';
import type { RepeatedFields } from './repeated-fields.js';
import { COLON, CR, HT, LF, MAX_LENGTH_DIGITS, SP, TOKEN } from './syntax.js';

/**
 * An incremental HTTP/1.0 and 1.1 response parser: the http check's lean
 * client (client.ts) and the proxy's lean upstream and tunnels read
 * responses with it.
 *
 * The parser is about as strict as undici's (llhttp) so that both clients
 * agree on a target: a malformed status line, header line, content-length
 * or chunk size, a line not ending in CRLF or with a bare CR, both
 * content-length and transfer-encoding, a 101, or a head over
 * MAX_HEAD_BYTES is `protocol`. Where it is more lenient it follows RFC 9112
 * and 9110: 1xx responses are skipped (undici fails them), obs-folded lines
 * are ignored unless they continue a framing header (a user agent must
 * accept them), a content-length on a 204 or 304 is not a body (undici
 * fails them), and an unknown transfer coding reads until close.
 */

/** Cap on a response head in bytes (status lines and headers of the final and any 1xx responses), and on trailers. */
export const MAX_HEAD_BYTES = 16 * 1024;
/** Cap on one chunk-size line with its extensions, in bytes. */
export const MAX_CHUNK_LINE_BYTES = 4096;
/** Most hex digits accepted in a chunk size (16^12 bytes is far beyond any cap). */
const MAX_CHUNK_DIGITS = 12;
const SEMICOLON = 59;
const DEL = 0x7f;

/** HEX[byte] is the digit's value, 255 for a non-hex byte. */
const HEX = new Uint8Array(256).fill(255);
for (let i = 0; i < 16; i++) {
  HEX['0123456789abcdef'.charCodeAt(i)] = i;
  HEX['0123456789ABCDEF'.charCodeAt(i)] = i;
}
const HTTP1_PREFIX = Buffer.from('HTTP/1.', 'latin1');
const CONTENT_LENGTH = Buffer.from('content-length', 'latin1');
const TRANSFER_ENCODING = Buffer.from('transfer-encoding', 'latin1');

/** What a ResponseParser reports: onHead once, onBody any number of times, then onEnd; or onFail at any point. */
export interface ResponseSink {
  /** The final response's status line and headers were read (1xx responses are skipped). */
  onHead(status: number): void;
  /**
   * Body bytes chunk[start, end), after transfer decoding. `chunk` may be a
   * buffer that is reused once this returns: copy what you keep.
   */
  onBody(chunk: Buffer, start: number, end: number): void;
  /** The response is complete. */
  onEnd(): void;
  /** The response is malformed (`protocol`) or the connection ended before it was complete. */
  onFail(reason: Reason, message: string): void;
  /**
   * Optional (the proxy relays heads; a check does not read them): each
   * status line, 1xx included, so a sink collecting headers starts afresh.
   * `minor` is the HTTP/1.x minor version, `reason` the reason phrase (latin1).
   */
  onStatus?(status: number, minor: number, reason: string): void;
  /**
   * Optional: each header of a head (not trailers, not obs-fold
   * continuations): its name and its value without surrounding whitespace,
   * latin1 (well-known names are constant strings, see header-names.ts).
   * `clean`: the line holds no control character but HT, so the value may
   * be relayed as it is.
   */
  onHeader?(name: string, value: string, clean: boolean): void;
}

// Parser states.
const S_STATUS = 0;
const S_HEADER = 1;
/** Between the head and the body while onHead runs. */
const S_HEAD_DONE = 2;
const S_LENGTH = 3;
const S_UNTIL_CLOSE = 4;
const S_CHUNK_SIZE = 5;
const S_CHUNK_SIZE_WS = 6;
const S_CHUNK_EXT = 7;
const S_CHUNK_SIZE_LF = 8;
const S_CHUNK_DATA = 9;
const S_CHUNK_DATA_CR = 10;
const S_CHUNK_DATA_LF = 11;
const S_TRAILER = 12;
/** Complete, failed or stopped: no more callbacks. */
const S_DONE = 13;

// Which framing header the previous header line was (an obs-fold continuing it is an error).
const H_OTHER = 0;
const H_FRAMING = 1;

/**
 * Incremental parser of one HTTP/1.0 or 1.1 response: feed it bytes as they
 * come with execute() and call eof() when the peer closed. It reports to its
 * sink synchronously; any callback may call stop().
 */
export class ResponseParser {
  private state = S_STATUS;
  /** Bytes fed so far (to tell "closed before any response" from a truncated one). */
  private seen = 0;
  /** Bytes of the current head (all heads, 1xx included) or of the trailers. */
  private headBytes = 0;
  /** A line split across reads, copied (the read buffer is reused). */
  private pending: Buffer | null = null;
  private pendingLen = 0;
  /**
   * Control bytes in the line read so far, CR included, HT and the LF not
   * (a line split across reads keeps its count): 1 is a clean line, its CR
   * just before the LF.
   */
  private lineControls = 0;
  private status = 0;
  private contentLength = -1;
  private hasTransferEncoding = false;
  private chunked = false;
  private lastHeader = H_OTHER;
  /** Body or chunk bytes still to come. */
  private remaining = 0;
  private bodyLength = 0;
  private digits = 0;
  private lineBytes = 0;
  /** Position of the next header field in the head (for `repeats`). */
  private field = 0;

  /**
   * @param sink receives the response
   * @param noBody the request was HEAD: the response has no body whatever its headers say
   * @param repeats the connection's previous head, so repeated names and values make no string
   */
  constructor(
    protected readonly sink: ResponseSink,
    private readonly noBody: boolean,
    private readonly repeats?: RepeatedFields,
  ) {}

  /** True until the final head was read (for timeout messages). */
  inHead(): boolean {
    return this.state <= S_HEADER;
  }

  /** True once the response was complete or failed, or stop() was called. */
  done(): boolean {
    return this.state === S_DONE;
  }

  /** The final head's Content-Length (valid once onHead ran); -1 when absent. */
  headContentLength(): number {
    return this.contentLength;
  }

  /** No more callbacks, whatever comes. */
  stop(): void {
    this.state = S_DONE;
  }

  /**
   * Parses buf[start, end); returns where it stopped: `end`, or before bytes
   * that follow a complete response (which a keep-alive client must not
   * take for the next response).
   */
  execute(buf: Buffer, start = 0, end = buf.length): number {
    this.seen += end - start;
    let pos = start;
    while (pos < end) {
      switch (this.state) {
        case S_STATUS:
        case S_HEADER:
        case S_TRAILER:
          pos = this.lines(buf, pos, end);
          break;
        case S_LENGTH: {
          const from = pos;
          const n = Math.min(this.remaining, end - pos);
          this.remaining -= n;
          pos += n;
          this.sink.onBody(buf, from, pos);
          if (this.remaining === 0 && this.state === S_LENGTH) this.complete();
          break;
        }
        case S_UNTIL_CLOSE:
          this.bodyLength += end - pos;
          this.sink.onBody(buf, pos, end);
          pos = end;
          break;
        case S_CHUNK_DATA: {
          const from = pos;
          const n = Math.min(this.remaining, end - pos);
          this.remaining -= n;
          pos += n;
          if (this.remaining === 0) this.state = S_CHUNK_DATA_CR;
          this.sink.onBody(buf, from, pos);
          break;
        }
        case S_CHUNK_EXT: {
          // Extensions are skipped up to the line's CR; only their length is bounded.
          let cr = pos;
          while (cr < end && buf[cr] !== CR && buf[cr] !== LF) cr++;
          this.lineBytes += cr - pos;
          if (this.lineBytes > MAX_CHUNK_LINE_BYTES) {
            this.fail(`chunk-size line over ${MAX_CHUNK_LINE_BYTES} bytes`);
            return end;
          }
          pos = cr;
          if (cr < end) {
            pos++;
            if (buf[cr] === CR) this.state = S_CHUNK_SIZE_LF;
            else this.fail('chunk-size line without CRLF');
          }
          break;
        }
        case S_DONE:
          return pos;
        default:
          this.chunkByte(buf[pos++] as number);
      }
    }
    return pos;
  }

  /** The peer closed the connection: ends a read-until-close body, else the response is cut short. */
  eof(): void {
    const state = this.state;
    if (state === S_DONE) return;
    if (state === S_UNTIL_CLOSE) {
      this.complete();
      return;
    }
    let where: string;
    if (this.seen === 0) where = 'before any response';
    else if (state <= S_HEADER) where = 'in the response head';
    else if (state === S_LENGTH) where = `after ${this.bodyLength - this.remaining} of ${this.bodyLength} body bytes`;
    else if (state === S_TRAILER) where = 'in the trailers';
    else where = 'in a chunked body';
    this.state = S_DONE;
    // What undici reports too ("other side closed").
    this.sink.onFail('connect_reset', `connection closed by peer ${where}`);
  }

  /** Status, header and trailer lines; returns where it stopped. */
  private lines(buf: Buffer, pos: number, end: number): number {
    while (pos < end) {
      const state = this.state;
      if (state !== S_STATUS && state !== S_HEADER && state !== S_TRAILER) return pos;
      // One pass finds the LF and counts control bytes (a clean line holds one, the CR just before its LF).
      let lf = pos;
      let controls = this.lineControls;
      for (; lf < end; lf++) {
        const c = buf[lf] as number;
        if (c < 0x20) {
          if (c === LF) break;
          if (c !== HT) controls++;
        } else if (c === DEL) {
          controls++;
        }
      }
      const next = lf < end ? lf + 1 : end;
      this.headBytes += next - pos;
      if (this.headBytes > MAX_HEAD_BYTES) {
        this.fail(`response ${state === S_TRAILER ? 'trailers' : 'head'} over ${MAX_HEAD_BYTES} bytes`);
        return end;
      }
      if (lf === end) {
        this.lineControls = controls;
        this.save(buf, pos, end);
        if (state === S_STATUS && !this.statusPrefixOk()) {
          const p = this.pending as Buffer;
          this.fail(`malformed status line ${preview(p, 0, this.pendingLen)}`);
        }
        return end;
      }
      this.lineControls = 0;
      if (this.pendingLen > 0) {
        this.save(buf, pos, lf);
        const len = this.pendingLen;
        this.pendingLen = 0;
        this.line(this.pending as Buffer, 0, len, controls);
      } else {
        this.line(buf, pos, lf, controls);
      }
      pos = next;
    }
    return pos;
  }

  /** Keeps buf[start, end) as the start (or more) of a line split across reads. */
  private save(buf: Buffer, start: number, end: number): void {
    // headBytes is capped, so a saved line never outgrows this.
    this.pending ??= Buffer.allocUnsafe(MAX_HEAD_BYTES);
    const p = this.pending;
    buf.copy(p, this.pendingLen, start, end);
    this.pendingLen += end - start;
  }

  /** The bytes of a status line seen so far can still start with `HTTP/1.`. */
  private statusPrefixOk(): boolean {
    const p = this.pending as Buffer;
    const n = Math.min(this.pendingLen, HTTP1_PREFIX.length);
    for (let i = 0; i < n; i++) if (p[i] !== HTTP1_PREFIX[i]) return false;
    return true;
  }

  /** One line buf[start, end) without its LF, holding `controls` control bytes (see lineControls). */
  private line(buf: Buffer, start: number, end: number, controls: number): void {
    if (end === start || buf[end - 1] !== CR) {
      this.fail(`line without CRLF ${preview(buf, start, end)}`);
      return;
    }
    end--;
    // Past the final CR: a bare CR is malformed; other control bytes are the sink's to judge (see onHeader).
    if (controls !== 1 && hasCr(buf, start, end)) {
      this.fail(`bare CR in line ${preview(buf, start, end)}`);
      return;
    }
    if (this.state === S_STATUS) {
      this.statusLine(buf, start, end);
    } else if (start === end) {
      if (this.state === S_HEADER) this.headEnd();
      else this.complete();
    } else {
      this.headerLine(buf, start, end, controls === 1);
    }
  }

  private statusLine(buf: Buffer, s: number, e: number): void {
    // HTTP/1.x SP 3DIGIT [SP reason]
    let ok = e - s >= 12 && (e - s === 12 || buf[s + 12] === SP);
    for (let i = 0; ok && i < 7; i++) ok = buf[s + i] === HTTP1_PREFIX[i];
    const minor = buf[s + 7];
    ok &&= (minor === 0x30 || minor === 0x31) && buf[s + 8] === SP;
    let status = 0;
    for (let i = 9; ok && i < 12; i++) {
      const d = (buf[s + i] as number) - 0x30;
      ok = d >= 0 && d <= 9;
      status = status * 10 + d;
    }
    if (!ok || status < 100) {
      this.fail(`malformed status line ${preview(buf, s, e)}`);
      return;
    }
    this.status = status;
    if (this.sink.onStatus !== undefined) this.sink.onStatus(status, minor === 0x31 ? 1 : 0, reasonPhrase(buf, s + 13, e));
    if (this.state === S_DONE) return; // stopped by the sink
    this.contentLength = -1;
    this.hasTransferEncoding = false;
    this.chunked = false;
    this.lastHeader = H_OTHER;
    this.field = 0;
    this.state = S_HEADER;
  }

  private headerLine(buf: Buffer, s: number, e: number, clean: boolean): void {
    const first = buf[s];
    if (first === SP || first === HT) {
      // obs-fold: continues the previous field's value, which we only need for framing.
      if (this.state === S_HEADER && this.lastHeader === H_FRAMING) {
        this.fail('folded content-length or transfer-encoding header');
      }
      return;
    }
    let colon = s;
    while (colon < e && TOKEN[buf[colon] as number] === 1) colon++;
    if (colon === s || colon === e || buf[colon] !== COLON) {
      this.fail(`malformed header line ${preview(buf, s, e)}`);
      return;
    }
    this.lastHeader = H_OTHER;
    if (this.state !== S_HEADER) return; // trailers: checked for shape only
    // The value without the optional whitespace around it.
    let vs = colon + 1;
    let ve = e;
    while (vs < ve && (buf[vs] === SP || buf[vs] === HT)) vs++;
    while (ve > vs && (buf[ve - 1] === SP || buf[ve - 1] === HT)) ve--;
    if (this.sink.onHeader !== undefined) {
      const r = this.repeats;
      const i = this.field++;
      const name = knownHeaderName(buf, s, colon) ?? (r ? r.name(i, buf, s, colon) : buf.toString('latin1', s, colon));
      this.sink.onHeader(name, r ? r.value(i, buf, vs, ve) : buf.toString('latin1', vs, ve), clean);
      if (this.state !== S_HEADER) return; // stopped by the sink
    }
    const nameLength = colon - s;
    if (nameLength === CONTENT_LENGTH.length && sameLower(buf, s, CONTENT_LENGTH)) {
      this.lastHeader = H_FRAMING;
      this.contentLengthValue(buf, vs, ve);
    } else if (nameLength === TRANSFER_ENCODING.length && sameLower(buf, s, TRANSFER_ENCODING)) {
      this.lastHeader = H_FRAMING;
      const v = buf.toString('latin1', colon + 1, e).toLowerCase();
      // Only a final `chunked` frames the body; any other coding runs until close (RFC 9112 §6.3).
      this.hasTransferEncoding = true;
      this.chunked = v.slice(v.lastIndexOf(',') + 1).trim() === 'chunked';
    }
  }

  /** A Content-Length value buf[s, e), already trimmed of whitespace. */
  private contentLengthValue(buf: Buffer, s: number, e: number): void {
    let n = 0;
    let ok = e > s && e - s <= MAX_LENGTH_DIGITS;
    for (let i = s; ok && i < e; i++) {
      const d = (buf[i] as number) - 0x30;
      ok = d >= 0 && d <= 9;
      n = n * 10 + d;
    }
    if (!ok) {
      this.fail(`bad content-length ${preview(buf, s, e)}`);
    } else if (this.contentLength >= 0 && this.contentLength !== n) {
      this.fail(`conflicting content-length ${this.contentLength} and ${n}`);
    } else {
      this.contentLength = n;
    }
  }

  /** The empty line after a head: skip a 1xx, else report the head and pick the body framing. */
  private headEnd(): void {
    const status = this.status;
    if (status < 200) {
      if (status === 101) {
        this.fail('unexpected 101 Switching Protocols');
        return;
      }
      // Informational (100 Continue, 103 Early Hints…): the final response follows.
      this.state = S_STATUS;
      return;
    }
    const bodyless = this.noBody || status === 204 || status === 304;
    if (!bodyless && this.hasTransferEncoding && this.contentLength >= 0) {
      // Refused before the head is reported: a proxy must not relay a head whose framing is ambiguous (smuggling).
      this.fail('both transfer-encoding and content-length');
      return;
    }
    this.state = S_HEAD_DONE;
    this.sink.onHead(status);
    if (this.state !== S_HEAD_DONE) return; // stopped by the sink
    if (bodyless) {
      this.complete();
    } else if (this.hasTransferEncoding) {
      if (this.chunked) this.startChunk();
      else this.state = S_UNTIL_CLOSE;
    } else if (this.contentLength > 0) {
      this.remaining = this.bodyLength = this.contentLength;
      this.state = S_LENGTH;
    } else if (this.contentLength === 0) {
      this.complete();
    } else {
      this.state = S_UNTIL_CLOSE;
    }
  }

  private startChunk(): void {
    this.state = S_CHUNK_SIZE;
    this.remaining = 0;
    this.digits = 0;
    this.lineBytes = 0;
  }

  /** One byte of a chunk-size line or of the CRLF after chunk data. */
  private chunkByte(c: number): void {
    switch (this.state) {
      case S_CHUNK_SIZE: {
        const h = HEX[c] as number;
        if (h !== 255) {
          if (++this.digits > MAX_CHUNK_DIGITS) this.fail('chunk size too large');
          this.remaining = this.remaining * 16 + h;
          return;
        }
        if (this.digits === 0) {
          this.fail(`bad chunk size: unexpected byte 0x${c.toString(16).padStart(2, '0')}`);
          return;
        }
        this.afterSize(c);
        return;
      }
      case S_CHUNK_SIZE_WS:
        // Whitespace may only come before an extension (BWS ";").
        if (++this.lineBytes > MAX_CHUNK_LINE_BYTES) this.fail(`chunk-size line over ${MAX_CHUNK_LINE_BYTES} bytes`);
        else if (c === SP || c === HT) return;
        else if (c === SEMICOLON) this.state = S_CHUNK_EXT;
        else this.fail(`bad chunk size: unexpected byte 0x${c.toString(16).padStart(2, '0')}`);
        return;
      case S_CHUNK_SIZE_LF:
        if (c === LF) this.chunkSizeDone();
        else this.fail('bad chunk size line: CR without LF');
        return;
      case S_CHUNK_DATA_CR:
        if (c === CR) this.state = S_CHUNK_DATA_LF;
        else this.fail('missing CRLF after chunk data');
        return;
      case S_CHUNK_DATA_LF:
        if (c === LF) this.startChunk();
        else this.fail('missing CRLF after chunk data');
        return;
      default:
        this.fail('parser in an impossible state');
    }
  }

  /** A byte after the chunk size's digits: whitespace, extensions or the line end. */
  private afterSize(c: number): void {
    if (c === SP || c === HT) this.state = S_CHUNK_SIZE_WS;
    else if (c === SEMICOLON) this.state = S_CHUNK_EXT;
    else if (c === CR) this.state = S_CHUNK_SIZE_LF;
    else this.fail(`bad chunk size: unexpected byte 0x${c.toString(16).padStart(2, '0')}`);
  }

  private chunkSizeDone(): void {
    if (this.remaining > 0) {
      this.state = S_CHUNK_DATA;
    } else {
      // The last chunk: trailers until an empty line.
      this.state = S_TRAILER;
      this.headBytes = 0;
    }
  }

  private complete(): void {
    this.state = S_DONE;
    this.pending = null;
    this.sink.onEnd();
  }

  private fail(message: string): void {
    if (this.state === S_DONE) return;
    this.state = S_DONE;
    this.pending = null;
    this.sink.onFail('protocol', message);
  }
}

/** Whether buf[s, e) holds a CR. */
function hasCr(buf: Buffer, s: number, e: number): boolean {
  for (let i = s; i < e; i++) if (buf[i] === CR) return true;
  return false;
}

/** The reason phrase buf[s, e) as text; the common `OK` without a native call. */
function reasonPhrase(buf: Buffer, s: number, e: number): string {
  if (s >= e) return '';
  if (e - s === 2 && buf[s] === 0x4f && buf[s + 1] === 0x4b) return 'OK';
  return buf.toString('latin1', s, e);
}

/** buf[s, s + lower.length) equals `lower` ignoring ASCII case (caller checked both are token bytes). */
function sameLower(buf: Buffer, s: number, lower: Buffer): boolean {
  for (let i = 0; i < lower.length; i++) {
    if (((buf[s + i] as number) | 0x20) !== lower[i]) return false;
  }
  return true;
}

/** Up to 60 bytes as a quoted one-line string (JSON escapes control bytes, CR and LF). */
function preview(buf: Buffer, s: number, e: number): string {
  const text = buf.toString('latin1', s, Math.min(e, s + 60));
  return JSON.stringify(e - s > 60 ? `${text}...` : text);
}
