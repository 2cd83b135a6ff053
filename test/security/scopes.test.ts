import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { guardOf, type GuardedRoute } from '../../src/security/guard.js';
import { ROUTE_ACCESS } from '../../src/security/scopes.js';
import { secureDaemon, type SecureDaemon } from './harness.js';

/**
 * Every route of the real daemon (alerts, reload and history included) ×
 * every kind of caller: no token, a wrong one, and a token of each scope.
 * The routes come from the guard's own record of the route table (fastify's
 * onRoute), so a route added later is walked too.
 */

const TOKENS = { reader: 'reader-token-0123456789', writer: 'writer-token-0123456789', admin: 'admin-token-01234567890', single: 'single-token-0123456789' };
const YAML = `
server: { listen: "127.0.0.1:0", protect_reads: true, token: "${TOKENS.single}",
  tokens: [
    { name: reader, token: "${TOKENS.reader}", scopes: [read] },
    { name: writer, token: "${TOKENS.writer}", scopes: [write] },
    { name: admin, token: "${TOKENS.admin}", scopes: [admin] } ] }
metrics: { protect: true }
storage: { path: "$DIR/h.db" }
defaults: { interval: 1h }
services:
  api:
    instances: [{ id: a1, address: "127.0.0.1:9" }]
    checks: [{ kind: ttl, ttl: 1h }]
    balancer: {}
alerts:
  notifiers: { log: { kind: webhook, url: "http://127.0.0.1:9/hook" } }
  rules: [{ name: down, scope: instance, when: { kind: status, is: UNHEALTHY }, level: critical, notify: [log] }]
`;

/** A request that exercises each route pattern. */
const SAMPLES: Record<string, { url: string; payload?: unknown }> = {
  'GET /api/v1/instances/*': { url: '/api/v1/instances/api/a1' },
  'DELETE /api/v1/instances/*': { url: '/api/v1/instances/api/nope' },
  'GET /api/v1/checks/*': { url: '/api/v1/checks/api%2Fa1%2Fttl' },
  'PUT /api/v1/checks/*': { url: '/api/v1/checks/api%2Fa1%2Fttl/ttl', payload: { status: 'pass' } },
  'POST /api/v1/instances': { url: '/api/v1/instances', payload: { service: 'api', id: 'r1', address: '127.0.0.1:10' } },
  'POST /api/v1/services/:service/balancer/reports': { url: '/api/v1/services/api/balancer/reports', payload: { reports: [] } },
  'POST /api/v1/silences': { url: '/api/v1/silences', payload: { matchers: { service: 'api' }, duration: '1m' } },
  'POST /api/v1/reload': { url: '/api/v1/reload' },
  'GET /assets/*': { url: '/assets/x.js' },
};

function sample(route: GuardedRoute): { url: string; payload?: unknown } {
  const key = `${route.method === 'HEAD' ? 'GET' : route.method} ${route.url}`;
  if (SAMPLES[key]) return SAMPLES[key];
  const url = route.url
    .replace(/:service\b/g, 'api')
    .replace(/:instance\b/g, 'a1')
    .replace(/:name\b/g, 'ttl')
    .replace(/:(id|slug)\b/g, 'x');
  if (url.includes('*')) throw new Error(`no sample request for ${key}: add one to SAMPLES`);
  return { url };
}

/** An event stream does not end: its status is read from a real request, which is then cut. */
async function streamStatus(url: string, header: string): Promise<{ statusCode: number; body: string; json(): { message: string } }> {
  const abort = new AbortController();
  const res = await fetch(`http://127.0.0.1:${s.daemon.address.port}${url}`, { headers: { authorization: header }, signal: abort.signal });
  abort.abort();
  return { statusCode: res.status, body: '', json: () => ({ message: '' }) };
}

let s: SecureDaemon;
let routes: GuardedRoute[];
let address = 0;
/** Each request from its own address: the failure limit is tested on its own, not tripped here. */
const nextAddress = () => `10.9.${Math.floor(++address / 250)}.${(address % 250) + 1}`;

beforeAll(async () => {
  s = await secureDaemon(YAML);
  routes = [...guardOf(s.daemon.server)!.routes];
});
afterAll(async () => s.stop());

