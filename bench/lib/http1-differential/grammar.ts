/**
 * The grammar of request heads the differential runs on: mostly
 * well-formed, mixed with the shapes that smuggle.
 */
import * as fc from 'fast-check';
import { METHODS } from 'node:http';
import { MAX_REQUEST_HEAD_BYTES } from '../../../src/http1/request-head.js';

/** Weighted choice: mostly well-formed pieces, with the rest drawn from the odd shapes. */
function mostly<T>(usual: fc.Arbitrary<T>, weight: number, ...odd: fc.Arbitrary<T>[]): fc.Arbitrary<T> {
  return fc.oneof({ arbitrary: usual, weight }, ...odd.map((arbitrary) => ({ arbitrary, weight: 1 })));
}

const TCHARS = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

/** Strings of characters from `chars`, length min..max. */
function stringOf(chars: string, min: number, max: number): fc.Arbitrary<string> {
  return fc.array(fc.constantFrom(...chars), { minLength: min, maxLength: max }).map((a) => a.join(''));
}

/** One byte of any value, as a latin1 character. */
function anyByte(): fc.Arbitrary<string> {
  return fc.integer({ min: 0, max: 255 }).map((b) => String.fromCharCode(b));
}

/** A string with one odd byte put somewhere in it. */
function withByte(base: fc.Arbitrary<string>, byte: fc.Arbitrary<string>): fc.Arbitrary<string> {
  return fc.tuple(base, byte, fc.nat()).map(([s, b, at]) => {
    const i = s.length === 0 ? 0 : at % (s.length + 1);
    return s.slice(0, i) + b + s.slice(i);
  });
}

/**
 * Request heads (latin1 strings, up to and including the blank line) from a
 * grammar that is mostly well-formed and mixes in the shapes that smuggle:
 * duplicate and conflicting Content-Length, Transfer-Encoding variants
 * (`chunked, gzip`, `gzip, chunked`, case, whitespace, repeats), obs-fold,
 * bare CR and bare LF, whitespace before colons, tabs, non-token bytes in
 * names, control bytes in values, heads near the size cap and over the line
 * cap, absolute-form, authority-form and asterisk targets, versions other
 * than 1.1.
 */
