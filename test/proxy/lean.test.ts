/**
 * Raw-socket tests of what the lean engine does itself (head parsing,
 * pipelining, hand-over to node:http, upstream keep-alive) and of hostile
 * clients and upstreams; the hand-over and hostile cases run on both engines.
 */
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/core/clock.js';
import { LeanUpstreams, type LeanHandler } from '../../src/proxy/lean-upstream.js';
import { startProxy, type RunningProxy } from '../../src/proxy/proxy.js';
import { openFds, settleFds } from '../helpers/fds.js';
import { useCleanups } from '../helpers/cleanups.js';
import { rawServer } from '../helpers/hostile.js';
import {
  engine,
  ENGINES,
  fetchVia,
  proxyConfig,
  proxyFor,
  rawClient,
  RoundRobin,
  silentLogger,
  startUpstream,
  upstreamsOf,
  useEngine,
  type RawClient,
  type Upstream,
  waitFor,
} from './helpers.js';

const { track, cleanups } = useCleanups();

const raw = (proxy: RunningProxy): RawClient => rawClient(proxy.address.port, cleanups);

/** An upstream echoing method, url and body length, counting its connections. */
async function echo(): Promise<Upstream & { connections: () => number }> {
  const up = track(
    await startUpstream((req, res) => {
      let n = 0;
      req.on('data', (c: Buffer) => (n += c.length));
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end(`${req.method} ${req.url} ${n}`);
      });
    }),
  );
  let connections = 0;
  up.server.on('connection', () => connections++);
  return Object.assign(up, { connections: () => connections });
}

async function proxyTo(address: string, extra: Record<string, unknown> = {}): Promise<{ proxy: RunningProxy; balancer: RoundRobin }> {
  const balancer = new RoundRobin([{ id: 'u', address }]);
  const proxy = track(await proxyFor(proxyConfig({ routes: [{ path_prefix: '/', service: 's' }], ...extra }), upstreamsOf({ s: balancer })));
  return { proxy, balancer };
}

const count = (s: string, re: RegExp): number => (s.match(re) ?? []).length;

