import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  Server,
  ServerCredentials,
  status,
  type sendUnaryData,
  type ServerUnaryCall,
  type ServerWritableStream,
  type ServiceDefinition,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { HealthImplementation, type ServingStatusMap } from 'grpc-health-check';
import { afterAll, describe, expect, it } from 'vitest';
import { grpcCheck } from '../../src/checks/grpc.js';
import type { CheckRunner } from '../../src/core/check.js';
import { FakeClock } from '../../src/core/clock.js';
import type { ProbeOutcome } from '../../src/core/result.js';
import { settle } from '../helpers/api.js';
import { useCleanups } from '../helpers/cleanups.js';
import { openFds, settleFds } from '../helpers/fds.js';
import { closedPort, garbageServer, selfSignedCert, silentServer } from '../helpers/hostile.js';
import { attempt, checkDeps } from '../helpers/run-check.js';
import { grpcSpec, type GrpcInput } from '../helpers/spec.js';
import { waitFor } from '../helpers/spawn.js';

/**
 * The grpc check against real grpc-js servers on 127.0.0.1 running
 * grpc-health-check's HealthImplementation (plaintext and TLS), plus hostile
 * ones: a Check handler that never answers, no health service at all, a
 * server that goes away and comes back on the same port.
 */

const { cleanups } = useCleanups();

/** A runner closed after the test. */
function runner(address: string, input: GrpcInput = {}, timeoutMs = 1000): CheckRunner {
  const r = grpcCheck(grpcSpec(address, input, timeoutMs), checkDeps());
  cleanups.push(() => r.close?.());
  return r;
}

/** One run of a fresh runner, closed afterwards. */
async function checkOnce(address: string, input: GrpcInput = {}, timeoutMs = 1000) {
  const r = grpcCheck(grpcSpec(address, input, timeoutMs), checkDeps());
  try {
    return await attempt(r, timeoutMs);
  } finally {
    await r.close?.();
  }
}

interface SeenCall {
  service: string;
  metadata: Record<string, unknown>;
  peer: string;
}

interface HealthServerOptions {
  statuses?: ServingStatusMap;
  /** Register the health service (default true). */
  health?: boolean;
  tls?: { key: Buffer; cert: Buffer };
  /** Listen on this port (restart on the same port); default ephemeral. */
  port?: number;
}

interface HealthServer {
  port: number;
  address: string;
  health: HealthImplementation;
  /** Check calls seen, in order. */
  calls: SeenCall[];
  /** Check handlers never answer while true. */
  hang: boolean;
  /** Delay of each Check answer (ms). */
  delayMs: number;
  /** When set, Check answers this serving status instead of HealthImplementation's. */
  answer: string | null;
  /** When set, Check fails with this gRPC status. */
  fail: { code: number; details: string } | null;
  /** Check calls the server saw cancelled by the client. */
  cancelled: number;
  /** Watch streams currently open. */
  watchers(): number;
  /** Watch calls received so far. */
  watchCalls: number;
  /** End every open Watch stream with status OK, as a server draining its streams would. */
  endWatches(): void;
  stop(): Promise<void>;
}

/**
 * A grpc-js server with HealthImplementation. Its handlers are wrapped (via
 * the object addToServer registers them on) to record metadata and peers and
 * to hang or delay Check on demand.
 */
