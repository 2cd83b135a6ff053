/**
 * healthmesh's own HTTP/1.1: syntax tables, the request-head reader, the
 * response parser, head writers and a one-request client, in one place.
 *
 * Why hand-written HTTP/1.1 when node:http and undici exist: the proxy's
 * lean engine (proxy/lean-*.ts) serves body-less requests over raw sockets
 * with these pieces, and each piece is there for a figure measured on this
 * machine kind (the commit subjects carry each step):
 *
 * - a proxied request pays for a request head read, an upstream head
 *   written, a response head parsed and a client head written; here each is
 *   one pass over bytes (no stream chunk, well-known header names as
 *   constant strings, a connection's repeated header strings reused, heads
 *   written straight into the Buffer that leaves): bench/heads, response
 *   head 2.70 → 1.84 µs; allocated per proxied request 8.9 → 6.9 KB (head
 *   and first body chunk in one Buffer), 6.4 → 4.6 KB (response heads
 *   written as bytes, constant header names), 4.6 → 3.7 KB (request heads
 *   as bytes, repeated fields reused; bench/proxy-alloc: scavenges 3.43 →
 *   3.04 per 10k requests), and each scavenge is a pause every request in
 *   flight waits for;
 * - reads into one buffer shared by every socket (onread, proxy/shared-read.ts):
 *   CPU per request 90 → 80 µs at 2k requests/s, 30 → 28 µs at saturation
 *   (bench/proxy-ab, old and new builds alternating);
 * - against the node engine (node:http + undici) on the same nginx,
 *   bench/proxy --engine lean|node alternating: 0.041 against 0.073 ms CPU
 *   per request at 32 connections, 0.057 against 0.115 at an 8k/s target,
 *   p50 added there 0.50 against 1.46 ms (medians of 6; project README,
 *   "Measured choices", on a machine shared with other work, so CPU per
 *   request is the figure to read);
 * - the http check's client (client.ts) on a new connection per probe:
 *   0.135 against undici's 0.239 ms CPU per probe (bench/probes, README).
 *
 * And why strict: a proxy and the server behind it must agree on where each
 * request ends. request-head.ts refuses anything two parsers could read
 * differently (RFC 9112 §11.2); test/http1/differential.test.ts and
 * bench/fuzz.ts hold it against node's own parser (llhttp).
 *
 * Files, one job each:
 * - syntax.ts: byte classes and constants of RFC 9110/9112;
 * - header-names.ts, repeated-fields.ts: strings a parser need not make;
 * - request-head.ts: the proxy's strict request-head reader;
 * - response-parser.ts: the incremental response parser (proxy upstreams,
 *   tunnels, the check client);
 * - head-bytes.ts, head-text.ts: heads written as bytes (hot path) or text;
 * - client.ts: a one-request-per-connection client (the http check).
 *
 * Proxy policy (hop-by-hop rules, X-Forwarded-*, routing) is not here: it
 * lives in proxy/.
 */
export { compileHttp1Target, encodeRequest, Http1Exchange, validateHeader, type Http1RequestSpec, type Http1Target } from './client.js';
export { headersLength, headLength, putHead, putHeaders, putLatin1, requestHeadBytes, statusLine } from './head-bytes.js';
export { requestHeadText, responseHeadText } from './head-text.js';
export { knownHeaderName, sameLatin1 } from './header-names.js';
export { RepeatedFields } from './repeated-fields.js';
export { MAX_REQUEST_HEAD_BYTES, MAX_REQUEST_HEADERS, readRequestHead, type RequestHeadError, type RequestHeadOk } from './request-head.js';
export { MAX_CHUNK_LINE_BYTES, MAX_HEAD_BYTES, ResponseParser, type ResponseSink } from './response-parser.js';
export { COLON, CR, HT, isFieldValue, isNamed, LF, MAX_LENGTH_DIGITS, SP, TOKEN, VALUE } from './syntax.js';
