import { describe, expect, it } from 'vitest';
import { MAX_HEAD_BYTES, ResponseParser, type ResponseSink } from '../../src/http1/response-parser.js';
import type { Reason } from '../../src/core/result.js';

/** Records what a parser reports, copying body bytes (the parser's buffer may be reused). */
class Recorder implements ResponseSink {
  readonly events: string[] = [];
  readonly chunks: Buffer[] = [];
  failure: { reason: Reason; message: string } | null = null;
  /** Called after each body callback: lets a test stop the parser from inside it. */
  onBodyHook: (() => void) | null = null;

  onHead(status: number): void {
    this.events.push(`head ${status}`);
  }
  onBody(chunk: Buffer, start: number, end: number): void {
    this.chunks.push(Buffer.from(chunk.subarray(start, end)));
    this.onBodyHook?.();
  }
  onEnd(): void {
    this.events.push('end');
  }
  onFail(reason: Reason, message: string): void {
    this.failure = { reason, message };
    this.events.push(`fail ${reason}`);
  }
  body(): string {
    return Buffer.concat(this.chunks).toString('latin1');
  }
}

interface ParseOptions {
  /** Where to cut the input into reads (offsets); default: one read. */
  cuts?: number[];
  /** Call eof() after the last read (the peer closed). */
  eof?: boolean;
  /** The request was HEAD. */
  head?: boolean;
}

/**
 * Feeds `input` to a new parser in reads cut at `cuts`, each read copied into
 * one scratch buffer at an odd offset and the buffer poisoned afterwards, the
 * way the shared read buffer of the real client behaves.
 */
function parse(input: string | Buffer, opts: ParseOptions = {}): Recorder {
  const bytes = typeof input === 'string' ? Buffer.from(input, 'latin1') : input;
  const sink = new Recorder();
  const parser = new ResponseParser(sink, opts.head ?? false);
  const scratch = Buffer.alloc(bytes.length + 7);
  const cuts = [...(opts.cuts ?? []), bytes.length];
  let from = 0;
  for (const to of cuts) {
    if (to <= from) continue;
    bytes.copy(scratch, 3, from, to);
    parser.execute(scratch, 3, 3 + to - from);
    scratch.fill(0x7e);
    from = to;
  }
  if (opts.eof) parser.eof();
  return sink;
}

/** Every offset: the input fed one byte per read. */
function everyByte(input: string): number[] {
  return Array.from({ length: input.length }, (_, i) => i);
}

/** What a recorder ended with, to compare feeds of the same input. */
function summary(r: Recorder): string {
  return `${r.events.join(',')} | ${r.body()} | ${r.failure?.message ?? ''}`;
}

const CL_RESPONSE = 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 11\r\n\r\nhello world';
const CHUNKED_RESPONSE =
  'HTTP/1.1 200 OK\r\n' +
  'Transfer-Encoding: chunked\r\n' +
  '\r\n' +
  '5;name=value;quoted="a;b"\r\nhello\r\n' +
  '1 ; spaced-ext\r\n \r\n' +
  'A\r\nworld, 0xA\r\n' +
  '0;last=1\r\n' +
  'X-Checksum: abc\r\n' +
  'X-Other: 1\r\n' +
  '\r\n';

