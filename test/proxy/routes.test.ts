import { describe, expect, it } from 'vitest';
import type { ProxyRoute } from '../../src/config/balancer.js';
import { compileRoutes, normalizeHost } from '../../src/proxy/routes.js';

const route = (r: Partial<ProxyRoute> & { service: string }): ProxyRoute => ({ strip_prefix: false, ...r });

const table = compileRoutes([
  route({ host: 'api.example.com', path_prefix: '/v1', service: 'api-v1', strip_prefix: true }),
  route({ host: 'api.example.com', service: 'api' }),
  route({ host: '*.example.com', path_prefix: '/static/', service: 'static' }),
  route({ host: '*.example.com', service: 'wild' }),
  route({ path_prefix: '/api', service: 'any-api', strip_prefix: true }),
  route({ path_prefix: '/', service: 'fallback' }),
]);

describe('route table', () => {
  it.each([
    // host, target, service, forwarded path
    ['api.example.com', '/v1/users?x=1', 'api-v1', '/users?x=1'],
    ['API.Example.COM:8443', '/v1', 'api-v1', '/'],
    ['api.example.com', '/v1?q', 'api-v1', '/?q'],
    ['api.example.com', '/v1x', 'api', '/v1x'],
    ['api.example.com', '/other', 'api', '/other'],
    ['a.example.com', '/static/app.js', 'static', '/static/app.js'],
    ['a.example.com', '/static', 'static', '/static'],
    ['a.example.com', '/staticx', 'wild', '/staticx'],
    ['a.b.example.com', '/', 'wild', '/'],
    ['example.com', '/api/x', 'any-api', '/x'],
    ['example.com', '/api', 'any-api', '/'],
    ['example.com', '/apix', 'fallback', '/apix'],
    ['notexample.com', '/', 'fallback', '/'],
    [undefined, '/api/deep/er', 'any-api', '/deep/er'],
  ] as const)('%s %s → %s %s', (host, target, service, path) => {
    const m = table.match(host, target);
    expect(m?.service).toBe(service);
    expect(m?.path).toBe(path);
  });

  it('matches nothing when no route fits (no catch-all)', () => {
    const t = compileRoutes([route({ host: 'a.test', service: 'a' }), route({ path_prefix: '/x', service: 'x' })]);
    expect(t.match('b.test', '/y')).toBeUndefined();
    expect(t.match(undefined, '/xy')).toBeUndefined();
    expect(t.match('b.test', '*')).toBeUndefined();
  });

  it('first match wins even when a later route is more specific', () => {
    const t = compileRoutes([route({ path_prefix: '/a', service: 'short' }), route({ path_prefix: '/a/b', service: 'long' })]);
    expect(t.match(undefined, '/a/b/c')?.service).toBe('short');
  });

  it.each([
    ['Example.COM:8080', 'example.com'],
    ['example.com.', 'example.com'],
    ['[::1]:80', '[::1]'],
    ['[::1]', '[::1]'],
    ['host', 'host'],
  ])('normalizes host %s → %s', (raw, norm) => {
    expect(normalizeHost(raw)).toBe(norm);
  });
});
