import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { flushMicrotasks } from '../../src/core/clock.js';
import type { HealthStatus } from '../../src/core/status.js';
import type { ConfigInput } from '../../src/config/schema.js';
import { apiHarness, type ApiHarness } from '../helpers/api.js';

/**
 * Pages of a service's instances: on /api/v1/services/:service and on its
 * /instances list. In id order, never cut silently, and filtered at the cost
 * of the answer, not of the service.
 */

const harnesses: ApiHarness[] = [];
afterEach(async () => {
  for (const h of harnesses.splice(0)) await h.close();
});

async function setup(yaml: string | ConfigInput, outcomes: ApiHarness['outcomes'] = {}): Promise<ApiHarness> {
  const h = await apiHarness(yaml, { outcomes });
  harnesses.push(h);
  return h;
}

/** A service `big` of `n` instances i00000… with one tcp check each. */
function bigService(n: number): ConfigInput {
  const instances = Array.from({ length: n }, (_, i) => ({ id: `i${String(i).padStart(5, '0')}`, address: `10.0.${i >> 8}.${i & 255}:80` }));
  return { defaults: { interval: '1h' }, services: { big: { instances, checks: [{ kind: 'tcp' }] } } };
}

type Page = { items: Array<{ id: string }>; nextCursor: string | null };

/** Every id, page after page, following nextCursor. */
async function walk(
  h: ApiHarness,
  url: (cursor: string | null) => string,
  itemsOf: (body: unknown) => Page = (b) => b as Page,
): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const res = await h.app.inject(url(cursor));
    expect(res.statusCode).toBe(200);
    const page = itemsOf(res.json());
    ids.push(...page.items.map((i) => i.id));
    cursor = page.nextCursor;
    pages++;
  } while (cursor !== null && pages < 100);
  return { ids, pages };
}

describe('GET /api/v1/services/:service', () => {
  it('pages a service of 1,500 instances with limit, cursor and nextCursor instead of cutting at 1,000', async () => {
    const h = await setup(bigService(1500));
    const expected = Array.from({ length: 1500 }, (_, i) => `i${String(i).padStart(5, '0')}`);
    const first = (await h.app.inject('/api/v1/services/big')).json();
    expect(first).toMatchObject({ name: 'big', counts: { HEALTHY: 1500 } });
    expect(first.instances).toHaveLength(100); // the default page, as on every list
    expect(first.nextCursor).toEqual(expect.any(String));
    const all = await walk(
      h,
      (c) => `/api/v1/services/big?limit=1000${c ? `&cursor=${c}` : ''}`,
      (b) => {
        const body = b as { instances: Page['items']; nextCursor: string | null };
        return { items: body.instances, nextCursor: body.nextCursor };
      },
    );
    expect(all).toEqual({ ids: expected, pages: 2 });
    expect((await h.app.inject('/api/v1/services/big?limit=1001')).statusCode).toBe(400);
  });
});

