import express from 'express';
import Fastify from 'fastify';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../src/core/clock.js';
import { createHealthmesh, healthHandler, healthRoutes, type Healthmesh } from '../src/index.js';
import { tracked } from './helpers/api.js';
import { advanceUntil, waitFor, within } from './helpers/wait.js';

const open: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of open.splice(0)) await close();
});

/**
 * An embedded healthmesh on a FakeClock: its checks are functions, so every wait is on the clock and the
 * tests advance it (two 50 ms intervals at most for a change to show) instead of sleeping.
 */
function embedded(): { hm: Healthmesh; flags: { db: boolean; cache: boolean }; clock: FakeClock; until: (cond: () => boolean) => Promise<number> } {
  const flags = { db: true, cache: true };
  const clock = new FakeClock(1_000_000);
  const hm = createHealthmesh({ clock });
  hm.addCheck('db', () => (flags.db ? { status: 'pass', output: 'db ok' } : { status: 'fail', output: 'db down' }), { interval: '50ms' });
  hm.addCheck('cache', async () => ({ status: flags.cache ? 'HEALTHY' : 'UNHEALTHY' }), { interval: '50ms', critical: false });
  open.push(() => hm.shutdown());
  return { hm, flags, clock, until: (cond) => advanceUntil(clock, cond, { maxMs: 100 }) };
}

describe('library mode', () => {
  it('serves /health, /livez and /readyz in a fastify app, backed by in-process checks', async () => {
    const { hm, flags, until } = embedded();
    await hm.start();
    const app = Fastify();
    await app.register(healthRoutes, { healthmesh: hm });
    open.push(() => app.close());
    await until(() => [...hm.engine.all()].every((v) => v.state.status === 'HEALTHY'));
    let res = await app.inject('/health');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('application/health+json');
    expect(res.json()).toMatchObject({ status: 'pass', checks: { 'self/local/db': [{ status: 'pass', output: 'db ok' }] } });
    expect((await app.inject('/readyz')).statusCode).toBe(200);

    flags.cache = false; // not critical: warn, still ready
    await until(() => hm.engine.get('self/local/cache')!.state.status === 'UNHEALTHY');
    res = await app.inject('/health');
    expect(res.statusCode).toBe(200);
    expect(res.json().status).toBe('warn');
    expect((await app.inject('/readyz')).statusCode).toBe(200);

    flags.db = false; // critical: fail and not ready
    await until(() => hm.engine.get('self/local/db')!.state.status === 'UNHEALTHY');
    expect((await app.inject('/health')).statusCode).toBe(503);
    expect((await app.inject('/readyz')).statusCode).toBe(503);
    expect((await app.inject('/livez')).statusCode).toBe(200);
  });

  it('works as express middleware and passes other routes through', async () => {
    const { hm, until } = embedded();
    await hm.start();
    const app = express();
    app.use(healthHandler(hm));
    app.get('/hello', (_req, res) => void res.send('world'));
    const server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    open.push(() => new Promise((r) => server.close(() => r())));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    await until(() => hm.isReady());
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    expect(await (await fetch(`${base}/hello`)).text()).toBe('world');
    expect(((await (await fetch(`${base}/health`)).json()) as { status: string }).status).toBe('pass');
  });

  it('fails readiness first on shutdown, then stops the checks after the drain', async () => {
    const { hm, clock, until } = embedded();
    await hm.start();
    await until(() => hm.isReady());
    const stopping = tracked(hm.shutdown({ drainMs: 150 }));
    expect(hm.isReady()).toBe(false);
    await clock.advanceAsync(149, 10);
    expect(stopping.settled).toBe(false);
    expect(hm.engine.schedulerStats().checks).toBe(2); // still checking while draining
    await clock.advanceAsync(1);
    await within(stopping, 2000, 'the shutdown to end after the drain');
    expect(hm.engine.schedulerStats().checks).toBe(0);
  });

  it('rejects a bad interval naming the field', () => {
    const hm = createHealthmesh();
    expect(() => hm.addCheck('x', () => ({ status: 'pass' }), { interval: 'soon' })).toThrow(/interval: "soon" is not a duration/);
  });
});

describe('library: balancing outgoing requests', () => {
  it('picks only healthy instances of a service, and real request outcomes trip the breaker', async () => {
    const { createServer } = await import('node:http');
    const up = createServer((_req, res) => res.end('ok'));
    await new Promise<void>((r) => up.listen(0, '127.0.0.1', r));
    const upPort = (up.address() as AddressInfo).port;
    open.push(() => new Promise<void>((r) => up.close(() => r())));
    const hm = createHealthmesh({
      config: {
        defaults: { interval: '50ms', timeout: '500ms', rise: 1, fall: 1, jitter: 0 },
        services: {
          api: {
            instances: [
              { id: 'up', address: `127.0.0.1:${upPort}` },
              { id: 'down', address: '127.0.0.1:1' },
            ],
            checks: [{ kind: 'tcp' }],
            balancer: { panic_threshold: 0, breaker: { consecutive_failures: 2, open_for: '1m' } },
          },
        },
      },
    });
    open.push(() => hm.shutdown());
    await hm.start();
    const b = hm.balancer('api');
    // Real sockets on the real clock (fake time would run past the connect timeout): wait for the condition.
    await waitFor(
      () => b.snapshot().instances.find((m) => m.id === 'up')!.usable && b.snapshot().instances.find((m) => m.id === 'down')!.status === 'UNHEALTHY',
      { timeoutMs: 5000, what: 'up usable, down UNHEALTHY' },
    );
    const picked = new Set(Array.from({ length: 20 }, () => b.pick()!.id));
    expect([...picked]).toEqual(['up']);
    for (let i = 0; i < 2; i++) b.report('up', { ok: false, latencyMs: 3, status: 502 });
    expect(b.snapshot().instances.find((m) => m.id === 'up')!.breaker!.state).toBe('open');
    expect(b.pick()).toBeUndefined(); // nothing usable and panic off
    expect(() => hm.balancer('nope')).toThrow(/no service "nope"/);
  });
});
