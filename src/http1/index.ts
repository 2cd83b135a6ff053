/**
 * healthmesh's own HTTP/1.1: syntax tables, the request-head reader, the
 * response parser, head writers and a one-request client, in one place.
 *
 * Why hand-written HTTP/1.1 when node:http and undici exist: the proxy's
 * lean engine (proxy/lean-*.ts) serves body-less requests over raw sockets
 * with these pieces and keeps its place by measured figures, not by taste:
 *
 * - every proxied request pays for a request head read, an upstream head
 *   written, a response head parsed and a response head written; here each
 *   is one pass over bytes in a buffer shared by every socket (no stream
 *   chunk, no per-read Buffer, well-known header names as constant strings,
 *   a connection's repeated header strings reused): bench/heads 2.70 → 1.84 µs
 *   per response head, bench/proxy-alloc 6.4 KB → 3.7 KB allocated per
 *   proxied request (fewer scavenges, whose pauses every request in flight
 *   waits for), shared-buffer reads 90 → 80 µs CPU per request at 2k
 *   requests/s (bench/proxy-ab; the commit subjects carry each step);
 * - lean against the node engine (node:http + undici) on one machine: see
 *   README.md of this folder for bench/proxy's side-by-side figures.
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