describe('GET /api/v1/services/:service/instances', () => {
  it('lists in id order whatever the registration order, so cursors neither skip nor repeat', async () => {
    const h = await setup(`services:
  web:
    instances: [{ id: w3, address: "10.0.0.3:80" }, { id: w1, address: "10.0.0.1:80" }, { id: w2, address: "10.0.0.2:80" }]
    checks: [{ kind: tcp }]
`);
    await h.registry.register({ service: 'web', id: 'w0', address: '10.0.0.9:80' });
    const paged = await walk(h, (c) => `/api/v1/services/web/instances?limit=1${c ? `&cursor=${c}` : ''}`);
    expect(paged).toEqual({ ids: ['w0', 'w1', 'w2', 'w3'], pages: 4 });
    const svc = (await h.app.inject('/api/v1/services/web')).json();
    expect(svc.instances.map((i: { id: string }) => i.id)).toEqual(['w0', 'w1', 'w2', 'w3']);
  });

  it('answers status=healthy on 2,000 instances by reading the 10 it returns, not all 2,000', async () => {
    const down = { status: 'UNHEALTHY', reason: 'connect_refused', output: 'refused' } as const;
    const id = (i: number) => `i${String(i).padStart(5, '0')}`;
    const healthy = (i: number) => i % 200 === 7;
    const outcomes = Object.fromEntries(
      Array.from({ length: 2000 }, (_, i) => i)
        .filter((i) => !healthy(i))
        .map((i) => [id(i), down]),
    );
    const h = await setup(bigService(2000), outcomes);
    expect(h.rollup.serviceCounts('big')).toMatchObject({ HEALTHY: 10, UNHEALTHY: 1990 });
    await h.app.inject('/api/v1/services/big/instances?status=healthy'); // the first read builds the lists
    const statusReads = vi.spyOn(h.rollup, 'instance');
    // A cursor before every id: the same answer under a new cache key, so nothing is served from cache.
    const res = await h.app.inject(`/api/v1/services/big/instances?status=healthy&cursor=${Buffer.from('!').toString('base64url')}`);
    expect(res.json().items.map((i: { id: string }) => i.id)).toEqual(Array.from({ length: 10 }, (_, k) => id(k * 200 + 7)));
    expect(statusReads.mock.calls.length).toBeLessThanOrEqual(20); // the 10 shown, each read once or twice
  });

  it('pages every filter exactly as filtering and sorting the whole service would, through any changes', async () => {
    const ids = ['k', 'c', 'x', 'a', 'm', 'b', 'z', 'e'];
    const op = fc.oneof(
      fc.record({ kind: fc.constant('register' as const), id: fc.constantFrom(...ids), port: fc.integer({ min: 1, max: 3 }) }),
      fc.record({ kind: fc.constant('deregister' as const), id: fc.constantFrom(...ids) }),
      fc.record({
        kind: fc.constant('heartbeat' as const),
        id: fc.constantFrom(...ids),
        status: fc.constantFrom('pass', 'warn', 'fail') as fc.Arbitrary<'pass' | 'warn' | 'fail'>,
      }),
      fc.record({ kind: fc.constant('read' as const), limit: fc.integer({ min: 1, max: 4 }) }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 30 }), async (ops) => {
        const h = await apiHarness('defaults: { rise: 1, fall: 1 }\nservices:\n  s:\n    checks: [{ kind: ttl, ttl: 1h }]\n');
        try {
          for (const o of [...ops, { kind: 'read' as const, limit: 2 }]) {
            if (o.kind === 'register') await h.registry.register({ service: 's', id: o.id, address: `10.0.0.1:${o.port}` });
            else if (o.kind === 'deregister') await h.registry.deregister(`s/${o.id}`);
            else if (o.kind === 'heartbeat') {
              if (h.registry.instanceOf('s', o.id)) h.engine.heartbeat(`s/${o.id}/ttl`, o.status);
            } else {
              await flushMicrotasks();
              const model = h.registry.instancesOf('s').map((r) => ({ id: r.id, status: h.rollup.instance('s', r.id) }));
              const wanted = {
                any: () => true,
                healthy: (s: HealthStatus) => s === 'HEALTHY',
                passing: (s: HealthStatus) => s === 'HEALTHY' || s === 'DEGRADED',
              };
              for (const [filter, keep] of Object.entries(wanted)) {
                const expected = model
                  .filter((m) => keep(m.status))
                  .map((m) => m.id)
                  .sort();
                const got = await walk(h, (c) => `/api/v1/services/s/instances?status=${filter}&limit=${o.limit}${c ? `&cursor=${c}` : ''}`);
                expect(got.ids, filter).toEqual(expected);
              }
            }
            await flushMicrotasks();
          }
        } finally {
          await h.close();
        }
      }),
      { numRuns: 40 },
    );
  }, 30_000);
});
