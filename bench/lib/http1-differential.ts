/**
 * Differential fuzzing of the proxy's request-head reader (src/http1/request-head.ts)
 * against node's own HTTP parser (llhttp, through a real node:http server on
 * 127.0.0.1): a grammar of request heads full of smuggling shapes, an oracle
 * that reports what node:http made of each head, and the rule that judges
 * the two. Shared by bench/fuzz.ts (100,000 cases and more) and
 * test/http1/differential.test.ts (2,000 in CI).
 *
 * The rule (issue 14): every head node rejects, ours rejects; every head
 * both accept gives the same method, target, version, headers (names and
 * values as the proxy relays them) and body framing. Ours may refuse what
 * node accepts only where ALLOWED_STRICTER lists it, with the reason.
 *
 * Why a socket and not node's parser object: node:http's parser binding is
 * internal (process.binding, deprecated), and node:http adds its own checks
 * on top of llhttp (a missing Host is a 400, Expect and Upgrade change what
 * follows): the server the proxy hands connections to is the one to agree
 * with.
 *
 * How node's framing is seen: each head is sent with BODY_PROBE after it,
 * the chunked encoding of "hello". Read as chunked, the body is "hello";
 * with Content-Length N, the body is BODY_PROBE's first N bytes (or all of
 * them and still waiting, when N is larger); with no body, it is empty and
 * BODY_PROBE is read as a next request, which node's server ignores here.
 */
import type * as FastCheck from 'fast-check';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { METHODS } from 'node:http';
import { MAX_REQUEST_HEAD_BYTES, readRequestHead } from '../../src/http1/request-head.js';

/** Sent after every head: a chunked body of "hello" (see the top of this file). */
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

export type Verdict = Accepted | Rejected;

// ---------------------------------------------------------------- ours

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

// ---------------------------------------------------------------- node

/** A node:http server configured as the proxy's node engine is, reporting what it parsed of each connection's first request. */
export class NodeOracle {
  private constructor(
    private readonly server: Server,
    private readonly port: number,
  ) {}