export function headArbitrary(): fc.Arbitrary<string> {
  const eol = mostly(fc.constant('\r\n'), 40, fc.constantFrom('\n', '\r', '\r\r\n', '\n\r', ' \r\n', '\t\r\n'));
  const sp = mostly(fc.constant(' '), 40, fc.constantFrom('  ', '\t', '', '\x0b', ' \t', '\x0c', '\r'));
  const method = mostly(
    fc.constantFrom('GET', 'GET', 'GET', 'POST', 'POST', 'PUT', 'HEAD', 'DELETE', 'OPTIONS', 'PATCH'),
    20,
    fc.constantFrom(...METHODS),
    fc.constantFrom('get', 'Get', 'PRI', 'DESCRIBE', 'SETUP', 'PLAY', 'FOO', 'GETS', 'GE', 'POS', 'M-SEARCH', 'CONNECT', 'TRACE', ''),
    stringOf(TCHARS, 1, 8),
    withByte(fc.constant('GET'), anyByte()),
  );
  const visible = stringOf([...Array(94)].map((_, i) => String.fromCharCode(0x21 + i)).join(''), 0, 12);
  const target = mostly(
    fc.constantFrom('/', '/', '/health', '/a/b?c=d&e=f', '/api/v1/x?y=%20'),
    20,
    fc.constantFrom(
      '*',
      'http://example.com/x',
      'https://h:8080/p?q',
      'HTTP://EXAMPLE.COM',
      'http://user@h/x',
      'example.com:443',
      '127.0.0.1:80',
      '//x',
      'x',
      '/#frag',
      '/a b',
      '',
      '/%',
      '/\\',
      '/"<>^`{|}',
      '?q',
      '*x',
      '**',
    ),
    visible.map((s) => `/${s}`),
    visible,
    withByte(fc.constant('/path'), anyByte()),
  );
  const version = mostly(
    fc.constant('HTTP/1.1'),
    20,
    fc.constant('HTTP/1.0'),
    fc.constantFrom(
      'HTTP/2.0',
      'HTTP/0.9',
      'HTTP/1.2',
      'HTTP/3.0',
      'HTTP/9.9',
      'http/1.1',
      'HTTP/1',
      'HTTP/11',
      'HTTP/1.10',
      'HTTP/1.1 ',
      'HTTP /1.1',
      'RTSP/1.0',
      'ICE/1.0',
      'HTTP/1.1\x00',
      '',
    ),
  );

  const colon = mostly(fc.constant(': '), 20, fc.constantFrom(':', ':\t', ': \t ', ' :', '\t:', ' : ', ':  ', '::'));
  // Whitespace around a value: llhttp trims it from most values but reads an HT after a length or a coding as part of it.
  const ows = mostly(fc.constant(''), 6, fc.constantFrom(' ', '\t', ' \t', '\t ', '  '));
  const plain = stringOf(' \tabcxyz0189,;=/-"', 0, 10);
  const oddValue = mostly(
    plain,
    2,
    withByte(plain, anyByte()),
    withByte(plain, fc.constantFrom('\r', '\n', '\0', '\x7f', '\x01', '\x1b', '\xe9', '\xff', '\x80', '\t')),
  );
  /** A header line of one kind: its names (case and odd spellings) and, mostly, values of its kind. */
  const kind = (names: fc.Arbitrary<string>, values: fc.Arbitrary<string>): fc.Arbitrary<string> =>
    fc.tuple(names, colon, ows, mostly(values, 6, oddValue), ows, eol).map(([n, c, w1, v, w2, e]) => `${n}${c}${w1}${v}${w2}${e}`);
  const lengthDigits = fc.oneof(
    fc.constantFrom('0', '3', '5', '15', '16', '100', '003', '000'),
    fc.integer({ min: 0, max: 40 }).map(String),
    stringOf('0123456789', 14, 21),
  );
  const contentLength = kind(
    fc.constantFrom('Content-Length', 'content-length', 'CONTENT-LENGTH', 'Content-length', 'Content-Length ', 'Content_Length', 'Content-Lengths'),
    mostly(
      lengthDigits,
      4,
      fc.constantFrom('+3', '-1', '3,3', '3, 3', '3, 4', '3 3', '', '0x3', '3a', '1e2', '3.0', '18446744073709551616', '18446744073709551615'),
      fc.tuple(lengthDigits, fc.constantFrom(',', ', ', ' ,', '\t', ' '), lengthDigits).map(([a, sep, b]) => `${a}${sep}${b}`),
    ),
  );
  const coding = fc.constantFrom(
    'chunked',
    'chunked',
    'CHUNKED',
    'Chunked',
    'gzip',
    'identity',
    'deflate',
    'xchunked',
    'chunkedx',
    'chunked;q=1',
    'chunked ;q=1',
    '',
  );
  const transferEncoding = kind(
    fc.constantFrom('Transfer-Encoding', 'transfer-encoding', 'TRANSFER-ENCODING', 'Transfer-encoding', 'Transfer-Encoding ', 'Transfer_Encoding'),
    mostly(
      coding,
      4,
      fc.constantFrom('chunked, gzip', 'gzip, chunked', 'gzip,chunked', 'chunked,chunked', ',chunked', 'chunked,', ', ', ',', 'gzip,,chunked'),
      fc
        .array(fc.tuple(coding, fc.constantFrom(',', ', ', ' ,', ',\t', '\t,', ' , ')), { minLength: 1, maxLength: 3 })
        .chain((parts) => coding.map((last) => parts.map(([c, sep]) => c + sep).join('') + last)),
    ),
  );
  const hopAndRouting = kind(
    fc.constantFrom('Host', 'host', 'Connection', 'connection', 'Upgrade', 'Expect', 'TE', 'Trailer', 'Keep-Alive', 'Proxy-Connection'),
    fc.constantFrom(
      'close',
      'Close',
      'keep-alive, close',
      'upgrade',
      'Upgrade',
      'keep-alive, Upgrade',
      'websocket',
      'h2c',
      '100-continue',
      'foo',
      'a',
      'example.com:80',
      'TE, close',
      'trailers',
    ),
  );
  const generic = kind(
    fc.constantFrom('X-A', 'Accept', 'User-Agent', 'x-forwarded-for', 'Cookie', 'Via'),
    fc.constantFrom('1', 'text/html', 'keep-alive', 'a b', 'x', '', '"q"'),
  );
  const oddName = kind(
    mostly(
      stringOf(TCHARS, 1, 10),
      3,
      withByte(fc.constant('X-B'), anyByte()),
      fc.constantFrom('', 'Content Length', ' Content-Length', 'Transfer-Encoding\t', 'X(A)', 'X"A', 'H\xe9llo', 'X:A'),
    ),
    oddValue,
  );
  const header = fc.oneof(
    { arbitrary: generic, weight: 6 },
    { arbitrary: contentLength, weight: 3 },
    { arbitrary: transferEncoding, weight: 3 },
    { arbitrary: hopAndRouting, weight: 2 },
    { arbitrary: oddName, weight: 2 },
  );
  const value = fc.oneof(oddValue, fc.constantFrom('chunked', '3', 'x'));
  const fold = fc.tuple(fc.constantFrom(' ', '\t', '  '), value, eol).map(([w, v, e]) => `${w}${v}${e}`);
  const headerOrFold = mostly(header, 12, fold);
  const host = mostly(
    fc.constant('Host: a\r\n'),
    10,
    fc.constant(''),
    fc.constant('Host: a\r\nHost: b\r\n'),
    fc.constant('Host:\r\n'),
    fc.constant('host: example.com:8080\r\n'),
  );
  const leading = mostly(fc.constant(''), 30, fc.constantFrom('\r\n', '\n', '\r\n\r\n', ' ', '\r'));
  const end = mostly(fc.constant('\r\n'), 30, fc.constantFrom('\n', '\r', '\r\r\n', ' \r\n'));
  // Near the size cap (node and ours count differently) or over the line cap.
  const size = mostly(
    fc.constant<{ pad?: number; lines?: number }>({}),
    30,
    fc.integer({ min: MAX_REQUEST_HEAD_BYTES - 200, max: MAX_REQUEST_HEAD_BYTES + 100 }).map((pad) => ({ pad })),
    fc.integer({ min: 95, max: 105 }).map((lines) => ({ lines })),
  );

  return fc
    .record({
      leading,
      method,
      sp1: sp,
      target,
      sp2: sp,
      version,
      lineEnd: eol,
      hostAt: fc.nat(),
      host,
      headers: fc.array(headerOrFold, { maxLength: 6 }),
      end,
      size,
    })
    .map((h) => {
      const lines = [...h.headers];
      lines.splice(h.hostAt % (lines.length + 1), 0, h.host);
      if (h.size.lines !== undefined) for (let i = lines.length; i < h.size.lines; i++) lines.push('X-N: 1\r\n');
      let head = `${h.leading}${h.method}${h.sp1}${h.target}${h.sp2}${h.version}${h.lineEnd}${lines.join('')}`;
      if (h.size.pad !== undefined) {
        const fill = h.size.pad - head.length - 'X-Pad: \r\n'.length - h.end.length;
        if (fill > 0) head += `X-Pad: ${'p'.repeat(fill)}\r\n`;
      }
      return head + h.end;
    });
}
