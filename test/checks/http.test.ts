import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { compileStatusTable, httpCheck } from '../../src/checks/http.js';
import { reasonFromError } from '../../src/checks/errors.js';
import { createRunner } from '../../src/checks/index.js';
import { compileJsonPath, getJsonPath, MISSING } from '../../src/checks/jsonpath.js';
import { FakeClock } from '../../src/core/clock.js';
import { useCleanups } from '../helpers/cleanups.js';
import { openFds, settleFds } from '../helpers/fds.js';
import {
  closedPort,
  garbageServer,
  rawServer,
  httpServer,
  hugeBodyServer,
  neverAcceptingServer,
  resetServer,
  selfSignedHttpsServer,
  silentServer,
  trickleServer,
  type RecordingServer,
  type TestServer,
} from '../helpers/hostile.js';
import { attempt, checkDeps, runOnce, runSeries } from '../helpers/run-check.js';
import { httpSpec, type HttpInput } from '../helpers/spec.js';
import { waitFor, within } from '../helpers/wait.js';

const { cleanups, track } = useCleanups();

/** A recording server answering by path; everything else is 200 "hello". */
async function app(): Promise<RecordingServer> {
  const server = await httpServer((req, res) => {
    const url = (req.url ?? '/').replace(/\?.*/, '');
    if (url.startsWith('/status/')) {
      res.statusCode = Number(url.slice('/status/'.length));
      res.end('status page');
    } else if (url === '/json') {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ status: 'up', checks: [{ name: 'db', ok: true, lag: 3 }], note: null }));
    } else if (url === '/slow') {
      setTimeout(() => res.end('slow hello'), 120);
    } else if (url === '/old') {
      res.writeHead(301, { location: '/new' }).end('moved');
    } else if (url === '/loop') {
      res.writeHead(302, { location: '/loop' }).end();
    } else if (url === '/see-other') {
      res.writeHead(303, { location: '/new' }).end();
    } else if (url === '/new') {
      res.end('fresh content');
    } else {
      res.end('hello world');
    }
  });
  return track(server);
}

/**
 * The check's two clients: with reuse_connections (default) every target goes
 * through undici; without it, plain http goes through the lean HTTP/1.1
 * client (https and redirects through undici with a new connection per run).
 * Cases that hold for both run on each.
 */
const CLIENTS = [
  { name: 'reuse on (undici)', reuse: true },
  { name: 'reuse off (lean HTTP/1.1 client)', reuse: false },
] as const;

/** `check` for one client: runs once with the spec's timeout; `abortMs` aborts earlier, as the scheduler's signal would. */
function checker(reuse: boolean) {
  // 5 s by default: a happy path must not turn into a timeout on a loaded machine; timeout tests pass their own.
  return (server: { address: string }, input: HttpInput = {}, timeoutMs = 5000, abortMs = timeoutMs) =>
    runOnce(createRunner, httpSpec(server.address, { reuse_connections: reuse, ...input }, timeoutMs), abortMs);
}

/** Runs once on the default client (undici, connection reuse on). */
const check = checker(true);

/** Slack for wall-clock bounds: test files run in parallel on a small machine. */
const SLACK_MS = 250;

describe.each(CLIENTS)('http check: status, $name', ({ reuse }) => {
  const check = checker(reuse);

  it('is HEALTHY on 200 with the status code as a metric', async () => {
    const s = await app();
    const r = await check(s);
    expect(r.status).toBe('HEALTHY');
    expect(r.reason).toBe('ok');
    expect(r.output).toMatch(/^HTTP 200 in /);
    expect(r.metrics).toEqual({ status_code: 200 });
  });

  it('accepts a code listed exactly, by class and by range', async () => {
    const s = await app();
    expect((await check(s, { path: '/status/204', expect_status: [204] })).status).toBe('HEALTHY');
    expect((await check(s, { path: '/status/418', expect_status: ['4xx'] })).status).toBe('HEALTHY');
    expect((await check(s, { path: '/status/250', expect_status: ['200-299'] })).status).toBe('HEALTHY');
    expect((await check(s, { path: '/status/503', expect_status: [200, '500-503'] })).status).toBe('HEALTHY');
  });

  it('goes UNHEALTHY status_mismatch with the code in output and metrics', async () => {
    const s = await app();
    const r = await check(s, { path: '/status/503' });
    expect(r).toMatchObject({ status: 'UNHEALTHY', reason: 'status_mismatch', metrics: { status_code: 503 } });
    expect(r.output).toContain('503');
    expect(r.output).toContain('2xx');
    const edge = await check(s, { path: '/status/300', expect_status: ['200-299'] });
    expect(edge.reason).toBe('status_mismatch');
  });

  it('compiles status matchers into a lookup table', () => {
    const t = compileStatusTable([201, '3xx', '404-405']);
    const ok = [...t.keys()].filter((k) => t[k] === 1);
    expect(ok).toEqual([201, ...Array.from({ length: 100 }, (_, i) => 300 + i), 404, 405]);
  });

  it('uses config.url over scheme, address and path', async () => {
    const s = await app();
    const r = await runOnce(httpCheck, httpSpec('127.0.0.1:1', { url: `http://${s.address}/status/202?x=1`, expect_status: [202], reuse_connections: reuse }));
    expect(r.status).toBe('HEALTHY');
    expect(s.requests[0]?.url).toBe('/status/202?x=1');
  });
});

