import { describe, expect, it } from 'vitest';
import type { CheckRunner } from '../../src/core/check.js';
import { FakeClock, flushMicrotasks } from '../../src/core/clock.js';
import { seeded } from '../../src/core/random.js';
import { parseConfig } from '../../src/config/load.js';
import { Engine } from '../../src/engine.js';
import { Registry, type RegistrationStore, type StoredRegistration } from '../../src/registry/registry.js';

const ok: CheckRunner = { run: async () => ({ status: 'HEALTHY', reason: 'ok', output: 'ok' }) };

function memoryStore(): RegistrationStore & { rows: Map<string, StoredRegistration> } {
  const rows = new Map<string, StoredRegistration>();
  return {
    rows,
    putRegistration: async (r) => void rows.set(`${r.service}/${r.id}`, r),
    deleteRegistration: async (k) => void rows.delete(`${k.service}/${k.id}`),
    listRegistrations: async () => [...rows.values()],
  };
}

function setup(yaml: string, store?: RegistrationStore) {
  const clock = new FakeClock(1_000);
  const engine = new Engine({ clock, random: seeded(1), concurrency: 10, spreadFirstRun: false, runnerFor: () => ok });
  const config = parseConfig(yaml, { env: {} });
  const registry = new Registry(engine, config, store, () => clock.now());
  registry.applyConfig(config);
  return { clock, engine, registry };
}

const base = `
services:
  api:
    instances: [{ id: a1, address: "127.0.0.1:1" }, { id: a2, address: "127.0.0.1:2" }]
    checks: [{ kind: tcp }]
  web:
    instances: [{ id: w1, address: "127.0.0.1:3" }]
    checks: [{ kind: tcp, interval: 5s }]
`;

