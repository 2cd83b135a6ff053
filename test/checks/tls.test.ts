import type { z } from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRunner } from '../../src/checks/index.js';
import { tlsCheck } from '../../src/checks/tls.js';
import { tlsCheckSchema, type TlsCheckConfig } from '../../src/config/kinds/tls.js';
import type { CheckSpec } from '../../src/core/check.js';
import { FakeClock } from '../../src/core/clock.js';
import { useCleanups } from '../helpers/cleanups.js';
import { makeCa, makeLeaf, noHandshakeServer, pemDir, tlsServer, type CertServer, type KeyCert, type PemDir } from '../helpers/certs.js';
import { openFds, settleFds } from '../helpers/fds.js';
import { closedPort, garbageServer, rawServer } from '../helpers/hostile.js';
import { attempt, checkDeps, type TimedOutcome } from '../helpers/run-check.js';
import { fakeSpec } from '../helpers/spec.js';
import { waitFor } from '../helpers/spawn.js';

type TlsInput = Omit<z.input<typeof tlsCheckSchema>, 'kind'>;

const DAY_MS = 86_400_000;

const { cleanups } = useCleanups();

/** A tls CheckSpec for an instance at `address`; the config goes through the schema. */
function tlsSpec(address: string, input: TlsInput = {}, timeoutMs = 2000): CheckSpec<TlsCheckConfig> {
  return {
    ...fakeSpec('svc/i1/tls', { address, timeoutMs }),
    kind: 'tls' as CheckSpec['kind'],
    name: 'tls',
    config: tlsCheckSchema.parse({ kind: 'tls', ...input }),
  };
}

function check(address: string, input: TlsInput = {}, timeoutMs = 2000): Promise<TimedOutcome> {
  return attempt(createRunner(tlsSpec(address, input, timeoutMs), checkDeps()), timeoutMs);
}

async function serve(leaf: KeyCert, chain: string[] = []): Promise<CertServer> {
  const s = await tlsServer(leaf, chain);
  cleanups.push(() => s.close());
  return s;
}

let pems: PemDir;
let caFile: string;
const certs = {} as Record<'valid' | 'in20' | 'in3' | 'expired' | 'other' | 'selfSigned' | 'selfSignedIn20' | 'notYet' | 'viaIntermediate', KeyCert>;
let intermediate: KeyCert;

beforeAll(async () => {
  const ca = await makeCa('healthmesh test CA', { toDays: 3650 });
  intermediate = await makeCa('healthmesh test intermediate', { toDays: 5 }, ca);
  const [valid, in20, in3, expired, other, selfSigned, selfSignedIn20, notYet, viaIntermediate] = await Promise.all([
    makeLeaf(['localhost', '127.0.0.1'], { toDays: 60 }, ca),
    makeLeaf(['localhost', '127.0.0.1'], { toDays: 20 }, ca),
    makeLeaf(['localhost', '127.0.0.1'], { toDays: 3 }, ca),
    makeLeaf(['localhost', '127.0.0.1'], { fromDays: -90, toDays: -2 }, ca),
    makeLeaf(['other.example'], { toDays: 60 }, ca),
    makeLeaf(['localhost', '127.0.0.1'], { toDays: 60 }),
    makeLeaf(['localhost', '127.0.0.1'], { toDays: 20 }),
    makeLeaf(['localhost', '127.0.0.1'], { fromDays: 2, toDays: 60 }, ca),
    makeLeaf(['localhost', '127.0.0.1'], { toDays: 60 }, intermediate),
  ]);
  Object.assign(certs, { valid, in20, in3, expired, other, selfSigned, selfSignedIn20, notYet, viaIntermediate });
  pems = pemDir();
  caFile = pems.write('ca.pem', ca.cert);
}, 60_000);

afterAll(() => pems?.remove());