async function healthServer(opts: HealthServerOptions = {}): Promise<HealthServer> {
  const server = new Server();
  const health = new HealthImplementation(opts.statuses ?? { '': 'SERVING' });
  const openWatches = new Set<ServerWritableStream<unknown, unknown>>();
  const s: HealthServer = {
    port: 0,
    address: '',
    health,
    calls: [],
    hang: false,
    delayMs: 0,
    answer: null,
    fail: null,
    cancelled: 0,
    watchers: () => openWatches.size,
    watchCalls: 0,
    endWatches: () => {
      for (const call of openWatches) call.end();
      openWatches.clear();
    },
    stop: async () => {
      server.forceShutdown();
    },
  };
  if (opts.health !== false) {
    health.addToServer({
      addService(service: ServiceDefinition, impl: UntypedServiceImplementation) {
        const check = impl.check as (call: ServerUnaryCall<unknown, unknown>, cb: sendUnaryData<unknown>) => void;
        const watch = impl.watch as (call: ServerWritableStream<unknown, unknown>) => void;
        server.addService(service, {
          ...impl,
          check(call: ServerUnaryCall<{ service: string }, unknown>, cb: sendUnaryData<unknown>) {
            s.calls.push({ service: call.request.service, metadata: call.metadata.getMap(), peer: call.getPeer() });
            call.on('cancelled', () => s.cancelled++);
            if (s.hang) return;
            if (s.fail) return cb(s.fail);
            if (s.answer !== null) return cb(null, { status: s.answer });
            if (s.delayMs > 0) setTimeout(() => check(call, cb), s.delayMs);
            else check(call, cb);
          },
          watch(call: ServerWritableStream<unknown, unknown>) {
            s.watchCalls++;
            openWatches.add(call);
            call.on('cancelled', () => openWatches.delete(call));
            watch(call);
          },
        });
      },
    } as unknown as Server);
  }
  const creds = opts.tls ? ServerCredentials.createSsl(null, [{ private_key: opts.tls.key, cert_chain: opts.tls.cert }]) : ServerCredentials.createInsecure();
  s.port = await bind(server, opts.port ?? 0, creds);
  s.address = `127.0.0.1:${s.port}`;
  cleanups.push(() => server.forceShutdown());
  return s;
}

