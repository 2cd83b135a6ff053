import { describe, expect, it } from 'vitest';
import { TokenSet } from '../../src/security/tokens.js';
import { apiHarness } from '../helpers/api.js';

const YAML = `
defaults: { interval: 1h }
services:
  api:
    instances: [{ id: a1, address: "10.0.0.1:80" }]
    checks: [{ kind: tcp }]
`;

describe('status pages and badges with scoped tokens', () => {
  it('open to a read token as to the single token; a page with its own token opens with that token only', async () => {
    const h = await apiHarness(YAML, {
      deps: ({ clock }) => ({
        protectReads: true,
        security: {
          tokens: new TokenSet([
            { name: 'r', token: 'reader-token-0123456789', scopes: ['read'] },
            { name: 'w', token: 'writer-token-0123456789', scopes: ['write'] },
          ]),
        },
        web: {
          clock,
          statusPages: () => ({
            internal: { title: 'Internal', services: ['api'], public: false },
            partners: { title: 'Partners', services: ['api'], public: false, token: 'partner-token-0123456789' },
          }),
        },
      }),
    });
    try {
      const get = (url: string, token?: string) => h.app.inject({ url, ...(token ? { headers: { authorization: `Bearer ${token}` } } : {}) });
      expect((await get('/api/v1/status/internal')).statusCode).toBe(401);
      expect((await get('/api/v1/status/internal', 'writer-token-0123456789')).statusCode).toBe(401);
      expect((await get('/api/v1/status/internal', 'reader-token-0123456789')).statusCode).toBe(200);
      expect((await get('/api/v1/status/partners', 'reader-token-0123456789')).statusCode).toBe(401);
      expect((await get('/api/v1/status/partners', 'partner-token-0123456789')).statusCode).toBe(200);
      expect((await get('/badge/api/status.svg')).statusCode).toBe(401);
      expect((await get('/badge/api/status.svg', 'writer-token-0123456789')).statusCode).toBe(401);
      expect((await get('/badge/api/status.svg', 'reader-token-0123456789')).statusCode).toBe(200);

      // Guessing a page's token is held back like guessing an API token (the failures above count too).
      const guess = (i: number) => h.app.inject({ url: '/api/v1/status/partners', remoteAddress: '10.3.3.3', headers: { authorization: `Bearer guess-${i}` } });
      for (let i = 0; i < 10; i++) expect((await guess(i)).statusCode).toBe(401);
      expect((await guess(10)).statusCode).toBe(429);
      expect(
        (await h.app.inject({ url: '/api/v1/status/partners', remoteAddress: '10.3.3.3', headers: { authorization: 'Bearer partner-token-0123456789' } }))
          .statusCode,
      ).toBe(429);
      h.clock.advance(1000);
      expect(
        (await h.app.inject({ url: '/api/v1/status/partners', remoteAddress: '10.3.3.3', headers: { authorization: 'Bearer partner-token-0123456789' } }))
          .statusCode,
      ).toBe(200);
    } finally {
      await h.close();
    }
  });
});
