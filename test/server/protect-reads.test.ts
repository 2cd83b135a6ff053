import type { RouteOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { BalancerSet, balancerConfigs } from '../../src/balancer/balancer-set.js';
import { seeded } from '../../src/core/random.js';
import { parseConfig } from '../../src/config/load.js';
import { createMetrics, type Metrics } from '../../src/metrics/metrics.js';
import { openSqliteStore, type SqliteHistoryStore } from '../../src/store/sqlite.js';
import { apiHarness, type ApiHarness } from '../helpers/api.js';

/**
 * server.protect_reads: true. Every read route answers 401 without the token
 * and 200 with it, except /livez and /readyz, which stay open. The routes
 * come from the server's own route table (fastify's onRoute hook, installed
 * on every instance the server creates), so a route added later is checked
 * too; one this file cannot build a URL for fails until it is given one.
 */

const registered = vi.hoisted(() => [] as Array<{ method: string; url: string }>);
vi.mock('fastify', async (importOriginal) => {
  const real = await importOriginal<typeof import('fastify')>();
  const recording = ((options?: Parameters<typeof real.default>[0]) => {
    const app = real.default(options);
    app.addHook('onRoute', (route: RouteOptions) => {
      for (const method of [route.method].flat()) registered.push({ method, url: route.url });
    });
    return app;
  }) as typeof real.default;
  return { ...real, default: recording };
});

const TOKEN = 'a-very-secret-token-123';
const YAML = `
defaults: { interval: 1h }
services:
  api:
    instances: [{ id: a1, address: "10.0.0.1:80" }]
    checks: [{ kind: tcp }]
`;

/** URLs to read for a route whose path has a wildcard or a parameter other than :service. */
const SAMPLES: Record<string, string[]> = {
  '/api/v1/instances/*': ['/api/v1/instances/api/a1', '/api/v1/instances/a1'],
  '/api/v1/checks/*': ['/api/v1/checks/api/a1/tcp', '/api/v1/checks/api/a1/tcp/history'],
  '/api/v1/checks/:service/:instance/:name/rollups': ['/api/v1/checks/api/a1/tcp/rollups'],
  '/api/v1/checks/:id/rollups': ['/api/v1/checks/api%2Fa1%2Ftcp/rollups'],
  '/api/v1/instances/:service/:id/rollups': ['/api/v1/instances/api/a1/rollups'],
  '/api/v1/instances/:id/rollups': ['/api/v1/instances/a1/rollups'],
  '/api/v1/instances/:service/:id/uptime': ['/api/v1/instances/api/a1/uptime'],
  '/api/v1/instances/:id/uptime': ['/api/v1/instances/a1/uptime'],
  '/api/v1/status/:slug': ['/api/v1/status/internal'],
  '/badge/:service/latency.svg': ['/badge/api/latency.svg'],
  '/badge/:service/status.svg': ['/badge/api/status.svg'],
  '/badge/:service/uptime.svg': ['/badge/api/uptime.svg'],
};
const OPEN = new Set(['/livez', '/readyz']);
/**
 * The dashboard's shell: HTML, scripts and styles, no data (the page asks
 * for the token when the API refuses it). A status page's data and a
 * service's badges stay behind the token unless the page is public, which
 * `internal` here is not.
 */
const SHELL = new Set(['/', '/assets/*', '/status/:slug']);

/** The URLs that exercise a GET route: its samples, or its path with :service filled in. */
function urlsOf(route: string): string[] {
  if (SAMPLES[route]) return SAMPLES[route];
  const url = route.replace(/:service\b/g, 'api');
  if (/[*:]/.test(url)) throw new Error(`no sample URL for GET ${route}: add one to SAMPLES in this file`);
  return [url];
}

let h: ApiHarness;
let store: SqliteHistoryStore;
let parts: { balancers: BalancerSet; metrics: Metrics };
let reads: string[];

beforeAll(async () => {
  store = await openSqliteStore({ path: ':memory:' });
  registered.length = 0;
  // Every optional part is given, so every route the server can have is registered.
  h = await apiHarness(YAML, {
    deps: ({ clock, engine, rollup }) => {
      const balancers = new BalancerSet({ clock, random: seeded(1) });
      balancers.configure(balancerConfigs(parseConfig(YAML, { env: {} })));
      parts = { balancers, metrics: createMetrics({ engine, rollup, processMetrics: false }) };
      return {
        token: TOKEN,
        protectReads: true,
        // Dozens of bad tokens from one address on a clock that stands still: the failure limit (test/security) is lifted here.
        security: { failures: { limit: 1_000_000, windowMs: 1000 } },
        history: { queryResults: (q) => store.queryResults({ ...q, order: 'desc' }) },
        historyStore: store,
        web: { statusPages: () => ({ internal: { title: 'Internal', services: ['api'], public: false } }), store, clock },
        metrics: parts.metrics,
        balancers,
        reload: async () => ({}),
      };
    },
  });
  await h.app.ready();
  reads = [...new Set(registered.filter((r) => r.method === 'GET').map((r) => r.url))].sort();
});

afterAll(async () => {
  await h.close();
  parts.metrics.detach();
  parts.balancers.close();
  await store.close();
});

describe('server.protect_reads: true', () => {
  it('finds the read routes in the route table, the SSE stream, /metrics and /health among them', () => {
    expect(reads).toEqual(expect.arrayContaining(['/livez', '/readyz', '/health', '/metrics', '/api/v1/events', '/api/v1/services/:service/instances']));
  });

  it('answers 401 without the token, or with a wrong one, on every read route but /livez and /readyz', async () => {
    for (const route of reads.filter((r) => !OPEN.has(r) && !SHELL.has(r))) {
      for (const url of urlsOf(route)) {
        const bare = await h.app.inject(url);
        expect(bare.statusCode, `GET ${url}`).toBe(401);
        expect(bare.headers['www-authenticate'], `GET ${url}`).toBe('Bearer');
        expect((await h.app.inject({ url, headers: { authorization: 'Bearer wrong-token-of-enough-length' } })).statusCode, `GET ${url}`).toBe(401);
        expect((await h.app.inject({ method: 'HEAD', url })).statusCode, `HEAD ${url}`).toBe(401);
      }
    }
  });

  it('answers 200 with the token on every read route', async () => {
    for (const route of reads.filter((r) => !SHELL.has(r))) {
      for (const url of urlsOf(route)) {
        const res = await h.app.inject({ url, headers: { authorization: `Bearer ${TOKEN}` }, payloadAsStream: true });
        expect(res.statusCode, `GET ${url}`).toBe(200);
        res.stream().destroy(); // the SSE stream never ends on its own
      }
    }
  });

  it('serves the dashboard shell without the token: it holds no data', async () => {
    for (const url of ['/', '/status/internal']) expect((await h.app.inject(url)).statusCode, url).toBe(200);
  });

  it('keeps /livez and /readyz open without the token, with a query string too', async () => {
    for (const url of ['/livez', '/readyz', '/livez?probe=kubelet', '/readyz?verbose']) {
      expect((await h.app.inject(url)).statusCode, url).toBe(200);
    }
  });
});
