/**
 * The drain never cuts what a client is still owed: a response completed in
 * the same turn as close() (still in the write batch), and a response still
 * being written to a slow client (lean engine; node engine, whose own
 * closeIdleConnections() would destroy it). The prototype spies only find
 * the proxy's socket, to check bytes really were still buffered.
 */
import { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FakeClock } from '../../src/core/clock.js';
import { LeanConnection } from '../../src/proxy/lean-server.js';
import type { AttemptOutcome } from '../../src/balancer/types.js';
import { useCleanups } from '../helpers/cleanups.js';
import { rawServer } from '../helpers/hostile.js';
import { proxyConfig, proxyFor, rawClient, RoundRobin, startUpstream, upstreamsOf, useEngine, waitFor } from './helpers.js';

const { track, cleanups } = useCleanups();

afterEach(() => {
  vi.restoreAllMocks();
});

/** A raw upstream answering every request head with one write of `response`. */
async function rawUpstream(response: string): Promise<string> {
  const up = await rawServer((s) => {
    let buf = '';
    s.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      while (buf.includes('\r\n\r\n')) {
        buf = buf.slice(buf.indexOf('\r\n\r\n') + 4);
        s.write(response);
      }
    });
  });
  return track(up).address;
}

/**
 * A proxy (drain_timeout 30 s, fake `clock`) in front of `upstream`, and a
 * raw client that reads nothing (paused) and has sent GET /big. `onPort` gets
 * the client's local port before the request leaves (the prototype spies find
 * the proxy's socket by it).
 */
async function slowClientRequest(upstream: string, clock: FakeClock, onPort: (port: number) => void) {
  const balancer = new RoundRobin([{ id: 'u', address: upstream }]);
  const proxy = await proxyFor(proxyConfig({ routes: [{ path_prefix: '/', service: 's' }], drain_timeout: '30s' }), upstreamsOf({ s: balancer }), clock);
  cleanups.push(async () => void (await Promise.race([proxy.close(), new Promise((r) => setTimeout(r, 500))])));
  const c = rawClient(proxy.address.port, cleanups);
  await new Promise((r) => c.sock.once('connect', r));
  onPort(c.sock.localPort!);
  c.sock.pause(); // a slow client: reads nothing for now
  c.sock.write('GET /big HTTP/1.1\r\nHost: x\r\n\r\n');
  return { proxy, c };
}

/**
 * An upstream streaming a chunked body in 4 KB pieces until the proxy's socket to the (paused) client holds bytes the
 * kernel did not take (`proxySide()`), then a last piece "TAIL": the response ends while the client is still owed bytes.
 */
async function upstreamUntilBuffered(proxySide: () => Socket | undefined) {
  let ended = false;
  const up = track(
    await startUpstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      let n = 0;
      const piece = Buffer.alloc(4096, 'a');
      const step = (): void => {
        if ((proxySide()?.writableLength ?? 0) > 0 || n++ > 10_000) {
          res.end('TAIL');
          ended = true;
          return;
        }
        res.write(piece);
        setTimeout(step, 1);
      };
      step();
    }),
  );
  return { up, ended: () => ended };
}

describe('lean engine: drain and the write batch', () => {
  useEngine('lean');

  it('a response completed just before close() (still in the write batch) reaches the client: its connection is not idle yet', async () => {
    const address = await rawUpstream('HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\ndone');
    let proxy: Awaited<ReturnType<typeof proxyFor>> | undefined;
    let closing: Promise<void> | undefined;
    // close() runs in the same event-loop turn as the upstream read that completed the response
    // (as a SIGTERM handler does when its signal is read in the same poll as busy sockets).
    class CloseOnReport extends RoundRobin {
      override report(id: string, outcome: AttemptOutcome): void {
        super.report(id, outcome);
        queueMicrotask(() => (closing = proxy!.close()));
      }
    }
    const balancer = new CloseOnReport([{ id: 'u', address }]);
    proxy = await proxyFor(proxyConfig({ routes: [{ path_prefix: '/', service: 's' }], drain_timeout: '5s' }), upstreamsOf({ s: balancer }), new FakeClock(0));
    const c = rawClient(proxy.address.port, cleanups);
    c.sock.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await waitFor(() => c.closed(), 'the client connection to close', 2000);
    await closing;
    expect(c.data()).toMatch(/^HTTP\/1.1 200 OK\r\n[\s\S]*\r\n\r\ndone$/);
  });
});

