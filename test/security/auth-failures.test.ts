import { describe, expect, it } from 'vitest';
import { TokenSet, tokenEntries } from '../../src/security/tokens.js';
import { apiHarness } from '../helpers/api.js';

const YAML = `
defaults: { interval: 1h }
services:
  api:
    instances: [{ id: a1, address: "10.0.0.1:80" }]
    checks: [{ kind: tcp }]
`;
const GOOD = 'the-good-token-0123456789';

describe('failed authentication', () => {
  it('answers 429 after 10 bad tokens from one address within a second, even to the right token, until the second is over', async () => {
    const h = await apiHarness(YAML, { deps: { token: GOOD, protectReads: true } });
    try {
      const get = (token: string, remoteAddress = '10.0.0.7') =>
        h.app.inject({ url: '/api/v1/services', remoteAddress, headers: { authorization: `Bearer ${token}` } });
      for (let i = 0; i < 10; i++) expect((await get(`wrong-${i}`)).statusCode).toBe(401);
      const limited = await get(GOOD);
      expect(limited.statusCode).toBe(429);
      expect(limited.headers['retry-after']).toBe('1');
      expect(limited.json().message).toContain('too many failed authentications from 10.0.0.7');
      // Another address is not held back by this one's failures.
      expect((await get(GOOD, '10.0.0.8')).statusCode).toBe(200);
      h.clock.advance(999);
      expect((await get(GOOD)).statusCode).toBe(429);
      h.clock.advance(1);
      expect((await get(GOOD)).statusCode).toBe(200);
      // Nine failures spread over windows never trip it.
      for (let i = 0; i < 9; i++) expect((await get('wrong')).statusCode).toBe(401);
      h.clock.advance(1000);
      for (let i = 0; i < 9; i++) expect((await get('wrong')).statusCode).toBe(401);
      expect((await get(GOOD)).statusCode).toBe(200);
    } finally {
      await h.close();
    }
  });
});

describe('tokens', () => {
  it('keeps the single server.token working as admin, named server.token', () => {
    const set = new TokenSet(tokenEntries({ token: 'single-token-0123456789', tokens: [{ name: 'ci', token: 'ci-token-0123456789xx', scopes: ['read'] }] }));
    expect(set.size).toBe(2);
    const single = set.authenticate('Bearer single-token-0123456789')!;
    expect(single.name).toBe('server.token');
    expect([...single.scopes]).toEqual(['admin']);
    expect(set.authenticate('bearer ci-token-0123456789xx')!.name).toBe('ci');
  });

  it('matches whole tokens only: no prefix, no extension, no empty or other scheme', () => {
    const set = new TokenSet([{ name: 'a', token: 'abcdefghijklmnop', scopes: ['read'] }]);
    for (const header of ['Bearer abcdefghijklmno', 'Bearer abcdefghijklmnopq', 'Bearer ', 'Basic abcdefghijklmnop', 'abcdefghijklmnop', undefined]) {
      expect(set.authenticate(header), String(header)).toBeNull();
    }
  });

  it('refuses a token of the empty string even when the set would hash it', () => {
    // An Authorization header without a bearer value is hashed like '' and must never match anything.
    const set = new TokenSet([{ name: 'a', token: 'x'.repeat(16), scopes: ['read'] }]);
    expect(set.authenticate('Bearer')).toBeNull();
  });
});

describe('metrics.protect', () => {
  it('asks for the read scope on /metrics only, with reads otherwise open', async () => {
    const { createMetrics } = await import('../../src/metrics/metrics.js');
    const h = await apiHarness(YAML, {
      deps: ({ engine, rollup }) => ({
        metrics: createMetrics({ engine, rollup, processMetrics: false }),
        security: {
          tokens: new TokenSet([
            { name: 'prom', token: 'prometheus-token-0123', scopes: ['read'] },
            { name: 'w', token: 'writer-token-012345678', scopes: ['write'] },
          ]),
          protectMetrics: true,
        },
      }),
    });
    try {
      expect((await h.app.inject('/metrics')).statusCode).toBe(401);
      expect((await h.app.inject({ url: '/metrics', headers: { authorization: 'Bearer writer-token-012345678' } })).statusCode).toBe(403);
      expect((await h.app.inject({ url: '/metrics', headers: { authorization: 'Bearer prometheus-token-0123' } })).statusCode).toBe(200);
      expect((await h.app.inject('/api/v1/services')).statusCode).toBe(200);
      expect((await h.app.inject('/health')).statusCode).toBe(200);
      // Mutating calls need a token whatever protect_reads says.
      expect((await h.app.inject({ method: 'PUT', url: '/api/v1/checks/api%2Fa1%2Ftcp/ttl', payload: { status: 'pass' } })).statusCode).toBe(401);
    } finally {
      await h.close();
    }
  });
});