  static async start(): Promise<NodeOracle> {
    // As proxy.ts creates it: defaults (maxHeaderSize 16 KB, requireHostHeader), an 'upgrade' listener.
    const server = createServer({ requestTimeout: 0 });
    const onRequest = (req: IncomingMessage): void => observeRequest(req);
    server.on('request', onRequest);
    // Expect is not parsing: node would answer 100 or 417 itself; here the request is reported like any other.
    server.on('checkContinue', onRequest);
    server.on('checkExpectation', onRequest);
    server.on('upgrade', (req: IncomingMessage, socket: Socket) => {
      if (claim(socket)) report(socket, { ...headOf(req), framing: { kind: 'upgrade' } });
    });
    server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
      const s = socket as ClaimedSocket;
      if (s[kClaimed] === undefined) {
        s[kClaimed] = { error: err.code ?? 'error' };
        report(socket, { ok: false, code: err.code ?? 'error' });
      } else if (s[kClaimed].error === undefined) {
        // A parse error after the first request's head: its body, or the next request (see observeRequest).
        s[kClaimed].error = err.code ?? 'error';
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return new NodeOracle(server, (server.address() as AddressInfo).port);
  }

  /**
   * node's verdict on `head` + BODY_PROBE, on a connection of its own.
   * Bounded: when node says nothing within `waitMs` (it is waiting for more
   * of a head it has not finished), the client half-closes, which makes
   * llhttp decide; after `timeoutMs` the verdict is `timeout`.
   */
  verdict(head: string, waitMs = 500, timeoutMs = 10_000): Promise<Verdict> {
    return new Promise((resolve) => {
      const chunks: Buffer[] = [];
      let settled = false;
      const c = connect(this.port, '127.0.0.1');
      const finish = (v: Verdict): void => {
        if (settled) return;
        settled = true;
        clearTimeout(nudge);
        clearTimeout(bound);
        c.destroy();
        resolve(v);
      };
      const nudge = setTimeout(() => c.end(), waitMs);
      const bound = setTimeout(() => finish({ ok: false, code: 'timeout' }), timeoutMs);
      c.on('error', () => {});
      c.on('data', (d: Buffer) => {
        chunks.push(d);
        const text = Buffer.concat(chunks).toString('utf8');
        const nl = text.indexOf('\n');
        if (text.startsWith('{') && nl >= 0) finish(JSON.parse(text.slice(0, nl)) as Verdict);
      });
      c.on('close', () => {
        const text = Buffer.concat(chunks).toString('latin1');
        // node:http's own answers (a missing Host is a 400) and silent closes (CONNECT without a listener).
        const status = /^HTTP\/1\.1 (\d{3})/.exec(text);
        finish({ ok: false, code: status ? `node_${status[1]}` : text === '' ? 'closed' : 'unknown' });
      });
      c.write(Buffer.from(head + BODY_PROBE, 'latin1'));
    });
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

const kClaimed = Symbol('differential.claimed');
/** A server socket whose first request (or parse error) was seen; later ones on it are ignored. */
type ClaimedSocket = Socket & { [kClaimed]?: { error: string | undefined } };

function claim(socket: Socket): boolean {
  const s = socket as ClaimedSocket;
  if (s[kClaimed] !== undefined) return false;
  s[kClaimed] = { error: undefined };
  return true;
}

function headOf(req: IncomingMessage): Omit<Accepted, 'framing'> {
  return { ok: true, method: req.method ?? '', target: req.url ?? '', version: req.httpVersion, headers: req.rawHeaders };
}

/**
 * The first request of a connection: its body is read until the end of this
 * turn of the event loop. head + BODY_PROBE arrive in one read, and llhttp
 * parses a read whole before anything else runs, so by then the body is
 * complete (or still waiting for bytes that will not come), and a parse
 * error in it has been reported to clientError.
 */
function observeRequest(req: IncomingMessage): void {
  const socket = req.socket as ClaimedSocket;
  if (!claim(socket)) return; // a request BODY_PROBE made, after the first one
  const body: Buffer[] = [];
  req.on('data', (d: Buffer) => body.push(d));
  setImmediate(() => {
    const claimed = socket[kClaimed]!;
    const got = Buffer.concat(body).toString('latin1');
    let framing: Framing;
    if (req.complete) {
      if (got === 'hello') framing = { kind: 'chunked' };
      else if (BODY_PROBE.startsWith(got)) framing = { kind: 'length', n: got.length };
      else {
        report(socket, { ok: false, code: `unexpected_body ${JSON.stringify(got)}` });
        return;
      }
    } else if (claimed.error !== undefined) {
      // The head was read, then its body's framing failed (Transfer-Encoding: xchunked...): the message is refused.
      report(socket, { ok: false, code: `after_head_${claimed.error}` });
      return;
    } else if (got === BODY_PROBE) {
      framing = { kind: 'length-over' };
    } else {
      report(socket, { ok: false, code: `incomplete_body ${JSON.stringify(got)}` });
      return;
    }
    report(socket, { ...headOf(req), framing });
  });
}

function report(socket: Socket, v: Verdict): void {
  if (!socket.destroyed) socket.end(`${JSON.stringify(v)}\n`);
}

// ---------------------------------------------------------------- the rule

/**
 * Where ours refuses on purpose what node:http accepts: an entry matches a
 * head by our refusal code and a shape of the head, and says why.
 */
export interface AllowedStricter {
  name: string;
  /** Our refusal codes it covers. */
  codes: readonly string[];
  /** The head has the shape this allowance is about. */
  when: (head: string) => boolean;
  why: string;
  /** One head node accepts and ours refuses for this reason (tested). */
  example: string;
}

const requestLine = (head: string): string => head.replace(/^(\r\n)+/, '').split(/\r\n|\n|\r/, 1)[0] ?? '';
const headerLines = (head: string): string[] => head.split('\r\n').slice(1);
const namedValues = (head: string, name: string): string[] =>
  headerLines(head)
    .filter((l) => l.toLowerCase().startsWith(`${name}:`))
    .map((l) => l.slice(name.length + 1).replace(/^[ \t]+|[ \t]+$/g, ''));

export const ALLOWED_STRICTER: readonly AllowedStricter[] = [
  {
    name: 'http-version',
    codes: ['bad_http_version'],
    when: (h) => !/ HTTP\/1\.[01]$/.test(requestLine(h)),
    why: 'only HTTP/1.0 and 1.1 are served; node also takes 0.9, 2.0 and other x.y (the upstream would get a request in a version we never speak)',
    example: 'GET / HTTP/2.0\r\nHost: a\r\n\r\n',
  },
  {
    name: 'http-0.9-request-line',
    codes: ['bad_request_line'],
    when: (h) => /^[^ ]+ [^ ]+$/.test(requestLine(h)),
    why: 'a request line without a version is HTTP/0.9, which node reads (headers and all) and we never speak',
    example: 'GET /\r\nHost: a\r\n\r\n',
  },
  {
    name: 'non-http-method',
    codes: ['method_not_implemented'],
    when: (h) => !/ HTTP\/1\.[01]$/.test(requestLine(h)),
    why: 'node reads RTSP requests (`PLAY / RTSP/1.0`) and other methods in HTTP/0.9 lines (`PRI /x`, the start of the HTTP/2 preface); the proxy speaks HTTP/1.x only, and refuses the method first',
    example: 'PLAY / RTSP/1.0\r\nHost: a\r\n\r\n',
  },
  {
    name: 'missing-host-upgrade',
    codes: ['missing_host'],
    when: (h) => /\r\nupgrade:/i.test(h),
    why: 'RFC 9112 §3.2: an HTTP/1.1 request without Host is a 400; node:http checks that for requests but not for upgrades',
    example: 'GET / HTTP/1.1\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n',
  },
  {
    name: 'duplicate-host',
    codes: ['duplicate_host'],
    when: (h) => namedValues(h, 'host').length > 1,
    why: 'RFC 9112 §3.2: a server MUST answer 400 to a request with more than one Host; routing by Host must not pick one of two',
    example: 'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n',
  },
  {
    name: 'transfer-coding-before-chunked',
    codes: ['transfer_encoding_not_supported', 'bad_transfer_encoding'],
    when: (h) => namedValues(h, 'transfer-encoding').join(',').split(',').filter((x) => x.trim() !== '').length > 1,
    why: 'a coding before chunked (gzip, chunked) or TE given twice: 501, the lean engine does not decode codings and does not guess which header counts',
    example: 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n',
  },
  {
    name: 'empty-transfer-coding',
    codes: ['bad_transfer_encoding'],
    when: (h) => namedValues(h, 'transfer-encoding').some((v) => v.split(',').some((x) => x.trim() === '')),
    why: 'a Transfer-Encoding that is empty or has an empty element (`,chunked`): node skips some of those and refuses others (`chunked,`); one rule, refusing them all, leaves nothing to guess',
    example: 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: ,chunked\r\n\r\n',
  },
  {
    name: 'long-content-length',
    codes: ['bad_content_length'],
    when: (h) => namedValues(h, 'content-length').some((v) => /^\d{16,}$/.test(v)),
    why: 'more than 15 digits (2^53 and above) is not a length anyone sends; node takes up to 2^64',
    example: `POST / HTTP/1.1\r\nHost: a\r\nContent-Length: ${'0'.repeat(15)}12\r\n\r\n`,
  },
  {
    name: 'request-line-whitespace',
    codes: ['bad_request_line', 'bad_http_version'],
    when: (h) => / \s/.test(requestLine(h)),
    why: 'RFC 9112 §3: exactly one SP between method, target and version; node skips extra spaces',
    example: 'GET  / HTTP/1.1\r\nHost: a\r\n\r\n',
  },
  {
    name: 'leading-bare-cr-or-lf',
    codes: ['bare_cr_or_lf', 'bare_lf'],
    when: (h) => /^(\r\n)*(\n|\r(?!\n))/.test(h),
    why: 'empty lines before the request line must be CRLF like every other line end; node skips a bare LF or CR there',
    example: '\nGET / HTTP/1.1\r\nHost: a\r\n\r\n',
  },
  {
    name: 'head-size',
    codes: ['request_head_too_large'],
    when: (h) => h.length > MAX_REQUEST_HEAD_BYTES,
    why: 'our 16 KB cap counts every byte of the head; node counts the request line and header bytes without line ends, so it takes a little more',
    // 16,400 bytes: node takes up to about 16,408 with these two header lines.
    example: `GET / HTTP/1.1\r\nHost: a\r\nX-Pad: ${'p'.repeat(MAX_REQUEST_HEAD_BYTES - 20)}\r\n\r\n`,
  },
  {
    name: 'header-count',
    codes: ['too_many_headers'],
    when: () => true,
    why: 'at most 100 header lines (431); node takes 2000 and drops the rest',
    example: `GET / HTTP/1.1\r\nHost: a\r\n${'X-A: 1\r\n'.repeat(100)}\r\n`,
  },
];

/** How a pair of verdicts compares: agreement, an allowed strictness of ours, or a difference of a class. */
export type Judgement =
  | { kind: 'rejected-by-both' }
  | { kind: 'accepted-by-both' }
  | { kind: 'allowed'; name: string }
  | { kind: 'difference'; cls: string; detail: string };

/** Judges a head by the rule at the top of this file. */
export function judge(head: string, ours: Verdict, node: Verdict): Judgement {
  if (!node.ok && !ours.ok) return { kind: 'rejected-by-both' };
  if (!node.ok && ours.ok) return { kind: 'difference', cls: 'ours-accepts-node-rejects', detail: `node ${node.code}` };
  if (node.ok && !ours.ok) {
    const allowed = ALLOWED_STRICTER.find((a) => a.codes.includes(ours.code) && a.when(head));
    if (allowed !== undefined) return { kind: 'allowed', name: allowed.name };
    return { kind: 'difference', cls: `ours-rejects:${ours.code}`, detail: 'node accepts' };
  }
  const o = ours as Accepted;
  const n = node as Accepted;
  if (o.method !== n.method) return diff('method', o.method, n.method);
  if (o.target !== n.target) return diff('target', o.target, n.target);
  if (o.version !== n.version) return diff('version', o.version, n.version);
  if (JSON.stringify(o.headers) !== JSON.stringify(n.headers)) return diff('headers', o.headers, n.headers);
  if (!sameFraming(o.framing, n.framing)) return diff('framing', o.framing, n.framing);
  return { kind: 'accepted-by-both' };
}

function diff(cls: string, ours: unknown, node: unknown): Judgement {
  return { kind: 'difference', cls, detail: `ours ${JSON.stringify(ours)}, node ${JSON.stringify(node)}` };
}

function sameFraming(ours: Framing, node: Framing): boolean {
  // Ours hands Upgrade and Expect requests to node:http, whose reading then is the only one.
  if (ours.kind === 'upgrade') return true;
  if (node.kind === 'length-over') return ours.kind === 'length' && ours.n > BODY_PROBE.length;
  if (ours.kind === 'length' && node.kind === 'length') return ours.n === node.n;
  return ours.kind === node.kind;
}

// ---------------------------------------------------------------- the grammar

type Fc = typeof FastCheck;

/** Weighted choice: mostly well-formed pieces, with the rest drawn from the odd shapes. */
function mostly<T>(fc: Fc, usual: FastCheck.Arbitrary<T>, weight: number, ...odd: FastCheck.Arbitrary<T>[]): FastCheck.Arbitrary<T> {
  return fc.oneof({ arbitrary: usual, weight }, ...odd.map((arbitrary) => ({ arbitrary, weight: 1 })));
}

const TCHARS = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

/** Strings of characters from `chars`, length min..max. */
function stringOf(fc: Fc, chars: string, min: number, max: number): FastCheck.Arbitrary<string> {
  return fc.array(fc.constantFrom(...chars), { minLength: min, maxLength: max }).map((a) => a.join(''));
}

/** One byte of any value, as a latin1 character. */
function anyByte(fc: Fc): FastCheck.Arbitrary<string> {
  return fc.integer({ min: 0, max: 255 }).map((b) => String.fromCharCode(b));
}

/** A string with one odd byte put somewhere in it. */
function withByte(fc: Fc, base: FastCheck.Arbitrary<string>, byte: FastCheck.Arbitrary<string>): FastCheck.Arbitrary<string> {
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
export function headArbitrary(fc: Fc): FastCheck.Arbitrary<string> {
  const eol = mostly(fc, fc.constant('\r\n'), 40, fc.constantFrom('\n', '\r', '\r\r\n', '\n\r', ' \r\n', '\t\r\n'));
  const sp = mostly(fc, fc.constant(' '), 40, fc.constantFrom('  ', '\t', '', '\x0b', ' \t', '\x0c', '\r'));
  const method = mostly(
    fc,
    fc.constantFrom('GET', 'GET', 'GET', 'POST', 'POST', 'PUT', 'HEAD', 'DELETE', 'OPTIONS', 'PATCH'),
    20,
    fc.constantFrom(...METHODS),
    fc.constantFrom('get', 'Get', 'PRI', 'DESCRIBE', 'SETUP', 'PLAY', 'FOO', 'GETS', 'GE', 'POS', 'M-SEARCH', 'CONNECT', 'TRACE', ''),
    stringOf(fc, TCHARS, 1, 8),
    withByte(fc, fc.constant('GET'), anyByte(fc)),
  );
  const visible = stringOf(fc, [...Array(94)].map((_, i) => String.fromCharCode(0x21 + i)).join(''), 0, 12);
  const target = mostly(
    fc,
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
    withByte(fc, fc.constant('/path'), anyByte(fc)),
  );
  const version = mostly(
    fc,
    fc.constant('HTTP/1.1'),
    20,
    fc.constant('HTTP/1.0'),
    fc.constantFrom('HTTP/2.0', 'HTTP/0.9', 'HTTP/1.2', 'HTTP/3.0', 'HTTP/9.9', 'http/1.1', 'HTTP/1', 'HTTP/11', 'HTTP/1.10', 'HTTP/1.1 ', 'HTTP /1.1', 'RTSP/1.0', 'ICE/1.0', 'HTTP/1.1\x00', ''),
  );

  const colon = mostly(fc, fc.constant(': '), 20, fc.constantFrom(':', ':\t', ': \t ', ' :', '\t:', ' : ', ':  ', '::'));
  // Whitespace around a value: llhttp trims it from most values but reads an HT after a length or a coding as part of it.
  const ows = mostly(fc, fc.constant(''), 6, fc.constantFrom(' ', '\t', ' \t', '\t ', '  '));
  const plain = stringOf(fc, ' \tabcxyz0189,;=/-"', 0, 10);
  const oddValue = mostly(
    fc,
    plain,
    2,
    withByte(fc, plain, anyByte(fc)),
    withByte(fc, plain, fc.constantFrom('\r', '\n', '\0', '\x7f', '\x01', '\x1b', '\xe9', '\xff', '\x80', '\t')),
  );
  /** A header line of one kind: its names (case and odd spellings) and, mostly, values of its kind. */
  const kind = (names: FastCheck.Arbitrary<string>, values: FastCheck.Arbitrary<string>): FastCheck.Arbitrary<string> =>
    fc
      .tuple(names, colon, ows, mostly(fc, values, 6, oddValue), ows, eol)
      .map(([n, c, w1, v, w2, e]) => `${n}${c}${w1}${v}${w2}${e}`);
  const lengthDigits = fc.oneof(
    fc.constantFrom('0', '3', '5', '15', '16', '100', '003', '000'),
    fc.integer({ min: 0, max: 40 }).map(String),
    stringOf(fc, '0123456789', 14, 21),
  );
  const contentLength = kind(
    fc.constantFrom('Content-Length', 'content-length', 'CONTENT-LENGTH', 'Content-length', 'Content-Length ', 'Content_Length', 'Content-Lengths'),
    mostly(
      fc,
      lengthDigits,
      4,
      fc.constantFrom('+3', '-1', '3,3', '3, 3', '3, 4', '3 3', '', '0x3', '3a', '1e2', '3.0', '18446744073709551616', '18446744073709551615'),
      fc.tuple(lengthDigits, fc.constantFrom(',', ', ', ' ,', '\t', ' '), lengthDigits).map(([a, sep, b]) => `${a}${sep}${b}`),
    ),
  );
  const coding = fc.constantFrom('chunked', 'chunked', 'CHUNKED', 'Chunked', 'gzip', 'identity', 'deflate', 'xchunked', 'chunkedx', 'chunked;q=1', 'chunked ;q=1', '');
  const transferEncoding = kind(
    fc.constantFrom('Transfer-Encoding', 'transfer-encoding', 'TRANSFER-ENCODING', 'Transfer-encoding', 'Transfer-Encoding ', 'Transfer_Encoding'),
    mostly(
      fc,
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
    fc.constantFrom('close', 'Close', 'keep-alive, close', 'upgrade', 'Upgrade', 'keep-alive, Upgrade', 'websocket', 'h2c', '100-continue', 'foo', 'a', 'example.com:80', 'TE, close', 'trailers'),
  );
  const generic = kind(fc.constantFrom('X-A', 'Accept', 'User-Agent', 'x-forwarded-for', 'Cookie', 'Via'), fc.constantFrom('1', 'text/html', 'keep-alive', 'a b', 'x', '', '"q"'));
  const oddName = kind(
    mostly(
      fc,
      stringOf(fc, TCHARS, 1, 10),
      3,
      withByte(fc, fc.constant('X-B'), anyByte(fc)),
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
  const headerOrFold = mostly(fc, header, 12, fold);
  const host = mostly(
    fc,
    fc.constant('Host: a\r\n'),
    10,
    fc.constant(''),
    fc.constant('Host: a\r\nHost: b\r\n'),
    fc.constant('Host:\r\n'),
    fc.constant('host: example.com:8080\r\n'),
  );
  const leading = mostly(fc, fc.constant(''), 30, fc.constantFrom('\r\n', '\n', '\r\n\r\n', ' ', '\r'));
  const end = mostly(fc, fc.constant('\r\n'), 30, fc.constantFrom('\n', '\r', '\r\r\n', ' \r\n'));
  // Near the size cap (node and ours count differently) or over the line cap.
  const size = mostly(
    fc,
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

// ---------------------------------------------------------------- running

/** Totals of a run, by judgement. */
export interface DifferentialTally {
  cases: number;
  rejectedByBoth: number;
  acceptedByBoth: number;
  /** Ours stricter on purpose, by ALLOWED_STRICTER name. */
  allowed: Record<string, number>;
  /** Differences by class. */
  differences: Record<string, number>;
  /** A few heads of each difference class, with the detail. */
  examples: Record<string, { head: string; detail: string }[]>;
}

/** An empty tally. */
export function newTally(): DifferentialTally {
  return { cases: 0, rejectedByBoth: 0, acceptedByBoth: 0, allowed: {}, differences: {}, examples: {} };
}

/** Judges `head` on both sides and counts it into `tally`; returns the judgement. */
export async function runCase(oracle: NodeOracle, head: string, tally: DifferentialTally): Promise<Judgement> {
  const node = await oracle.verdict(head);
  const j = judge(head, oursVerdict(head), node);
  tally.cases++;
  if (j.kind === 'rejected-by-both') tally.rejectedByBoth++;
  else if (j.kind === 'accepted-by-both') tally.acceptedByBoth++;
  else if (j.kind === 'allowed') tally.allowed[j.name] = (tally.allowed[j.name] ?? 0) + 1;
  else {
    tally.differences[j.cls] = (tally.differences[j.cls] ?? 0) + 1;
    const list = (tally.examples[j.cls] ??= []);
    if (list.length < 3) list.push({ head: head.length > 300 ? `${head.slice(0, 300)}…(${head.length} bytes)` : head, detail: j.detail });
  }
  return j;
}