describe('Registry', () => {
  it('reload touches only changed checks: unchanged ones keep their state', async () => {
    const { engine, registry } = setup(base);
    await flushMicrotasks();
    expect(engine.get('api/a1/tcp')!.state.status).toBe('HEALTHY');
    const next = parseConfig(base.replace('interval: 5s', 'interval: 7s').replace(', { id: a2, address: "127.0.0.1:2" }', ''), { env: {} });
    const report = registry.applyConfig(next);
    expect(report).toEqual({ added: 0, removed: 1, changed: 1, kept: 1 });
    expect(engine.get('api/a1/tcp')!.state.status).toBe('HEALTHY'); // kept, with its state
    expect(engine.get('api/a2/tcp')).toBeUndefined();
    expect(engine.get('web/w1/tcp')!.spec.intervalMs).toBe(7000);
    expect(engine.get('web/w1/tcp')!.state.status).toBe('UNKNOWN'); // changed: starts afresh
  });

  it('reload with reused service objects leaves their checks alone, and re-resolves all when defaults change', async () => {
    const { engine, registry } = setup(base);
    const first = parseConfig(base, { env: {} });
    registry.applyConfig(first);
    const touched: string[] = [];
    engine.bus.on('check-added', ({ spec }) => void touched.push(`+${spec.id}`));
    engine.bus.on('check-removed', ({ spec }) => void touched.push(`-${spec.id}`));
    await flushMicrotasks(); // first results and their transitions
    const indexOfApi = registry.serviceIndex('api');
    const a1 = registry.instanceOf('api', 'a1');

    // Only web changed: api's object is reused (config/fast-load.ts), so api is not even compared.
    const next = parseConfig(base.replace('interval: 5s', 'interval: 7s'), { env: {}, previous: first });
    expect(next.services.api).toBe(first.services.api);
    expect(registry.applyConfig(next)).toEqual({ added: 0, removed: 0, changed: 1, kept: 2 });
    await flushMicrotasks();
    expect(touched.sort()).toEqual(['+web/w1/tcp', '-web/w1/tcp']);
    expect(registry.serviceIndex('api')).toBe(indexOfApi);
    expect(registry.instancesOf('api').map((r) => r.id)).toEqual(['a1', 'a2']);
    expect(registry.instanceOf('api', 'a1')).toBe(a1); // not even rebuilt

    // New defaults reach every check, reused service objects included.
    touched.length = 0;
    const slower = parseConfig(`defaults: { interval: 30s }\n${base.replace('interval: 5s', 'interval: 7s')}`, { env: {}, previous: next });
    expect(slower.services.api).toBe(first.services.api);
    expect(registry.applyConfig(slower)).toEqual({ added: 0, removed: 0, changed: 2, kept: 1 });
    expect(engine.get('api/a1/tcp')!.spec.intervalMs).toBe(30_000);

    // A service gone from the config takes its checks with it.
    const without = parseConfig(
      `defaults: { interval: 30s }\nservices:\n  web:\n    instances: [{ id: w1, address: "127.0.0.1:3" }]\n    checks: [{ kind: tcp, interval: 7s }]\n`,
      {
        env: {},
        previous: slower,
      },
    );
    expect(registry.applyConfig(without)).toEqual({ added: 0, removed: 2, changed: 0, kept: 1 });
    expect(registry.instancesOf('api')).toEqual([]);
    expect(engine.get('web/w1/tcp')!.spec.intervalMs).toBe(7000);
  });

  it('registers instances with their own checks plus the service checks, stores them and restores them', async () => {
    const store = memoryStore();
    const { engine, registry } = setup(base, store);
    const rec = await registry.register({
      service: 'api',
      id: 'a9',
      address: '127.0.0.1:9',
      zone: 'z1',
      checks: [{ kind: 'http', name: 'health', path: '/health' }],
    });
    expect(rec.checks.map((c) => c.id)).toEqual(['api/a9/tcp', 'api/a9/health']);
    expect(engine.get('api/a9/health')).toBeDefined();
    expect(store.rows.get('api/a9')).toMatchObject({ address: '127.0.0.1:9', zone: 'z1', registeredAt: 1000 });

    // A new daemon on the same store gets the registration back.
    const second = setup(base, store);
    expect(await second.registry.restore()).toBe(1);
    expect(second.engine.get('api/a9/health')).toBeDefined();
    expect(second.registry.instance('a9')?.source).toBe('api');

    expect(await registry.deregister('api/a9')).toBe(true);
    expect(engine.get('api/a9/tcp')).toBeUndefined();
    expect(store.rows.size).toBe(0);
  });

  it('rejects a registration naming the bad field, and refuses to replace config instances', async () => {
    const { registry } = setup(base);
    await expect(registry.register({ service: 'api', id: 'x', address: '' })).rejects.toThrow(/address/);
    await expect(registry.register({ service: 'api', id: 'a1', address: '127.0.0.1:5' })).rejects.toThrow(/config file/);
    await expect(registry.deregister('api/a1')).rejects.toThrow(/config file/);
  });

  it('keeps API instances across a reload and re-resolves their checks', async () => {
    const { engine, registry } = setup(base);
    await registry.register({ service: 'web', id: 'w9', address: '127.0.0.1:9' });
    registry.applyConfig(parseConfig(base.replace('interval: 5s', 'interval: 9s'), { env: {} }));
    expect(engine.get('web/w9/tcp')!.spec.intervalMs).toBe(9000);
  });

  it('follows discovered instances as the SRV records change', async () => {
    const { engine, registry } = setup(base);
    await registry.setDiscovered('web', [
      { id: '10.0.0.1:80', address: '10.0.0.1:80', weight: 5 },
      { id: '10.0.0.2:80', address: '10.0.0.2:80', weight: 5 },
    ]);
    expect(registry.instancesOf('web').map((r) => r.id)).toEqual(['w1', '10.0.0.1:80', '10.0.0.2:80']);
    await registry.setDiscovered('web', [{ id: '10.0.0.2:80', address: '10.0.0.2:80', weight: 5 }]);
    expect(registry.instancesOf('web').map((r) => r.id)).toEqual(['w1', '10.0.0.2:80']);
    expect(engine.get('web/10.0.0.1:80/tcp')).toBeUndefined();
  });

  it('wakes blocking queries when membership changes', async () => {
    const { registry } = setup(base);
    const index = registry.index;
    const waiting = registry.waitForChange(index, 10_000);
    await registry.register({ service: 'api', id: 'n1', address: '127.0.0.1:7' });
    expect(await waiting).toBeGreaterThan(index);
  });
});

