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

/**
 * The README's "Service status" table, row by row: counts of instances by
 * status (H, D, U, ?) and min_healthy → service status. `rows` below is that
 * table; a change of rule must change both.
 */
describe('serviceStatus (README table)', () => {
  const rows: Array<{ h: number; d: number; u: number; x: number; min: number; want: HealthStatus; why: string }> = [
    { h: 0, d: 0, u: 0, x: 0, min: 1, want: X, why: 'no instances' },
    { h: 0, d: 0, u: 0, x: 2, min: 1, want: X, why: 'nothing known yet' },
    { h: 3, d: 0, u: 0, x: 0, min: 2, want: H, why: 'every instance HEALTHY' },
    { h: 1, d: 0, u: 0, x: 0, min: 3, want: H, why: 'every instance HEALTHY, even below min_healthy' },
    { h: 0, d: 1, u: 0, x: 0, min: 1, want: D, why: 'a lone DEGRADED instance still serves' },
    { h: 0, d: 2, u: 1, x: 0, min: 2, want: D, why: 'DEGRADED instances count toward min_healthy' },
    { h: 1, d: 1, u: 0, x: 0, min: 1, want: D, why: 'enough passing, one DEGRADED' },
    { h: 2, d: 0, u: 1, x: 0, min: 2, want: D, why: 'enough passing, one UNHEALTHY' },
    { h: 2, d: 0, u: 2, x: 0, min: 2, want: D, why: 'exactly min_healthy passing is enough' },
    { h: 2, d: 0, u: 0, x: 1, min: 2, want: D, why: 'enough passing, one not known yet' },
    { h: 1, d: 0, u: 2, x: 0, min: 2, want: U, why: 'fewer passing than min_healthy' },
    { h: 0, d: 1, u: 2, x: 0, min: 2, want: U, why: 'fewer passing than min_healthy, DEGRADED included' },
    { h: 0, d: 0, u: 1, x: 0, min: 1, want: U, why: 'no instance passing' },
    { h: 1, d: 0, u: 0, x: 2, min: 2, want: U, why: 'UNKNOWN instances do not pass once any is known' },
    { h: 0, d: 0, u: 2, x: 0, min: 0, want: D, why: 'min_healthy 0: never UNHEALTHY' },
    { h: 0, d: 2, u: 0, x: 0, min: 0, want: D, why: 'min_healthy 0, all DEGRADED' },
  ];
  const named = rows.map((r) => ({ ...r, name: `H=${r.h} D=${r.d} U=${r.u} ?=${r.x} min_healthy=${r.min} → ${r.want} (${r.why})` }));
  it.each(named)('$name', ({ h, d, u, x, min, want }) => {
    const instances = [
      ...Array<HealthStatus>(u).fill(U),
      ...Array<HealthStatus>(x).fill(X),
      ...Array<HealthStatus>(d).fill(D),
      ...Array<HealthStatus>(h).fill(H),
    ];
    expect(serviceStatus(instances, min)).toBe(want);
    expect(serviceStatus([...instances].reverse(), min)).toBe(want); // order does not matter
  });
});

/** The README's "Mesh status" table, row by row (c: critical, n: not critical). */
describe('meshStatus (README table)', () => {
  const c = (status: HealthStatus) => ({ status, critical: true });
  const n = (status: HealthStatus) => ({ status, critical: false });
  it.each([
    { name: 'is UNKNOWN with no services', services: [], want: X },
    { name: 'is UNKNOWN when every service is UNKNOWN', services: [c(X), n(X)], want: X },
    { name: 'is HEALTHY when every service is HEALTHY', services: [c(H), n(H)], want: H },
    { name: 'is UNHEALTHY when a critical service is UNHEALTHY', services: [c(H), c(U), n(H)], want: U },
    { name: 'is UNHEALTHY when a critical service is UNHEALTHY and the rest unknown', services: [c(U), c(X)], want: U },
    { name: 'is DEGRADED, not UNHEALTHY, when only a non-critical service is UNHEALTHY', services: [c(H), n(U)], want: D },
    { name: 'is DEGRADED when every UNHEALTHY service is non-critical', services: [n(U), n(U)], want: D },
    { name: 'is DEGRADED when a service is DEGRADED', services: [c(H), c(D)], want: D },
    { name: 'is DEGRADED when a service is UNKNOWN beside HEALTHY ones', services: [c(H), c(X), n(H)], want: D },
  ] as { name: string; services: { status: HealthStatus; critical: boolean }[]; want: HealthStatus }[])('$name', ({ services, want }) => {
    expect(meshStatus(services)).toBe(want);
  });
});