describe('lean engine: drain of a slow client', () => {
  useEngine('lean');

  it('an idle keep-alive connection whose last response is still being written to a slow client is not destroyed by the drain', async () => {
    let proxySocket: Socket | undefined;
    let proxyConnection: LeanConnection | undefined;
    let clientPort = -1;
    const writeHead = LeanConnection.prototype.writeHead;
    vi.spyOn(LeanConnection.prototype, 'writeHead').mockImplementation(function (this: LeanConnection, ...args: Parameters<LeanConnection['writeHead']>) {
      if (this.socket.remotePort === clientPort) {
        proxySocket = this.socket;
        proxyConnection = this;
      }
      writeHead.apply(this, args);
    });
    const { up, ended: upstreamEnded } = await upstreamUntilBuffered(() => proxySocket);
    const { proxy, c } = await slowClientRequest(up.address, new FakeClock(0), (port) => (clientPort = port));
    await waitFor(upstreamEnded, 'the upstream to end', 15_000);
    // The proxy has ended the response: the connection is idle, its socket still holds bytes.
    await waitFor(() => proxyConnection!.finished(), 'the proxy to end the response', 5000);
    const bufferedAtEnd = proxySocket!.writableLength;
    const closing = proxy.close();
    await new Promise((r) => setTimeout(r, 20));
    c.sock.resume();
    await waitFor(() => c.closed(), 'the client connection to close', 10_000);
    await Promise.race([closing, new Promise((r) => setTimeout(r, 1000))]);
    expect({ bufferedAtEnd: bufferedAtEnd > 0, complete: c.data().endsWith('4\r\nTAIL\r\n0\r\n\r\n') }).toEqual({ bufferedAtEnd: true, complete: true });
  }, 30_000);
});

describe('node engine: drain of a slow client', () => {
  useEngine('node');

  it('a response that ended during the drain but is still being written to a slow client is not cut by the idle sweep', async () => {
    let proxyRes: ServerResponse | undefined;
    let clientPort = -1;
    const writeHead = ServerResponse.prototype.writeHead;
    vi.spyOn(ServerResponse.prototype, 'writeHead').mockImplementation(function (this: ServerResponse, ...args: unknown[]) {
      if (this.socket?.remotePort === clientPort) proxyRes = this;
      return (writeHead as (...a: unknown[]) => ServerResponse).apply(this, args);
    });
    const { up, ended: upstreamEnded } = await upstreamUntilBuffered(() => proxyRes?.socket ?? undefined);
    const clock = new FakeClock(0);
    const { proxy, c } = await slowClientRequest(up.address, clock, (port) => (clientPort = port));
    await waitFor(() => proxyRes !== undefined, 'the response to start', 2000);
    const closing = proxy.close(); // drain: 30 s (fake clock, not reached) for this response to finish
    await waitFor(upstreamEnded, 'the upstream to end', 15_000);
    await waitFor(() => proxyRes!.writableEnded, 'the proxy to end the response', 5000);
    const bufferedAtEnd = proxyRes!.socket?.writableLength ?? 0;
    clock.advance(100); // two idle sweeps (50 ms each)
    await new Promise((r) => setTimeout(r, 20));
    c.sock.resume(); // the client reads again
    const sweeps = setInterval(() => clock.advance(50), 20); // time goes on (the drain's idle sweeps), far from drain_timeout
    cleanups.push(() => clearInterval(sweeps));
    await waitFor(() => c.closed(), 'the client connection to close', 10_000);
    clearInterval(sweeps);
    expect(await Promise.race([closing.then(() => 'closed'), new Promise((r) => setTimeout(() => r('hung'), 1000))])).toBe('closed');
    expect({ bufferedAtEnd: bufferedAtEnd > 0, complete: c.data().endsWith('TAIL\r\n0\r\n\r\n') }).toEqual({ bufferedAtEnd: true, complete: true });
  }, 30_000);
});
