import { describe, expect, it } from 'vitest';
import { createRunner } from '../../src/checks/index.js';
import { parseHostPort } from '../../src/checks/probe-support.js';
import { tcpCheck, unescapeBytes } from '../../src/checks/tcp.js';
import { FakeClock } from '../../src/core/clock.js';
import { useCleanups } from '../helpers/cleanups.js';
import { openFds, settleFds } from '../helpers/fds.js';
import { closedPort, neverAcceptingServer, rawServer, silentServer } from '../helpers/hostile.js';
import { attempt, checkDeps, runOnce } from '../helpers/run-check.js';
import { tcpSpec, type TcpInput } from '../helpers/spec.js';
import { holdsWithin, within } from '../helpers/wait.js';

const { cleanups, track } = useCleanups();

/**
 * Runs once with the spec's timeout; `abortMs` aborts earlier, as the scheduler's signal would. 5 s by
 * default: a happy path must not turn into a timeout on a loaded machine; timeout tests pass their own.
 */
function check(address: string, input: TcpInput = {}, timeoutMs = 5000, abortMs = timeoutMs) {
  return runOnce(createRunner, tcpSpec(address, input, timeoutMs), abortMs);
}

/** Slack for wall-clock bounds: test files run in parallel on a small machine. */
const SLACK_MS = 250;

/** A server that greets with `banner` on connect and answers PING lines with PONG. */
async function redis(banner = ''): Promise<Awaited<ReturnType<typeof rawServer>> & { received: string[] }> {
  const received: string[] = [];
  const s = await rawServer((socket) => {
    if (banner) socket.write(banner);
    socket.on('data', (d: Buffer) => {
      received.push(d.toString('latin1'));
      if (d.toString('latin1') === 'PING\r\n') socket.write('+PONG\r\n');
    });
  });
  return Object.assign(track(s), { received });
}

