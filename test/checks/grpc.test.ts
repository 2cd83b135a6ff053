import { describe, expect, it } from 'vitest';
import { grpcCheck, unavailableReason } from '../../src/checks/grpc.js';
import { createRunner } from '../../src/checks/index.js';
import { grpcCheckSchema } from '../../src/config/kinds/grpc.js';
import { FakeClock, realClock } from '../../src/core/clock.js';
import { useCleanups } from '../helpers/cleanups.js';
import { rawServer } from '../helpers/hostile.js';
import { attempt, checkDeps } from '../helpers/run-check.js';
import { grpcSpec } from '../helpers/spec.js';
import { settle } from '../helpers/api.js';
import { waitFor } from '../helpers/spawn.js';

const { cleanups } = useCleanups();

describe('grpc check schema', () => {
  it('defaults to a plaintext Check of the whole server', () => {
    expect(grpcCheckSchema.parse({ kind: 'grpc' })).toEqual({
      kind: 'grpc',
      service: '',
      tls: false,
      tls_verify: true,
      metadata: {},
      mode: 'check',
    });
  });

  it('parses degraded_after as a duration in ms and accepts every field', () => {
    const c = grpcCheckSchema.parse({
      kind: 'grpc',
      address: '10.0.0.5:9000',
      port: 9001,
      service: 'pkg.Svc',
      tls: true,
      tls_verify: false,
      tls_server_name: 'api.internal',
      ca_file: '/etc/ssl/ca.pem',
      metadata: { authorization: 'Bearer x' },
      mode: 'check',
      degraded_after: '250ms',
      timeout: '2s',
    });
    expect(c).toMatchObject({ degraded_after: 250, timeout: 2000, mode: 'check', port: 9001 });
    expect(grpcCheckSchema.parse({ kind: 'grpc', mode: 'watch' }).mode).toBe('watch');
  });

  it('rejects unknown fields, bad modes and ports', () => {
    expect(grpcCheckSchema.safeParse({ kind: 'grpc', servce: 'x' }).success).toBe(false);
    expect(grpcCheckSchema.safeParse({ kind: 'grpc', mode: 'poll' }).success).toBe(false);
    expect(grpcCheckSchema.safeParse({ kind: 'grpc', port: 70_000 }).success).toBe(false);
    expect(grpcCheckSchema.safeParse({ kind: 'grpc', degraded_after: '5 parsecs' }).success).toBe(false);
  });

  it('names TLS settings given without tls: true, and degraded_after in watch mode', () => {
    const paths = (input: object) => grpcCheckSchema.safeParse({ kind: 'grpc', ...input }).error?.issues.map((i) => i.path.join('.'));
    expect(paths({ ca_file: '/ca.pem', tls_server_name: 'x', tls_verify: false })).toEqual(['ca_file', 'tls_server_name', 'tls_verify']);
    expect(paths({ tls: true, ca_file: '/ca.pem', tls_server_name: 'x', tls_verify: false })).toBeUndefined();
    expect(paths({ mode: 'watch', degraded_after: '1s' })).toEqual(['degraded_after']);
  });

  it('rejects metadata gRPC reserves or cannot send as text', () => {
    expect(grpcCheckSchema.safeParse({ kind: 'grpc', metadata: { 'grpc-timeout': '1S' } }).success).toBe(false);
    expect(grpcCheckSchema.safeParse({ kind: 'grpc', metadata: { 'trace-bin': 'x' } }).success).toBe(false);
    expect(grpcCheckSchema.safeParse({ kind: 'grpc', metadata: { 'bad key': 'x' } }).success).toBe(false);
    expect(grpcCheckSchema.safeParse({ kind: 'grpc', metadata: { k: 'line\nbreak' } }).success).toBe(false);
    expect(grpcCheckSchema.safeParse({ kind: 'grpc', metadata: { 'X-Token': 'abc' } }).success).toBe(true);
  });
});

