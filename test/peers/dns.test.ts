import { createSocket } from 'node:dgram';
import { lookup } from 'node:dns/promises';
import type { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { dnsCheck, dnsReasonFromError, resolveSrv } from '../../src/checks/dns.js';
import { createRunner } from '../../src/checks/index.js';
import { dnsCheckSchema, type DnsCheckConfig } from '../../src/config/kinds/dns.js';
import type { CheckRunner, CheckSpec } from '../../src/core/check.js';
import { useCleanups } from '../helpers/cleanups.js';
import { openFds, settleFds } from '../helpers/fds.js';
import { dnsServer, type DnsTestServer } from '../helpers/dns-server.js';
import { attempt, checkDeps, type TimedOutcome } from '../helpers/run-check.js';
import { fakeSpec } from '../helpers/spec.js';

type DnsInput = Omit<z.input<typeof dnsCheckSchema>, 'kind'>;

const { cleanups } = useCleanups();

async function server(): Promise<DnsTestServer> {
  const s = await dnsServer();
  cleanups.push(() => s.close());
  return s;
}

/** A dns CheckSpec for an instance at `address`; the config goes through the schema. */
function dnsSpec(address: string, input: DnsInput, timeoutMs = 2000): CheckSpec<DnsCheckConfig> {
  return {
    ...fakeSpec('svc/i1/dns', { address, timeoutMs }),
    kind: 'dns' as CheckSpec['kind'],
    name: 'dns',
    config: dnsCheckSchema.parse({ kind: 'dns', ...input }),
  };
}

function runner(address: string, input: DnsInput, timeoutMs = 2000): CheckRunner {
  const r = createRunner(dnsSpec(address, input, timeoutMs), checkDeps());
  cleanups.push(() => r.close?.());
  return r;
}

/** One run with the scheduler's abort at the spec's timeout. */
function check(address: string, input: DnsInput, timeoutMs = 2000): Promise<TimedOutcome> {
  return attempt(runner(address, input, timeoutMs), timeoutMs);
}

/** A UDP port on 127.0.0.1 that nothing listens on (bound, then released). */
async function closedUdpPort(): Promise<number> {
  const s = createSocket('udp4');
  const port = await new Promise<number>((resolve) => s.bind(0, '127.0.0.1', () => resolve(s.address().port)));
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe('dns check against a real DNS server on loopback', () => {
  it('is HEALTHY when A records come back, and lists them with a count', async () => {
    const s = await server();
    s.set('api.test', 'A', ['10.0.0.1', '10.0.0.2']);
    const r = await check(s.address, { query: 'api.test' });
    expect(r).toMatchObject({ status: 'HEALTHY', reason: 'ok', metrics: { answers: 2 } });
    expect(r.output).toMatch(/^2 A answers for api\.test in [\d.]+ ms: 10\.0\.0\.1, 10\.0\.0\.2$/);
    expect(s.queries).toEqual([{ name: 'api.test', type: 'A' }]);
  });

  it('asks `server` when set, not the instance address', async () => {
    const s = await server();
    s.set('api.test', 'A', ['10.0.0.1']);
    const closed = await closedUdpPort();
    const r = await check(`127.0.0.1:${closed}`, { query: 'api.test', server: s.address });
    expect(r).toMatchObject({ status: 'HEALTHY', reason: 'ok' });
  });

  it('looks up a server given by host name', async () => {
    // The helper listens on 127.0.0.1 only; this machine must map localhost there.
    expect((await lookup('localhost')).address).toBe('127.0.0.1');
    const s = await server();
    s.set('api.test', 'A', ['10.0.0.1']);
    const r = await check('127.0.0.1:1', { query: 'api.test', server: `localhost:${s.port}` });
    expect(r).toMatchObject({ status: 'HEALTHY', reason: 'ok' });
  });

  it('finds AAAA records and matches an expected address written in any IPv6 form', async () => {
    const s = await server();
    s.set('v6.test', 'AAAA', ['2001:db8::1', '::1']);
    const r = await check(s.address, { query: 'v6.test', type: 'AAAA', expect: { contains: ['2001:0DB8:0:0::1'] } });
    expect(r).toMatchObject({ status: 'HEALTHY', metrics: { answers: 2 } });
    expect(r.output).toContain('2001:db8::1, ::1');
  });

  it('returns SRV records with target, port, priority and weight, and matches "target:port"', async () => {
    const s = await server();
    s.set('_http._tcp.svc.test', 'SRV', [
      { priority: 10, weight: 60, port: 8080, target: 'node1.svc.test' },
      { priority: 20, weight: 40, port: 9090, target: 'Node2.svc.test.' },
    ]);
    const ok = await check(s.address, {
      query: '_http._tcp.svc.test',
      type: 'SRV',
      expect: { contains: ['node1.svc.test:8080', 'node2.svc.test.:9090'] },
    });
    expect(ok).toMatchObject({ status: 'HEALTHY', metrics: { answers: 2 } });
    expect(ok.output).toContain('10 60 node1.svc.test:8080, 20 40 node2.svc.test:9090');

    const wrongPort = await check(s.address, {
      query: '_http._tcp.svc.test',
      type: 'SRV',
      expect: { contains: ['node1.svc.test:8081'] },
    });
    expect(wrongPort).toMatchObject({ status: 'UNHEALTHY', reason: 'answer_mismatch' });
    expect(wrongPort.output).toContain('missing "node1.svc.test:8081"');

    // The form discovery reuses.
    const records = await resolveSrv(s.address, '_http._tcp.svc.test');
    expect(records).toEqual([
      { target: 'node1.svc.test', port: 8080, priority: 10, weight: 60 },
      { target: 'node2.svc.test', port: 9090, priority: 20, weight: 40 },
    ]);
  });

  it('resolveSrv rejects with the resolver code, which maps to the check reasons', async () => {
    const s = await server();
    s.fail('gone.test', 'SERVFAIL');
    const nx = await resolveSrv(s.address, '_x._tcp.none.test').catch((e: unknown) => e);
    expect(dnsReasonFromError(nx)).toBe('nxdomain');
    const sf = await resolveSrv(s.address, 'gone.test').catch((e: unknown) => e);
    expect(dnsReasonFromError(sf)).toBe('servfail');
    s.silent('slow.test');
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 100);
    const t0 = performance.now();
    const aborted = await resolveSrv(s.address, 'slow.test', ac.signal, 5000).catch((e: unknown) => e);
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(dnsReasonFromError(aborted)).toBe('timeout');
  });

  it('matches TXT records on their strings joined', async () => {
    const s = await server();
    s.set('txt.test', 'TXT', [['v=spf1 ', 'include:mail.test ~all'], ['site-verification=abc']]);
    const ok = await check(s.address, {
      query: 'txt.test',
      type: 'TXT',
      expect: { contains: ['v=spf1 include:mail.test ~all', 'site-verification=abc'] },
    });
    expect(ok).toMatchObject({ status: 'HEALTHY', metrics: { answers: 2 } });
    expect(ok.output).toContain('"v=spf1 include:mail.test ~all"');

    const bad = await check(s.address, { query: 'txt.test', type: 'TXT', expect: { contains: ['v=spf1'] } });
    expect(bad).toMatchObject({ status: 'UNHEALTHY', reason: 'answer_mismatch' });
  });

  it('resolves CNAME, MX and NS records, comparing names without case or trailing dot', async () => {
    const s = await server();
    s.set('www.test', 'CNAME', ['Edge.CDN.test.']);
    s.set('mail.test', 'MX', [
      { preference: 10, exchange: 'mx1.mail.test' },
      { preference: 20, exchange: 'mx2.mail.test' },
    ]);
    s.set('zone.test', 'NS', ['ns1.zone.test', 'ns2.zone.test']);
    const cname = await check(s.address, { query: 'www.test', type: 'CNAME', expect: { contains: ['edge.cdn.test'] } });
    expect(cname).toMatchObject({ status: 'HEALTHY', metrics: { answers: 1 } });
    const mx = await check(s.address, { query: 'mail.test', type: 'MX', expect: { contains: ['mx2.mail.test.'] } });
    expect(mx).toMatchObject({ status: 'HEALTHY', metrics: { answers: 2 } });
    expect(mx.output).toContain('10 mx1.mail.test, 20 mx2.mail.test');
    const ns = await check(s.address, { query: 'zone.test', type: 'NS', expect: { count_min: 2 } });
    expect(ns).toMatchObject({ status: 'HEALTHY', metrics: { answers: 2 } });
  });

  it('enforces count_min and count_max', async () => {
    const s = await server();
    s.set('pool.test', 'A', ['10.0.0.1', '10.0.0.2', '10.0.0.3']);
    const exact = await check(s.address, { query: 'pool.test', expect: { count_min: 3, count_max: 3 } });
    expect(exact.status).toBe('HEALTHY');
    const tooFew = await check(s.address, { query: 'pool.test', expect: { count_min: 4 } });
    expect(tooFew).toMatchObject({ status: 'UNHEALTHY', reason: 'answer_mismatch', metrics: { answers: 3 } });
    expect(tooFew.output).toMatch(/^expected at least 4 answers; got 3 A answers: /);
    const tooMany = await check(s.address, { query: 'pool.test', expect: { count_max: 2 } });
    expect(tooMany).toMatchObject({ status: 'UNHEALTHY', reason: 'answer_mismatch' });
    expect(tooMany.output).toMatch(/^expected at most 2 answers/);
  });

  it('truncates a long answer list in the output', async () => {
    const s = await server();
    s.set(
      'many.test',
      'A',
      Array.from({ length: 12 }, (_, i) => `10.0.1.${i + 1}`),
    );
    const r = await check(s.address, { query: 'many.test' });
    expect(r).toMatchObject({ status: 'HEALTHY', metrics: { answers: 12 } });
    expect(r.output).toMatch(/10\.0\.1\.5, … \+7 more$/);
  });

  it('tells NXDOMAIN, SERVFAIL and REFUSED apart', async () => {
    const s = await server();
    s.fail('broken.test', 'SERVFAIL');
    s.fail('private.test', 'REFUSED');
    const nx = await check(s.address, { query: 'nowhere.test' });
    expect(nx).toMatchObject({ status: 'UNHEALTHY', reason: 'nxdomain' });
    expect(nx.output).toContain('NXDOMAIN');
    const sf = await check(s.address, { query: 'broken.test' });
    expect(sf).toMatchObject({ status: 'UNHEALTHY', reason: 'servfail' });
    expect(sf.output).toContain('SERVFAIL');
    const rf = await check(s.address, { query: 'private.test' });
    expect(rf).toMatchObject({ status: 'UNHEALTHY', reason: 'dns_refused' });
  });

  it('reports a name without records of the type (ENODATA) as answer_mismatch', async () => {
    const s = await server();
    s.set('v4only.test', 'A', ['10.0.0.1']);
    const r = await check(s.address, { query: 'v4only.test', type: 'AAAA' });
    expect(r).toMatchObject({ status: 'UNHEALTHY', reason: 'answer_mismatch', metrics: { answers: 0 } });
    expect(r.output).toContain('no AAAA records for v4only.test');
  });

  it('times out at the attempt timeout when the server never answers: the abort ends the query', async () => {
    const s = await server();
    s.silent(undefined);
    const baseline = openFds();
    // The resolver's own limit is the spec timeout (10 s); only the abort at 300 ms can end it that early.
    const r = runner(s.address, { query: 'api.test' }, 10_000);
    const res = await attempt(r, 300);
    expect(res).toMatchObject({ status: 'UNHEALTHY', reason: 'timeout' });
    expect(res.output).toMatch(/^timed out after \d+ ms waiting for the answer \(A api\.test @ 127\.0\.0\.1:\d+\)$/);
    expect(res.elapsedMs).toBeLessThan(300 + 500);
    // c-ares holds a socket while a query is pending: its release shows the query was cancelled.
    expect(await settleFds(baseline, 1000)).toBeLessThanOrEqual(baseline);
    // The cancelled query does not linger: the next run on the same resolver answers.
    s.silent(undefined, false);
    s.set('api.test', 'A', ['10.0.0.9']);
    const next = await attempt(r, 2000);
    expect(next).toMatchObject({ status: 'HEALTHY', reason: 'ok' });
  });

  it("an abort cancels only its own check's query, not another check's", async () => {
    const s = await server();
    s.silent('dead.test');
    s.set('late.test', 'A', ['10.0.0.7']);
    s.delay('late.test', 400);
    const aborted = attempt(runner(s.address, { query: 'dead.test' }), 100);
    const other = attempt(runner(s.address, { query: 'late.test' }), 3000);
    expect(await aborted).toMatchObject({ reason: 'timeout' });
    expect(await other).toMatchObject({ status: 'HEALTHY', reason: 'ok' });
  });

  it('an aborted run does not cancel a concurrent run of the same check', async () => {
    const s = await server();
    s.set('late.test', 'A', ['10.0.0.7']);
    s.delay('late.test', 300);
    const r = runner(s.address, { query: 'late.test' });
    const first = attempt(r, 100);
    const second = attempt(r, 3000);
    expect(await first).toMatchObject({ reason: 'timeout' });
    expect(await second).toMatchObject({ status: 'HEALTHY', reason: 'ok' });
  });

  it('ends a pending run as aborted when the check is closed under it', async () => {
    const s = await server();
    s.silent(undefined);
    const r = dnsCheck(dnsSpec(s.address, { query: 'api.test' }, 10_000), checkDeps());
    const pending = attempt(r, 5000);
    await new Promise((done) => setTimeout(done, 50));
    r.close?.();
    const res = await pending;
    expect(res).toMatchObject({ status: 'UNHEALTHY', reason: 'aborted' });
    expect(res.elapsedMs).toBeLessThan(1000);
  });

  it('sees answers change between runs of one check', async () => {
    const s = await server();
    s.set('flip.test', 'A', ['10.0.0.1']);
    const r = runner(s.address, { query: 'flip.test', expect: { contains: ['10.0.0.2'] } });
    expect(await attempt(r, 2000)).toMatchObject({ status: 'UNHEALTHY', reason: 'answer_mismatch' });
    s.set('flip.test', 'A', ['10.0.0.2']);
    expect(await attempt(r, 2000)).toMatchObject({ status: 'HEALTHY', reason: 'ok' });
    s.remove('flip.test');
    expect(await attempt(r, 2000)).toMatchObject({ status: 'UNHEALTHY', reason: 'nxdomain' });
    expect(s.queries.length).toBe(3);
  });

  it('is DEGRADED (slow) when the answer comes after degraded_after', async () => {
    const s = await server();
    s.set('slow.test', 'A', ['10.0.0.1']);
    s.delay('slow.test', 200);
    const r = await check(s.address, { query: 'slow.test', degraded_after: '50ms' });
    expect(r).toMatchObject({ status: 'DEGRADED', reason: 'slow', metrics: { answers: 1 } });
    expect(r.output).toContain('over degraded_after 50 ms');
  });

  it('reports connect_refused when nothing listens on the server port', async () => {
    const port = await closedUdpPort();
    const r = await check(`127.0.0.1:${port}`, { query: 'api.test' });
    expect(r).toMatchObject({ status: 'UNHEALTHY', reason: 'connect_refused' });
  });

  it('says UNKNOWN error for an SRV expectation without a port', () => {
    const spec = dnsSpec('127.0.0.1:53', { query: 'x.test', type: 'SRV', expect: { contains: ['node1.test'] } });
    return expect(attempt(createRunner(spec, checkDeps()), 1000)).resolves.toMatchObject({ status: 'UNKNOWN', reason: 'error' });
  });

  it('rejects count_min above count_max in the schema', () => {
    const r = dnsCheckSchema.safeParse({ kind: 'dns', query: 'a.test', expect: { count_min: 3, count_max: 1 } });
    expect(r.success).toBe(false);
    expect(dnsCheckSchema.parse({ kind: 'dns', query: 'a.test' })).toMatchObject({ type: 'A' });
  });

  it('leaves no file descriptors behind after many runs, timeouts and close()', async () => {
    const s = await server();
    s.set('api.test', 'A', ['10.0.0.1']);
    s.silent('dead.test');
    const baseline = openFds();
    for (let i = 0; i < 5; i++) {
      const ok = dnsCheck(dnsSpec(s.address, { query: 'api.test' }), checkDeps());
      expect((await attempt(ok, 2000)).status).toBe('HEALTHY');
      ok.close?.();
      const dead = dnsCheck(dnsSpec(s.address, { query: 'dead.test' }), checkDeps());
      expect((await attempt(dead, 50)).reason).toBe('timeout');
      dead.close?.();
    }
    expect(await settleFds(baseline, 3000)).toBeLessThanOrEqual(baseline);
  });
});