describe('tcp check', () => {
  it('is HEALTHY when the port accepts, and closes the connection at once', async () => {
    const s = await redis();
    const baseline = openFds();
    const r = await check(s.address);
    expect(r).toMatchObject({ status: 'HEALTHY', reason: 'ok' });
    expect(r.output).toMatch(/^connected in /);
    expect(s.connections()).toBe(1);
    expect(await settleFds(baseline)).toBeLessThanOrEqual(baseline);
  });

  it('reports a closed port as connect_refused', async () => {
    const port = await closedPort();
    const baseline = openFds();
    const r = await check(`127.0.0.1:${port}`);
    expect(r).toMatchObject({ status: 'UNHEALTHY', reason: 'connect_refused' });
    expect(await settleFds(baseline)).toBeLessThanOrEqual(baseline);
  });

  it('uses config.port on the instance host, and config.address over the instance address', async () => {
    const s = await redis();
    const port = await closedPort();
    expect((await check(`127.0.0.1:${port}`, { port: s.port })).status).toBe('HEALTHY');
    expect((await check(`127.0.0.1:${port}`, { address: s.address })).status).toBe('HEALTHY');
    expect((await check('127.0.0.1', { port: s.port })).status).toBe('HEALTHY');
  });

  it('connects to a bracketed IPv6 address', async () => {
    const port = await closedPort();
    // ::1 may be missing in a container; either way the target parsed and was tried.
    const r = await check(`[::1]:${port}`);
    expect(['connect_refused', 'unreachable']).toContain(r.reason);
  });

  it('matches an expected banner', async () => {
    const s = await redis('+OK ready\r\n');
    const r = await check(s.address, { expect: '+OK' });
    expect(r).toMatchObject({ status: 'HEALTHY', reason: 'ok' });
    expect(r.output).toContain('"+OK"');
  });

  it('sends `send` with escapes interpreted and matches the reply', async () => {
    const s = await redis();
    const baseline = openFds();
    const r = await check(s.address, { send: 'PING\\r\\n', expect: 'PONG' });
    expect(r).toMatchObject({ status: 'HEALTHY', reason: 'ok' });
    expect(s.received.join('')).toBe('PING\r\n');
    expect(await settleFds(baseline)).toBeLessThanOrEqual(baseline);
  });

  it('finds the expected text when it arrives split over several packets', async () => {
    const s = track(
      await rawServer((socket) => {
        socket.setNoDelay(true);
        const parts = ['SSH-2.0', '-Open', 'SSH_9.6\r\n'];
        let i = 0;
        const t = setInterval(() => {
          const p = parts[i++];
          if (p === undefined) clearInterval(t);
          else socket.write(p);
        }, 15);
        socket.on('close', () => clearInterval(t));
      }),
    );
    const r = await check(s.address, { expect: 'OpenSSH' });
    expect(r.status).toBe('HEALTHY');
  });

  it('is HEALTHY after sending when there is nothing to expect', async () => {
    const s = await redis();
    const r = await check(s.address, { send: 'QUIT\\r\\n' });
    expect(r.status).toBe('HEALTHY');
    await holdsWithin(() => s.received.join('') === 'QUIT\r\n', 2000); // the bytes cross loopback after the run ends
    expect(s.received.join('')).toBe('QUIT\r\n');
  });

  it('gives banner_mismatch when the peer closes without the expected text', async () => {
    const s = track(await rawServer((socket) => socket.end('-ERR go away\r\n')));
    const r = await check(s.address, { expect: '+OK' });
    expect(r).toMatchObject({ status: 'UNHEALTHY', reason: 'banner_mismatch' });
    expect(r.output).toContain('-ERR go away');
  });

  it('gives banner_mismatch after max_bytes without the expected text', async () => {
    const s = track(await rawServer((socket) => socket.write('x'.repeat(200))));
    const baseline = openFds();
    const r = await check(s.address, { expect: '+OK', max_bytes: 50 });
    expect(r).toMatchObject({ status: 'UNHEALTHY', reason: 'banner_mismatch' });
    expect(r.output).toContain('first 50 bytes');
    expect(await settleFds(baseline)).toBeLessThanOrEqual(baseline);
  });

  it('times out on a server that accepts and sends nothing while expect is set', async () => {
    const s = track(await silentServer());
    const baseline = openFds();
    const r = await check(s.address, { expect: '+OK' }, 2000, 300);
    expect(r).toMatchObject({ status: 'UNHEALTHY', reason: 'timeout' });
    expect(r.output).toContain('waiting for expected bytes');
    expect(r.elapsedMs).toBeLessThan(300 + SLACK_MS);
    expect(await settleFds(baseline)).toBeLessThanOrEqual(baseline);
  });

  it('times out on a port that never accepts, releasing the socket', async () => {
    const s = await neverAcceptingServer();
    cleanups.push(() => s.close());
    const baseline = openFds();
    const r = await check(s.address, {}, 2000, 300);
    expect(r).toMatchObject({ status: 'UNHEALTHY', reason: 'timeout' });
    expect(r.output).toContain('connecting');
    expect(r.elapsedMs).toBeLessThan(300 + SLACK_MS);
    expect(await settleFds(baseline)).toBeLessThanOrEqual(baseline);
  }, 15_000);

  it('goes DEGRADED slow when the run takes longer than degraded_after (on ctx.clock)', async () => {
    const clock = new FakeClock(0);
    const s = track(
      await rawServer((socket) => {
        clock.advance(300);
        socket.write('+OK\r\n');
      }),
    );
    const runner = tcpCheck(tcpSpec(s.address, { expect: '+OK', degraded_after: 100 }), checkDeps());
    const r = await runner.run({ signal: new AbortController().signal, clock });
    await runner.close?.();
    expect(r).toMatchObject({ status: 'DEGRADED', reason: 'slow' });
    expect(r.output).toContain('300 ms');
  });

  it('runs many times on one runner without keeping sockets', async () => {
    const s = await redis('+OK\r\n');
    const baseline = openFds();
    const runner = tcpCheck(tcpSpec(s.address, { expect: '+OK' }), checkDeps());
    for (let i = 0; i < 20; i++) expect((await attempt(runner, 500)).status).toBe('HEALTHY');
    await runner.close?.();
    expect(s.connections()).toBe(20);
    expect(await settleFds(baseline)).toBeLessThanOrEqual(baseline);
  });

  // On a FakeClock: the arm delay is the probe's own timer, so wall-clock load cannot stretch it.
  it('sees a signal aborted before the run within the arm delay', async () => {
    const s = track(await silentServer());
    const baseline = openFds();
    const ac = new AbortController();
    ac.abort();
    const clock = new FakeClock(0);
    const run = tcpCheck(tcpSpec(s.address, { expect: '+OK' }, 2000), checkDeps(clock)).run({ signal: ac.signal, clock });
    // The silent server never answers and the 2 s timeout never comes on this clock: only the armed signal ends the run.
    clock.advance(20); // armDelayMs: at most 20 ms
    const r = await within(run, 2000, 'the run to see the aborted signal');
    expect(r.reason).toBe('timeout');
    expect(await settleFds(baseline)).toBeLessThanOrEqual(baseline);
  });

  it('does not read ctx.signal when the probe is done before the arm delay', async () => {
    const s = await redis('+OK\r\n');
    // The fake clock stands still, so every run is done "before the arm delay" however slow the machine is.
    const clock = new FakeClock(0);
    const runner = tcpCheck(tcpSpec(s.address, { expect: '+OK' }, 2000), checkDeps(clock));
    let reads = 0;
    const signal = new AbortController().signal;
    const ctx = {
      clock,
      get signal() {
        reads++;
        return signal;
      },
    };
    for (let i = 0; i < 5; i++) expect((await runner.run(ctx)).status).toBe('HEALTHY');
    expect(reads).toBe(0);
    expect(clock.pendingTimers()).toBe(0); // each run dropped its arm timer
  });

  it('reports an address without port as UNKNOWN error instead of throwing', async () => {
    const r = await check('db.internal');
    expect(r).toMatchObject({ status: 'UNKNOWN', reason: 'error' });
    expect(r.output).toContain('no port');
  });
});

describe('tcp address and escape parsing', () => {
  it('parses host:port, [v6]:port and bare hosts', () => {
    expect(parseHostPort('10.0.0.5:8080')).toEqual({ host: '10.0.0.5', port: 8080 });
    expect(parseHostPort('[::1]:9000')).toEqual({ host: '::1', port: 9000 });
    expect(parseHostPort('[fe80::1]')).toEqual({ host: 'fe80::1', port: undefined });
    expect(parseHostPort('::1')).toEqual({ host: '::1', port: undefined });
    expect(parseHostPort('db')).toEqual({ host: 'db', port: undefined });
    expect(() => parseHostPort('db:99999')).toThrow(/bad port/);
    expect(() => parseHostPort('[::1')).toThrow(/missing/);
  });

  it('interprets \\r \\n \\t and \\\\', () => {
    expect(unescapeBytes('a\\r\\n\\tb\\\\n')).toBe('a\r\n\tb\\n');
  });
});
