/**
 * bench/heads: the proxy's per-request head work without sockets, in ns per
 * request: the lean engine's upstream response head (nginx's, 9 headers)
 * through the response parser (with a connection's RepeatedFields, as on a
 * keep-alive connection after its first response), the relay checks of
 * lean-upstream.ts, clientResponseHeaders and the client head written with
 * the first body bytes (lean-server.ts); the client's request head (wrk's) through
 * readRequestHead, upstreamRequestHead and requestHeadBytes.
 *
 *   npm run build && node dist/bench/heads.js [--iterations 1000000]
 *
 * Prints one JSON line (best of 3 timed passes per stage, after a warm-up).
 */
import { parseArgs } from 'node:util';
import {
  headLength,
  putHead,
  readRequestHead,
  RepeatedFields,
  requestHeadBytes,
  ResponseParser,
  statusLine,
  type RequestHeadOk,
  type ResponseSink,
} from '../src/http1/index.js';
import { clientResponseHeaders, isRelayable, upstreamRequestHead } from '../src/proxy/headers.js';

const { values } = parseArgs({ options: { iterations: { type: 'string', default: '1000000' } } });
const iterations = Number(values.iterations);
if (!(iterations >= 1000)) throw new Error('usage: heads.js [--iterations N>=1000]');

const BODY = Buffer.alloc(1024, 97);
const RESPONSE = Buffer.concat([
  Buffer.from(
    'HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Tue, 01 Dec 2026 17:50:00 GMT\r\nContent-Type: application/octet-stream\r\n' +
      'Content-Length: 1024\r\nLast-Modified: Tue, 01 Dec 2026 16:00:00 GMT\r\nConnection: keep-alive\r\nETag: "692d7e40-400"\r\n' +
      'Accept-Ranges: bytes\r\n\r\n',
    'latin1',
  ),
  BODY,
]);
const REQUEST = Buffer.from('GET / HTTP/1.1\r\nHost: 127.0.0.1:40000\r\n\r\n', 'latin1');

type Stage = 'parse' | 'relay' | 'client' | 'bytes';

/** A sink doing what lean-upstream.ts' UpstreamConnection and the lean client connection do with a head, up to `stage`. */
class HeadSink implements ResponseSink {
  headers: string[] = [];
  relayed = 0;
  constructor(private readonly stage: Stage) {}
  onStatus(): void {
    this.headers = [];
  }
  onHeader(name: string, value: string, clean: boolean): void {
    if (this.stage === 'parse') return;
    if (!isRelayable(value, clean)) throw new Error('not relayable');
    this.headers.push(name, value);
  }
  onHead(status: number): void {
    if (this.stage === 'parse' || this.stage === 'relay') return;
    const headers = clientResponseHeaders(this.headers);
    if (this.stage === 'client') {
      this.relayed += headers.length;
      return;
    }
    // What the lean client connection sends: head and first body bytes in one Buffer (lean-server.ts' write).
    const line = statusLine(status, 'OK');
    const out = Buffer.allocUnsafe(headLength(line, headers, '\r\n') + BODY.length);
    BODY.copy(out, putHead(out, line, headers, '\r\n'));
    this.relayed += out.length;
  }
  onBody(): void {}
  onEnd(): void {}
  onFail(_reason: string, message: string): void {
    throw new Error(message);
  }
}

function responseStage(stage: Stage): () => number {
  const sink = new HeadSink(stage);
  const repeats = new RepeatedFields();
  return () => new ResponseParser(sink, false, repeats).execute(RESPONSE, 0, RESPONSE.length);
}

function requestStage(stage: 'read' | 'forward' | 'bytes'): () => number {
  const info = { proto: 'http' };
  return () => {
    const head = readRequestHead(REQUEST, 0, 0) as RequestHeadOk;
    if (stage === 'read') return head.end;
    const up = upstreamRequestHead(head.raw, '127.0.0.1', info);
    if (stage === 'forward') return up.headers.length;
    return requestHeadBytes(head.method, head.target, up.headers).length;
  };
}

/** ns per call of `f`, best of 3 passes. */
function time(f: () => number): number {
  let sink = 0;
  for (let i = 0; i < iterations / 5; i++) sink += f();
  let best = Infinity;
  for (let pass = 0; pass < 3; pass++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) sink += f();
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / iterations);
  }
  if (sink === -1) process.stderr.write(''); // keep the results alive
  return Math.round(best);
}

const out = {
  bench: 'heads',
  node: process.version,
  iterations,
  responseNsPerHead: {
    parse: time(responseStage('parse')),
    parseAndRelayChecks: time(responseStage('relay')),
    plusClientResponseHeaders: time(responseStage('client')),
    plusClientHeadBytes: time(responseStage('bytes')),
  },
  requestNsPerHead: {
    readRequestHead: time(requestStage('read')),
    plusUpstreamRequestHead: time(requestStage('forward')),
    plusRequestHeadBytes: time(requestStage('bytes')),
  },
};
process.stdout.write(`${JSON.stringify(out)}\n`);
