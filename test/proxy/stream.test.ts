import { request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { openFds, settleFds } from '../helpers/fds.js';
import { FakeClock } from '../../src/core/clock.js';
import { settle } from '../helpers/api.js';
import { waitFor, within } from '../helpers/wait.js';
import { useCleanups } from '../helpers/cleanups.js';
import { ENGINES, fetchVia, proxyConfig, proxyFor, refusedAddress, RoundRobin, startUpstream, upstreamsOf, useEngine } from './helpers.js';

const { track } = useCleanups();

const MB = 1024 * 1024;
const TOTAL = 200 * MB;
const CHUNK = Buffer.alloc(64 * 1024, 7);

/** Highest RSS seen while `run` goes, sampled every 20 ms, minus RSS before it, MB. */
async function rssGrowthMb(run: () => Promise<void>): Promise<number> {
  const before = process.memoryUsage.rss();
  let peak = before;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 20);
  try {
    await run();
  } finally {
    clearInterval(timer);
  }
  peak = Math.max(peak, process.memoryUsage.rss());
  return (peak - before) / MB;
}

/**
 * Read `stream` slower than loopback can carry it (a 5 ms pause every MB, at
 * most ~200 MB/s), so that a proxy ignoring backpressure would pile up the
 * difference in memory; returns the byte count so far.
 */
function slowReader(stream: NodeJS.ReadableStream, onBytes: (n: number) => void): void {
  let sinceBreak = 0;
  stream.on('data', (c: Buffer) => {
    onBytes(c.length);
    sinceBreak += c.length;
    if (sinceBreak >= MB) {
      sinceBreak = 0;
      stream.pause();
      setTimeout(() => stream.resume(), 5);
    }
  });
}

/** GET through the proxy from an upstream that sends `bytes`; resolves with the bytes received. */
function download(port: number, bytes: number): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: `/${bytes}`, headers: { host: 'x' }, agent: false }, (res) => {
      let got = 0;
      slowReader(res, (n) => (got += n));
      res.on('end', () => resolve(got));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** Chunked POST of `bytes` through the proxy; resolves with the upstream's count of bytes received. */
function upload(port: number, bytes: number): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/', headers: { host: 'x', 'transfer-encoding': 'chunked' }, agent: false }, (res) => {
      let answer = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (answer += c));
      res.on('end', () => resolve(answer));
    });
    req.on('error', reject);
    let sent = 0;
    const more = (): void => {
      while (sent < bytes) {
        sent += CHUNK.length;
        if (!req.write(CHUNK)) return;
      }
      req.end();
    };
    req.on('drain', more);
    more();
  });
}