describe('every route × every scope', () => {
  it('has every route of the daemon in the table, the mutating ones and the alert routes among them', () => {
    const mutating = routes.filter((r) => !['GET', 'HEAD'].includes(r.method));
    expect(mutating.map((r) => `${r.method} ${r.url}`)).toEqual(
      expect.arrayContaining([
        'DELETE /api/v1/instances/*',
        'DELETE /api/v1/silences/:id',
        'POST /api/v1/instances',
        'POST /api/v1/reload',
        'POST /api/v1/services/:service/balancer/reports',
        'POST /api/v1/silences',
        'PUT /api/v1/checks/*',
      ]),
    );
    // A mutating route must be in the table or declare its access (config.access); a GET of an extension not in it is read.
    expect(mutating.filter((r) => r.source === 'default').map((r) => `${r.method} ${r.url}`)).toEqual([]);
    expect(routes.filter((r) => r.source === 'default').every((r) => r.access === 'read' && ['GET', 'HEAD'].includes(r.method))).toBe(true);
    expect(routes.map((r) => r.url)).toEqual(expect.arrayContaining(['/api/v1/alerts', '/api/v1/events', '/metrics', '/health']));
    // The table names no route that does not exist (a renamed route would leave a stale entry).
    const present = new Set(routes.map((r) => `${r.method} ${r.url}`));
    expect(Object.keys(ROUTE_ACCESS).filter((k) => !present.has(k))).toEqual([]);
  });

  it('answers 401 / 403 / through exactly as the route’s scope says, for each token', async () => {
    const callers = [
      { who: 'none', header: undefined, scopes: [] as string[] },
      { who: 'wrong', header: 'Bearer not-a-token-of-ours-xx', scopes: [] },
      { who: 'reader', header: `Bearer ${TOKENS.reader}`, scopes: ['read'] },
      { who: 'writer', header: `Bearer ${TOKENS.writer}`, scopes: ['write'] },
      { who: 'admin', header: `Bearer ${TOKENS.admin}`, scopes: ['read', 'write', 'admin'] },
      { who: 'single', header: `Bearer ${TOKENS.single}`, scopes: ['read', 'write', 'admin'] },
    ];
    let walked = 0;
    for (const route of routes) {
      const needed = route.access === 'metrics' ? 'read' : route.access;
      for (const caller of callers) {
        const { url, payload } = sample(route);
        const stream = route.url.endsWith('/events') && caller.scopes.includes('read');
        const res = stream
          ? await streamStatus(url, caller.header!)
          : await s.daemon.server.inject({
              method: route.method as 'GET',
              url,
              remoteAddress: nextAddress(),
              ...(payload !== undefined ? { payload: payload as object } : {}),
              headers: caller.header ? { authorization: caller.header } : {},
            });
        const what = `${caller.who} ${route.method} ${route.url} -> ${res.statusCode} ${res.body.slice(0, 120)}`;
        walked++;
        if (needed === 'open') expect(res.statusCode, what).not.toBeOneOf([401, 403, 429]);
        else if (needed === 'public') expect(res.statusCode, what).not.toBeOneOf([403, 429]);
        else if (caller.scopes.length === 0) expect(res.statusCode, what).toBe(401);
        else if (!caller.scopes.includes(needed)) {
          expect(res.statusCode, what).toBe(403);
          if (route.method !== 'HEAD') expect(res.json().message, what).toContain(`lacks the ${needed} scope`);
        } else expect(res.statusCode, what).not.toBeOneOf([401, 403, 429]);
      }
    }
    expect(walked).toBeGreaterThan(40 * callers.length);
  });

  it('writes an audit line for every mutating call: token name, method, route, status, client; never the value', async () => {
    const before = s.logs.length;
    await s.daemon.server.inject({
      method: 'POST',
      url: '/api/v1/instances',
      remoteAddress: '10.1.2.3',
      headers: { authorization: `Bearer ${TOKENS.writer}` },
      payload: { service: 'api', id: 'aud', address: '127.0.0.1:11' },
    });
    await s.daemon.server.inject({
      method: 'DELETE',
      url: '/api/v1/instances/api/aud',
      remoteAddress: '10.1.2.4',
      headers: { authorization: `Bearer ${TOKENS.reader}` },
    });
    await s.daemon.server.inject({ method: 'POST', url: '/api/v1/reload', remoteAddress: '10.1.2.5' });
    const audit = s.logs
      .slice(before)
      .map((l) => JSON.parse(l) as { audit?: Record<string, unknown> })
      .filter((l) => l.audit)
      .map((l) => l.audit);
    expect(audit).toEqual([
      { token: 'writer', method: 'POST', route: '/api/v1/instances', path: '/api/v1/instances', status: 201, client: '10.1.2.3' },
      { token: 'reader', method: 'DELETE', route: '/api/v1/instances/*', path: '/api/v1/instances/api/aud', status: 403, client: '10.1.2.4' },
      { token: '-', method: 'POST', route: '/api/v1/reload', path: '/api/v1/reload', status: 401, client: '10.1.2.5' },
    ]);
    const all = s.logs.join('\n');
    for (const value of Object.values(TOKENS)) expect(all).not.toContain(value);
    // The walk above made mutating calls too: each has its line.
    expect(s.logs.filter((l) => l.includes('"audit"')).length).toBeGreaterThan(6 * 7);
  });
});
