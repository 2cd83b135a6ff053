import { afterEach, describe, expect, it } from 'vitest';
import { flushMicrotasks } from '../../src/core/clock.js';
import { parseConfig } from '../../src/config/load.js';
import { apiHarness, settle, tracked, type ApiHarness } from '../helpers/api.js';

/**
 * Blocking queries on /api/v1/services/:service/instances: each service has
 * its own index (as Consul has one per key), so a watcher wakes when its
 * service changes and only then.
 */

const YAML = `
defaults: { interval: 1h, rise: 1, fall: 1 }
services:
  api:
    instances:
      - { id: a1, address: "10.0.0.1:80" }
      - { id: a2, address: "10.0.0.2:80" }
    checks: [{ kind: tcp }]
  jobs:
    instances: [{ id: j1, address: "10.0.1.1:9000" }]
    checks: [{ kind: ttl, ttl: 1h }]
`;

const harnesses: ApiHarness[] = [];
afterEach(async () => {
  for (const h of harnesses.splice(0)) await h.close();
});

async function setup(): Promise<ApiHarness> {
  const h = await apiHarness(YAML);
  harnesses.push(h);
  return h;
}

async function indexOf(h: ApiHarness, service: string): Promise<number> {
  return Number((await h.app.inject(`/api/v1/services/${service}/instances`)).headers['x-healthmesh-index']);
}

/** A blocking query parked on `index`, tracked. */
function watch(h: ApiHarness, service: string, index: number, wait = '20s') {
  return tracked(h.app.inject(`/api/v1/services/${service}/instances?index=${index}&wait=${wait}`));
}

describe('blocking queries, one index per service', () => {
  it("wakes only the watcher of the service that changed, on a check's transition", async () => {
    const h = await setup();
    const api = watch(h, 'api', await indexOf(h, 'api'));
    const jobsIndex = await indexOf(h, 'jobs');
    const jobs = watch(h, 'jobs', jobsIndex);
    await settle();
    expect([api.settled, jobs.settled]).toEqual([false, false]);

    h.engine.heartbeat('jobs/j1/ttl', 'fail');
    await flushMicrotasks();
    const res = await jobs;
    expect(Number(res.headers['x-healthmesh-index'])).toBeGreaterThan(jobsIndex);
    expect(res.json().items).toMatchObject([{ id: 'j1', status: 'UNHEALTHY' }]);
    await settle();
    expect(api.settled).toBe(false);

    await h.registry.register({ service: 'api', id: 'a3', address: '10.0.0.3:80' });
    expect((await api).json().items.map((i: { id: string }) => i.id)).toEqual(['a1', 'a2', 'a3']);
  });

  it("gives each service its own X-Healthmesh-Index: others' changes leave it, its own move it up", async () => {
    const h = await setup();
    const jobs0 = await indexOf(h, 'jobs');
    const api0 = await indexOf(h, 'api');
    await h.registry.register({ service: 'api', id: 'a3', address: '10.0.0.3:80' });
    await h.registry.deregister('api/a3');
    const api1 = await indexOf(h, 'api');
    expect(api1).toBeGreaterThan(api0);
    expect(await indexOf(h, 'jobs')).toBe(jobs0);
    // The body carries the same index as the header.
    expect((await h.app.inject('/api/v1/services/api/instances')).json().index).toBe(api1);
  });

  it('wakes no watcher for a config reload that leaves its service as it was', async () => {
    const h = await setup();
    const api = watch(h, 'api', await indexOf(h, 'api'));
    const jobs = watch(h, 'jobs', await indexOf(h, 'jobs'));
    await settle();
    h.registry.applyConfig(parseConfig(YAML.replace('- { id: a2, address: "10.0.0.2:80" }', '- { id: a2, address: "10.0.0.2:81" }'), { env: {} }));
    expect((await api).json().items[1]).toMatchObject({ id: 'a2', address: '10.0.0.2:81' });
    await settle();
    expect(jobs.settled).toBe(false);
  });

  it('wakes the watcher of a service that does not exist yet when its first instance registers, not before', async () => {
    const h = await setup();
    const index = await indexOf(h, 'new');
    const waiting = watch(h, 'new', index);
    await h.registry.register({ service: 'api', id: 'a3', address: '10.0.0.3:80' });
    await settle();
    expect(waiting.settled).toBe(false);
    await h.registry.register({ service: 'new', id: 'n1', address: '10.0.9.1:80' });
    const res = await waiting;
    expect(Number(res.headers['x-healthmesh-index'])).toBeGreaterThan(index);
    expect(res.json().items.map((i: { id: string }) => i.id)).toEqual(['n1']);
  });

  it('keeps an index that never goes back when a service loses its last instance and comes back', async () => {
    const h = await setup();
    await h.registry.register({ service: 'temp', id: 't1', address: '10.0.8.1:80' });
    const seen = [await indexOf(h, 'temp')];
    await h.registry.register({ service: 'api', id: 'a3', address: '10.0.0.3:80' });
    seen.push(await indexOf(h, 'temp')); // api's change leaves it
    await h.registry.deregister('temp/t1');
    seen.push(await indexOf(h, 'temp')); // gone, with an index of its own
    await h.registry.register({ service: 'temp', id: 't2', address: '10.0.8.2:80' });
    seen.push(await indexOf(h, 'temp'));
    expect(seen[1]).toBe(seen[0]);
    expect(seen[2]).toBeGreaterThan(seen[1]!);
    expect(seen[3]).toBeGreaterThan(seen[2]!);
  });

  it('answers at once for an index this run never gave (a client from before a restart)', async () => {
    const h = await setup();
    const stale = (await indexOf(h, 'api')) + 1000;
    const res = watch(h, 'api', stale);
    await settle();
    expect(res.settled).toBe(true);
    expect(Number((await res).headers['x-healthmesh-index'])).toBeLessThan(stale);
  });

  it('times out on the injected clock, answering with the unchanged index', async () => {
    const h = await setup();
    const index = await indexOf(h, 'api');
    const waiting = watch(h, 'api', index, '30s');
    await settle();
    h.clock.advance(29_999);
    await settle();
    expect(waiting.settled).toBe(false);
    h.clock.advance(1);
    const res = await waiting;
    expect(Number(res.headers['x-healthmesh-index'])).toBe(index);
  });
});
