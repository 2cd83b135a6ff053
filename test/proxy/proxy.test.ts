import { request } from 'node:http';
import { connect } from 'node:net';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/core/clock.js';
import { startProxy } from '../../src/proxy/proxy.js';
import { useCleanups } from '../helpers/cleanups.js';
import {
  engine,
  ENGINES,
  fetchVia,
  proxyConfig,
  proxyFor,
  refusedAddress,
  RoundRobin,
  silentLogger,
  startUpstream,
  upstreamsOf,
  useEngine,
  type Upstream,
  waitFor,
} from './helpers.js';

const { track, cleanups } = useCleanups();

/** An upstream that answers `name` and echoes what it was sent as headers. */
async function named(name: string, status = 200): Promise<Upstream> {
  return track(
    await startUpstream((req, res) => {
      res.writeHead(status, { 'content-type': 'text/plain', 'x-upstream': name, 'x-seen-url': req.url ?? '' });
      res.end(name);
    }),
  );
}

function rr(...ups: { id: string; address: string }[]): RoundRobin {
  return new RoundRobin(ups);
}

describe.each(ENGINES)('%s engine', (eng) => {
  useEngine(eng);

  describe('proxy routing and answers of its own', () => {
    it('routes by host and path prefix, strips the prefix, and answers 404 naming host and path', async () => {
      const a = await named('a');
      const b = await named('b');
      const config = proxyConfig({
        routes: [
          { host: '*.example.com', path_prefix: '/api', service: 'a', strip_prefix: true },
          { path_prefix: '/b', service: 'b' },
        ],
      });
      const proxy = track(await proxyFor(config, upstreamsOf({ a: rr({ id: 'a1', address: a.address }), b: rr({ id: 'b1', address: b.address }) })));

      const r1 = await fetchVia(proxy, '/api/users?x=1', { host: 'Shop.Example.com:7480' });
      expect(r1).toMatchObject({ status: 200, body: 'a' });
      expect(r1.headers?.['x-seen-url']).toBe('/users?x=1');

      const r2 = await fetchVia(proxy, '/b/c', { host: 'other.test' });
      expect(r2).toMatchObject({ status: 200, body: 'b' });
      expect(r2.headers?.['x-seen-url']).toBe('/b/c');

      const r3 = await fetchVia(proxy, '/bx', { host: 'other.test' });
      expect(r3.status).toBe(404);
      expect(r3.headers?.['content-type']).toBe('application/json');
      expect(JSON.parse(r3.body)).toEqual({ error: 'no_route', host: 'other.test', path: '/bx' });
      expect(proxy.stats().failures.noRoute).toBe(1);
    });

    it('answers 503 no_healthy_upstream when the balancer has no instance', async () => {
      const config = proxyConfig({ routes: [{ path_prefix: '/', service: 'empty' }] });
      const proxy = track(await proxyFor(config, upstreamsOf({ empty: rr() })));
      const r = await fetchVia(proxy, '/x');
      expect(r.status).toBe(503);
      expect(JSON.parse(r.body)).toEqual({ error: 'no_healthy_upstream', service: 'empty' });
    });

    it('strips hop-by-hop headers both ways and sets x-forwarded-*', async () => {
      let seen: Record<string, string | string[] | undefined> = {};
      const up = track(
        await startUpstream((req, res) => {
          seen = req.headers;
          res.setHeader('Connection', 'X-Hop');
          res.setHeader('X-Hop', 'secret');
          res.setHeader('Keep-Alive', 'timeout=1');
          res.setHeader('Proxy-Authenticate', 'Basic');
          res.setHeader('Set-Cookie', ['a=1', 'b=2']);
          res.end('ok');
        }),
      );
      const config = proxyConfig({ routes: [{ path_prefix: '/', service: 's' }] });
      const proxy = track(await proxyFor(config, upstreamsOf({ s: rr({ id: 's1', address: up.address }) }), undefined, '1.1 healthmesh'));
      const r = await fetchVia(proxy, '/', {
        headers: {
          connection: 'keep-alive, X-Client-Hop',
          'x-client-hop': 'x',
          te: 'trailers',
          'proxy-authorization': 'Basic y',
          'x-forwarded-for': '9.9.9.9',
          'x-keep': 'yes',
        },
      });
      expect(r.status).toBe(200);
      expect(seen['x-client-hop']).toBeUndefined();
      expect(seen.te).toBeUndefined();
      expect(seen['proxy-authorization']).toBeUndefined();
      expect(seen['x-keep']).toBe('yes');
      expect(seen.host).toBe('svc.test');
      expect(seen['x-forwarded-for']).toBe('9.9.9.9, 127.0.0.1');
      expect(seen['x-forwarded-proto']).toBe('http');
      expect(seen['x-forwarded-host']).toBe('svc.test');
      expect(seen.via).toBe('1.1 healthmesh');
      expect(r.headers?.['x-hop']).toBeUndefined();
      expect(r.headers?.['proxy-authenticate']).toBeUndefined();
      expect(r.headers?.['set-cookie']).toEqual(['a=1', 'b=2']);
      expect(r.headers?.via).toBe('1.1 healthmesh');
      // node:http's own keep-alive for the client connection, not the upstream's timeout=1
      expect(r.headers?.['keep-alive']).not.toBe('timeout=1');
    });

    it('passes a POST body and the upstream status through', async () => {
      const up = track(
        await startUpstream((req, res) => {
          let body = '';
          req.setEncoding('utf8');
          req.on('data', (c: string) => (body += c));
          req.on('end', () => {
            res.writeHead(201, { 'content-type': 'text/plain' });
            res.end(`${req.method} ${body}`);
          });
        }),
      );
      const config = proxyConfig({ routes: [{ path_prefix: '/', service: 's' }] });
      const proxy = track(await proxyFor(config, upstreamsOf({ s: rr({ id: 's1', address: up.address }) })));
      const r = await fetchVia(proxy, '/', { method: 'POST', body: 'hello' });
      expect(r).toMatchObject({ status: 201, body: 'POST hello' });
    });
  });

  describe('proxy retries', () => {
    it('retries a refused connection on another instance, and calls pick/report once per attempt', async () => {
      const good = await named('good');
      const bad = await refusedAddress();
      const balancer = rr({ id: 'bad', address: bad }, { id: 'good', address: good.address });
      const proxy = track(await proxyFor(proxyConfig({ routes: [{ path_prefix: '/', service: 's' }] }), upstreamsOf({ s: balancer })));
      const r = await fetchVia(proxy, '/');
      expect(r).toMatchObject({ status: 200, body: 'good' });
      expect(balancer.calls.map((c) => [c.op, 'id' in c ? c.id : '', c.op === 'pick' ? c.exclude : c.op === 'report' ? c.outcome.ok : ''])).toEqual([
        ['pick', 'bad', []],
        ['report', 'bad', false],
        ['pick', 'good', ['bad']],
        ['report', 'good', true],
      ]);
      const failed = balancer.calls[1];
      expect(failed?.op === 'report' && failed.outcome.status).toBeUndefined();
      expect(proxy.stats()).toMatchObject({ requests: 1, attempts: 2, retries: 1, failures: { connectFailure: 1 } });
    });

    it('retries a 503 on another instance and discards the 503 body', async () => {
      const sick = await named('sick', 503);
      const good = await named('good');
      const balancer = rr({ id: 'sick', address: sick.address }, { id: 'good', address: good.address });
      const proxy = track(await proxyFor(proxyConfig({ routes: [{ path_prefix: '/', service: 's' }] }), upstreamsOf({ s: balancer })));
      const r = await fetchVia(proxy, '/');
      expect(r).toMatchObject({ status: 200, body: 'good' });
      const reports = balancer.calls.filter((c) => c.op === 'report');
      expect(reports.map((c) => c.op === 'report' && [c.id, c.outcome.ok, c.outcome.status])).toEqual([
        ['sick', false, 503],
        ['good', true, 200],
      ]);
      expect(balancer.unbalanced()).toEqual([]);
    });

    it('relays the last 503 when every instance fails, after at most `attempts` retries', async () => {
      const ups = await Promise.all(['a', 'b', 'c', 'd'].map((n) => named(n, 503)));
      const balancer = rr(...ups.map((u, i) => ({ id: `i${i}`, address: u.address })));
      const config = proxyConfig({ routes: [{ path_prefix: '/', service: 's' }], retries: { attempts: 2 } });
      const proxy = track(await proxyFor(config, upstreamsOf({ s: balancer })));
      const r = await fetchVia(proxy, '/');
      expect(r.status).toBe(503);
      expect(r.body).toBe('c');
      expect(proxy.stats()).toMatchObject({ attempts: 3, retries: 2 });
      expect(balancer.unbalanced()).toEqual([]);
    });

    it('does not retry a POST with a body: 502 on a refused port', async () => {
      const good = await named('good');
      const balancer = rr({ id: 'bad', address: await refusedAddress() }, { id: 'good', address: good.address });
      const proxy = track(await proxyFor(proxyConfig({ routes: [{ path_prefix: '/', service: 's' }] }), upstreamsOf({ s: balancer })));
      const r = await fetchVia(proxy, '/', { method: 'POST', body: 'payload' });
      expect(r.status).toBe(502);
      expect(JSON.parse(r.body)).toMatchObject({ error: 'upstream_connect_failure' });
      expect(proxy.stats()).toMatchObject({ attempts: 1, retries: 0 });
      expect(good.requests).toHaveLength(0);
    });

    it('does not retry on the same instance when it is the only one', async () => {
      const balancer = rr({ id: 'only', address: await refusedAddress() });
      const proxy = track(await proxyFor(proxyConfig({ routes: [{ path_prefix: '/', service: 's' }] }), upstreamsOf({ s: balancer })));
      const r = await fetchVia(proxy, '/');
      expect(r.status).toBe(502);
      expect(proxy.stats()).toMatchObject({ attempts: 1, retries: 0 });
      expect(balancer.unbalanced()).toEqual([]);
    });

    it('stops retrying when the budget is exhausted, and counts it', async () => {
      const sick = await named('sick', 503);
      const good = await named('good');
      const balancer = rr({ id: 'sick', address: sick.address }, { id: 'good', address: good.address });
      // 0 % and 0.2 retries/s over the 10 s window: exactly 2 retries in the window
      const config = proxyConfig({ routes: [{ path_prefix: '/', service: 's' }], retries: { budget_percent: 0, min_per_second: 0.2 } });
      const registry = new Registry();
      const proxy = track(
        await startProxy({ engine: engine(), config, upstreams: upstreamsOf({ s: balancer }), clock: new FakeClock(0), logger: silentLogger, registry }),
      );
      const statuses: number[] = [];
      for (let i = 0; i < 6; i++) statuses.push((await fetchVia(proxy, '/')).status ?? 0);
      // round robin: sick → retry good, sick → retry good, sick → budget gone: 503, good, sick → 503, good
      expect(statuses).toEqual([200, 200, 503, 200, 503, 200]);
      expect(proxy.stats()).toMatchObject({ retries: 2, budgetExhausted: 2 });
      const text = await registry.metrics();
      expect(text).toContain('healthmesh_proxy_retry_budget_exhausted_total{service="s"} 2');
      expect(text).toContain('healthmesh_proxy_retries_total{service="s"} 2');
      expect(text).toContain('healthmesh_proxy_upstream_requests_total{service="s",service_instance="sick",code="5xx"} 4');
      expect(text).toContain('healthmesh_proxy_upstream_requests_in_flight{service="s",service_instance="good"} 0');
      expect(text).toMatch(/healthmesh_proxy_upstream_attempt_duration_seconds_count\{service="s"\} 8/);
    });
  });

  describe('proxy timeouts, aborts and hostile upstreams', () => {
    it('answers 504 when the upstream sends no headers within the timeout (fake clock)', async () => {
      const hang = track(await startUpstream(() => {}));
      const clock = new FakeClock(0);
      const balancer = rr({ id: 'hang', address: hang.address });
      const config = proxyConfig({ routes: [{ path_prefix: '/', service: 's' }], timeout: 1000, retries: { on: ['timeout'] } });
      const proxy = track(await startProxy({ engine: engine(), config, upstreams: upstreamsOf({ s: balancer }), clock, logger: silentLogger }));
      const pending = fetchVia(proxy, '/');
      await waitFor(() => hang.requests.length === 1, 'the upstream to get the request');
      clock.advance(999);
      await new Promise((r) => setTimeout(r, 20));
      expect(proxy.stats().failures.timeout).toBe(0);
      clock.advance(1);
      const r = await pending;
      expect(r.status).toBe(504);
      expect(JSON.parse(r.body)).toMatchObject({ error: 'upstream_timeout' });
      expect(balancer.calls.filter((c) => c.op === 'report')).toEqual([{ op: 'report', id: 'hang', outcome: { ok: false, latencyMs: 1000 } }]);
      // the upstream request was aborted
      await waitFor(() => hang.requests[0]?.destroyed === true, 'the upstream request to close');
    });

    it('closes the upstream request when the client goes away mid-request, and releases the instance', async () => {
      const hang = track(await startUpstream(() => {}));
      const balancer = rr({ id: 'hang', address: hang.address });
      const proxy = track(await proxyFor(proxyConfig({ routes: [{ path_prefix: '/', service: 's' }] }), upstreamsOf({ s: balancer })));
      const req = request({ host: '127.0.0.1', port: proxy.address.port, path: '/', headers: { host: 'x' }, agent: false });
      req.on('error', () => {});
      req.end();
      await waitFor(() => hang.requests.length === 1, 'the upstream to get the request');
      let closed = false;
      hang.requests[0]!.socket.on('close', () => (closed = true));
      req.destroy();
      await waitFor(() => closed, 'the upstream socket to close');
      expect(balancer.calls.map((c) => c.op)).toEqual(['pick', 'release']);
      expect(proxy.stats().failures.clientAbort).toBe(1);
    });

    it('closes the upstream request when the client goes away mid-response', async () => {
      let upstreamClosed = false;
      const endless = track(
        await startUpstream((_req, res) => {
          res.writeHead(200, { 'content-type': 'application/octet-stream' });
          const chunk = Buffer.alloc(64 * 1024, 1);
          const pump = (): void => {
            while (res.write(chunk));
          };
          res.on('drain', pump);
          res.on('close', () => (upstreamClosed = true));
          pump();
        }),
      );
      const balancer = rr({ id: 'e', address: endless.address });
      const proxy = track(await proxyFor(proxyConfig({ routes: [{ path_prefix: '/', service: 's' }] }), upstreamsOf({ s: balancer })));
      await new Promise<void>((resolve) => {
        const req = request({ host: '127.0.0.1', port: proxy.address.port, path: '/', headers: { host: 'x' }, agent: false }, (res) => {
          let got = 0;
          res.on('data', (c: Buffer) => {
            got += c.length;
            if (got > 1024 * 1024) {
              req.destroy();
              resolve();
            }
          });
        });
        req.on('error', () => {});
        req.end();
      });
      await waitFor(() => upstreamClosed, 'the upstream response to close');
      expect(balancer.unbalanced()).toEqual([]);
    });

    it('breaks the client response off when the upstream resets mid-body (no hang, no clean end)', async () => {
      const resetting = track(
        await startUpstream((_req, res) => {
          res.writeHead(200, { 'content-length': '100000' });
          res.write(Buffer.alloc(1000, 65), () => setTimeout(() => res.socket?.destroy(), 20));
        }),
      );
      const proxy = track(
        await proxyFor(proxyConfig({ routes: [{ path_prefix: '/', service: 's' }] }), upstreamsOf({ s: rr({ id: 'r', address: resetting.address }) })),
      );
      const r = await fetchVia(proxy, '/');
      expect(r.status).toBe(200);
      expect(r.error).toBeDefined();
      expect(r.body.length).toBeLessThan(100000);
      await waitFor(() => proxy.stats().failures.midBody === 1, 'midBody count');
    });

    it('same with a chunked upstream response', async () => {
      const resetting = track(
        await startUpstream((_req, res) => {
          res.writeHead(200, { 'content-type': 'text/plain' });
          res.write('partial', () => setTimeout(() => res.socket?.destroy(), 20));
        }),
      );
      const proxy = track(
        await proxyFor(proxyConfig({ routes: [{ path_prefix: '/', service: 's' }] }), upstreamsOf({ s: rr({ id: 'r', address: resetting.address }) })),
      );
      const r = await fetchVia(proxy, '/');
      expect(r.status).toBe(200);
      expect(r.error).toBeDefined();
    });

    it('answers 502 to a malformed upstream response', async () => {
      const { rawServer } = await import('../helpers/hostile.js');
      const garbage = track(await rawServer((s) => s.once('data', () => s.end('NOT HTTP AT ALL\r\n\r\n'))));
      const proxy = track(
        await proxyFor(proxyConfig({ routes: [{ path_prefix: '/', service: 's' }] }), upstreamsOf({ s: rr({ id: 'g', address: garbage.address }) })),
      );
      const r = await fetchVia(proxy, '/', { method: 'POST', body: 'x' });
      expect(r.status).toBe(502);
    });
  });

  describe('proxy against more hostile upstreams', () => {
    it("answers 502 to response headers over undici's limit and does not retry it (a protocol error is not in retries.on)", async () => {
      const { rawServer } = await import('../helpers/hostile.js');
      const huge = track(await rawServer((s) => s.once('data', () => s.write(`HTTP/1.1 200 OK\r\nX-Big: ${'a'.repeat(70_000)}\r\n\r\n`))));
      const good = await named('good');
      const only = rr({ id: 'huge', address: huge.address });
      const proxy = track(await proxyFor(proxyConfig({ routes: [{ path_prefix: '/', service: 's' }] }), upstreamsOf({ s: only })));
      const r = await fetchVia(proxy, '/');
      expect(r.status).toBe(502);
      expect(only.unbalanced()).toEqual([]);
      const two = rr({ id: 'huge', address: huge.address }, { id: 'good', address: good.address });
      const proxy2 = track(await proxyFor(proxyConfig({ routes: [{ path_prefix: '/', service: 's' }], retries: { on: ['reset'] } }), upstreamsOf({ s: two })));
      const r2 = await fetchVia(proxy2, '/');
      // header overflow is a protocol error, not one of retries.on: relayed as 502, not retried
      expect(r2.status).toBe(502);
    });

    it('answers 504 to an upstream that trickles its headers past the timeout', async () => {
      const { rawServer } = await import('../helpers/hostile.js');
      const trickle = track(
        await rawServer((s) =>
          s.once('data', () => {
            s.write('HTTP/1.1 200 OK\r\n');
            const t = setInterval(() => (s.writable ? s.write('X-A: b\r\n') : clearInterval(t)), 20);
            s.on('close', () => clearInterval(t));
          }),
        ),
      );
      const balancer = rr({ id: 't', address: trickle.address });
      const proxy = track(await proxyFor(proxyConfig({ routes: [{ path_prefix: '/', service: 's' }], timeout: 300 }), upstreamsOf({ s: balancer })));
      const r = await fetchVia(proxy, '/');
      expect(r.status).toBe(504);
      expect(balancer.unbalanced()).toEqual([]);
    });
  });

  describe('proxy upstream pools', () => {
    it('closes the pool of an address nobody sent to for a whole sweep period, and opens it again when needed (fake clock)', async () => {
      const a = await named('a');
      const clock = new FakeClock(0);
      const config = proxyConfig({ routes: [{ path_prefix: '/', service: 's' }] });
      const proxy = track(
        await startProxy({ engine: engine(), config, upstreams: upstreamsOf({ s: rr({ id: 'a', address: a.address }) }), clock, logger: silentLogger }),
      );
      expect((await fetchVia(proxy, '/')).body).toBe('a');
      expect(proxy.upstreamPools()).toEqual([a.address]);
      clock.advance(60_000); // used in this period: kept
      expect(proxy.upstreamPools()).toEqual([a.address]);
      clock.advance(60_000); // idle for a whole period: closed
      expect(proxy.upstreamPools()).toEqual([]);
      expect((await fetchVia(proxy, '/')).body).toBe('a');
      expect(proxy.upstreamPools()).toEqual([a.address]);
    });
  });

  describe('proxy max_body_bytes', () => {
    it('answers 413 at once for a content-length above the limit, without calling the upstream', async () => {
      const up = await named('up');
      const balancer = rr({ id: 'u', address: up.address });
      const proxy = track(await proxyFor(proxyConfig({ routes: [{ path_prefix: '/', service: 's' }], max_body_bytes: 1000 }), upstreamsOf({ s: balancer })));
      const r = await fetchVia(proxy, '/', { method: 'POST', body: Buffer.alloc(1001) });
      expect(r.status).toBe(413);
      expect(JSON.parse(r.body)).toEqual({ error: 'body_too_large', limit: 1000 });
      expect(balancer.calls).toEqual([]);
      const ok = await fetchVia(proxy, '/', { method: 'POST', body: Buffer.alloc(1000) });
      expect(ok.status).toBe(200);
    });

    it('counts a chunked body while streaming and aborts the upstream request past the limit', async () => {
      let upstreamClosed = false;
      const sink = track(
        await startUpstream((req) => {
          req.resume();
          req.on('close', () => (upstreamClosed = true));
        }),
      );
      const balancer = rr({ id: 'u', address: sink.address });
      const proxy = track(await proxyFor(proxyConfig({ routes: [{ path_prefix: '/', service: 's' }], max_body_bytes: 100_000 }), upstreamsOf({ s: balancer })));
      const r = await new Promise<number | string>((resolve) => {
        const req = request(
          { host: '127.0.0.1', port: proxy.address.port, method: 'PUT', path: '/', headers: { host: 'x', 'transfer-encoding': 'chunked' }, agent: false },
          (res) => {
            resolve(res.statusCode ?? 0);
            res.resume();
          },
        );
        req.on('error', (e) => resolve((e as NodeJS.ErrnoException).code ?? 'error'));
        let sent = 0;
        const chunk = Buffer.alloc(16 * 1024);
        const more = (): void => {
          while (sent < 1_000_000 && req.write(chunk)) sent += chunk.length;
          if (sent >= 1_000_000) req.end();
        };
        req.on('drain', more);
        more();
      });
      expect(r).toBe(413);
      await waitFor(() => upstreamClosed, 'the upstream request to close');
      expect(proxy.stats().failures.bodyTooLarge).toBe(1);
      expect(balancer.unbalanced()).toEqual([]);
    });
  });

  describe('proxy accounting', () => {
    it('calls pick then exactly one report or release per attempt over mixed traffic', async () => {
      const good = await named('good');
      const sick = await named('sick', 503);
      const balancer = rr({ id: 'good', address: good.address }, { id: 'sick', address: sick.address }, { id: 'bad', address: await refusedAddress() });
      const proxy = track(
        await proxyFor(proxyConfig({ routes: [{ path_prefix: '/', service: 's' }], retries: { min_per_second: 100 } }), upstreamsOf({ s: balancer })),
      );
      const results = await Promise.all(Array.from({ length: 30 }, (_, i) => fetchVia(proxy, '/', i % 3 === 0 ? { method: 'POST', body: 'b' } : {})));
      expect(results.every((r) => r.status !== undefined)).toBe(true);
      const picks = balancer.calls.filter((c) => c.op === 'pick').length;
      expect(picks).toBe(proxy.stats().attempts);
      expect(balancer.unbalanced()).toEqual([]);
    });

    it('keeps one raw connection to the proxy working across requests (keep-alive)', async () => {
      const up = await named('k');
      const proxy = track(
        await proxyFor(proxyConfig({ routes: [{ path_prefix: '/', service: 's' }] }), upstreamsOf({ s: rr({ id: 'k', address: up.address }) })),
      );
      const sock = connect(proxy.address.port, '127.0.0.1');
      cleanups.push(() => void sock.destroy());
      let data = '';
      sock.setEncoding('utf8');
      sock.on('data', (d: string) => (data += d));
      sock.write('GET /1 HTTP/1.1\r\nHost: x\r\n\r\nGET /2 HTTP/1.1\r\nHost: x\r\n\r\n');
      await waitFor(() => (data.match(/HTTP\/1.1 200/g) ?? []).length === 2, 'two responses on one connection');
    });
  });

  describe('proxy against hostile clients', () => {
    it('answers 400 to an absolute-form target without calling the upstream', async () => {
      const up = await named('u');
      const balancer = rr({ id: 'u', address: up.address });
      const proxy = track(await proxyFor(proxyConfig({ routes: [{ host: 'svc.test', service: 's' }] }), upstreamsOf({ s: balancer })));
      const sock = connect(proxy.address.port, '127.0.0.1');
      cleanups.push(() => void sock.destroy());
      let data = '';
      sock.setEncoding('utf8');
      sock.on('data', (d: string) => (data += d));
      sock.write('GET http://svc.test/x HTTP/1.1\r\nHost: svc.test\r\n\r\n');
      await waitFor(() => data.includes('bad_request_target'), 'a 400');
      expect(data).toMatch(/^HTTP\/1.1 400/);
      expect(balancer.calls).toEqual([]);
    });

    it('survives a client that resets in the middle of its chunked upload, and releases the instance', async () => {
      let upstreamClosed = false;
      const sink = track(
        await startUpstream((req, res) => {
          req.resume();
          req.on('end', () => res.end('ok'));
          req.on('close', () => (upstreamClosed = true));
        }),
      );
      const balancer = rr({ id: 'u', address: sink.address });
      const proxy = track(await proxyFor(proxyConfig({ routes: [{ path_prefix: '/', service: 's' }] }), upstreamsOf({ s: balancer })));
      const sock = connect(proxy.address.port, '127.0.0.1');
      sock.on('error', () => {});
      sock.write('POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n');
      await waitFor(() => sink.requests.length === 1, 'the upstream to get the request');
      sock.resetAndDestroy();
      await waitFor(() => upstreamClosed, 'the upstream request to close');
      await waitFor(() => balancer.calls.length === 2, 'the release');
      expect(balancer.calls.map((c) => c.op)).toEqual(['pick', 'release']);
      // and still serving
      expect((await fetchVia(proxy, '/')).status).toBe(200);
    });

    it('survives a client that sends a body shorter than its Content-Length and goes away', async () => {
      const sink = track(await startUpstream((req, res) => req.on('end', () => res.end('done')).resume()));
      const balancer = rr({ id: 'u', address: sink.address });
      const proxy = track(await proxyFor(proxyConfig({ routes: [{ path_prefix: '/', service: 's' }] }), upstreamsOf({ s: balancer })));
      const sock = connect(proxy.address.port, '127.0.0.1');
      sock.on('error', () => {});
      sock.write('PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nshort');
      await waitFor(() => sink.requests.length === 1, 'the upstream to get the request');
      sock.end();
      await waitFor(() => balancer.calls.length === 2, 'the release');
      expect(balancer.unbalanced()).toEqual([]);
    });
  });
});