describe('grpc check runner', () => {
  it('is UNKNOWN error, without touching the network, when the address has no port', async () => {
    const r = createRunner(grpcSpec('127.0.0.1'), checkDeps());
    expect(await attempt(r, 500)).toMatchObject({ status: 'UNKNOWN', reason: 'error' });
    expect((await attempt(r, 500)).output).toContain('no port');
    await r.close?.();
  });

  it('returns timeout at once when the signal is already aborted', async () => {
    const r = grpcCheck(grpcSpec('127.0.0.1:1'), checkDeps());
    const ac = new AbortController();
    ac.abort();
    expect(await r.run({ signal: ac.signal, clock: realClock })).toMatchObject({ reason: 'timeout' });
    await r.close?.();
  });

  it('pushes only in watch mode', async () => {
    const check = grpcCheck(grpcSpec('127.0.0.1:1'), checkDeps());
    const watch = grpcCheck(grpcSpec('127.0.0.1:1', { mode: 'watch' }), checkDeps());
    expect(check.onPush).toBeUndefined();
    expect(typeof watch.onPush).toBe('function');
    await check.close?.();
    await watch.close?.();
  });

  it('maps UNAVAILABLE details to the shared network reasons', () => {
    const last = (e: string) => `No connection established. Last error: ${e}. Resolution note: `;
    expect(unavailableReason(last('Error: connect ECONNREFUSED 127.0.0.1:1'))).toBe('connect_refused');
    expect(unavailableReason(last('Error: read ECONNRESET'))).toBe('connect_reset');
    expect(unavailableReason(last('Error: connect EHOSTUNREACH 10.9.9.9:50051'))).toBe('unreachable');
    expect(unavailableReason('Name resolution failed for target dns:nope.invalid:80')).toBe('dns');
    expect(unavailableReason(last('Error: getaddrinfo ENOTFOUND nope.invalid'))).toBe('dns');
    expect(unavailableReason(last('Error: self-signed certificate'))).toBe('tls');
    expect(unavailableReason(last("Error [ERR_TLS_CERT_ALTNAME_INVALID]: Hostname/IP does not match certificate's altnames"))).toBe('tls');
    expect(unavailableReason(last('Error: 80BC:error:0A00010B:SSL routines:ssl3_get_record:wrong version number'))).toBe('tls');
    expect(unavailableReason(last('Failed to connect (2026-01-01T00:00:00.000Z)'))).toBe('connect_reset');
    expect(unavailableReason('Connection dropped')).toBe('connect_reset');
    expect(unavailableReason('upstream is having a bad day')).toBe('unreachable');
  });
});

describe('grpc Watch reconnect backoff', () => {
  it('reopens a failing stream after 100 ms, then 200 ms, doubling (±20 % jitter), on the injected clock', async () => {
    // Every connection is closed at accept: each stream attempt is one connection.
    const s = await rawServer((socket) => socket.destroy());
    cleanups.push(() => s.close());
    const clock = new FakeClock(realClock.now());
    const r = grpcCheck(grpcSpec(s.address, { mode: 'watch' }), checkDeps(clock));
    cleanups.push(() => r.close?.());
    const pushed: string[] = [];
    r.onPush?.((o) => pushed.push(o.reason));

    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(), 2000);
    cleanups.push(() => clearTimeout(timer));
    const first = await r.run({ signal: ac.signal, clock });
    expect(first).toMatchObject({ status: 'UNHEALTHY', reason: 'connect_reset' });
    expect(s.connections()).toBe(1);

    const expectAttemptBetween = async (minMs: number, maxMs: number, n: number): Promise<void> => {
      clock.advance(minMs - 1);
      await settle();
      expect(clock.pendingTimers()).toBe(1); // the reconnect is still waiting
      expect(s.connections()).toBe(n - 1);
      clock.advance(maxMs - minMs + 2);
      await waitFor(() => s.connections() === n, 2000, `stream attempt ${n}`);
      // Let the attempt fail (its reconnect armed) before moving the clock again, however slow the machine.
      await waitFor(() => clock.pendingTimers() === 1, 2000, `stream attempt ${n} to fail`);
    };
    await expectAttemptBetween(80, 120, 2);
    await expectAttemptBetween(160, 240, 3);
    await expectAttemptBetween(320, 480, 4);
    // The same failure again and again is not news.
    expect(pushed).toEqual([]);
  });
});

describe('grpc Watch dependencies', () => {
  it("times its reconnect on the injected clock with the injected jitter, not on a run's clock", async () => {
    const s = await rawServer((socket) => socket.destroy());
    cleanups.push(() => s.close());
    const clock = new FakeClock(realClock.now());
    // random 0 → the least backoff: 100 ms × (1 − 20 %) = 80 ms.
    const r = grpcCheck(
      grpcSpec(s.address, { mode: 'watch' }),
      checkDeps(clock, () => 0),
    );
    cleanups.push(() => r.close?.());
    // The run itself is timed on the wall clock, as `attempt` does.
    expect(await attempt(r, 2000)).toMatchObject({ status: 'UNHEALTHY', reason: 'connect_reset' });
    expect(s.connections()).toBe(1);
    expect(clock.pendingTimers()).toBe(1);

    // Wall time alone does not reopen the stream: the timer is on the injected clock.
    await new Promise((res) => setTimeout(res, 300));
    expect(s.connections()).toBe(1);
    clock.advance(79);
    await settle();
    expect(clock.pendingTimers()).toBe(1); // still waiting at 79 ms
    expect(s.connections()).toBe(1);
    clock.advance(1);
    await waitFor(() => s.connections() === 2, 2000, 'the stream reopened at exactly 80 ms');
  });
});