describe('http1 parser: framing', () => {
  it('reads a content-length body and ends right after it', () => {
    const r = parse(CL_RESPONSE);
    expect(r.events).toEqual(['head 200', 'end']);
    expect(r.body()).toBe('hello world');
  });

  it('gives the same result for a content-length response split at any byte', () => {
    const whole = summary(parse(CL_RESPONSE));
    for (let i = 1; i < CL_RESPONSE.length; i++) {
      expect(summary(parse(CL_RESPONSE, { cuts: [i] })), `cut at ${i}`).toBe(whole);
    }
    expect(summary(parse(CL_RESPONSE, { cuts: everyByte(CL_RESPONSE) }))).toBe(whole);
  });

  it('decodes chunked bodies with chunk extensions and trailers', () => {
    const r = parse(CHUNKED_RESPONSE);
    expect(r.failure).toBeNull();
    expect(r.events).toEqual(['head 200', 'end']);
    expect(r.body()).toBe('hello world, 0xA');
  });

  it('decodes a chunked body fed one byte at a time, and split at every byte boundary', () => {
    const whole = summary(parse(CHUNKED_RESPONSE));
    expect(whole).toBe('head 200,end | hello world, 0xA | ');
    expect(summary(parse(CHUNKED_RESPONSE, { cuts: everyByte(CHUNKED_RESPONSE) }))).toBe(whole);
    for (let i = 1; i < CHUNKED_RESPONSE.length; i++) {
      expect(summary(parse(CHUNKED_RESPONSE, { cuts: [i] })), `cut at ${i}`).toBe(whole);
    }
  });

  it('does not end a chunked body before its last chunk and trailers', () => {
    const cut = CHUNKED_RESPONSE.indexOf('X-Other');
    const r = parse(CHUNKED_RESPONSE.slice(0, cut), { eof: true });
    expect(r.events).toEqual(['head 200', 'fail connect_reset']);
    expect(r.failure?.message).toContain('in the trailers');
  });

  it('reads until close without content-length, and only ends at eof', () => {
    const input = 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nstreamed until the end';
    const open = parse(input);
    expect(open.events).toEqual(['head 200']);
    const closed = parse(input, { cuts: [20, 50], eof: true });
    expect(closed.events).toEqual(['head 200', 'end']);
    expect(closed.body()).toBe('streamed until the end');
  });

  it('reads until close for a transfer coding other than a final chunked', () => {
    const r = parse('HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nraw', { eof: true });
    expect(r.events).toEqual(['head 200', 'end']);
    expect(r.body()).toBe('raw');
  });

  it('matches framing header names case-insensitively', () => {
    expect(parse('HTTP/1.1 200 OK\r\nCONTENT-LENGTH: 2\r\n\r\nokEXTRA').body()).toBe('ok');
    const chunked = parse('HTTP/1.1 200 OK\r\ntransfer-ENCODING:  Chunked \r\n\r\n2\r\nok\r\n0\r\n\r\n');
    expect(chunked.events).toEqual(['head 200', 'end']);
    expect(chunked.body()).toBe('ok');
  });

  it('has no body for HEAD, 204 and 304 whatever the headers say', () => {
    expect(parse('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n', { head: true }).events).toEqual(['head 200', 'end']);
    expect(parse('HTTP/1.1 204 No Content\r\n\r\n').events).toEqual(['head 204', 'end']);
    expect(parse('HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n').events).toEqual(['head 304', 'end']);
    expect(parse('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n').events).toEqual(['head 200', 'end']);
  });

  it('parses HTTP/1.0 responses, with content-length or until close', () => {
    const cl = parse('HTTP/1.0 200 OK\r\nContent-Length: 4\r\n\r\nold!');
    expect(cl.events).toEqual(['head 200', 'end']);
    expect(cl.body()).toBe('old!');
    const close = parse('HTTP/1.0 404\r\n\r\nnot here', { eof: true });
    expect(close.events).toEqual(['head 404', 'end']);
    expect(close.body()).toBe('not here');
  });

  it('skips 1xx informational responses before the final one', () => {
    const input =
      'HTTP/1.1 100 Continue\r\n\r\n' +
      'HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n' +
      'HTTP/1.1 201 Created\r\nContent-Length: 4\r\n\r\ndone';
    const whole = parse(input);
    expect(whole.events).toEqual(['head 201', 'end']);
    expect(whole.body()).toBe('done');
    expect(summary(parse(input, { cuts: everyByte(input) }))).toBe(summary(whole));
  });

  it('stops calling back once the sink stops it', () => {
    const sink = new Recorder();
    const parser = new ResponseParser(sink, false);
    sink.onBodyHook = () => parser.stop();
    parser.execute(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n12345'));
    parser.execute(Buffer.from('67890'));
    parser.eof();
    expect(sink.events).toEqual(['head 200']);
    expect(sink.body()).toBe('12345');
  });
});

describe('http1 parser: malformed responses are protocol', () => {
  function failure(input: string, opts: ParseOptions = {}): string {
    const r = parse(input, opts);
    expect(r.failure?.reason, `events: ${r.events.join(',')}`).toBe('protocol');
    expect(r.events.filter((e) => e === 'end')).toEqual([]);
    return r.failure?.message ?? '';
  }

  it('rejects bad status lines', () => {
    expect(failure('\x00\x01\x02 this is not HTTP \xff\xfe\r\n\r\n')).toMatch(/^malformed status line "\\u0000/);
    expect(failure('HTTP/2 200\r\n\r\n')).toContain('malformed status line');
    expect(failure('HTTP/1.1 20 OK\r\n\r\n')).toContain('malformed status line');
    expect(failure('HTTP/1.1 2000 OK\r\n\r\n')).toContain('malformed status line');
    expect(failure('HTTP/1.1 099 Low\r\n\r\n')).toContain('malformed status line');
    expect(failure('http/1.1 200 OK\r\n\r\n')).toContain('malformed status line');
  });

  it('rejects a non-HTTP banner before its line ends', () => {
    // An SSH or SMTP banner: no need to wait for a line end or the timeout.
    expect(failure('SSH-2.0-OpenSSH_9.6')).toContain('malformed status line "SSH-2.0-OpenSSH_9.6"');
    expect(failure('220 mail', { cuts: [1, 2] })).toContain('malformed status line');
  });

  it('keeps output on one line', () => {
    expect(failure('garbage\r\nwith\nnewlines\r\n\r\n')).not.toMatch(/[\r\n]/);
  });

  it('rejects a head over the cap, without waiting for its end', () => {
    const pad = `X-Pad: ${'a'.repeat(1000)}\r\n`;
    const input = `HTTP/1.1 200 OK\r\n${pad.repeat(Math.ceil(MAX_HEAD_BYTES / pad.length) + 1)}`;
    expect(failure(input, { cuts: [100, 5000, 9000] })).toBe(`response head over ${MAX_HEAD_BYTES} bytes`);
    // One long line split over reads counts too.
    expect(failure(`HTTP/1.1 200 OK\r\nX-Long: ${'b'.repeat(MAX_HEAD_BYTES)}`, { cuts: [40, 4000] })).toContain('over');
    // Just under the cap is fine.
    const fits = `HTTP/1.1 200 OK\r\nX-Fit: ${'c'.repeat(MAX_HEAD_BYTES - 200)}\r\nContent-Length: 2\r\n\r\nok`;
    expect(parse(fits).events).toEqual(['head 200', 'end']);
  });

  it('counts 1xx heads toward the cap', () => {
    const info = 'HTTP/1.1 100 Continue\r\n\r\n';
    expect(failure(info.repeat(Math.ceil(MAX_HEAD_BYTES / info.length) + 1))).toContain('over');
  });

  it('rejects trailers over the cap', () => {
    const input = `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-T: ${'t'.repeat(MAX_HEAD_BYTES)}\r\n\r\n`;
    expect(failure(input)).toBe(`response trailers over ${MAX_HEAD_BYTES} bytes`);
  });

  it('rejects bad chunk sizes and chunk framing', () => {
    const head = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n';
    expect(failure(`${head}zz\r\nok\r\n0\r\n\r\n`)).toBe('bad chunk size: unexpected byte 0x7a');
    expect(failure(`${head}5x\r\nhello\r\n0\r\n\r\n`)).toBe('bad chunk size: unexpected byte 0x78');
    expect(failure(`${head}\r\nhello\r\n0\r\n\r\n`)).toBe('bad chunk size: unexpected byte 0x0d');
    expect(failure(`${head}-1\r\n`)).toContain('bad chunk size');
    expect(failure(`${head}1000000000000\r\n`)).toBe('chunk size too large');
    expect(failure(`${head}2\r\nokX\r\n0\r\n\r\n`)).toBe('missing CRLF after chunk data');
    expect(failure(`${head}2\nok\r\n0\r\n\r\n`)).toContain('bad chunk size');
    expect(failure(`${head}2;${'e'.repeat(5000)}\r\nok\r\n0\r\n\r\n`, { cuts: [head.length + 10] })).toContain('chunk-size line over');
    expect(failure(`${head}2${' '.repeat(5000)};x\r\nok\r\n0\r\n\r\n`)).toContain('chunk-size line over');
    // Whitespace only before an extension.
    expect(failure(`${head}2 \r\nok\r\n0\r\n\r\n`)).toBe('bad chunk size: unexpected byte 0x0d');
  });

  it('rejects bad, conflicting or doubled framing headers', () => {
    expect(failure('HTTP/1.1 200 OK\r\nContent-Length: 12x\r\n\r\nok')).toBe('bad content-length "12x"');
    expect(failure('HTTP/1.1 200 OK\r\nContent-Length: \r\n\r\nok')).toBe('bad content-length ""');
    expect(failure('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok')).toContain('conflicting');
    expect(failure('HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n')).toContain(
      'both transfer-encoding and content-length',
    );
    // The same value twice is one length.
    expect(parse('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok').events).toEqual(['head 200', 'end']);
  });

  it('rejects malformed header lines and lines without CRLF', () => {
    expect(failure('HTTP/1.1 200 OK\r\nno colon here\r\n\r\n')).toContain('malformed header line');
    expect(failure('HTTP/1.1 200 OK\r\n: empty name\r\n\r\n')).toContain('malformed header line');
    expect(failure('HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n')).toContain('malformed header line');
    expect(failure('HTTP/1.1 200 OK\nContent-Length: 2\n\nok')).toContain('line without CRLF');
    expect(failure('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\nok')).toContain('line without CRLF');
    expect(failure('HTTP/1.1 200 OK\r\nX-A: b\rc\r\n\r\n')).toContain('bare CR');
    // The CRs of a line split across reads count together; a CRLF split between reads is one line end.
    const bare = 'HTTP/1.1 200 OK\r\nX-A: b\rc\r\nContent-Length: 0\r\n\r\n';
    for (const cut of everyByte(bare)) expect(failure(bare, { cuts: [cut] }), `cut at ${cut}`).toContain('bare CR');
    const good = 'HTTP/1.1 200 OK\r\nX-A: bc\r\nContent-Length: 0\r\n\r\n';
    for (const cut of everyByte(good)) expect(parse(good, { cuts: [cut] }).events, `cut at ${cut}`).toEqual(['head 200', 'end']);
    expect(failure('HTTP/1.1 200 OK\r\r\nContent-Length: 0\r\n\r\n')).toContain('bare CR');
  });

  it('ignores folded lines, except when they continue a framing header', () => {
    expect(parse('HTTP/1.1 200 OK\r\nX-A: one\r\n  two\r\nContent-Length: 2\r\n\r\nok').events).toEqual(['head 200', 'end']);
    expect(failure('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n 3\r\n\r\nok')).toContain('folded');
  });

  it('rejects a 101 the client never asked for', () => {
    expect(failure('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n')).toContain('101');
  });
});

describe('http1 parser: connection closed early', () => {
  it('is connect_reset before any byte, in the head and in the body, like undici', () => {
    const none = parse('', { eof: true });
    expect(none.failure).toEqual({ reason: 'connect_reset', message: 'connection closed by peer before any response' });
    expect(parse('HTTP/1.1 200 OK\r\nContent-', { eof: true }).failure?.message).toContain('in the response head');
    const body = parse('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort', { eof: true });
    expect(body.events).toEqual(['head 200', 'fail connect_reset']);
    expect(body.failure?.message).toContain('after 5 of 100 body bytes');
    const chunked = parse('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel', { eof: true });
    expect(chunked.failure?.message).toContain('in a chunked body');
  });

  it('ignores eof after a complete response', () => {
    const r = parse(CL_RESPONSE, { eof: true });
    expect(r.events).toEqual(['head 200', 'end']);
  });
});
