import { describe, expect, it } from 'vitest';
import { StatusRollup, type RollupChange } from '../../src/status/rollup.js';
import { fakeSpec } from '../helpers/spec.js';

function spec(service: string, instance: string, name: string) {
  return { ...fakeSpec(`${service}/${instance}/${name}`), service, instance, name };
}

describe('StatusRollup', () => {
  it('rolls check transitions up to instance, service and mesh, reporting each change once', () => {
    const changes: RollupChange[] = [];
    const rollup = new StatusRollup(
      () => 2,
      (c) => changes.push(c),
    );
    const a1http = spec('api', 'a1', 'http');
    const a1tcp = spec('api', 'a1', 'tcp');
    const a2http = spec('api', 'a2', 'http');
    rollup.track(a1http, 'HEALTHY', 1);
    rollup.track(a1tcp, 'HEALTHY', 1);
    rollup.track(a2http, 'HEALTHY', 1);
    expect(rollup.instance('api', 'a1')).toBe('HEALTHY');
    expect(rollup.service('api')).toBe('HEALTHY');
    expect(rollup.meshStatus()).toBe('HEALTHY');

    changes.length = 0;
    rollup.track(a1tcp, 'DEGRADED', 2); // worst check wins for the instance
    expect(rollup.instance('api', 'a1')).toBe('DEGRADED');
    // a DEGRADED instance still passes: 2 passing meet min_healthy 2
    expect(rollup.service('api')).toBe('DEGRADED');
    expect(changes.map((c) => `${c.level}:${c.id}:${c.from}->${c.to}:${c.cause}`)).toEqual([
      'instance:api/a1:HEALTHY->DEGRADED:api/a1/tcp',
      'service:api:HEALTHY->DEGRADED:api/a1/tcp',
      'mesh:mesh:HEALTHY->DEGRADED:api/a1/tcp',
    ]);

    changes.length = 0;
    rollup.track(a2http, 'UNHEALTHY', 3); // 1 passing < min_healthy 2
    expect(rollup.service('api')).toBe('UNHEALTHY');
    expect(changes.map((c) => `${c.level}:${c.id}:${c.from}->${c.to}:${c.cause}`)).toEqual([
      'instance:api/a2:HEALTHY->UNHEALTHY:api/a2/http',
      'service:api:DEGRADED->UNHEALTHY:api/a2/http',
      'mesh:mesh:DEGRADED->UNHEALTHY:api/a2/http',
    ]);
  });

  it('keeps a single-instance service whose instance is DEGRADED passing (DEGRADED, not UNHEALTHY)', () => {
    const rollup = new StatusRollup(() => 1);
    rollup.track(spec('billing', 'b1', 'ttl'), 'DEGRADED', 1);
    expect(rollup.service('billing')).toBe('DEGRADED');
    expect(rollup.meshStatus()).toBe('DEGRADED');
  });

  it('lets a non-critical service down make the mesh DEGRADED only, a critical one UNHEALTHY', () => {
    const rollup = new StatusRollup((s) => ({ minHealthy: 1, critical: s !== 'reports' }));
    rollup.track(spec('api', 'a1', 'http'), 'HEALTHY', 1);
    rollup.track(spec('reports', 'r1', 'http'), 'UNHEALTHY', 1);
    expect(rollup.service('reports')).toBe('UNHEALTHY');
    expect(rollup.meshStatus()).toBe('DEGRADED');
    rollup.track(spec('api', 'a1', 'http'), 'UNHEALTHY', 2);
    expect(rollup.meshStatus()).toBe('UNHEALTHY');
  });

  it('is DEGRADED, not UNHEALTHY, while enough instances stay HEALTHY', () => {
    const rollup = new StatusRollup(() => 1);
    rollup.track(spec('web', 'w1', 'http'), 'HEALTHY', 1);
    rollup.track(spec('web', 'w2', 'http'), 'UNHEALTHY', 1);
    expect(rollup.service('web')).toBe('DEGRADED');
  });

  it('forgets removed checks and instances', () => {
    const rollup = new StatusRollup(() => 1);
    const bad = spec('web', 'w2', 'http');
    rollup.track(spec('web', 'w1', 'http'), 'HEALTHY', 1);
    rollup.track(bad, 'UNHEALTHY', 1);
    rollup.untrack(bad);
    expect(rollup.service('web')).toBe('HEALTHY');
    expect(rollup.instance('web', 'w2')).toBe('UNKNOWN');
  });
});