// Each test first moves 32 MB: the heap and the allocator's arenas grow once to their working size
// (about 80 MB in this process), which is not buffering; the 200 MB that follow must not add more than 50 MB.
describe.each(ENGINES)('%s engine', (eng) => {
  useEngine(eng);

  describe('proxy streaming', () => {
    it('streams a 200 MB download in bounded memory', async () => {
      const up = track(
        await startUpstream((req, res) => {
          const total = Number(req.url?.slice(1));
          res.writeHead(200, { 'content-length': String(total) });
          let sent = 0;
          const pump = (): void => {
            while (sent < total) {
              sent += CHUNK.length;
              if (!res.write(CHUNK)) return;
            }
            res.end();
          };
          res.on('drain', pump);
          pump();
        }),
      );
      const proxy = track(
        await proxyFor(proxyConfig({ routes: [{ path_prefix: '/', service: 's' }] }), upstreamsOf({ s: new RoundRobin([{ id: 'u', address: up.address }]) })),
      );
      expect(await download(proxy.address.port, 32 * MB)).toBe(32 * MB);
      let got = 0;
      const growth = await rssGrowthMb(async () => {
        got = await download(proxy.address.port, TOTAL);
      });
      expect(got).toBe(TOTAL);
      expect(growth).toBeLessThan(50);
    }, 60_000);

    it('streams a 200 MB chunked upload in bounded memory', async () => {
      const up = track(
        await startUpstream((req, res) => {
          let received = 0;
          slowReader(req, (n) => (received += n));
          req.on('end', () => res.end(String(received)));
        }),
      );
      const proxy = track(
        await proxyFor(proxyConfig({ routes: [{ path_prefix: '/', service: 's' }] }), upstreamsOf({ s: new RoundRobin([{ id: 'u', address: up.address }]) })),
      );
      expect(await upload(proxy.address.port, 32 * MB)).toBe(String(32 * MB));
      let answer = '';
      const growth = await rssGrowthMb(async () => {
        answer = await upload(proxy.address.port, TOTAL);
      });
      expect(answer).toBe(String(TOTAL));
      expect(growth).toBeLessThan(50);
    }, 60_000);
  });

  describe('proxy resources', () => {
    it('leaves no sockets or handles open after close, whatever the traffic', async () => {
      const before = openFds();
      const good = await startUpstream((_req, res) => res.end('ok'));
      const sick = await startUpstream((_req, res) => {
        res.writeHead(503);
        res.end('x'.repeat(200_000)); // over the discard limit: that connection is dropped
      });
      const hang = await startUpstream(() => {});
      const balancer = new RoundRobin([
        { id: 'good', address: good.address },
        { id: 'sick', address: sick.address },
        { id: 'bad', address: await refusedAddress() },
      ]);
      const hangs = new RoundRobin([{ id: 'hang', address: hang.address }]);
      // The 200 ms timeout runs on a FakeClock: on a loaded machine a real 200 ms also cut good requests.
      const clock = new FakeClock(0);
      const proxy = await proxyFor(
        proxyConfig({
          routes: [
            { path_prefix: '/hang', service: 'h' },
            { path_prefix: '/', service: 's' },
          ],
          timeout: 200,
          retries: { min_per_second: 1000 },
        }),
        upstreamsOf({ s: balancer, h: hangs }),
        clock,
      );
      const served = Promise.all([
        ...Array.from({ length: 40 }, () => fetchVia(proxy, '/')),
        ...Array.from({ length: 5 }, () => fetchVia(proxy, '/', { method: 'POST', body: 'b' })),
      ]);
      const hung = Promise.all(Array.from({ length: 5 }, () => fetchVia(proxy, '/hang')));
      const results = await within(served, 10_000, 'the requests to the good and sick upstreams');
      expect(results.slice(0, 40).every((r) => r.status === 200)).toBe(true);
      await waitFor(() => hang.requests.length >= 5, { timeoutMs: 5000, what: 'the 5 requests to reach the hanging upstream' });
      clock.advance(199);
      await settle();
      expect(hang.requests.every((r) => !r.destroyed)).toBe(true); // not cut before the timeout
      // Retries of a timeout (if any) meet the same silence: keep time going until all 5 are answered.
      const ticking = setInterval(() => clock.advance(100), 10);
      clock.advance(1);
      const timedOut = await within(hung, 5000, 'the 504s').finally(() => clearInterval(ticking));
      expect(timedOut.map((r) => r.status)).toEqual([504, 504, 504, 504, 504]);
      // One more left in flight at close: close() must end it too.
      const reached = hang.requests.length;
      const inFlight = fetchVia(proxy, '/hang');
      await waitFor(() => hang.requests.length > reached, { timeoutMs: 5000, what: 'the last request to reach the hanging upstream' });
      const closing = proxy.close();
      clock.advance(0); // drain_timeout 0: the drain's grace is a timer on the clock
      await closing;
      expect((await inFlight).error).toBeDefined();
      await Promise.all([good.close(), sick.close(), hang.close()]);
      expect(await settleFds(before)).toBeLessThanOrEqual(before);
      expect(balancer.unbalanced()).toEqual([]);
      expect(hangs.unbalanced()).toEqual([]);
    }, 30_000);
  });
});