describe.each(CLIENTS)('http check: body, $name', ({ reuse }) => {
  const check = checker(reuse);

  it('passes and fails on contains / not_contains', async () => {
    const s = await app();
    expect((await check(s, { expect_body: { contains: 'hello' } })).status).toBe('HEALTHY');
    const miss = await check(s, { expect_body: { contains: 'goodbye' } });
    expect(miss).toMatchObject({ status: 'UNHEALTHY', reason: 'body_mismatch' });
    expect(miss.output).toContain('goodbye');
    expect((await check(s, { expect_body: { not_contains: 'error' } })).status).toBe('HEALTHY');
    expect((await check(s, { expect_body: { not_contains: 'world' } })).reason).toBe('body_mismatch');
  });

  it('passes and fails on regex', async () => {
    const s = await app();
    expect((await check(s, { expect_body: { regex: '^hel+o\\s' } })).status).toBe('HEALTHY');
    const r = await check(s, { expect_body: { regex: '^world' } });
    expect(r).toMatchObject({ status: 'UNHEALTHY', reason: 'body_mismatch' });
  });

  it('passes and fails on JSON path values', async () => {
    const s = await app();
    const ok = await check(s, {
      path: '/json',
      expect_body: {
        json: [
          { path: '$.status', equals: 'up' },
          { path: '$.checks[0].ok', equals: true },
          { path: '$.checks[0].lag', equals: 3 },
          { path: '$.note', equals: null },
        ],
      },
    });
    expect(ok.status).toBe('HEALTHY');
    const wrong = await check(s, { path: '/json', expect_body: { json: [{ path: '$.status', equals: 'down' }] } });
    expect(wrong).toMatchObject({ status: 'UNHEALTHY', reason: 'body_mismatch' });
    expect(wrong.output).toBe('$.status is "up", expected "down"');
    const missing = await check(s, { path: '/json', expect_body: { json: [{ path: '$.checks[3].ok', equals: true }] } });
    expect(missing.reason).toBe('body_mismatch');
    const notJson = await check(s, { expect_body: { json: [{ path: '$.a', equals: 1 }] } });
    expect(notJson.output).toContain('not JSON');
  });

  it('does not judge the body of a response whose status failed', async () => {
    const s = await app();
    const r = await check(s, { path: '/status/500', expect_body: { contains: 'status page' } });
    expect(r.reason).toBe('status_mismatch');
  });

  it('reports a bad regex or JSON path as UNKNOWN error on every run, without throwing', async () => {
    const s = await app();
    const r = await check(s, { expect_body: { regex: '([a-' } });
    expect(r).toMatchObject({ status: 'UNKNOWN', reason: 'error' });
    const p = await check(s, { expect_body: { json: [{ path: '$.a[x]', equals: 1 }] } });
    expect(p).toMatchObject({ status: 'UNKNOWN', reason: 'error' });
    expect(s.requests).toHaveLength(0);
  });
});

describe.each(CLIENTS)('http check: latency, $name', ({ reuse }) => {
  const check = checker(reuse);

  it('goes DEGRADED slow when latency exceeds degraded_after', async () => {
    const s = await app();
    const r = await check(s, { path: '/slow', degraded_after: 50 });
    expect(r).toMatchObject({ status: 'DEGRADED', reason: 'slow', metrics: { status_code: 200 } });
    expect((await check(s, { path: '/slow', degraded_after: 5000 })).status).toBe('HEALTHY');
  });

  it('times its latency with ctx.clock', async () => {
    const clock = new FakeClock(0);
    // The server takes "2 s" on the injected clock, no time on the wall clock.
    const s = track(
      await httpServer((_req, res) => {
        clock.advance(2000);
        res.end('ok');
      }),
    );
    const runner = httpCheck(httpSpec(s.address, { degraded_after: 1000, reuse_connections: reuse }), checkDeps());
    try {
      const r = await runner.run({ signal: new AbortController().signal, clock });
      expect(r).toMatchObject({ status: 'DEGRADED', reason: 'slow' });
      expect(r.output).toContain('2000 ms');
    } finally {
      await runner.close?.();
    }
  });

  it('does not turn an unhealthy result into DEGRADED', async () => {
    const s = await app();
    const r = await check(s, { path: '/slow', degraded_after: 10, expect_body: { contains: 'nope' } });
    expect(r.reason).toBe('body_mismatch');
  });
});

