import type { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { FakeClock, realClock, type Clock } from '../../src/core/clock.js';
import { startProxy } from '../../src/proxy/proxy.js';
import { useCleanups } from '../helpers/cleanups.js';
import { openFds, settleFds } from '../helpers/fds.js';
import { holdsWithin } from '../helpers/wait.js';
import { promtoolCheckMetrics } from '../helpers/prometheus.js';
import { UPGRADE, upgradeUpstream as upstreamFor, type SeenUpgrade } from './upgrade-helpers.js';
import {
  engine,
  ENGINES,
  proxyConfig,
  proxyFor,
  rawClient,
  refusedAddress,
  RoundRobin,
  silentLogger,
  upstreamsOf,
  useEngine,
  waitFor,
  type RawClient,
} from './helpers.js';

const { track, cleanups } = useCleanups();
const upgradeUpstream = (answer: (seen: SeenUpgrade) => void) => upstreamFor(track, answer);

/** Answers 101 and echoes every byte upper-cased (the early ones included). */
function echo101({ socket, early }: SeenUpgrade): void {
  socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n');
  if (early !== '') socket.write(early.toUpperCase());
  socket.on('data', (d: Buffer) => socket.write(d.toString('latin1').toUpperCase()));
  socket.on('end', () => socket.end()); // node:http sockets allow half-open: answer the client's FIN with ours
}

/** `fn` once the proxy has closed its side of `socket` (FIN or reset: node:http upgraded sockets allow half-open). */
function onGone(socket: Socket, fn: () => void): void {
  socket.once('end', fn);
  socket.once('close', fn);
}

const raw = (port: number): RawClient => rawClient(port, cleanups);

describe.each(ENGINES)('%s engine: upgraded connections', (eng) => {
  useEngine(eng);

  async function proxyTo(address: string, clock?: Clock, extra: Record<string, unknown> = {}) {
    const balancer = new RoundRobin([{ id: 'u', address }]);
    const config = proxyConfig({ routes: [{ path_prefix: '/ws', service: 's', strip_prefix: true }], ...extra });
    const proxy = track(await proxyFor(config, upstreamsOf({ s: balancer }), clock));
    return { proxy, balancer };
  }

  it('tunnels bytes both ways after a 101, early bytes included; the upstream sees the upgrade and forwarding headers', async () => {
    const { up, seen } = await upgradeUpstream(echo101);
    const { proxy, balancer } = await proxyTo(up.address);
    const c = raw(proxy.address.port);
    c.sock.write(UPGRADE('/ws/chat', 'early'));
    await waitFor(() => c.data().includes('EARLY'), 'the 101 and the echoed early bytes');
    expect(c.data()).toMatch(/^HTTP\/1.1 101 Switching Protocols\r\n/);
    c.sock.write('hello');
    await waitFor(() => c.data().endsWith('HELLO'), 'the echo through the tunnel');
    const req = seen[0]!.req;
    expect(req.url).toBe('/chat');
    expect(req.headers.upgrade).toBe('echo');
    expect(req.headers.connection?.toLowerCase()).toBe('upgrade');
    expect(req.headers['sec-websocket-key']).toBe('k1');
    expect(req.headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(balancer.calls.filter((x) => x.op === 'report')).toEqual([{ op: 'report', id: 'u', outcome: expect.objectContaining({ ok: true, status: 101 }) }]);
    expect(balancer.unbalanced()).toEqual([]);
    // The client's FIN reaches the upstream, and the upstream's comes back.
    let upstreamClosed = false;
    onGone(seen[0]!.socket, () => (upstreamClosed = true));
    c.sock.end();
    await waitFor(() => upstreamClosed && c.closed(), 'both sides to close', 2000);
  });

  it('closes the client side when the upstream ends the tunnel', async () => {
    const { up, seen } = await upgradeUpstream(echo101);
    const { proxy } = await proxyTo(up.address);
    const c = raw(proxy.address.port);
    c.sock.write(UPGRADE('/ws'));
    await waitFor(() => c.data().includes('101'), 'the 101');
    seen[0]!.socket.end();
    await waitFor(() => c.closed(), 'the client side to close');
  });

  it('relays an answer other than 101 with its body and closes the connection', async () => {
    const { up } = await upgradeUpstream(({ socket }) => socket.write('HTTP/1.1 403 Forbidden\r\nContent-Length: 4\r\nX-Why: token\r\n\r\nnope'));
    const { proxy, balancer } = await proxyTo(up.address);
    const c = raw(proxy.address.port);
    c.sock.write(UPGRADE('/ws'));
    await waitFor(() => c.closed(), 'the connection to close after the answer');
    expect(c.data()).toMatch(/^HTTP\/1.1 403 Forbidden\r\n/);
    expect(c.data().toLowerCase()).toContain('x-why: token');
    expect(c.data().toLowerCase()).toContain('connection: close');
    expect(c.data().endsWith('\r\n\r\nnope')).toBe(true);
    expect(balancer.calls.filter((x) => x.op === 'report')).toEqual([{ op: 'report', id: 'u', outcome: expect.objectContaining({ ok: true, status: 403 }) }]);
  });

  it('answers 502 when the instance refuses the connection, and reports a failure', async () => {
    const { proxy, balancer } = await proxyTo(await refusedAddress());
    const c = raw(proxy.address.port);
    c.sock.write(UPGRADE('/ws'));
    await waitFor(() => c.closed(), 'the answer');
    expect(c.data()).toMatch(/^HTTP\/1.1 502 /);
    expect(c.data()).toContain('"error":"upstream_connect_failure"');
    expect(balancer.calls.filter((x) => x.op === 'report')).toEqual([{ op: 'report', id: 'u', outcome: expect.objectContaining({ ok: false }) }]);
  });

  it('answers 504 when no head comes within the attempt timeout (fake clock), closing the upstream side', async () => {
    const clock = new FakeClock(0);
    const { up, seen } = await upgradeUpstream(() => {});
    const { proxy, balancer } = await proxyTo(up.address, clock, { timeout: '2s' });
    const c = raw(proxy.address.port);
    c.sock.write(UPGRADE('/ws'));
    await waitFor(() => seen.length === 1, 'the upstream to get the request', 2000);
    let upstreamClosed = false;
    onGone(seen[0]!.socket, () => (upstreamClosed = true));
    clock.advance(1_999);
    await new Promise((r) => setTimeout(r, 20));
    expect(c.data()).toBe('');
    clock.advance(1);
    await waitFor(() => c.closed() && upstreamClosed, 'the 504 and both sides closed');
    expect(c.data()).toMatch(/^HTTP\/1.1 504 [\s\S]*"error":"upstream_timeout"/);
    expect(balancer.calls.filter((x) => x.op === 'report')).toEqual([{ op: 'report', id: 'u', outcome: expect.objectContaining({ ok: false }) }]);
  });

  it('releases the instance when the client goes before the upstream answered', async () => {
    const { up, seen } = await upgradeUpstream(() => {});
    const { proxy, balancer } = await proxyTo(up.address);
    const c = raw(proxy.address.port);
    c.sock.write(UPGRADE('/ws'));
    await waitFor(() => seen.length === 1, 'the upstream to get the request', 2000);
    let upstreamClosed = false;
    onGone(seen[0]!.socket, () => (upstreamClosed = true));
    c.sock.destroy();
    await waitFor(() => upstreamClosed, 'the upstream side to close', 2000);
    expect(balancer.calls.map((x) => x.op)).toEqual(['pick', 'release']);
  });

  it('answers 404 for an upgrade no route matches', async () => {
    const { up } = await upgradeUpstream(echo101);
    const { proxy, balancer } = await proxyTo(up.address);
    const c = raw(proxy.address.port);
    c.sock.write(UPGRADE('/elsewhere'));
    await waitFor(() => c.closed(), 'the answer');
    expect(c.data()).toMatch(/^HTTP\/1.1 404 [\s\S]*"error":"no_route"/);
    expect(balancer.calls).toEqual([]);
  });

  it('closes a tunnel silent both ways for tunnel_idle_timeout (fake clock); traffic either way keeps it open', async () => {
    const clock = new FakeClock(0);
    const { up, seen } = await upgradeUpstream(echo101);
    const { proxy } = await proxyTo(up.address, clock, { tunnel_idle_timeout: '10s' });
    const c = raw(proxy.address.port);
    c.sock.write(UPGRADE('/ws'));
    await waitFor(() => c.data().includes('101'), 'the 101');
    let upstreamClosed = false;
    onGone(seen[0]!.socket, () => (upstreamClosed = true));
    clock.advance(9_000);
    c.sock.write('ping');
    await waitFor(() => c.data().endsWith('PING'), 'the echo');
    clock.advance(9_000); // 9 s since the last byte
    await new Promise((r) => setTimeout(r, 20));
    expect(c.closed()).toBe(false);
    clock.advance(1_000);
    await waitFor(() => c.closed() && upstreamClosed, 'both sides closed after 10 s of silence');
  });

  it('answers 502 to an upstream head over 64 KB without its end, and to a reset right after the 101 closes the client', async () => {
    const { up } = await upgradeUpstream(({ socket }) => socket.write(`HTTP/1.1 101 Switching Protocols\r\nX-Big: ${'a'.repeat(70 * 1024)}`));
    const { proxy, balancer } = await proxyTo(up.address);
    const c = raw(proxy.address.port);
    c.sock.write(UPGRADE('/ws'));
    await waitFor(() => c.closed(), 'the answer');
    expect(c.data()).toMatch(/^HTTP\/1.1 502 [\s\S]*"error":"upstream_protocol_error"/);
    expect(balancer.calls.filter((x) => x.op === 'report')).toEqual([{ op: 'report', id: 'u', outcome: expect.objectContaining({ ok: false }) }]);

    const { up: resets } = await upgradeUpstream(({ socket }) => {
      socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n');
      setTimeout(() => socket.resetAndDestroy(), 10);
    });
    const second = await proxyTo(resets.address);
    const d = raw(second.proxy.address.port);
    d.sock.write(UPGRADE('/ws'));
    await waitFor(() => d.closed(), 'the client side to close after the reset');
    expect(d.data()).toMatch(/^HTTP\/1.1 101 /);
  });

  it('leaves no socket open after 50 tunnels opened, used and closed from either side', async () => {
    const { up, seen } = await upgradeUpstream(echo101);
    const { proxy } = await proxyTo(up.address);
    const before = openFds();
    for (let i = 0; i < 50; i++) {
      const c = raw(proxy.address.port);
      c.sock.write(UPGRADE('/ws', 'x'));
      await waitFor(() => c.data().endsWith('X'), 'the echo');
      if (i % 2 === 0) c.sock.destroy();
      else seen[i]!.socket.destroy();
      await waitFor(() => c.closed(), 'the tunnel to close');
    }
    expect(await settleFds(before)).toBeLessThanOrEqual(before);
  });

  it('counts open tunnels per service in healthmesh_proxy_tunnels_open (valid exposition)', async () => {
    const { up, seen } = await upgradeUpstream(echo101);
    const balancer = new RoundRobin([{ id: 'u', address: up.address }]);
    const registry = new Registry();
    const config = proxyConfig({ routes: [{ path_prefix: '/ws', service: 's' }] });
    const proxy = track(
      await startProxy({ engine: engine(), config, upstreams: upstreamsOf({ s: balancer }), clock: realClock, logger: silentLogger, registry }),
    );
    const gauge = async (): Promise<string | undefined> => (await registry.metrics()).split('\n').find((l) => l.startsWith('healthmesh_proxy_tunnels_open{'));
    const a = raw(proxy.address.port);
    const b = raw(proxy.address.port);
    a.sock.write(UPGRADE('/ws'));
    b.sock.write(UPGRADE('/ws'));
    await waitFor(() => a.data().includes('101') && b.data().includes('101'), 'two tunnels');
    expect(await gauge()).toBe('healthmesh_proxy_tunnels_open{service="s"} 2');
    const check = promtoolCheckMetrics(await registry.metrics());
    expect(check.code, check.output).toBe(0);
    seen[0]!.socket.destroy();
    b.sock.destroy();
    await waitFor(() => a.closed() && b.closed(), 'both tunnels closed');
    // The proxy sees each tunnel's other side close a moment later: wait for the gauge, then assert it.
    await holdsWithin(async () => (await gauge()) === 'healthmesh_proxy_tunnels_open{service="s"} 0', 2000);
    expect(await gauge()).toBe('healthmesh_proxy_tunnels_open{service="s"} 0');
  });

  it('closing the proxy closes open tunnels on both sides', async () => {
    const { up, seen } = await upgradeUpstream(echo101);
    const { proxy } = await proxyTo(up.address);
    const c = raw(proxy.address.port);
    c.sock.write(UPGRADE('/ws'));
    await waitFor(() => c.data().includes('101'), 'the 101');
    let upstreamClosed = false;
    onGone(seen[0]!.socket, () => (upstreamClosed = true));
    await proxy.close();
    await waitFor(() => c.closed() && upstreamClosed, 'both sides closed');
  });
});
