/**
 * Stopping the proxy drains it (both engines): idle client connections close
 * at once, requests in flight finish with Connection: close, new connections
 * are refused, and what is still running at drain_timeout (fake clock) is
 * broken off with the instance released.
 */
import { connect } from 'node:net';
import type { ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/core/clock.js';
import { useCleanups } from '../helpers/cleanups.js';
import { ENGINES, proxyConfig, proxyFor, rawClient, RoundRobin, startUpstream, upstreamsOf, useEngine, waitFor, type RawClient } from './helpers.js';

const { track, cleanups } = useCleanups();

/** An upstream that holds every response until the test releases it. */
async function heldUpstream() {
  const held: ServerResponse[] = [];
  const up = track(
    await startUpstream((_req, res) => {
      held.push(res);
    }),
  );
  const answer = (): void => {
    for (const res of held.splice(0)) {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '4' });
      res.end('done');
    }
  };
  return { up, held, answer };
}

const raw = (port: number): RawClient => rawClient(port, cleanups);

/** Polls `check` until it holds (bounded: 100 tries, 20 ms apart). */
async function eventually(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', () => resolve(true));
  });
}

describe.each(ENGINES)('%s engine: drain on close', (eng) => {
  useEngine(eng);

  async function setup(clock = new FakeClock(0)) {
    const { up, held, answer } = await heldUpstream();
    const balancer = new RoundRobin([{ id: 'u', address: up.address }]);
    const proxy = await proxyFor(proxyConfig({ routes: [{ path_prefix: '/', service: 's' }], drain_timeout: '5s' }), upstreamsOf({ s: balancer }), clock);
    return { proxy, balancer, held, answer, clock };
  }

  it('lets a request in flight finish with Connection: close, refuses new connections meanwhile, and closes once it is done', async () => {
    const { proxy, held, answer } = await setup();
    const c = raw(proxy.address.port);
    c.sock.write('GET /slow HTTP/1.1\r\nHost: x\r\n\r\n');
    await waitFor(() => held.length === 1, 'the upstream to hold the request');
    let closedAt = 0;
    const closing = proxy.close().then(() => (closedAt = Date.now()));
    await eventually(() => refused(proxy.address.port), 'new connections to be refused');
    expect(closedAt).toBe(0);
    expect(c.closed()).toBe(false);
    const answeredAt = Date.now();
    answer();
    await closing;
    await waitFor(() => c.closed(), 'the client connection to close');
    expect(closedAt).toBeGreaterThanOrEqual(answeredAt);
    expect(c.data()).toMatch(/^HTTP\/1.1 200 [\s\S]*\r\n\r\ndone$/);
    expect(c.data().toLowerCase()).toContain('connection: close');
  });

  it('closes an idle keep-alive connection at once', async () => {
    const { proxy, held, answer } = await setup();
    const c = raw(proxy.address.port);
    c.sock.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await waitFor(() => held.length === 1, 'the upstream to hold the request');
    answer();
    await waitFor(() => c.data().endsWith('done'), 'the response');
    expect(c.data().toLowerCase()).not.toContain('connection: close'); // answered before the drain: keep-alive
    await proxy.close();
    await waitFor(() => c.closed(), 'the idle connection to close');
  });

  it('breaks off what still runs at drain_timeout and releases the instance', async () => {
    const { proxy, balancer, held, clock } = await setup();
    const c = raw(proxy.address.port);
    c.sock.write('GET /hangs HTTP/1.1\r\nHost: x\r\n\r\n');
    await waitFor(() => held.length === 1, 'the upstream to hold the request');
    let done = false;
    const closing = proxy.close().then(() => (done = true));
    await eventually(() => refused(proxy.address.port), 'new connections to be refused');
    clock.advance(4_999);
    await new Promise((r) => setTimeout(r, 30));
    expect(done).toBe(false);
    clock.advance(1);
    await closing;
    await waitFor(() => c.closed(), 'the client connection to be broken off');
    expect(c.data()).toBe('');
    expect(balancer.unbalanced()).toEqual([]);
  });
});