/** bindAsync, retried briefly when the port is still held (restart on the same port). */
async function bind(server: Server, port: number, creds: ServerCredentials): Promise<number> {
  for (let i = 0; ; i++) {
    try {
      return await new Promise<number>((resolve, reject) => server.bindAsync(`127.0.0.1:${port}`, creds, (err, p) => (err ? reject(err) : resolve(p))));
    } catch (err) {
      if (i >= 20) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** Collects what a runner pushes (it must have onPush: watch mode). */
function pushes(r: CheckRunner): ProbeOutcome[] {
  const seen: ProbeOutcome[] = [];
  if (r.onPush === undefined) throw new Error('the runner does not push');
  r.onPush((o) => seen.push(o));
  return seen;
}

describe('grpc check (Check mode)', () => {
  it('is HEALTHY with serving_status 1 when the server is SERVING', async () => {
    const s = await healthServer();
    const r = await checkOnce(s.address);
    expect(r).toMatchObject({ status: 'HEALTHY', reason: 'ok', metrics: { serving_status: 1 } });
    expect(r.output).toMatch(/^server SERVING in /);
    expect(s.calls).toEqual([expect.objectContaining({ service: '' })]);
  });

  it('sees SERVING → NOT_SERVING → SERVING on successive runs over one connection', async () => {
    const s = await healthServer();
    const r = runner(s.address);
    expect((await attempt(r, 1000)).status).toBe('HEALTHY');
    s.health.setStatus('', 'NOT_SERVING');
    const down = await attempt(r, 1000);
    expect(down).toMatchObject({ status: 'UNHEALTHY', reason: 'grpc_not_serving', metrics: { serving_status: 2 } });
    s.health.setStatus('', 'SERVING');
    expect((await attempt(r, 1000)).status).toBe('HEALTHY');
    // The channel is reused: every call came from the same client port.
    expect(new Set(s.calls.map((c) => c.peer)).size).toBe(1);
    expect(s.calls).toHaveLength(3);
  });

  it('asks for the configured service, and reports an unknown one as grpc_service_unknown', async () => {
    const s = await healthServer({ statuses: { '': 'SERVING', 'pkg.Orders': 'NOT_SERVING', 'pkg.Users': 'SERVING' } });
    expect(await checkOnce(s.address, { service: 'pkg.Users' })).toMatchObject({ status: 'HEALTHY' });
    expect(await checkOnce(s.address, { service: 'pkg.Orders' })).toMatchObject({ reason: 'grpc_not_serving' });
    const unknown = await checkOnce(s.address, { service: 'pkg.Nope' });
    expect(unknown).toMatchObject({ status: 'UNHEALTHY', reason: 'grpc_service_unknown' });
    expect(unknown.output).toContain('NOT_FOUND');
    expect(s.calls.map((c) => c.service)).toEqual(['pkg.Users', 'pkg.Orders', 'pkg.Nope']);
  });

  it('reads SERVICE_UNKNOWN as grpc_service_unknown and UNKNOWN as not serving', async () => {
    const s = await healthServer();
    s.answer = 'SERVICE_UNKNOWN';
    expect(await checkOnce(s.address)).toMatchObject({
      status: 'UNHEALTHY',
      reason: 'grpc_service_unknown',
      metrics: { serving_status: 3 },
    });
    s.answer = 'UNKNOWN';
    const unknown = await checkOnce(s.address);
    expect(unknown).toMatchObject({ status: 'UNHEALTHY', reason: 'grpc_not_serving', metrics: { serving_status: 0 } });
    expect(unknown.output).toContain('UNKNOWN');
  });

  it('reports other gRPC errors as grpc_error naming the status, and DEADLINE_EXCEEDED as timeout', async () => {
    const s = await healthServer();
    s.fail = { code: status.PERMISSION_DENIED, details: 'no probes from you' };
    const denied = await checkOnce(s.address);
    expect(denied).toMatchObject({ status: 'UNHEALTHY', reason: 'grpc_error', metrics: { grpc_code: 7 } });
    expect(denied.output).toContain('PERMISSION_DENIED: no probes from you');
    s.fail = { code: status.DEADLINE_EXCEEDED, details: 'backend slow' };
    expect(await checkOnce(s.address)).toMatchObject({ status: 'UNHEALTHY', reason: 'timeout' });
  });

  it('reports a server without the health service as grpc_unimplemented', async () => {
    const s = await healthServer({ health: false });
    const r = await checkOnce(s.address);
    expect(r).toMatchObject({ status: 'UNHEALTHY', reason: 'grpc_unimplemented' });
    expect(r.output).toContain('UNIMPLEMENTED');
  });

  it('sends the configured metadata with every call', async () => {
    const s = await healthServer();
    const r = runner(s.address, { metadata: { Authorization: 'Bearer t0ken', 'x-probe': 'healthmesh' } });
    await attempt(r, 1000);
    await attempt(r, 1000);
    expect(s.calls).toHaveLength(2);
    for (const call of s.calls) {
      expect(call.metadata).toMatchObject({ authorization: 'Bearer t0ken', 'x-probe': 'healthmesh' });
      expect(String(call.metadata['user-agent'])).toContain('healthmesh');
    }
  });

  it('times out on a Check that is never answered, cancels the call, and the channel serves the next run', async () => {
    const s = await healthServer();
    const r = runner(s.address, {}, 300);
    expect((await attempt(r, 300)).status).toBe('HEALTHY');
    s.hang = true;
    const hung = await attempt(r, 300);
    expect(hung).toMatchObject({ status: 'UNHEALTHY', reason: 'timeout' });
    expect(hung.elapsedMs).toBeGreaterThanOrEqual(250);
    expect(hung.elapsedMs).toBeLessThan(2000);
    await waitFor(() => s.cancelled === 1, 3000, 'the server to see the hung call cancelled');
    s.hang = false;
    expect(await attempt(r, 1000)).toMatchObject({ status: 'HEALTHY' });
    expect(new Set(s.calls.map((c) => c.peer)).size).toBe(1);
  });

  it('gives DEGRADED slow when SERVING comes later than degraded_after', async () => {
    const s = await healthServer();
    s.delayMs = 150;
    const r = await checkOnce(s.address, { degraded_after: '50ms' });
    expect(r).toMatchObject({ status: 'DEGRADED', reason: 'slow', metrics: { serving_status: 1 } });
    expect(r.output).toContain('over degraded_after 50 ms');
  });

  it('reports a closed port as connect_refused quickly, and sees the server once it listens there', async () => {
    const port = await closedPort();
    const r = runner(`127.0.0.1:${port}`);
    const first = await attempt(r, 2000);
    expect(first).toMatchObject({ status: 'UNHEALTHY', reason: 'connect_refused' });
    expect(first.elapsedMs).toBeLessThan(1000);
    const again = await attempt(r, 2000);
    expect(again.reason).toBe('connect_refused');
    expect(again.elapsedMs).toBeLessThan(1000);
    // The failed channel was dropped: no reconnect backoff hides the server that came up.
    await healthServer({ port });
    expect(await attempt(r, 2000)).toMatchObject({ status: 'HEALTHY' });
  });

  it('uses config.port on the instance host, and config.address over the instance address', async () => {
    const s = await healthServer();
    const port = await closedPort();
    expect((await checkOnce(`127.0.0.1:${port}`, { port: s.port })).status).toBe('HEALTHY');
    expect((await checkOnce(`127.0.0.1:${port}`, { address: s.address })).status).toBe('HEALTHY');
    expect((await checkOnce('127.0.0.1', { port: s.port })).status).toBe('HEALTHY');
  });

  it('times out against a TCP server that never speaks HTTP/2', async () => {
    const silent = await silentServer();
    cleanups.push(() => silent.close());
    const r = await checkOnce(silent.address, {}, 400);
    expect(r).toMatchObject({ status: 'UNHEALTHY', reason: 'timeout' });
    expect(r.elapsedMs).toBeLessThan(2000);
  });

  it('fails, without hanging, against a server that answers garbage', async () => {
    const g = await garbageServer();
    cleanups.push(() => g.close());
    const r = await checkOnce(g.address, {}, 1000);
    expect(r.status).toBe('UNHEALTHY');
    expect(r.elapsedMs).toBeLessThan(1500);
  });

  it('leaves no open file descriptors after close(), including after a timed-out call', async () => {
    const s = await healthServer();
    const baseline = openFds();
    const r = grpcCheck(grpcSpec(s.address, {}, 300), checkDeps());
    for (let i = 0; i < 3; i++) expect((await attempt(r, 300)).status).toBe('HEALTHY');
    s.hang = true;
    expect((await attempt(r, 300)).reason).toBe('timeout');
    expect(openFds()).toBeGreaterThan(baseline); // the connection is held between runs
    await r.close?.();
    expect(await settleFds(baseline, 3000)).toBeLessThanOrEqual(baseline);
    expect(await attempt(r, 300)).toMatchObject({ status: 'UNKNOWN', reason: 'aborted' });
    expect(openFds()).toBeLessThanOrEqual(baseline);
  });
});

describe('grpc check over TLS', () => {
  const tlsCert = selfSignedCert(); // openssl CLI; CN=localhost, self-signed
  const dir = mkdtempSync(join(tmpdir(), 'healthmesh-grpc-'));
  const caFile = join(dir, 'ca.pem');
  writeFileSync(caFile, tlsCert.cert);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('passes with verification on when ca_file holds the signer and the name matches', async () => {
    writeFileSync(caFile, tlsCert.cert);
    const s = await healthServer({ tls: tlsCert });
    const r = await checkOnce(s.address, { tls: true, ca_file: caFile, tls_server_name: 'localhost' });
    expect(r).toMatchObject({ status: 'HEALTHY', reason: 'ok' });
  });

  it('fails with tls when verification is on and the certificate is not trusted', async () => {
    const s = await healthServer({ tls: tlsCert });
    const r = await checkOnce(s.address, { tls: true, tls_server_name: 'localhost' });
    expect(r).toMatchObject({ status: 'UNHEALTHY', reason: 'tls' });
    expect(r.output).toMatch(/self[- ]signed/);
  });

  it('fails with tls when the trusted certificate is for another name', async () => {
    writeFileSync(caFile, tlsCert.cert);
    const s = await healthServer({ tls: tlsCert });
    const r = await checkOnce(s.address, { tls: true, ca_file: caFile, tls_server_name: 'other.example' });
    expect(r).toMatchObject({ status: 'UNHEALTHY', reason: 'tls' });
  });

  it('passes with tls_verify off', async () => {
    const s = await healthServer({ tls: tlsCert });
    expect(await checkOnce(s.address, { tls: true, tls_verify: false })).toMatchObject({ status: 'HEALTHY' });
  });

  it('does not pass when plaintext gRPC talks to a TLS port', async () => {
    const s = await healthServer({ tls: tlsCert });
    const r = await checkOnce(s.address, {}, 1000);
    expect(r).toMatchObject({ status: 'UNHEALTHY', reason: 'connect_reset' });
  });

  it('is UNKNOWN error when ca_file cannot be read', async () => {
    const s = await healthServer({ tls: tlsCert });
    const r = await checkOnce(s.address, { tls: true, ca_file: join(dir, 'missing.pem') });
    expect(r).toMatchObject({ status: 'UNKNOWN', reason: 'error' });
    expect(r.output).toContain('ca_file');
  });
});

describe('grpc check (Watch mode)', () => {
  it('returns the pushed status, and hands changes to onPush without waiting for a run', async () => {
    const s = await healthServer();
    const r = runner(s.address, { mode: 'watch' });
    const seen = pushes(r);
    expect(await attempt(r, 1000)).toMatchObject({ status: 'HEALTHY', metrics: { serving_status: 1 } });
    expect(seen).toEqual([]);

    s.health.setStatus('', 'NOT_SERVING');
    await waitFor(() => seen.length === 1, 1000, 'the NOT_SERVING push');
    expect(seen[0]).toMatchObject({ status: 'UNHEALTHY', reason: 'grpc_not_serving', metrics: { serving_status: 2 } });
    const now = await attempt(r, 1000);
    expect(now).toMatchObject({ reason: 'grpc_not_serving' });
    expect(now.elapsedMs).toBeLessThan(50); // no round trip

    s.health.setStatus('', 'NOT_SERVING'); // a repeat is not a change
    s.health.setStatus('', 'SERVING');
    await waitFor(() => seen.length === 2, 1000, 'the SERVING push');
    expect(seen[1]).toMatchObject({ status: 'HEALTHY', reason: 'ok' });
    expect((await attempt(r, 1000)).status).toBe('HEALTHY');
    expect(s.watchers()).toBe(1);
    expect(s.calls).toEqual([]); // no Check calls in watch mode
  });

  it('folds a burst of status flips into a few pushes ending with the final status', async () => {
    const s = await healthServer();
    const r = runner(s.address, { mode: 'watch' });
    const seen = pushes(r);
    expect((await attempt(r, 1000)).status).toBe('HEALTHY');
    for (let i = 0; i <= 50; i++) s.health.setStatus('', i % 2 === 0 ? 'NOT_SERVING' : 'SERVING');
    await waitFor(() => seen.at(-1)?.reason === 'grpc_not_serving', 2000, 'a push of the final status');
    await new Promise((res) => setTimeout(res, 300));
    expect(seen.length).toBeLessThanOrEqual(3);
    expect(seen.at(-1)).toMatchObject({ reason: 'grpc_not_serving' });
    expect((await attempt(r, 1000)).reason).toBe('grpc_not_serving');
  });

  it('reports SERVICE_UNKNOWN as grpc_service_unknown and keeps watching until the service appears', async () => {
    const s = await healthServer();
    const r = runner(s.address, { mode: 'watch', service: 'pkg.Later' });
    const seen = pushes(r);
    expect(await attempt(r, 1000)).toMatchObject({
      status: 'UNHEALTHY',
      reason: 'grpc_service_unknown',
      metrics: { serving_status: 3 },
    });
    s.health.setStatus('pkg.Later', 'SERVING');
    await waitFor(() => seen.length === 1, 1000, 'the SERVING push');
    expect(seen[0]).toMatchObject({ status: 'HEALTHY' });
  });

  it('reports a server without the health service as grpc_unimplemented', async () => {
    const s = await healthServer({ health: false });
    const r = runner(s.address, { mode: 'watch' });
    expect(await attempt(r, 1000)).toMatchObject({ status: 'UNHEALTHY', reason: 'grpc_unimplemented' });
  });

  it('reports connect_refused at once when nothing listens', async () => {
    const port = await closedPort();
    const r = runner(`127.0.0.1:${port}`, { mode: 'watch' });
    const first = await attempt(r, 2000);
    expect(first).toMatchObject({ status: 'UNHEALTHY', reason: 'connect_refused' });
    expect(first.elapsedMs).toBeLessThan(1000);
  });

  it('times out the first run when the stream never delivers a status', async () => {
    const silent = await silentServer();
    cleanups.push(() => silent.close());
    const r = runner(silent.address, { mode: 'watch' }, 300);
    const first = await attempt(r, 300);
    expect(first).toMatchObject({ status: 'UNHEALTHY', reason: 'timeout' });
    expect(first.elapsedMs).toBeLessThan(1500);
  });

  it('reconnects after the server restarts on the same port, pushing the outage and the recovery', async () => {
    const s = await healthServer();
    const r = runner(s.address, { mode: 'watch' });
    const seen = pushes(r);
    expect((await attempt(r, 1000)).status).toBe('HEALTHY');

    await s.stop();
    await waitFor(() => seen.length >= 1, 3000, 'the outage push');
    expect(seen[0]).toMatchObject({ status: 'UNHEALTHY', reason: 'connect_refused' });
    expect((await attempt(r, 1000)).reason).toBe('connect_refused');

    const again = await healthServer({ port: s.port });
    await waitFor(() => seen.length >= 2, 8000, 'the recovery push');
    expect(seen[1]).toMatchObject({ status: 'HEALTHY', reason: 'ok' });
    expect((await attempt(r, 1000)).status).toBe('HEALTHY');
    expect(again.watchers()).toBe(1);

    again.health.setStatus('', 'NOT_SERVING');
    await waitFor(() => seen.length >= 3, 1000, 'a push on the new stream');
    expect(seen[2]).toMatchObject({ reason: 'grpc_not_serving' });
  }, 20_000);

  it('reopens a stream the server ended without reporting anything, the status being unchanged', async () => {
    const s = await healthServer();
    const r = runner(s.address, { mode: 'watch' });
    const seen = pushes(r);
    expect((await attempt(r, 1000)).status).toBe('HEALTHY');
    s.endWatches();
    await waitFor(() => s.watchCalls === 2 && s.watchers() === 1, 3000, 'the Watch to be reopened');
    expect((await attempt(r, 1000)).status).toBe('HEALTHY');
    expect(seen).toEqual([]);
  });

  it('close() cancels the stream and leaves no open file descriptors', async () => {
    const s = await healthServer();
    const baseline = openFds();
    const r = grpcCheck(grpcSpec(s.address, { mode: 'watch' }, 1000), checkDeps());
    expect((await attempt(r, 1000)).status).toBe('HEALTHY');
    expect(s.watchers()).toBe(1);
    await r.close?.();
    await waitFor(() => s.watchers() === 0, 2000, 'the server to see the Watch cancelled');
    expect(await settleFds(baseline, 3000)).toBeLessThanOrEqual(baseline);
    expect(await attempt(r, 300)).toMatchObject({ status: 'UNKNOWN', reason: 'aborted' });
    expect(openFds()).toBeLessThanOrEqual(baseline);
  });

  it('close() stops reconnecting to a server that is gone', async () => {
    const port = await closedPort();
    const baseline = openFds();
    // The reconnect timer is on the injected clock: a FakeClock shows it gone, instead of 600 ms of wall time.
    const clock = new FakeClock(0);
    const r = grpcCheck(grpcSpec(`127.0.0.1:${port}`, { mode: 'watch' }, 1000), checkDeps(clock));
    expect((await attempt(r, 1000)).reason).toBe('connect_refused');
    await waitFor(() => clock.pendingTimers() === 1, 2000, 'the reconnect to be scheduled');
    await r.close?.();
    expect(clock.pendingTimers()).toBe(0); // the reconnect timer died with close()
    // A server appearing later gets no Watch, however long we wait.
    const s = await healthServer({ port });
    clock.advance(60_000);
    await settle();
    expect(s.watchers()).toBe(0);
    await s.stop();
    expect(await settleFds(baseline, 3000)).toBeLessThanOrEqual(baseline);
  });
});
