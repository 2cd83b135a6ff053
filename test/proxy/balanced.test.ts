/** The proxy over the real balancer (no engine): consistent hashing on a header, and outcomes fed back. */
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { realClock } from '../../src/core/clock.js';
import { seeded } from '../../src/core/random.js';
import { balancerSchema } from '../../src/config/balancer.js';
import { BalancerSet } from '../../src/balancer/balancer-set.js';
import { startProxy } from '../../src/proxy/proxy.js';
import { useCleanups } from '../helpers/cleanups.js';
import { engine, ENGINES, fetchVia, proxyConfig, silentLogger, startUpstream, useEngine } from './helpers.js';

const { track, cleanups } = useCleanups();

async function setup(balancer: Record<string, unknown>, statuses: number[] = [200, 200, 200]) {
  const ups = await Promise.all(
    statuses.map(async (status, i) =>
      track(
        await startUpstream((_req, res) => {
          res.writeHead(status);
          res.end(`u${i + 1}`);
        }),
      ),
    ),
  );
  const set = new BalancerSet({ clock: realClock, random: seeded(5) });
  set.configure(new Map([['api', balancerSchema.parse(balancer)]]));
  set.setMembers(
    'api',
    ups.map((u, i) => ({ id: `u${i + 1}`, address: u.address, weight: 1, status: 'HEALTHY' as const, score: 100 })),
  );
  cleanups.push(() => set.close());
  const registry = new Registry();
  const proxy = track(
    await startProxy({
      engine: engine(),
      config: proxyConfig({ routes: [{ path_prefix: '/', service: 'api' }] }),
      upstreams: set,
      clock: realClock,
      logger: silentLogger,
      registry,
    }),
  );
  return { set, proxy, ups, registry };
}

describe.each(ENGINES)('%s engine', (eng) => {
  useEngine(eng);

  describe('proxy over the health-aware balancer', () => {
    it('sends every request with the same hash_key header to the same instance, and spreads different keys', async () => {
      const { proxy } = await setup({ picker: 'maglev', hash_key: 'X-User' });
      const seen = new Map<string, Set<string>>();
      for (let user = 0; user < 30; user++) {
        for (let i = 0; i < 3; i++) {
          const r = await fetchVia(proxy, '/', { headers: { 'x-user': `user-${user}` } });
          const set = seen.get(`user-${user}`) ?? new Set<string>();
          set.add(r.body);
          seen.set(`user-${user}`, set);
        }
      }
      expect([...seen.values()].every((s) => s.size === 1)).toBe(true);
      const used = new Set([...seen.values()].map((s) => [...s][0]));
      expect(used.size).toBe(3);
    });

    it('feeds outcomes back: an instance answering 503 is ejected and the clients never see it (retries)', async () => {
      const { proxy, set } = await setup({ breaker: { enabled: false }, outlier: { consecutive_5xx: 3, max_ejection_percent: 50 } }, [200, 503, 200]);
      const bodies: string[] = [];
      for (let i = 0; i < 30; i++) bodies.push((await fetchVia(proxy, '/')).body);
      expect(bodies.every((b) => b === 'u1' || b === 'u3')).toBe(true);
      const u2 = set.snapshot('api')!.instances.find((m) => m.id === 'u2')!;
      expect(u2.outlier).toMatchObject({ ejected: true, detector: 'consecutive_5xx' });
      expect(u2.failures).toBe(3);
    });
    it('drops the per-instance metrics of an instance that left its service', async () => {
      const { proxy, set, ups, registry } = await setup({});
      for (let i = 0; i < 6; i++) await fetchVia(proxy, '/');
      const series = async () => (await registry.metrics()).split('\n').filter((l) => l.startsWith('healthmesh_proxy_upstream_requests_total{'));
      expect((await series()).some((l) => l.includes('service_instance="u3"'))).toBe(true);
      set.setMembers(
        'api',
        ups.slice(0, 2).map((u, i) => ({ id: `u${i + 1}`, address: u.address, weight: 1, status: 'HEALTHY' as const, score: 100 })),
      );
      expect((await series()).some((l) => l.includes('service_instance="u3"'))).toBe(false);
      expect((await series()).some((l) => l.includes('service_instance="u1"'))).toBe(true);
    });
  });
});
