import { describe, expect, it } from 'vitest';
import type { HealthStatus } from '../../src/core/status.js';
import { instanceStatus, meshStatus, serviceStatus } from '../../src/status/aggregate.js';

const H: HealthStatus = 'HEALTHY';
const D: HealthStatus = 'DEGRADED';
const U: HealthStatus = 'UNHEALTHY';
const X: HealthStatus = 'UNKNOWN';

describe('instanceStatus', () => {
  it.each([
    { name: 'is UNKNOWN with no checks', checks: [], want: X },
    { name: 'is HEALTHY when every check is HEALTHY', checks: [H, H, H], want: H },
    { name: 'is DEGRADED when the worst check is DEGRADED', checks: [H, D, H], want: D },
    { name: 'is UNKNOWN when a check is UNKNOWN and none is UNHEALTHY (UNKNOWN outranks DEGRADED)', checks: [H, D, X], want: X },
    { name: 'is UNHEALTHY when any check is UNHEALTHY', checks: [H, X, U, D], want: U },
    { name: 'takes a single check as is', checks: [D], want: D },
  ] as { name: string; checks: HealthStatus[]; want: HealthStatus }[])('$name', ({ checks, want }) => {
    expect(instanceStatus(checks)).toBe(want);
    expect(instanceStatus(checks, 'worst')).toBe(want);
  });

  it('does not reorder or modify its input', () => {
    const checks = Object.freeze([U, H, D]);
    instanceStatus(checks);
    expect(checks).toEqual([U, H, D]);
  });
});

describe('serviceStatus', () => {
  it.each([
    { name: 'is UNKNOWN with no instances', instances: [], min: 1, want: X },
    { name: 'is UNKNOWN when every instance is UNKNOWN (nothing known yet)', instances: [X, X], min: 1, want: X },
    { name: 'is HEALTHY when every instance is HEALTHY', instances: [H, H, H], min: 2, want: H },
    { name: 'is HEALTHY when every instance is HEALTHY even below minHealthy', instances: [H], min: 3, want: H },
    { name: 'is DEGRADED when one of three is UNHEALTHY and 2 HEALTHY meet minHealthy 2', instances: [H, H, U], min: 2, want: D },
    { name: 'is UNHEALTHY when 1 HEALTHY is fewer than minHealthy 2', instances: [H, U, U], min: 2, want: U },
    { name: 'is UNHEALTHY when no instance is HEALTHY with minHealthy 1', instances: [U, D], min: 1, want: U },
    { name: 'is DEGRADED when all are DEGRADED and minHealthy is 0', instances: [D, D], min: 0, want: D },
    { name: 'is DEGRADED when all are UNHEALTHY and minHealthy is 0', instances: [U, U], min: 0, want: D },
    { name: 'is DEGRADED when a DEGRADED instance sits beside enough HEALTHY ones', instances: [H, D], min: 1, want: D },
    { name: 'counts UNKNOWN instances as not HEALTHY once any is known', instances: [H, X, X], min: 2, want: U },
    { name: 'is DEGRADED with some UNKNOWN instances when enough are HEALTHY', instances: [H, H, X], min: 2, want: D },
    { name: 'counts exactly minHealthy HEALTHY as enough', instances: [H, H, U, U], min: 2, want: D },
  ] as { name: string; instances: HealthStatus[]; min: number; want: HealthStatus }[])(
    '$name',
    ({ instances, min, want }) => {
      expect(serviceStatus(instances, min)).toBe(want);
    },
  );
});

describe('meshStatus', () => {
  it.each([
    { name: 'is UNKNOWN with no services', services: [], want: X },
    { name: 'is UNKNOWN when every service is UNKNOWN', services: [X, X], want: X },
    { name: 'is HEALTHY when every service is HEALTHY', services: [H, H], want: H },
    { name: 'reads an UNKNOWN service as DEGRADED beside HEALTHY ones', services: [H, X, H], want: D },
    { name: 'is DEGRADED when the worst service is DEGRADED', services: [H, D], want: D },
    { name: 'stays DEGRADED with DEGRADED and UNKNOWN services', services: [D, X], want: D },
    { name: 'is UNHEALTHY when any service is UNHEALTHY, UNKNOWN ones too', services: [X, U, H], want: U },
    { name: 'is UNHEALTHY when every service is UNHEALTHY', services: [U, U], want: U },
  ] as { name: string; services: HealthStatus[]; want: HealthStatus }[])('$name', ({ services, want }) => {
    expect(meshStatus(services)).toBe(want);
  });
});