describe('DnsDiscovery', () => {
  it('adds and removes instances as the SRV answer changes, and keeps them when a lookup fails', async () => {
    const { DnsDiscovery } = await import('../../src/registry/dns-discovery.js');
    const yaml = `${base}  disc:
    discover: { dns_srv: { query: _http._tcp.disc, server: "127.0.0.1:53", interval: 10s } }
    checks: [{ kind: tcp }]
`;
    const { clock, engine, registry } = setup(yaml);
    let answer: Array<{ target: string; port: number; weight: number }> | Error = [
      { target: 'a.disc.', port: 80, weight: 1 },
      { target: 'b.disc.', port: 81, weight: 0 },
    ];
    let lookups = 0;
    const discovery = new DnsDiscovery(registry, clock, undefined, async () => {
      lookups++;
      if (answer instanceof Error) throw answer;
      return answer;
    });
    discovery.apply(parseConfig(yaml, { env: {} }));
    await flushMicrotasks();
    expect(registry.instancesOf('disc').map((r) => `${r.address}/${r.weight}`)).toEqual(['a.disc:80/1', 'b.disc:81/1']);
    expect(engine.get('disc/a.disc:80/tcp')).toBeDefined();

    answer = [{ target: 'b.disc.', port: 81, weight: 3 }];
    clock.advance(10_000);
    await flushMicrotasks();
    expect(registry.instancesOf('disc').map((r) => r.address)).toEqual(['b.disc:81']);

    answer = new Error('SERVFAIL');
    clock.advance(10_000);
    await flushMicrotasks();
    expect(registry.instancesOf('disc').map((r) => r.address)).toEqual(['b.disc:81']);
    discovery.stop();
    const before = lookups;
    clock.advance(30_000);
    await flushMicrotasks();
    expect(lookups).toBe(before);
  });
});

describe('DnsDiscovery and addresses', () => {
  it('leaves out, and logs, SRV records that give no host:port address (port 0, target ".")', async () => {
    const { DnsDiscovery } = await import('../../src/registry/dns-discovery.js');
    const yaml = `${base}  disc:
    discover: { dns_srv: { query: _http._tcp.disc, server: "127.0.0.1:53", interval: 10s } }
    checks: [{ kind: tcp }]
`;
    const { registry } = setup(yaml);
    const warnings: string[] = [];
    const logger = { warn: (_fields: unknown, message: string) => warnings.push(message) } as unknown as ConstructorParameters<typeof DnsDiscovery>[2];
    const discovery = new DnsDiscovery(registry, new FakeClock(0), logger, async () => [
      { target: 'a.disc.', port: 80, weight: 1 },
      { target: 'b.disc.', port: 0, weight: 1 },
      { target: '.', port: 80, weight: 1 },
      { target: 'fd00::7', port: 8080, weight: 1 },
    ]);
    discovery.apply(parseConfig(yaml, { env: {} }));
    await flushMicrotasks();
    discovery.stop();
    expect(registry.instancesOf('disc').map((r) => r.address)).toEqual(['a.disc:80', '[fd00::7]:8080']);
    expect(warnings).toEqual([
      'SRV record of disc left out: "b.disc:0": the port 0 is out of range (1–65535)',
      'SRV record of disc left out: ":80" has no host: write host:port, e.g. 10.0.0.5:80',
    ]);
  });
});

describe('AutoDeregister', () => {
  it('removes an API instance that stays UNHEALTHY for deregister_after, never a config one', async () => {
    const { AutoDeregister } = await import('../../src/registry/auto-deregister.js');
    const { clock, engine, registry } = setup(base);
    await registry.register({ service: 'api', id: 'r1', address: '127.0.0.1:9' });
    const auto = new AutoDeregister(registry, clock, () => 30_000);
    auto.onInstanceStatus('api/r1', 'UNHEALTHY');
    auto.onInstanceStatus('api/a1', 'UNHEALTHY');
    clock.advance(29_999);
    expect(registry.instance('api/r1')).toBeDefined();
    auto.onInstanceStatus('api/r1', 'HEALTHY'); // recovered: the countdown stops
    auto.onInstanceStatus('api/r1', 'UNHEALTHY'); // and starts again from zero
    clock.advance(29_999);
    expect(registry.instance('api/r1')).toBeDefined();
    clock.advance(1);
    await flushMicrotasks();
    expect(registry.instance('api/r1')).toBeUndefined();
    expect(engine.get('api/r1/tcp')).toBeUndefined();
    expect(registry.instance('api/a1')).toBeDefined();
    auto.stop();
  });
});