describe.each(ENGINES)('%s engine: pipelining and hand-over', (eng) => {
  useEngine(eng);

  it('answers ten pipelined GETs in order on one connection', async () => {
    const up = await echo();
    const { proxy } = await proxyTo(up.address);
    const c = raw(proxy);
    c.sock.write(Array.from({ length: 10 }, (_, i) => `GET /${i} HTTP/1.1\r\nHost: x\r\n\r\n`).join(''));
    await waitFor(() => count(c.data(), /HTTP\/1.1 200/g) === 10, 'ten responses');
    const order = [...c.data().matchAll(/GET \/(\d)/g)].map((m) => m[1]);
    expect(order).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
  });

  it('serves GET, then a POST with a body, then GET pipelined in one write (the POST hands the connection to node:http)', async () => {
    const up = await echo();
    const { proxy } = await proxyTo(up.address);
    const c = raw(proxy);
    c.sock.write('GET /a HTTP/1.1\r\nHost: x\r\n\r\nPOST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhelloGET /c HTTP/1.1\r\nHost: x\r\n\r\n');
    await waitFor(() => count(c.data(), /HTTP\/1.1 200/g) === 3, 'three responses');
    expect([...c.data().matchAll(/(GET|POST) \/(\w) (\d+)/g)].map((m) => m[0])).toEqual(['GET /a 0', 'POST /b 5', 'GET /c 0']);
  });

  it('keeps a partial head and a pipelined request intact while other connections read (the lean engine reads every client into one buffer)', async () => {
    const up = track(
      await startUpstream((req, res) => {
        const answer = (): void => {
          res.writeHead(200, { 'content-type': 'text/plain' });
          res.end(`${req.method} ${req.url} 0`);
        };
        if (req.url === '/slow') setTimeout(answer, 40);
        else answer();
      }),
    );
    const { proxy } = await proxyTo(up.address);
    const a = raw(proxy);
    const partial = raw(proxy);
    const b = raw(proxy);
    // A's second request waits in its read buffer while /slow is served; `partial` has half a head.
    a.sock.write('GET /slow HTTP/1.1\r\nHost: x\r\n\r\nGET /a-second HTTP/1.1\r\nHost: x\r\n\r\n');
    partial.sock.write('GET /partial-head HTTP/1.1\r\nHo');
    await new Promise((r) => setTimeout(r, 10));
    // Another connection's read in between, longer than both.
    b.sock.write(`GET /b-${'x'.repeat(200)} HTTP/1.1\r\nHost: x\r\n\r\n`);
    await waitFor(() => b.data().includes('GET /b-'), 'b answered');
    partial.sock.write('st: x\r\n\r\n');
    await waitFor(() => count(a.data(), /HTTP\/1.1 200/g) === 2 && partial.data().includes('HTTP/1.1 200'), 'a and partial answered');
    expect([...a.data().matchAll(/GET (\S+) 0/g)].map((m) => m[1])).toEqual(['/slow', '/a-second']);
    expect(partial.data()).toContain('GET /partial-head 0');
  });

  it('hands over a POST whose head and body arrive in pieces, after a GET on the same connection', async () => {
    const up = await echo();
    const { proxy } = await proxyTo(up.address);
    const c = raw(proxy);
    c.sock.write('GET /a HTTP/1.1\r\nHost: x\r\n\r\nPOST /b HTTP/1.1\r\nHo');
    await waitFor(() => c.data().includes('GET /a 0'), 'the GET');
    await new Promise((r) => setTimeout(r, 20));
    c.sock.write('st: x\r\nContent-Length: 5\r\n\r\nhe');
    await new Promise((r) => setTimeout(r, 20));
    c.sock.write('lloGET /c HTTP/1.1\r\nHost: x\r\n\r\n');
    await waitFor(() => c.data().includes('GET /c 0'), 'the last GET');
    expect([...c.data().matchAll(/(GET|POST) \/(\w) (\d+)/g)].map((m) => m[0])).toEqual(['GET /a 0', 'POST /b 5', 'GET /c 0']);
  });

  it('hands a chunked upload, Expect: 100-continue and HTTP/1.0 to node:http and they work', async () => {
    const up = await echo();
    const { proxy } = await proxyTo(up.address);
    const c = raw(proxy);
    c.sock.write('POST /t HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n');
    await waitFor(() => c.data().includes('POST /t 3'), 'the chunked POST');
    const e = raw(proxy);
    e.sock.write('PUT /e HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n');
    await waitFor(() => e.data().includes('100 Continue'), '100 Continue');
    e.sock.write('ok');
    await waitFor(() => e.data().includes('PUT /e 2'), 'the PUT');
    const h = raw(proxy);
    h.sock.write('GET /old HTTP/1.0\r\nHost: x\r\n\r\n');
    await waitFor(() => h.closed(), 'the HTTP/1.0 connection to close');
    expect(h.data()).toMatch(/^HTTP\/1.1 200[\s\S]*GET \/old 0$/);
  });

  it('closes after the response when the client sent Connection: close', async () => {
    const up = await echo();
    const { proxy } = await proxyTo(up.address);
    const c = raw(proxy);
    c.sock.write('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    await waitFor(() => c.closed(), 'the connection to close');
    expect(c.data()).toMatch(/^HTTP\/1.1 200/);
    expect(c.data().toLowerCase()).toContain('connection: close');
  });
});

describe.each(ENGINES)('%s engine: hostile clients', (eng) => {
  useEngine(eng);

  it.each([
    ['CL and TE together', 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\nabc'],
    ['conflicting Content-Length', 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd'],
    ['obs-fold', 'GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n 2\r\n\r\n'],
    ['TE not ending in chunked', 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, gzip\r\n\r\n'],
    ['bare LF', 'GET / HTTP/1.1\r\nHost: x\nX: y\r\n\r\n'],
    ['bad header name', 'GET / HTTP/1.1\r\nHost: x\r\nX A: 1\r\n\r\n'],
  ])('answers 400 to %s, closes, and never calls the upstream', async (_what, text) => {
    const up = await echo();
    const { proxy, balancer } = await proxyTo(up.address);
    const c = raw(proxy);
    c.sock.write(text);
    await waitFor(() => c.closed(), 'the connection to close');
    expect(c.data()).toMatch(/^HTTP\/1.1 400/);
    expect(balancer.calls).toEqual([]);
    expect(up.requests).toHaveLength(0);
  });

  it('answers 431 to a head over 16 KB and closes', async () => {
    const up = await echo();
    const { proxy, balancer } = await proxyTo(up.address);
    const c = raw(proxy);
    c.sock.write(`GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    await waitFor(() => c.closed(), 'the connection to close');
    expect(c.data()).toMatch(/^HTTP\/1.1 431/);
    expect(balancer.calls).toEqual([]);
  });

  it('survives clients that reset at every stage, and leaks no descriptor', async () => {
    const up = await echo();
    const hang = track(await startUpstream(() => {}));
    const before = openFds();
    const balancer = new RoundRobin([{ id: 'u', address: up.address }]);
    const proxy = await proxyFor(
      proxyConfig({
        routes: [
          { path_prefix: '/hang', service: 'h' },
          { path_prefix: '/', service: 's' },
        ],
      }),
      upstreamsOf({ s: balancer, h: new RoundRobin([{ id: 'h', address: hang.address }]) }),
    );
    const stages = [
      'GET / HT',
      'GET / HTTP/1.1\r\nHost: x\r\n',
      'GET /hang HTTP/1.1\r\nHost: x\r\n\r\n',
      'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc',
      'GARBAGE\r\n\r\n',
    ];
    const socks = stages.map((text) => {
      const c = raw(proxy);
      c.sock.write(text);
      return c;
    });
    // Reset only once the complete heads are upstream (GET /hang held, the POST waiting for its body) and the
    // garbage answered: every stage is then really in progress, not still in flight on loopback.
    await waitFor(() => hang.requests.length === 1 && up.requests.length === 1 && socks[4]!.data().startsWith('HTTP/1.1 400'), 'every stage in progress');
    for (const c of socks) c.sock.resetAndDestroy();
    await waitFor(() => socks.every((c) => c.closed()), 'the clients to close');
    expect((await fetchVia(proxy, '/')).status).toBe(200);
    await proxy.close();
    expect(await settleFds(before)).toBeLessThanOrEqual(before);
    expect(balancer.unbalanced()).toEqual([]);
  });
});

describe.each(ENGINES)('%s engine: hostile upstreams', (eng) => {
  useEngine(eng);

  it.each([
    ['CL and TE together', 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\nabc'],
    ['conflicting Content-Length', 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd'],
    ['a NUL in a header value', 'HTTP/1.1 200 OK\r\nX-A: a\0b\r\nContent-Length: 1\r\n\r\na'],
    ['a DEL in a header value', 'HTTP/1.1 200 OK\r\nX-A: a\x7fb\r\nContent-Length: 1\r\n\r\na'],
    ['an ESC in a header value', 'HTTP/1.1 200 OK\r\nX-A: a\x1bb\r\nContent-Length: 1\r\n\r\na'],
    ['a bare LF', 'HTTP/1.1 200 OK\nContent-Length: 1\r\n\r\na'],
  ])('answers 502 to a response with %s', async (_what, text) => {
    const bad = track(await rawServer((s) => s.once('data', () => s.end(text))));
    const { proxy, balancer } = await proxyTo(bad.address);
    const r = await fetchVia(proxy, '/');
    expect(r.status).toBe(502);
    expect(balancer.unbalanced()).toEqual([]);
  });

  it('answers 502 to a control character in a header line split across reads, and relays HT and obs-text in values', async () => {
    const split = track(
      await rawServer((s) =>
        s.once('data', () => {
          s.write('HTTP/1.1 200 OK\r\nX-A: a\x01');
          setTimeout(() => s.end('b\r\nContent-Length: 1\r\n\r\na'), 20);
        }),
      ),
    );
    const { proxy } = await proxyTo(split.address);
    expect((await fetchVia(proxy, '/')).status).toBe(502);
    const fine = track(
      await rawServer((s) => s.once('data', () => s.end(Buffer.from('HTTP/1.1 200 OK\r\nX-A: a\tb\r\nX-B: caf\xe9\r\nContent-Length: 1\r\n\r\na', 'latin1')))),
    );
    const { proxy: p2 } = await proxyTo(fine.address);
    const c = raw(p2);
    c.sock.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await waitFor(() => c.data().endsWith('\r\n\r\na'), 'the response');
    expect(c.data()).toMatch(/^HTTP\/1.1 200 /);
    expect(c.data()).toContain('X-A: a\tb\r\n');
    expect(c.data()).toContain('X-B: caf\xe9\r\n');
  });

  it('relays a chunked response whole and keeps the client connection for the next request', async () => {
    const up = track(
      await startUpstream((req, res) => {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('one,');
        setTimeout(() => {
          res.write(Buffer.alloc(20_000, 120));
          res.end(`,${req.url}`);
        }, 10);
      }),
    );
    const { proxy } = await proxyTo(up.address);
    const c = raw(proxy);
    c.sock.write('GET /a HTTP/1.1\r\nHost: x\r\n\r\n');
    await waitFor(() => c.data().includes(',/a'), 'the first response');
    c.sock.write('GET /b HTTP/1.1\r\nHost: x\r\n\r\n');
    await waitFor(() => c.data().includes(',/b'), 'the second response');
    const r = await fetchVia(proxy, '/c');
    expect(r.body).toBe(`one,${'x'.repeat(20_000)},/c`);
    expect(r.error).toBeUndefined();
  });

  it('relays a chunked response with extensions and trailers as its data only, and reuses nothing it should not', async () => {
    const up = track(
      await rawServer((s) =>
        s.on('data', () => s.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\nX-Trailer: 1\r\n\r\n')),
      ),
    );
    const { proxy } = await proxyTo(up.address);
    for (let i = 0; i < 2; i++) {
      const r = await fetchVia(proxy, '/');
      expect(r).toMatchObject({ status: 200, body: 'abcde' });
      expect(r.error).toBeUndefined();
    }
  });

  it('relays a read-until-close response whole', async () => {
    const old = track(await rawServer((s) => s.once('data', () => s.end('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil close'))));
    const { proxy } = await proxyTo(old.address);
    const r = await fetchVia(proxy, '/');
    expect(r).toMatchObject({ status: 200, body: 'until close' });
    expect(r.error).toBeUndefined();
  });
});

describe('lean engine only', () => {
  useEngine('lean');

  it('answers a GET, then 400 for a malformed head pipelined after it, in that order, and closes', async () => {
    const up = await echo();
    const { proxy } = await proxyTo(up.address);
    const c = raw(proxy);
    c.sock.write('GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\nX: y\r\n\r\n');
    await waitFor(() => c.closed(), 'the connection to close');
    // node:http answers 400 alone here: its parser fails the whole read before the first response.
    expect(c.data()).toMatch(/^HTTP\/1.1 200 [\s\S]*GET \/a 0\r\n0\r\n\r\nHTTP\/1.1 400 /);
  });

  it('reuses one upstream connection for sequential requests, and survives an upstream that closes idle connections', async () => {
    const up = await echo();
    const { proxy } = await proxyTo(up.address);
    for (let i = 0; i < 5; i++) expect((await fetchVia(proxy, `/${i}`)).body).toBe(`GET /${i} 0`);
    expect(up.connections()).toBe(1);
    // The upstream now closes each connection right after its response: the next request finds it closed (or races it).
    up.server.keepAliveTimeout = 1;
    for (let i = 0; i < 20; i++) {
      expect((await fetchVia(proxy, `/k${i}`)).status).toBe(200);
      await new Promise((r) => setTimeout(r, i % 2 === 0 ? 0 : 10));
    }
  });

  it('writes the upstream head byte for byte: names as cased, values trimmed, one of two equal Content-Lengths, hop-by-hop dropped, its own framing', async () => {
    const heads = [
      'HTTP/1.1 200 Fine\r\nServer: s\r\ncontent-type:  text/plain \r\nCONTENT-length: 2\r\nContent-Length: 2\r\nConnection: keep-alive\r\nX-Odd-Name:\tv\t\r\n\r\nok',
      // No length: chunked to the client; a standard reason phrase comes from the status table's line.
      'HTTP/1.1 404 Not Found\r\nDate: d\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nno\r\n0\r\n\r\n',
    ];
    let n = 0;
    const up = track(await rawServer((s) => s.on('data', () => s.write(heads[n++ % 2]!))));
    const { proxy } = await proxyTo(up.address);
    const c = raw(proxy);
    c.sock.write('GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    await waitFor(() => c.closed(), 'both responses and the close');
    expect(c.data()).toBe(
      'HTTP/1.1 200 Fine\r\nServer: s\r\ncontent-type: text/plain\r\nCONTENT-length: 2\r\nX-Odd-Name: v\r\n\r\nok' +
        'HTTP/1.1 404 Not Found\r\nDate: d\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n2\r\nno\r\n0\r\n\r\n',
    );
  });

  it('sends the upstream exactly each request head, back to back on one reused connection', async () => {
    let received = '';
    const up = track(
      await rawServer((s) =>
        s.on('data', (d: Buffer) => {
          received += d.toString('latin1');
          s.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
        }),
      ),
    );
    const { proxy } = await proxyTo(up.address);
    const c = raw(proxy);
    for (const path of ['/a', '/b?c=d', '/e']) {
      const before = c.data().length;
      c.sock.write(`GET ${path} HTTP/1.1\r\nHost: x\r\nX-Name: caf\xe9\r\n\r\n`, 'latin1');
      await waitFor(() => c.data().length > before + 30, `the response to ${path}`);
    }
    const head = (path: string): string =>
      `GET ${path} HTTP/1.1\r\nHost: x\r\nX-Name: caf\xe9\r\nx-forwarded-for: 127.0.0.1\r\nx-forwarded-proto: http\r\nx-forwarded-host: x\r\n\r\n`;
    expect(received).toBe(head('/a') + head('/b?c=d') + head('/e'));
    expect(up.connections()).toBe(1);
  });

  it('does not reuse an upstream connection that said Connection: close', async () => {
    let connections = 0;
    const up = track(
      await rawServer((s) => {
        connections++;
        s.on('data', () => s.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok'));
      }),
    );
    const { proxy } = await proxyTo(up.address);
    for (let i = 0; i < 3; i++) expect((await fetchVia(proxy, '/')).body).toBe('ok');
    expect(connections).toBe(3);
  });

  it('relays HEAD and 204 without a body and keeps the connection for the next request', async () => {
    const up = track(
      await startUpstream((req, res) => {
        if (req.url === '/204') {
          res.writeHead(204);
          res.end();
        } else {
          res.writeHead(200, { 'content-length': '5' });
          res.end(req.method === 'HEAD' ? undefined : 'hello');
        }
      }),
    );
    const { proxy } = await proxyTo(up.address);
    const c = raw(proxy);
    c.sock.write('HEAD / HTTP/1.1\r\nHost: x\r\n\r\nGET /204 HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await waitFor(() => c.data().endsWith('hello'), 'three responses');
    expect(count(c.data(), /HTTP\/1.1 (200|204)/g)).toBe(3);
    expect(count(c.data(), /hello/g)).toBe(1);
    expect(c.data()).toMatch(/HTTP\/1.1 200 OK\r\ncontent-length: 5\r\n/i);
  });

  it('closes a connection whose head is not complete within 60 s (fake clock), and one idle for as long', async () => {
    const up = await echo();
    const clock = new FakeClock(0);
    const config = proxyConfig({ routes: [{ path_prefix: '/', service: 's' }] });
    const proxy = track(
      await startProxy({
        engine: engine(),
        config,
        upstreams: upstreamsOf({ s: new RoundRobin([{ id: 'u', address: up.address }]) }),
        clock,
        logger: silentLogger,
      }),
    );
    const slow = raw(proxy);
    slow.sock.write('GET / HTTP/1.1\r\nHo');
    const idle = raw(proxy);
    idle.sock.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await waitFor(() => idle.data().includes('GET / 0'), 'the idle one to be answered');
    clock.advance(59_000);
    await new Promise((r) => setTimeout(r, 30));
    expect(slow.closed() || idle.closed()).toBe(false);
    clock.advance(1_000);
    await waitFor(() => slow.closed(), 'the slow head to be cut');
    clock.advance(60_000);
    await waitFor(() => idle.closed(), 'the idle connection to be closed');
  });

  it('closes idle upstream connections on the periodic sweep even while the pool is in use (fake clock)', async () => {
    const up = await echo();
    const clock = new FakeClock(0);
    const config = proxyConfig({ routes: [{ path_prefix: '/', service: 's' }] });
    const proxy = track(
      await startProxy({
        engine: engine(),
        config,
        upstreams: upstreamsOf({ s: new RoundRobin([{ id: 'u', address: up.address }]) }),
        clock,
        logger: silentLogger,
      }),
    );
    expect((await fetchVia(proxy, '/')).status).toBe(200);
    let closed = false;
    up.requests[0]!.socket.on('close', () => (closed = true));
    clock.advance(60_000);
    await waitFor(() => closed, 'the idle upstream connection to close');
    expect(proxy.upstreamPools()).toEqual([up.address]);
  });

  it('serves 50 concurrent requests', async () => {
    const up = await echo();
    const { proxy } = await proxyTo(up.address);
    const all = await Promise.all(Array.from({ length: 50 }, (_, i) => fetchVia(proxy, `/${i}`)));
    expect(all.every((r) => r.status === 200)).toBe(true);
  });

  it('queues requests above the per-address connection cap, and an abort takes a queued one out', async () => {
    const up = await echo();
    const pools = new LeanUpstreams({ bodyIdleTimeoutMs: 10_000, now: () => 0, maxConnectionsPerAddress: 1 });
    cleanups.push(() => pools.close());
    const seen: string[] = [];
    const handler = (name: string): LeanHandler & { abort?: (e?: Error) => void } => {
      let body = '';
      const h: LeanHandler & { abort?: (e?: Error) => void } = {
        onConnect: (abort) => (h.abort = abort),
        onHeaders: () => true,
        onData: (c) => {
          body += c.toString();
          return true;
        },
        onComplete: () => seen.push(`${name}:${body}`),
        onError: (err) => seen.push(`${name}:error:${err.message}`),
      };
      return h;
    };
    const req = (path: string) => ({ path, method: 'GET', headers: ['host', 'x'], body: null });
    pools.dispatch(up.address, req('/1'), handler('a'));
    const b = handler('b');
    pools.dispatch(up.address, req('/2'), b);
    pools.dispatch(up.address, req('/3'), handler('c'));
    b.abort?.(new Error('gone'));
    await waitFor(() => seen.length === 3, 'three outcomes');
    expect(seen).toEqual(['b:error:gone', 'a:GET /1 0', 'c:GET /3 0']);
    expect(up.connections()).toBe(1);
  });
});