describe('health score', () => {
  it('is 100 for a fast healthy check, drops with failures and latency, and is 0 when UNHEALTHY', async () => {
    const { checkScore } = await import('../../src/status/rollup.js');
    expect(checkScore('HEALTHY', 1, 10, 2000)).toBe(100);
    expect(checkScore('HEALTHY', 0.5, 10, 2000)).toBe(75);
    expect(checkScore('HEALTHY', 1, 2000, 2000)).toBe(50);
    expect(checkScore('DEGRADED', 1, 10, 2000)).toBe(70);
    expect(checkScore('UNHEALTHY', 1, 10, 2000)).toBe(0);
  });

  it('keeps service scores and status counts in step with results and transitions', () => {
    const rollup = new StatusRollup(() => 1);
    const a = spec('web', 'w1', 'http');
    const b = spec('web', 'w2', 'http');
    rollup.track(a, 'HEALTHY', 1);
    rollup.track(b, 'HEALTHY', 1);
    rollup.observe(a, 'HEALTHY', 5);
    rollup.observe(b, 'HEALTHY', 5);
    expect(rollup.serviceScore('web')).toBe(100);
    expect(rollup.serviceCounts('web')).toMatchObject({ HEALTHY: 2, UNHEALTHY: 0 });
    rollup.observe(b, 'UNHEALTHY', 5);
    rollup.track(b, 'UNHEALTHY', 2);
    expect(rollup.instanceScore('web', 'w2')).toBe(0);
    expect(rollup.serviceScore('web')).toBe(50);
    expect(rollup.serviceCounts('web')).toMatchObject({ HEALTHY: 1, UNHEALTHY: 1 });
    rollup.untrack(b);
    expect(rollup.serviceScore('web')).toBe(100);
    expect(rollup.serviceCounts('web')).toMatchObject({ HEALTHY: 1, UNHEALTHY: 0 });
  });
});

describe('check policies and dependencies', () => {
  it.each([
    ['worst', ['HEALTHY', 'DEGRADED'], 'DEGRADED'],
    ['all', ['HEALTHY', 'DEGRADED'], 'UNHEALTHY'],
    ['all', ['HEALTHY', 'HEALTHY'], 'HEALTHY'],
    ['any', ['UNHEALTHY', 'HEALTHY'], 'HEALTHY'],
    ['any', ['UNHEALTHY', 'DEGRADED'], 'DEGRADED'],
    ['any', ['UNHEALTHY', 'UNHEALTHY'], 'UNHEALTHY'],
    [{ k: 2 }, ['HEALTHY', 'HEALTHY', 'UNHEALTHY'], 'HEALTHY'],
    [{ k: 2 }, ['HEALTHY', 'DEGRADED', 'UNHEALTHY'], 'DEGRADED'],
    [{ k: 2 }, ['HEALTHY', 'UNHEALTHY', 'UNHEALTHY'], 'UNHEALTHY'],
    ['all', ['UNKNOWN', 'UNKNOWN'], 'UNKNOWN'],
  ] as const)('policy %j over %j gives %s', async (policy, statuses, expected) => {
    const { instanceStatus } = await import('../../src/status/aggregate.js');
    expect(instanceStatus(statuses, policy)).toBe(expected);
  });

  it('caps a service at DEGRADED while a dependency is UNHEALTHY, names the cause, and lifts the cap on recovery', () => {
    const changes: RollupChange[] = [];
    const rollup = new StatusRollup(
      (s) => ({ minHealthy: 1, dependsOn: s === 'web' ? ['db'] : [] }),
      (c) => changes.push(c),
    );
    const web = spec('web', 'w1', 'http');
    const db = spec('db', 'd1', 'tcp');
    rollup.track(web, 'HEALTHY', 1);
    rollup.track(db, 'HEALTHY', 1);
    expect(rollup.service('web')).toBe('HEALTHY');
    rollup.track(db, 'UNHEALTHY', 2);
    expect(rollup.service('web')).toBe('DEGRADED');
    expect(rollup.serviceCause('web')).toBe('dependency db is UNHEALTHY');
    expect(changes.find((c) => c.level === 'service' && c.id === 'web' && c.to === 'DEGRADED')).toMatchObject({
      to: 'DEGRADED',
      cause: 'dependency db is UNHEALTHY',
    });
    rollup.track(db, 'HEALTHY', 3);
    expect(rollup.service('web')).toBe('HEALTHY');
    expect(rollup.serviceCause('web')).toBeNull();
  });

  it('uses the per-instance policy the settings give', () => {
    const rollup = new StatusRollup(() => ({ minHealthy: 1, policy: (i) => (i === 'w1' ? 'any' : 'worst') }));
    rollup.track(spec('web', 'w1', 'a'), 'HEALTHY', 1);
    rollup.track(spec('web', 'w1', 'b'), 'UNHEALTHY', 1);
    rollup.track(spec('web', 'w2', 'a'), 'HEALTHY', 1);
    rollup.track(spec('web', 'w2', 'b'), 'UNHEALTHY', 1);
    expect(rollup.instance('web', 'w1')).toBe('HEALTHY');
    expect(rollup.instance('web', 'w2')).toBe('UNHEALTHY');
  });
});
