import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/core/clock.js';
import { registrationPolicySchema } from '../../src/config/security.js';
import { Admission, unmapIPv4 } from '../../src/registry/admission.js';
import { DnsDiscovery } from '../../src/registry/dns-discovery.js';
import { apiHarness } from '../helpers/api.js';
import { secureDaemon, type SecureDaemon } from './harness.js';

const TOKENS = { a: 'token-a-0123456789abcdef', b: 'token-b-0123456789abcdef', c: 'token-c-0123456789abcdef' };

function yaml(registration: string): string {
  return `
server: { listen: "127.0.0.1:0", tokens: [
  { name: a, token: "${TOKENS.a}", scopes: [write] },
  { name: b, token: "${TOKENS.b}", scopes: [write] },
  { name: c, token: "${TOKENS.c}", scopes: [write] } ] }
storage: { path: "$DIR/h.db" }
defaults: { interval: 1h }
registration: ${registration}
services:
  api:
    instances: [{ id: c1, address: "127.0.0.1:9" }, { id: c2, address: "127.0.0.1:10" }]
`;
}

async function register(s: SecureDaemon, body: unknown, token = TOKENS.a): Promise<{ status: number; message: string }> {
  const res = await s.daemon.server.inject({
    method: 'POST',
    url: '/api/v1/instances',
    headers: { authorization: `Bearer ${token}` },
    payload: body as object,
  });
  return { status: res.statusCode, message: res.statusCode >= 400 ? (res.json() as { message: string }).message : '' };
}

describe('run-time registrations with the default rules (loopback and private ranges)', () => {
  let s: SecureDaemon;
  beforeAll(async () => {
    s = await secureDaemon(yaml('{}'));
  });
  afterAll(async () => s?.stop());

  it('takes loopback and private addresses', async () => {
    for (const [id, address] of [
      ['l', '127.0.0.1:80'],
      ['p10', '10.1.2.3:80'],
      ['p192', '192.168.1.1:80'],
      ['p172', '172.16.0.1:80'],
      ['ula', '[fd00::1]:80'],
      ['name', 'localhost:80'],
    ]) {
      expect(await register(s, { service: 'web', id, address }), address).toEqual({ status: 201, message: '' });
    }
  });

  it('refuses link-local (cloud metadata), public, unspecified and IPv6-mapped forbidden addresses, naming the rule and the address', async () => {
    const cases: Array<[string, RegExp]> = [
      ['169.254.169.254:80', /^address: "169\.254\.169\.254" is outside registration\.allowed_networks/],
      ['8.8.8.8:53', /outside registration\.allowed_networks/],
      ['0.0.0.0:80', /^address: "0\.0\.0\.0" is an unspecified address, .*registration\.allowed_networks/],
      ['[::]:80', /unspecified address/],
      ['[::ffff:169.254.169.254]:80', /"::ffff:169\.254\.169\.254" \(169\.254\.169\.254\) is outside registration\.allowed_networks/],
      ['[::ffff:a9fe:a9fe]:80', /\(169\.254\.169\.254\) is outside/],
      ['[::ffff:0.0.0.0]:80', /unspecified address/],
      ['[2001:db8::1]:80', /outside registration\.allowed_networks/],
    ];
    for (const [address, message] of cases) {
      const res = await register(s, { service: 'web', id: 'x', address });
      expect(res.status, address).toBe(403);
      expect(res.message, address).toMatch(message);
    }
    expect(s.daemon.registry.instance('web/x')).toBeUndefined();
  });

  it('checks where each check connects, not only the instance address', async () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ kind: 'http', url: 'http://169.254.169.254/latest/meta-data/' }, /^checks\[0\]\.url: "169\.254\.169\.254" is outside/],
      [{ kind: 'http', url: 'http://[::ffff:169.254.169.254]:8080/' }, /^checks\[0\]\.url: .*\(169\.254\.169\.254\) is outside/],
      [{ kind: 'tcp', address: '8.8.8.8:53' }, /^checks\[0\]\.address: "8\.8\.8\.8" is outside/],
      [{ kind: 'dns', server: '1.1.1.1', query: 'example.com' }, /^checks\[0\]\.server: "1\.1\.1\.1" is outside/],
      [{ kind: 'tls', address: '0.0.0.0:443' }, /^checks\[0\]\.address: "0\.0\.0\.0" is an unspecified address/],
    ];
    for (const [check, message] of cases) {
      const res = await register(s, { service: 'web', id: 'y', address: '10.0.0.9:80', checks: [check] });
      expect(res.status, JSON.stringify(check)).toBe(403);
      expect(res.message, JSON.stringify(check)).toMatch(message);
    }
  });

  it('refuses exec and custom checks over the API: they run code and come only from the config file', async () => {
    for (const check of [
      { kind: 'exec', command: ['/bin/sh', '-c', 'id'] },
      { kind: 'custom', module: './x.js' },
    ]) {
      const res = await register(s, { service: 'web', id: 'z', address: '10.0.0.9:80', checks: [check] });
      expect(res.status, `${check.kind}: ${res.message}`).toBe(403);
      expect(res.message).toMatch(/^checks\[0\]\.kind: "(exec|custom)" runs code .*registration check kinds/);
    }
    expect((await register(s, { service: 'web', id: 'z', address: '10.0.0.9:80', checks: [{ kind: 'exec', command: ['/bin/true'] }] })).status).toBe(403);
  });
});