describe.each(CLIENTS)('http check: request, $name', ({ reuse }) => {
  const check = checker(reuse);

  it('sends the configured method, headers and body', async () => {
    const s = await app();
    const r = await check(s, {
      method: 'POST',
      path: '/submit',
      headers: { 'X-Probe': 'yes', 'content-type': 'text/plain' },
      body: 'ping body',
    });
    expect(r.status).toBe('HEALTHY');
    const seen = s.requests[0];
    expect(seen).toMatchObject({ method: 'POST', url: '/submit', body: 'ping body' });
    expect(seen?.headers['x-probe']).toBe('yes');
    expect(seen?.headers['content-type']).toBe('text/plain');
    expect(seen?.headers['content-length']).toBe('9');
    expect(seen?.headers['user-agent']).toMatch(/^healthmesh\//);
  });

  it('sends HEAD without reading a body', async () => {
    const s = await app();
    const r = await check(s, { method: 'HEAD' });
    expect(r.status).toBe('HEALTHY');
    expect(s.requests[0]?.method).toBe('HEAD');
  });

  it('turns URL credentials into basic auth', async () => {
    const s = await app();
    await runOnce(httpCheck, httpSpec('x:1', { url: `http://me:s%40cret@${s.address}/`, reuse_connections: reuse }));
    expect(s.requests[0]?.headers.authorization).toBe(`Basic ${Buffer.from('me:s@cret').toString('base64')}`);
  });
});

describe.each(CLIENTS)('http check: redirects, $name', ({ reuse }) => {
  const check = checker(reuse);

  it('does not follow a redirect by default: 301 fails expect 2xx', async () => {
    const s = await app();
    const r = await check(s, { path: '/old' });
    expect(r).toMatchObject({ status: 'UNHEALTHY', reason: 'status_mismatch', metrics: { status_code: 301 } });
    expect(s.requests.map((q) => q.url)).toEqual(['/old']);
  });

  it('follows redirects when follow_redirects > 0', async () => {
    const s = await app();
    const r = await check(s, { path: '/old', follow_redirects: 1, expect_body: { contains: 'fresh' } });
    expect(r.status).toBe('HEALTHY');
    expect(s.requests.map((q) => q.url)).toEqual(['/old', '/new']);
  });

  it('stops after follow_redirects hops and judges the last response', async () => {
    const s = await app();
    const r = await check(s, { path: '/loop', follow_redirects: 3 });
    expect(r).toMatchObject({ reason: 'status_mismatch', metrics: { status_code: 302 } });
    expect(s.requests).toHaveLength(4);
  });

  it('turns POST into GET without body on 303', async () => {
    const s = await app();
    const r = await check(s, { path: '/see-other', method: 'POST', body: 'x', follow_redirects: 1 });
    expect(r.status).toBe('HEALTHY');
    expect(s.requests.map((q) => `${q.method} ${q.url} ${q.body}`)).toEqual(['POST /see-other x', 'GET /new ']);
  });

  it('follows a redirect to another origin without leaking its connection', async () => {
    const target = await app();
    const origin = track(
      await httpServer((_req, res) => {
        res.writeHead(302, { location: `http://${target.address}/new` }).end();
      }),
    );
    const baseline = openFds();
    const r = await check(origin, { follow_redirects: 2, headers: { authorization: 'Bearer t' } });
    expect(r.status).toBe('HEALTHY');
    expect(target.requests[0]?.url).toBe('/new');
    expect(target.requests[0]?.headers.authorization).toBeUndefined();
    expect(await settleFds(baseline)).toBeLessThanOrEqual(baseline);
  });
});

describe('http check: connections', () => {
  it('keeps one connection for all runs with reuse_connections: true', async () => {
    const s = await app();
    const baseline = openFds();
    const results = await runSeries(httpCheck, httpSpec(s.address, { reuse_connections: true }), 4);
    expect(results.map((r) => r.status)).toEqual(['HEALTHY', 'HEALTHY', 'HEALTHY', 'HEALTHY']);
    expect(s.connections()).toBe(1);
    expect(s.requests.map((q) => q.connection)).toEqual([1, 1, 1, 1]);
    expect(await settleFds(baseline)).toBeLessThanOrEqual(baseline);
  });

  it('with reuse_connections: auto (default) keeps the connection of a check run every 1 s, not of one every 10 s', async () => {
    const fast = await app();
    const kept = await runSeries(httpCheck, { ...httpSpec(fast.address), intervalMs: 1000 }, 3);
    expect(kept.map((r) => r.status)).toEqual(['HEALTHY', 'HEALTHY', 'HEALTHY']);
    expect(fast.connections()).toBe(1);
    const slow = await app();
    const fresh = await runSeries(httpCheck, { ...httpSpec(slow.address), intervalMs: 10_000 }, 3);
    expect(fresh.map((r) => r.status)).toEqual(['HEALTHY', 'HEALTHY', 'HEALTHY']);
    expect(slow.connections()).toBe(3);
    expect(slow.requests.map((q) => q.headers.connection)).toEqual(['close', 'close', 'close']);
  });

  it('opens and closes one connection per run without reuse', async () => {
    const s = await app();
    const baseline = openFds();
    const runner = httpCheck(httpSpec(s.address, { reuse_connections: false }), checkDeps());
    try {
      for (let i = 0; i < 3; i++) {
        expect((await attempt(runner, 500)).status).toBe('HEALTHY');
        // Closed after each run, before close() is called.
        expect(await settleFds(baseline)).toBeLessThanOrEqual(baseline);
      }
    } finally {
      await runner.close?.();
    }
    expect(s.connections()).toBe(3);
    expect(s.requests.map((q) => q.headers.connection)).toEqual(['close', 'close', 'close']);
  });

  it('keeps working after a timeout tore the connection down', async () => {
    let slow = true;
    const s = track(await httpServer((_req, res) => (slow ? setTimeout(() => res.end('late'), 400) : res.end('ok'))));
    const runner = httpCheck(httpSpec(s.address), checkDeps());
    try {
      expect((await attempt(runner, 100)).reason).toBe('timeout');
      slow = false;
      expect((await attempt(runner, 500)).status).toBe('HEALTHY');
    } finally {
      await runner.close?.();
    }
  });

  it('ends a run in flight as aborted when the check is closed, releasing its connect', async () => {
    const s = track(await silentServer());
    const baseline = openFds();
    const runner = httpCheck(httpSpec(s.address, { scheme: 'https' }, 2000), checkDeps());
    const pending = attempt(runner, 2000);
    await waitFor(() => s.connections() === 1, { timeoutMs: 2000, what: 'the run to connect' }); // in flight: stuck in the TLS handshake
    await runner.close?.();
    const r = await pending;
    expect(r).toMatchObject({ status: 'UNHEALTHY', reason: 'aborted' });
    expect(r.elapsedMs).toBeLessThan(50 + SLACK_MS);
    expect(await settleFds(baseline, 1000)).toBeLessThanOrEqual(baseline);
  });

  it('ends a lean-client run in flight as aborted when the check is closed, releasing its socket', async () => {
    const s = track(await silentServer());
    const baseline = openFds();
    const runner = httpCheck(httpSpec(s.address, { reuse_connections: false }, 2000), checkDeps());
    const pending = [attempt(runner, 2000), attempt(runner, 2000)];
    await waitFor(() => s.connections() === 2, { timeoutMs: 2000, what: 'both runs to connect' }); // in flight: waiting for an answer
    await runner.close?.();
    for (const r of await Promise.all(pending)) {
      expect(r).toMatchObject({ status: 'UNHEALTHY', reason: 'aborted' });
      expect(r.elapsedMs).toBeLessThan(50 + SLACK_MS);
    }
    expect(await settleFds(baseline, 1000)).toBeLessThanOrEqual(baseline);
    expect(await attempt(runner, 300)).toMatchObject({ status: 'UNKNOWN', reason: 'aborted' });
  });

  it('reports a run after close() as UNKNOWN aborted', async () => {
    const s = await app();
    const runner = httpCheck(httpSpec(s.address), checkDeps());
    await runner.close?.();
    expect(await attempt(runner, 300)).toMatchObject({ status: 'UNKNOWN', reason: 'aborted' });
  });
});

describe.each(CLIENTS)('http check: hostile targets, $name', ({ reuse }) => {
  const check = checker(reuse);

  it('times out on a server that accepts and never answers, releasing the socket', async () => {
    const s = track(await silentServer());
    const baseline = openFds();
    // The signal, not undici's own timeouts (set to the 2 s spec timeout), ends the run.
    const r = await check(s, {}, 2000, 300);
    expect(r).toMatchObject({ status: 'UNHEALTHY', reason: 'timeout' });
    expect(r.output).toContain('waiting for response headers');
    expect(r.elapsedMs).toBeLessThan(300 + SLACK_MS);
    expect(await settleFds(baseline)).toBeLessThanOrEqual(baseline);
  });

  it('times out on a body trickling a byte a second while a body condition is set', async () => {
    const s = track(await trickleServer());
    const baseline = openFds();
    const r = await check(s, { expect_body: { contains: 'never' } }, 2000, 400);
    expect(r).toMatchObject({ status: 'UNHEALTHY', reason: 'timeout' });
    expect(r.output).toContain('reading body');
    expect(r.elapsedMs).toBeLessThan(400 + SLACK_MS);
    expect(await settleFds(baseline)).toBeLessThanOrEqual(baseline);
  });

  it('stops reading a 1 GB body at max_body_bytes and judges what it read', async () => {
    const s = track(await hugeBodyServer());
    const baseline = openFds();
    const healthy = await check(s, {}, 2000);
    expect(healthy).toMatchObject({ status: 'HEALTHY', reason: 'ok', metrics: { status_code: 200 } });
    expect(healthy.elapsedMs).toBeLessThan(1000 + SLACK_MS);
    const sent = await s.disconnected;
    expect(sent).toBeLessThan(64 * 1024 * 1024);
    expect(await settleFds(baseline)).toBeLessThanOrEqual(baseline);
  });

  it('judges body conditions on the first max_body_bytes of a 1 GB body', async () => {
    const s = track(await hugeBodyServer());
    const baseline = openFds();
    const r = await check(s, { max_body_bytes: 1000, expect_body: { contains: 'b' } }, 2000);
    expect(r).toMatchObject({ status: 'UNHEALTHY', reason: 'body_mismatch' });
    expect(r.output).toContain('first 1000 bytes');
    expect(r.elapsedMs).toBeLessThan(1000 + SLACK_MS);
    expect(await s.disconnected).toBeLessThan(64 * 1024 * 1024);
    const pass = await check(s, { max_body_bytes: 1000, expect_body: { regex: '^a{1000}$' } }, 2000);
    expect(pass.status).toBe('HEALTHY');
    expect(await settleFds(baseline)).toBeLessThanOrEqual(baseline);
  });

  it('times out on a TLS handshake that never completes, releasing the socket', async () => {
    const s = track(await silentServer());
    const baseline = openFds();
    const runner = httpCheck(httpSpec(s.address, { scheme: 'https', reuse_connections: reuse }, 2000), checkDeps());
    try {
      const r = await attempt(runner, 300);
      expect(r).toMatchObject({ status: 'UNHEALTHY', reason: 'timeout' });
      expect(r.output).toContain('connecting');
      expect(r.elapsedMs).toBeLessThan(300 + SLACK_MS);
      // Released at the timeout, before close(), and the runner stays usable.
      expect(await settleFds(baseline)).toBeLessThanOrEqual(baseline);
      expect((await attempt(runner, 300)).reason).toBe('timeout');
    } finally {
      await runner.close?.();
    }
    expect(await settleFds(baseline)).toBeLessThanOrEqual(baseline);
    expect(s.connections()).toBe(2);
  });

  it('reports garbage bytes as protocol', async () => {
    const s = track(await garbageServer());
    const baseline = openFds();
    const r = await check(s, {}, 500);
    expect(r).toMatchObject({ status: 'UNHEALTHY', reason: 'protocol' });
    expect(r.output).not.toMatch(/[\r\n]/);
    expect(await settleFds(baseline)).toBeLessThanOrEqual(baseline);
  });

  it('reports a reset connection as connect_reset', async () => {
    const s = track(await resetServer());
    const baseline = openFds();
    const r = await check(s, {}, 500);
    expect(r).toMatchObject({ status: 'UNHEALTHY', reason: 'connect_reset' });
    expect(await settleFds(baseline)).toBeLessThanOrEqual(baseline);
  });

  it('reports a closed port as connect_refused', async () => {
    const port = await closedPort();
    const baseline = openFds();
    const r = await check({ address: `127.0.0.1:${port}` }, {}, 500);
    expect(r).toMatchObject({ status: 'UNHEALTHY', reason: 'connect_refused' });
    expect(r.output).toContain('ECONNREFUSED');
    expect(await settleFds(baseline)).toBeLessThanOrEqual(baseline);
  });

  it('times out on a port that never accepts, releasing the pending connect', async () => {
    const s = await neverAcceptingServer();
    cleanups.push(() => s.close());
    const baseline = openFds();
    const runner = httpCheck(httpSpec(s.address, { reuse_connections: reuse }, 2000), checkDeps());
    try {
      const r = await attempt(runner, 300);
      expect(r).toMatchObject({ status: 'UNHEALTHY', reason: 'timeout' });
      expect(r.output).toContain('connecting');
      expect(r.elapsedMs).toBeLessThan(300 + SLACK_MS);
      // Released at the timeout, not at close() nor at undici's 2 s connect timeout.
      expect(await settleFds(baseline, 1000)).toBeLessThanOrEqual(baseline);
    } finally {
      await runner.close?.();
    }
  }, 15_000);
});

/** A raw server answering every request with `response` (as latin1 bytes), then closing. */
async function rawHttp(response: string | string[], close = true): Promise<TestServer> {
  const parts = Array.isArray(response) ? response : [response];
  return track(
    await rawServer((socket) => {
      socket.once('data', () => {
        for (const p of parts) socket.write(Buffer.from(p, 'latin1'));
        if (close) socket.end();
      });
    }),
  );
}

describe.each(CLIENTS)('http check: response framing, $name', ({ reuse }) => {
  const check = checker(reuse);

  it('reads a chunked body and judges it', async () => {
    const s = track(
      await httpServer((_req, res) => {
        res.write('first part, ');
        setTimeout(() => res.end('second part'), 5);
      }),
    );
    const r = await check(s, { expect_body: { regex: '^first part, second part$' } });
    expect(r).toMatchObject({ status: 'HEALTHY', reason: 'ok' });
  });

  it('reads a body that runs until the connection closes', async () => {
    const s = await rawHttp('HTTP/1.0 200 OK\r\ncontent-type: text/plain\r\n\r\nold server, no length');
    const r = await check(s, { expect_body: { contains: 'no length' } });
    expect(r).toMatchObject({ status: 'HEALTHY', reason: 'ok' });
  });

  it('accepts 204 without a body and does not wait for one', async () => {
    const s = await rawHttp('HTTP/1.1 204 No Content\r\nx-note: nothing here\r\n\r\n', false);
    const r = await check(s, { expect_status: [204] }, 2000);
    expect(r).toMatchObject({ status: 'HEALTHY', metrics: { status_code: 204 } });
    expect(r.elapsedMs).toBeLessThan(SLACK_MS);
  });

  it('does not wait for the body of a HEAD response whose server keeps the connection open', async () => {
    const s = await rawHttp('HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\n', false);
    const r = await check(s, { method: 'HEAD' }, 2000);
    expect(r).toMatchObject({ status: 'HEALTHY', reason: 'ok' });
    expect(r.elapsedMs).toBeLessThan(SLACK_MS);
  });

  it('reports a body cut short by the peer as connect_reset', async () => {
    const s = await rawHttp('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nonly this');
    const baseline = openFds();
    const r = await check(s);
    expect(r).toMatchObject({ status: 'UNHEALTHY', reason: 'connect_reset', metrics: { status_code: 200 } });
    expect(await settleFds(baseline)).toBeLessThanOrEqual(baseline);
  });

  it('reports a close before any response as connect_reset', async () => {
    const s = await rawHttp('');
    expect(await check(s)).toMatchObject({ status: 'UNHEALTHY', reason: 'connect_reset' });
  });

  it('reports a bad chunk size, a bad content-length and a bare-LF head as protocol', async () => {
    const chunk = await rawHttp('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\nok\r\n0\r\n\r\n');
    expect(await check(chunk)).toMatchObject({ status: 'UNHEALTHY', reason: 'protocol' });
    const length = await rawHttp('HTTP/1.1 200 OK\r\ncontent-length: 2x\r\n\r\nok');
    expect(await check(length)).toMatchObject({ status: 'UNHEALTHY', reason: 'protocol' });
    const bareLf = await rawHttp('HTTP/1.1 200 OK\ncontent-length: 2\n\nok');
    expect(await check(bareLf)).toMatchObject({ status: 'UNHEALTHY', reason: 'protocol' });
  });

  it('reports a non-HTTP banner (SSH on the port) as protocol without waiting for the timeout', async () => {
    const s = await rawHttp('SSH-2.0-OpenSSH_9.6\r\n', false);
    const r = await check(s, {}, 2000);
    expect(r).toMatchObject({ status: 'UNHEALTHY', reason: 'protocol' });
    expect(r.elapsedMs).toBeLessThan(SLACK_MS);
  });

  it('refuses a header value with CR/LF as an invalid check, sending nothing', async () => {
    const s = await app();
    const r = await check(s, { headers: { 'X-Evil': 'a\r\nInjected: 1' } });
    expect(r).toMatchObject({ status: 'UNKNOWN', reason: 'error' });
    expect(s.requests).toHaveLength(0);
  });

  it('connects to an IPv6 literal and sends it bracketed in Host', async () => {
    const server = createServer((req, res) => res.end(`host=${req.headers.host}`));
    const listening = await new Promise<boolean>((r) => {
      server.once('error', () => r(false));
      server.listen(0, '::1', () => r(true));
    });
    if (!listening) return; // no IPv6 loopback on this machine
    cleanups.push(() => {
      server.closeAllConnections();
      return new Promise<void>((r) => server.close(() => r()));
    });
    const { port } = server.address() as AddressInfo;
    const r = await check({ address: `[::1]:${port}` }, { expect_body: { contains: `host=[::1]:${port}` } });
    expect(r).toMatchObject({ status: 'HEALTHY', reason: 'ok' });
  });

  it('closes the connection after each run and says so in the request', async () => {
    const s = await app();
    const baseline = openFds();
    const results = await runSeries(httpCheck, httpSpec(s.address, { reuse_connections: reuse }), 3);
    expect(results.map((r) => r.status)).toEqual(['HEALTHY', 'HEALTHY', 'HEALTHY']);
    expect(s.connections()).toBe(reuse ? 1 : 3);
    if (!reuse) expect(s.requests.map((q) => q.headers.connection)).toEqual(['close', 'close', 'close']);
    expect(await settleFds(baseline)).toBeLessThanOrEqual(baseline);
  });
});

describe('http check: lean HTTP/1.1 client only', () => {
  const lean = checker(false);

  it('skips 1xx informational responses before the final one (undici fails them)', async () => {
    const s = await rawHttp([
      'HTTP/1.1 100 Continue\r\n\r\n',
      'HTTP/1.1 103 Early Hints\r\nlink: </a.css>; rel=preload\r\n\r\n',
      'HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nfinal',
    ]);
    const r = await lean(s, { expect_body: { contains: 'final' } });
    expect(r).toMatchObject({ status: 'HEALTHY', metrics: { status_code: 200 } });
  });

  it('reports a response head over 16 KiB as protocol', async () => {
    // undici reports UND_ERR_HEADERS_OVERFLOW, which errors.ts does not map yet (reason `error`).
    const pad = `x-pad: ${'a'.repeat(1000)}\r\n`;
    const s = await rawHttp(`HTTP/1.1 200 OK\r\n${pad.repeat(17)}content-length: 2\r\n\r\nok`, false);
    const baseline = openFds();
    const r = await lean(s, {}, 2000);
    expect(r).toMatchObject({ status: 'UNHEALTHY', reason: 'protocol' });
    expect(r.output).toContain('16384');
    expect(r.elapsedMs).toBeLessThan(SLACK_MS);
    expect(await settleFds(baseline)).toBeLessThanOrEqual(baseline);
  });

  it('sends the request bytes it encoded once, and the same on every run', async () => {
    const seen: string[] = [];
    const s = track(
      await rawServer((socket) => {
        socket.once('data', (d: Buffer) => {
          seen.push(d.toString('latin1'));
          socket.end('HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n');
        });
      }),
    );
    const spec = httpSpec(s.address, { reuse_connections: false, path: '/h?x=1', headers: { 'X-Probe': 'yes' } });
    const results = await runSeries(httpCheck, spec, 2);
    expect(results.map((r) => r.status)).toEqual(['HEALTHY', 'HEALTHY']);
    expect(seen[0]).toBe(`GET /h?x=1 HTTP/1.1\r\nhost: ${s.address}\r\nX-Probe: yes\r\nuser-agent: healthmesh/0.1\r\nconnection: close\r\n\r\n`);
    expect(seen[1]).toBe(seen[0]);
  });

  it('keeps the body it judges apart from the shared read buffer of other probes', async () => {
    // Two targets answered at once: each check must judge its own body.
    const a = await rawHttp('HTTP/1.1 200 OK\r\ncontent-length: 6\r\n\r\nalpha!');
    const b = await rawHttp('HTTP/1.1 200 OK\r\ncontent-length: 6\r\n\r\nbravo!');
    const runs = [];
    for (let i = 0; i < 20; i++) {
      runs.push(lean(a, { expect_body: { regex: '^alpha!$' } }), lean(b, { expect_body: { regex: '^bravo!$' } }));
    }
    const results = await Promise.all(runs);
    expect(results.every((r) => r.status === 'HEALTHY')).toBe(true);
  });
});

describe('http check: TLS', () => {
  it('fails a self-signed certificate with tls when verifying, passes with tls_verify false', async () => {
    const s = track(await selfSignedHttpsServer((_req, res) => res.end('secure hello')));
    const baseline = openFds();
    const strict = await check(s, { scheme: 'https' }, 2000);
    expect(strict).toMatchObject({ status: 'UNHEALTHY', reason: 'tls' });
    expect(strict.output).toContain('self-signed');
    const lax = await check(s, { scheme: 'https', tls_verify: false, expect_body: { contains: 'secure' } }, 2000);
    expect(lax).toMatchObject({ status: 'HEALTHY', reason: 'ok' });
    expect(await settleFds(baseline)).toBeLessThanOrEqual(baseline);
  });

  it('sends tls_server_name as SNI', async () => {
    const s = track(await selfSignedHttpsServer((_req, res) => res.end('ok')));
    const r = await check(s, { scheme: 'https', tls_verify: false, tls_server_name: 'localhost' }, 2000);
    expect(r.status).toBe('HEALTHY');
    expect(s.requests[0]?.servername).toBe('localhost');
  });
});

describe.each(CLIENTS)('http check: abort contract, $name', ({ reuse }) => {
  // On a FakeClock that stands still every run is done "before the arm delay", however slow the machine is.
  it('does not read ctx.signal when the probe is done before the arm delay', async () => {
    const s = await app();
    const clock = new FakeClock(0);
    const runner = httpCheck(httpSpec(s.address, { reuse_connections: reuse }, 2000), checkDeps(clock));
    let reads = 0;
    const signal = new AbortController().signal;
    const ctx = {
      clock,
      get signal() {
        reads++;
        return signal;
      },
    };
    try {
      // The first run connects and warms up; later ones are quick (and reuse the connection when on).
      await runner.run(ctx);
      reads = 0;
      for (let i = 0; i < 5; i++) expect((await runner.run(ctx)).status).toBe('HEALTHY');
    } finally {
      await runner.close?.();
    }
    expect(reads).toBe(0);
  });

  // On a FakeClock: the arm delay is the probe's own timer, so wall-clock load cannot stretch it.
  it('sees a signal aborted before the run within the arm delay', async () => {
    const s = track(await silentServer());
    const baseline = openFds();
    const clock = new FakeClock(0);
    const runner = httpCheck(httpSpec(s.address, { reuse_connections: reuse }, 2000), checkDeps(clock));
    const ac = new AbortController();
    ac.abort();
    const run = runner.run({ signal: ac.signal, clock });
    // The silent server never answers and the 2 s timeout never comes on this clock: only the armed signal ends the run.
    clock.advance(20); // armDelayMs: at most 20 ms
    const r = await within(run, 2000, 'the run to see the aborted signal');
    await runner.close?.();
    expect(r.reason).toBe('timeout');
    expect(await settleFds(baseline)).toBeLessThanOrEqual(baseline);
  });
});

describe('jsonpath', () => {
  it('reads keys, indexes, quoted keys and negative indexes', () => {
    const doc = { a: { b: [{ c: 1 }, { c: 2 }] }, 'odd key': 'x' };
    expect(getJsonPath(doc, compileJsonPath('$.a.b[0].c'))).toBe(1);
    expect(getJsonPath(doc, compileJsonPath('$.a.b[-1].c'))).toBe(2);
    expect(getJsonPath(doc, compileJsonPath("$['odd key']"))).toBe('x');
    expect(getJsonPath(doc, compileJsonPath('a.b[1].c'))).toBe(2);
    expect(getJsonPath(doc, compileJsonPath('$'))).toBe(doc);
    expect(getJsonPath(doc, compileJsonPath('$.a.b[5]'))).toBe(MISSING);
    expect(getJsonPath(doc, compileJsonPath('$.a.x.y'))).toBe(MISSING);
    expect(getJsonPath(doc, compileJsonPath('$.a.toString'))).toBe(MISSING);
  });

  it('rejects bad syntax', () => {
    expect(() => compileJsonPath('$.a[x]')).toThrow(/invalid JSON path/);
    expect(() => compileJsonPath('$.a.')).toThrow(/invalid JSON path/);
    expect(() => compileJsonPath('$.a[0')).toThrow(/invalid JSON path/);
  });
});

describe('error reasons', () => {
  it('maps Node and undici codes', () => {
    const e = (code: string) => Object.assign(new Error(code), { code });
    expect(reasonFromError(e('ECONNREFUSED'))).toBe('connect_refused');
    expect(reasonFromError(e('EPIPE'))).toBe('connect_reset');
    expect(reasonFromError(e('UND_ERR_SOCKET'))).toBe('connect_reset');
    expect(reasonFromError(e('EAI_AGAIN'))).toBe('dns');
    expect(reasonFromError(e('ENETUNREACH'))).toBe('unreachable');
    expect(reasonFromError(e('CERT_HAS_EXPIRED'))).toBe('tls');
    expect(reasonFromError(e('ERR_SSL_WRONG_VERSION_NUMBER'))).toBe('tls');
    expect(reasonFromError(e('HPE_INVALID_CONSTANT'))).toBe('protocol');
    expect(reasonFromError(e('UND_ERR_HEADERS_TIMEOUT'))).toBe('timeout');
    expect(reasonFromError(new DOMException('x', 'AbortError'))).toBe('timeout');
    expect(reasonFromError(new TypeError('fetch failed', { cause: e('ENOTFOUND') }))).toBe('dns');
    expect(reasonFromError(new AggregateError([e('ECONNREFUSED')]))).toBe('connect_refused');
    expect(reasonFromError(e('SOMETHING_NEW'))).toBe('error');
  });
});