describe('tls check against real TLS servers on 127.0.0.1', () => {
  it('is HEALTHY for a certificate valid 60 days whose CA comes from ca_file, and reports it', async () => {
    const s = await serve(certs.valid);
    const r = await check(s.address, { server_name: 'localhost', ca_file: caFile });
    expect(r).toMatchObject({ status: 'HEALTHY', reason: 'ok' });
    expect(r.output).toMatch(/^CN=localhost, issuer CN=healthmesh test CA, (59\.\d|60) days left \(not after \d{4}-\d\d-\d\dT[\d:.]+Z\)$/);
    expect(r.metrics?.days_left).toBeCloseTo(60, 1);
    // The leaf, then the CA that Node found in the trust store.
    expect(r.metrics?.chain_length).toBe(2);
    expect(r.metrics?.chain_min_days_left).toBeCloseTo(60, 1);
    // The server saw a complete handshake with SNI, not a connection reset under it.
    await waitFor(() => s.servernames.length + s.handshakeErrors.length > 0, 2000, 'the server to finish the handshake');
    expect(s.servernames).toEqual(['localhost']);
    expect(s.handshakeErrors).toEqual([]);
  });

  it('verifies against the IP and sends no SNI when server_name is left to an IP host', async () => {
    const s = await serve(certs.valid);
    const r = await check(s.address, { ca_file: caFile });
    expect(r).toMatchObject({ status: 'HEALTHY', reason: 'ok' });
    await waitFor(() => s.servernames.length + s.handshakeErrors.length > 0, 2000, 'the server to finish the handshake');
    expect(s.servernames).toEqual([false]);
  });

  it('is DEGRADED cert_expiring 20 days before expiry (warn_days 30)', async () => {
    const s = await serve(certs.in20);
    const r = await check(s.address, { server_name: 'localhost', ca_file: caFile });
    expect(r).toMatchObject({ status: 'DEGRADED', reason: 'cert_expiring' });
    expect(r.output).toMatch(/^certificate expiring \(warn_days 30\): CN=localhost, .*, (19\.\d|20) days left/);
    expect(r.metrics?.days_left).toBeCloseTo(20, 1);
  });

  it('is UNHEALTHY cert_expiring 3 days before expiry (critical_days 7), and follows custom thresholds', async () => {
    const s = await serve(certs.in3);
    const r = await check(s.address, { server_name: 'localhost', ca_file: caFile });
    expect(r).toMatchObject({ status: 'UNHEALTHY', reason: 'cert_expiring' });
    expect(r.output).toMatch(/^certificate expiring \(critical_days 7\): /);
    expect(r.metrics?.days_left).toBeCloseTo(3, 1);
    const relaxed = await check(s.address, { server_name: 'localhost', ca_file: caFile, warn_days: 2, critical_days: 1 });
    expect(relaxed).toMatchObject({ status: 'HEALTHY', reason: 'ok' });
  });

  it('is UNHEALTHY cert_expired for a certificate past its not-after', async () => {
    const s = await serve(certs.expired);
    const r = await check(s.address, { server_name: 'localhost', ca_file: caFile });
    expect(r).toMatchObject({ status: 'UNHEALTHY', reason: 'cert_expired' });
    expect(r.output).toMatch(/^certificate expired: CN=localhost, issuer CN=healthmesh test CA, expired 2 days ago/);
    expect(r.metrics?.days_left).toBeCloseTo(-2, 1);
  });

  it('is UNHEALTHY cert_hostname when the certificate is for another name', async () => {
    const s = await serve(certs.other);
    const r = await check(s.address, { server_name: 'localhost', ca_file: caFile });
    expect(r).toMatchObject({ status: 'UNHEALTHY', reason: 'cert_hostname' });
    expect(r.output).toContain('certificate not valid for localhost');
    expect(r.output).toContain('other.example');
  });

  it('is cert_untrusted for a self-signed certificate with verify on, and judged on expiry only with verify off', async () => {
    const s = await serve(certs.selfSigned);
    const strict = await check(s.address, { server_name: 'localhost' });
    expect(strict).toMatchObject({ status: 'UNHEALTHY', reason: 'cert_untrusted' });
    expect(strict.output).toContain('DEPTH_ZERO_SELF_SIGNED_CERT');
    expect(strict.metrics?.chain_length).toBe(1);

    const lax = await check(s.address, { server_name: 'localhost', verify: false });
    expect(lax).toMatchObject({ status: 'HEALTHY', reason: 'ok' });

    const soon = await serve(certs.selfSignedIn20);
    const laxSoon = await check(soon.address, { server_name: 'localhost', verify: false });
    expect(laxSoon).toMatchObject({ status: 'DEGRADED', reason: 'cert_expiring' });
  });

  it('is cert_untrusted for a certificate not valid yet when verifying, and ignores it without verify', async () => {
    const s = await serve(certs.notYet);
    const r = await check(s.address, { server_name: 'localhost', ca_file: caFile });
    expect(r).toMatchObject({ status: 'UNHEALTHY', reason: 'cert_untrusted' });
    expect(r.output).toMatch(/^certificate not valid before \d{4}-/);
    const lax = await check(s.address, { server_name: 'localhost', ca_file: caFile, verify: false });
    expect(lax.status).toBe('HEALTHY');
  });

  it('reports the soonest expiry of the chain: an intermediate expiring first makes it cert_expiring', async () => {
    const s = await serve(certs.viaIntermediate, [intermediate.cert]);
    const r = await check(s.address, { server_name: 'localhost', ca_file: caFile });
    expect(r).toMatchObject({ status: 'UNHEALTHY', reason: 'cert_expiring' });
    expect(r.output).toMatch(/^intermediate CN=healthmesh test intermediate expires in (4\.\d|5) days/);
    expect(r.metrics?.days_left).toBeCloseTo(60, 1);
    expect(r.metrics?.chain_min_days_left).toBeCloseTo(5, 1);
    expect(r.metrics?.chain_length).toBe(3);
  });

  it('counts days on ctx.clock, not the wall clock', async () => {
    const s = await serve(certs.valid);
    const runner = tlsCheck(tlsSpec(s.address, { server_name: 'localhost', ca_file: caFile }), checkDeps());
    const later = new FakeClock(Date.now() + 45 * DAY_MS);
    const r = await runner.run({ signal: new AbortController().signal, clock: later });
    expect(r).toMatchObject({ status: 'DEGRADED', reason: 'cert_expiring' });
    expect(r.metrics?.days_left).toBeCloseTo(15, 1);
    const past = new FakeClock(Date.now() + 61 * DAY_MS);
    expect(await runner.run({ signal: new AbortController().signal, clock: past })).toMatchObject({
      reason: 'cert_expired',
    });
  });

  it('uses `port` on the instance host and `address` over the instance address', async () => {
    const s = await serve(certs.valid);
    const free = await closedPort();
    const byPort = await check(`127.0.0.1:${free}`, { port: s.port, ca_file: caFile });
    expect(byPort.status).toBe('HEALTHY');
    const byAddress = await check(`127.0.0.1:${free}`, { address: s.address, ca_file: caFile });
    expect(byAddress.status).toBe('HEALTHY');
  });

  it('times out at the attempt timeout on a server that accepts TCP and never does the handshake', async () => {
    const s = await noHandshakeServer();
    cleanups.push(() => s.close());
    const baseline = openFds();
    const r = await check(s.address, { server_name: 'localhost' }, 300);
    expect(r).toMatchObject({ status: 'UNHEALTHY', reason: 'timeout' });
    expect(r.output).toMatch(/^timed out after \d+ ms in the TLS handshake \(127\.0\.0\.1:\d+\)$/);
    expect(r.elapsedMs).toBeLessThan(300 + 500);
    expect(s.connections()).toBe(1);
    expect(await settleFds(baseline)).toBeLessThanOrEqual(baseline);
  });

  it('reports connect_refused when nothing listens', async () => {
    const port = await closedPort();
    expect(await check(`127.0.0.1:${port}`)).toMatchObject({ status: 'UNHEALTHY', reason: 'connect_refused' });
  });

  it('reports a failed handshake as tls: a peer that hangs up, and one that is not TLS', async () => {
    const hangUp = await rawServer((socket) => socket.end());
    cleanups.push(() => hangUp.close());
    const r1 = await check(hangUp.address);
    expect(r1).toMatchObject({ status: 'UNHEALTHY', reason: 'tls' });
    expect(r1.output).toMatch(/^TLS handshake failed: /);

    const notTls = await rawServer((socket) => socket.end('HTTP/1.1 400 Bad Request\r\n\r\n'));
    cleanups.push(() => notTls.close());
    expect(await check(notTls.address)).toMatchObject({ status: 'UNHEALTHY', reason: 'tls' });

    const garbage = await garbageServer();
    cleanups.push(() => garbage.close());
    const r3 = await check(garbage.address, {}, 500);
    // garbageServer waits for a request first: the ClientHello is one, and the bytes back are not TLS.
    expect(r3).toMatchObject({ status: 'UNHEALTHY', reason: 'tls' });
  });

  it('returns file descriptors to the baseline after many runs of every kind', async () => {
    const good = await serve(certs.valid);
    const untrusted = await serve(certs.selfSigned);
    const silent = await noHandshakeServer();
    cleanups.push(() => silent.close());
    const baseline = openFds();
    const runner = tlsCheck(tlsSpec(good.address, { server_name: 'localhost', ca_file: caFile }), checkDeps());
    for (let i = 0; i < 10; i++) {
      expect((await attempt(runner, 2000)).status).toBe('HEALTHY');
      expect((await check(untrusted.address, { server_name: 'localhost' })).reason).toBe('cert_untrusted');
      expect((await check(silent.address, {}, 50)).reason).toBe('timeout');
    }
    await runner.close?.();
    expect(await settleFds(baseline, 3000)).toBeLessThanOrEqual(baseline);
  });

  it('is UNKNOWN error when ca_file cannot be read or holds no certificate', async () => {
    const missing = await check('127.0.0.1:1', { ca_file: '/nonexistent/ca.pem' });
    expect(missing).toMatchObject({ status: 'UNKNOWN', reason: 'error' });
    expect(missing.output).toContain('/nonexistent/ca.pem');
    const junk = pems.write('junk.pem', 'not a certificate\n');
    expect(await check('127.0.0.1:1', { ca_file: junk })).toMatchObject({ status: 'UNKNOWN', reason: 'error' });
  });

  it('has the documented defaults and rejects critical_days above warn_days', () => {
    expect(tlsCheckSchema.parse({ kind: 'tls' })).toMatchObject({ warn_days: 30, critical_days: 7, verify: true });
    expect(tlsCheckSchema.safeParse({ kind: 'tls', warn_days: 5, critical_days: 10 }).success).toBe(false);
  });
});