describe('registration.allowed_networks, allowed_ports and the limits', () => {
  let s: SecureDaemon;
  beforeAll(async () => {
    s = await secureDaemon(
      yaml('{ allowed_networks: [10.0.0.0/8], allowed_ports: [80, "8000-8999"], max_total: 2, max_per_token: 1, max_per_service: 3, max_body_bytes: 1024 }'),
    );
  });
  afterAll(async () => s?.stop());

  it('refuses a name that resolves outside the networks, and a port outside the list', async () => {
    const named = await register(s, { service: 'web', id: 'n', address: 'localhost:80' });
    expect(named.status).toBe(403);
    expect(named.message).toMatch(/^address: "localhost" \((127\.0\.0\.1|::1)\) is outside registration\.allowed_networks \(10\.0\.0\.0\/8\)/);
    const port = await register(s, { service: 'web', id: 'n', address: '10.0.0.1:22' });
    expect(port).toEqual({ status: 403, message: 'address: port 22 is not in registration.allowed_ports (80, 8000-8999)' });
    expect((await register(s, { service: 'web', id: 'n', address: '10.0.0.1:8443' })).status).toBe(201);
  });

  it('answers 4xx naming each limit: per token, in total, per service, body size', async () => {
    // Token a has its one registration (above).
    expect(await register(s, { service: 'web', id: 'n2', address: '10.0.0.2:80' })).toEqual({
      status: 429,
      message: 'registration.max_per_token: token "a" has 1 registrations, the most one token may have',
    });
    // Re-registering the same instance is no new registration.
    expect((await register(s, { service: 'web', id: 'n', address: '10.0.0.1:80' })).status).toBe(201);
    expect(await register(s, { service: 'api', id: 'b1', address: '10.0.0.3:80' }, TOKENS.b)).toEqual({ status: 201, message: '' });
    expect((await register(s, { service: 'web', id: 'c1', address: '10.0.0.4:80' }, TOKENS.c)).message).toMatch(
      /^registration\.max_total: 2 run-time registrations/,
    );
    await s.daemon.server.inject({ method: 'DELETE', url: '/api/v1/instances/web/n', headers: { authorization: `Bearer ${TOKENS.a}` } });
    // api has 2 config instances and b1: the next one would be its fourth.
    expect(await register(s, { service: 'api', id: 'c2x', address: '10.0.0.5:80' }, TOKENS.c)).toEqual({
      status: 429,
      message: 'registration.max_per_service: service "api" has 3 instances, the most one service may have',
    });
    const big = await register(s, { service: 'web', id: 'big', address: '10.0.0.6:80', metadata: { blob: 'x'.repeat(2000) } }, TOKENS.c);
    expect(big).toEqual({ status: 413, message: '(body): larger than registration.max_body_bytes (1024 bytes)' });
  });
});

describe('DNS discovery', () => {
  it('leaves out SRV records whose target lies outside the allowed networks, saying why', async () => {
    const h = await apiHarness('services:\n  disc: {}\n');
    try {
      const admission = new Admission(registrationPolicySchema.parse({}), h.registry);
      const lines: string[] = [];
      const logger = pino({ level: 'warn' }, { write: (l: string) => void lines.push((JSON.parse(l) as { msg: string }).msg) });
      const records = [
        { target: '10.0.0.7', port: 80, weight: 1 },
        { target: '169.254.169.254', port: 80, weight: 1 },
        { target: '0.0.0.0', port: 80, weight: 1 },
      ];
      const discovery = new DnsDiscovery(
        h.registry,
        new FakeClock(0),
        logger,
        async () => records,
        (a) => admission.addressProblem(a),
      );
      await discovery.refresh('disc', { query: '_x._tcp.example', server: '127.0.0.1:53', interval: 60_000 });
      discovery.stop();
      expect(h.registry.instancesOf('disc').map((r) => r.address)).toEqual(['10.0.0.7:80']);
      expect(lines.join('\n')).toMatch(/SRV record of disc left out: address: "169\.254\.169\.254" is outside registration\.allowed_networks/);
      expect(lines.join('\n')).toMatch(/left out: address: "0\.0\.0\.0" is an unspecified address/);
    } finally {
      await h.close();
    }
  });
});

describe('IPv6-mapped IPv4', () => {
  it('reads every spelling of a mapped address as the IPv4 address', () => {
    expect(unmapIPv4('::ffff:127.0.0.1')).toBe('127.0.0.1');
    expect(unmapIPv4('::FFFF:7f00:1')).toBe('127.0.0.1');
    expect(unmapIPv4('0:0:0:0:0:ffff:a9fe:a9fe')).toBe('169.254.169.254');
    expect(unmapIPv4('fd00::1')).toBe('fd00::1');
    expect(unmapIPv4('10.0.0.1')).toBe('10.0.0.1');
  });
});
