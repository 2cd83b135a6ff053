/**
 * The rule that judges a pair of verdicts, and the places where ours is
 * stricter than node on purpose (each with its reason and an example).
 */
import { MAX_REQUEST_HEAD_BYTES } from '../../../src/http1/request-head.js';
import { BODY_PROBE, type Accepted, type Framing, type Verdict } from './verdicts.js';

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
    name: 'transfer-coding-not-chunked-upgrade',
    codes: ['transfer_encoding_not_chunked'],
    when: (h) => /\r\nupgrade:/i.test(h),
    why: 'RFC 9112 §6.3: a request whose last transfer coding is not chunked has no length we could trust, so 400; node reads no body at all when the request is an upgrade (Connection or Proxy-Connection: upgrade)',
    example: 'GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nUpgrade: websocket\r\nTransfer-Encoding: deflate\r\n\r\n',
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
    when: (h) =>
      namedValues(h, 'transfer-encoding')
        .join(',')
        .split(',')
        .filter((x) => x.trim() !== '').length > 1,
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

/** Judges a head by the rule (see index.ts). */
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
