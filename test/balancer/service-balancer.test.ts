import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/core/clock.js';
import { seeded } from '../../src/core/random.js';
import type { HealthStatus } from '../../src/core/status.js';
import { balancerSchema } from '../../src/config/balancer.js';
import { ServiceBalancer, type BalancerEvent, type UpstreamMember } from '../../src/balancer/service-balancer.js';

type ConfigInput = Parameters<typeof balancerSchema.parse>[0];

function build(config: ConfigInput = {}, members: UpstreamMember[] = three()) {
  const clock = new FakeClock(1_000_000);
  const events: BalancerEvent[] = [];
  const b = new ServiceBalancer({ service: 'api', config: balancerSchema.parse(config), clock, random: seeded(7), onEvent: (e) => events.push(e) });
  b.setMembers(members);
  return { clock, b, events };
}

function member(id: string, status: HealthStatus = 'HEALTHY', extra: Partial<UpstreamMember> = {}): UpstreamMember {
  return { id, address: `127.0.0.1:${9000 + id.charCodeAt(id.length - 1)}`, weight: 1, status, score: 100, ...extra };
}

function three(statuses: HealthStatus[] = ['HEALTHY', 'HEALTHY', 'HEALTHY']): UpstreamMember[] {
  return statuses.map((s, i) => member(`i${i + 1}`, s));
}

/** Pick n times, reporting each pick as `ok` at once; returns picks by id. */
function load(
  b: ServiceBalancer,
  n: number,
  outcome: (id: string) => { ok: boolean; status?: number } = () => ({ ok: true, status: 200 }),
): Record<string, number> {
  const counts: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const p = b.pick();
    if (!p) continue;
    counts[p.id] = (counts[p.id] ?? 0) + 1;
    b.report(p.id, { latencyMs: 1, ...outcome(p.id) });
  }
  return counts;
}

const quiet = { outlier: { enabled: false }, breaker: { enabled: false } } as const;

describe('ServiceBalancer: active health', () => {
  it.each([
    { statuses: ['HEALTHY', 'HEALTHY', 'UNHEALTHY'], picked: ['i1', 'i2'] },
    { statuses: ['HEALTHY', 'DEGRADED', 'UNHEALTHY'], picked: ['i1', 'i2'] }, // degraded still serves
    { statuses: ['HEALTHY', 'UNKNOWN', 'HEALTHY'], picked: ['i1', 'i3'] },
  ] as const)('picks only instances that take traffic: $statuses', ({ statuses, picked }) => {
    const { b } = build(quiet, three([...statuses]));
    expect(Object.keys(load(b, 300)).sort()).toEqual(picked);
  });

  it('follows the weights exactly with wrr, and drains weight 0', () => {
    const { b } = build(quiet, [member('i1', 'HEALTHY', { weight: 3 }), member('i2', 'HEALTHY', { weight: 1 }), member('i3', 'HEALTHY', { weight: 0 })]);
    expect(load(b, 400)).toEqual({ i1: 300, i2: 100 });
  });

  it('does not restart the schedule when a feed repeats the same members, or scores drift under 5 points', () => {
    const members = [member('i1', 'HEALTHY', { weight: 3 }), member('i2', 'HEALTHY', { weight: 1 })];
    const { b } = build(quiet, members);
    const counts: Record<string, number> = {};
    for (let i = 0; i < 400; i++) {
      b.setMembers(members.map((m) => ({ ...m, score: 100 - (i % 4) })));
      const p = b.pick()!;
      counts[p.id] = (counts[p.id] ?? 0) + 1;
      b.release(p.id);
    }
    expect(counts).toEqual({ i1: 300, i2: 100 }); // a restart before every pick would give i1 all 400
  });

  it('scales weights by health score when use_score is on', () => {
    const { b } = build(quiet, [member('i1', 'HEALTHY', { score: 100 }), member('i2', 'HEALTHY', { score: 50 })]);
    const c = load(b, 300);
    expect(c.i1).toBe(200);
    expect(c.i2).toBe(100);
  });

  it('sees a status change at once', () => {
    const { b } = build(quiet);
    b.setMembers(three(['HEALTHY', 'UNHEALTHY', 'HEALTHY']));
    expect(load(b, 100).i2).toBeUndefined();
    b.setMembers(three());
    expect(load(b, 99).i2).toBe(33);
  });
});

describe('ServiceBalancer: panic mode', () => {
  it.each([
    { statuses: ['HEALTHY', 'HEALTHY', 'UNHEALTHY'], threshold: 50, panic: false },
    { statuses: ['HEALTHY', 'UNHEALTHY', 'UNHEALTHY'], threshold: 50, panic: true },
    { statuses: ['HEALTHY', 'UNHEALTHY', 'UNHEALTHY'], threshold: 30, panic: false },
    { statuses: ['UNHEALTHY', 'UNHEALTHY', 'UNHEALTHY'], threshold: 0, panic: false },
  ] as const)('$statuses at threshold $threshold% → panic $panic', ({ statuses, threshold, panic }) => {
    const { b } = build({ ...quiet, panic_threshold: threshold }, three([...statuses]));
    expect(b.snapshot().panic).toBe(panic);
    const picked = Object.keys(load(b, 300)).length;
    expect(picked).toBe(panic ? 3 : statuses.filter((s) => s === 'HEALTHY').length);
  });

  it('says nothing of the panic of a cold start (all UNKNOWN), then tells real ones', () => {
    const { b, events } = build(quiet, three(['UNKNOWN', 'UNKNOWN', 'UNKNOWN']));
    expect(b.snapshot().panic).toBe(true);
    b.setMembers(three());
    b.setMembers(three(['UNHEALTHY', 'UNHEALTHY', 'HEALTHY']));
    expect(events.filter((e) => e.type === 'panic').map((e) => e.type === 'panic' && e.panic)).toEqual([true]);
  });

  it('says when panic starts and ends', () => {
    const { b, events } = build(quiet);
    b.setMembers(three(['HEALTHY', 'UNHEALTHY', 'UNHEALTHY']));
    b.setMembers(three());
    expect(events.filter((e) => e.type === 'panic').map((e) => e.type === 'panic' && [e.panic, Math.round(e.healthyShare * 100)])).toEqual([
      [true, 33],
      [false, 100],
    ]);
  });
});

describe('ServiceBalancer: zones', () => {
  const zoned = (statuses: HealthStatus[]) => ['a', 'a', 'a', 'b', 'b'].map((zone, i) => member(`i${i + 1}`, statuses[i], { zone }));

  it.each([
    { statuses: ['HEALTHY', 'HEALTHY', 'HEALTHY', 'HEALTHY', 'HEALTHY'], local: true, picked: ['i1', 'i2', 'i3'] },
    { statuses: ['HEALTHY', 'HEALTHY', 'UNHEALTHY', 'HEALTHY', 'HEALTHY'], local: false, picked: ['i1', 'i2', 'i4', 'i5'] }, // 67 % < 70 %
  ] as const)('prefers the local zone while enough of it is usable: local=$local', ({ statuses, local, picked }) => {
    const { b } = build({ ...quiet, zone: { local: 'a' } }, zoned([...statuses]));
    expect(b.snapshot().zone).toEqual({ local: 'a', usingLocal: local });
    expect(Object.keys(load(b, 500)).sort()).toEqual(picked);
  });
});

describe('ServiceBalancer: circuit breaker', () => {
  const breakerOnly = { outlier: { enabled: false }, breaker: { consecutive_failures: 3, open_for: '5s', half_open_trials: 1 } } as const;

  it('opens after 3 failures in a row, refuses for open_for, lets one trial through, closes on its success', () => {
    const { b, clock, events } = build(breakerOnly);
    for (let i = 0; i < 3; i++) b.report('i1', { ok: false, latencyMs: 1 });
    expect(b.snapshot().instances.find((m) => m.id === 'i1')!.breaker!.state).toBe('open');
    expect(load(b, 100).i1).toBeUndefined();
    clock.advance(5_000);
    const trial = load(b, 3);
    expect(trial.i1).toBe(1); // one trial, reported ok → closed
    expect(b.snapshot().instances.find((m) => m.id === 'i1')!.breaker!.state).toBe('closed');
    expect(load(b, 99).i1).toBe(33);
    const kinds = events.filter((e) => e.type === 'breaker').map((e) => e.type === 'breaker' && `${e.from}→${e.to}`);
    expect(kinds).toEqual(['closed→open', 'open→half-open', 'half-open→closed']);
  });

  it('a trial released without an outcome (client gone) gives its slot back: the breaker does not stay half-open for ever', () => {
    const { b, clock } = build(breakerOnly);
    for (let i = 0; i < 3; i++) b.report('i1', { ok: false, latencyMs: 1 });
    clock.advance(5_000);
    const picks = () => Array.from({ length: 6 }, () => b.pick()!.id);
    const first = picks();
    expect(first.filter((id) => id === 'i1')).toHaveLength(1); // the one trial
    b.release('i1');
    for (const id of first) if (id !== 'i1') b.release(id);
    clock.advance(60 * 60_000);
    const again = picks();
    expect(again.filter((id) => id === 'i1')).toHaveLength(1); // a new trial is let through
    b.report('i1', { ok: true, latencyMs: 1, status: 200 });
    expect(b.snapshot().instances.find((m) => m.id === 'i1')!.breaker!.state).toBe('closed');
  });

  it('a failed trial opens it again for twice as long', () => {
    const { b, clock } = build(breakerOnly);
    for (let i = 0; i < 3; i++) b.report('i1', { ok: false, latencyMs: 1 });
    clock.advance(5_000);
    load(b, 3, (id) => (id === 'i1' ? { ok: false, status: 500 } : { ok: true, status: 200 }));
    const br = b.snapshot().instances.find((m) => m.id === 'i1')!.breaker!;
    expect(br.state).toBe('open');
    expect(br.reopensAt! - clock.now()).toBe(10_000);
  });
});

describe('ServiceBalancer: outlier ejection', () => {
  const outlierOnly = { breaker: { enabled: false }, outlier: { max_ejection_percent: 50, base_ejection_time: '30s' } } as const;

  it('ejects after 5 consecutive 5xx, explains it, and takes the instance back after the ejection time', () => {
    const { b, clock } = build(outlierOnly);
    const c = load(b, 60, (id) => (id === 'i2' ? { ok: false, status: 503 } : { ok: true, status: 200 }));
    expect(c.i2).toBe(5);
    const snap = b.snapshot().instances.find((m) => m.id === 'i2')!;
    expect(snap.usable).toBe(false);
    expect(snap.outlier).toMatchObject({ ejected: true, detector: 'consecutive_5xx', timesEjected: 1, returnsAt: clock.now() + 30_000 });
    expect(snap.outlier!.reason).toContain('5 consecutive 5xx');
    clock.advance(30_000);
    expect(load(b, 30).i2).toBeGreaterThan(0);
  });

  it('returns early when an active check passes (uneject_on_active_healthy)', () => {
    const { b } = build(outlierOnly);
    for (let i = 0; i < 5; i++) b.report('i2', { ok: false, latencyMs: 1, status: 500 });
    expect(b.snapshot().instances.find((m) => m.id === 'i2')!.outlier!.ejected).toBe(true);
    b.activeCheckPassed('i2');
    expect(b.snapshot().instances.find((m) => m.id === 'i2')!.outlier!.ejected).toBe(false);
  });

  it('keeps it out until its time when uneject_on_active_healthy is off', () => {
    const { b } = build({ ...outlierOnly, outlier: { ...outlierOnly.outlier, uneject_on_active_healthy: false } });
    for (let i = 0; i < 5; i++) b.report('i2', { ok: false, latencyMs: 1, status: 500 });
    b.activeCheckPassed('i2');
    expect(b.snapshot().instances.find((m) => m.id === 'i2')!.outlier!.ejected).toBe(true);
  });

  it('counts a success reported without a status as a success, not a 503', () => {
    const { b } = build(outlierOnly);
    for (let i = 0; i < 10; i++) b.report('i3', { ok: true, latencyMs: 1 });
    expect(b.snapshot().instances.find((m) => m.id === 'i3')!.outlier!.ejected).toBe(false);
  });

  it('counts a transport failure (no status) as 503', () => {
    const { b } = build(outlierOnly);
    for (let i = 0; i < 5; i++) b.report('i3', { ok: false, latencyMs: 1 });
    expect(b.snapshot().instances.find((m) => m.id === 'i3')!.outlier!.ejected).toBe(true);
  });
});

describe('ServiceBalancer: slow start', () => {
  it('ramps an instance that becomes healthy from 10 % to its full share over the window', () => {
    const { b, clock } = build({ ...quiet, slow_start: { window: '10s' } }, three(['HEALTHY', 'HEALTHY', 'UNHEALTHY']));
    b.setMembers(three());
    const early = load(b, 2100).i3 ?? 0;
    expect(early / 2100).toBeLessThan(0.06); // 0.1 / 2.1 ≈ 4.8 %
    clock.advance(5_000);
    const mid = load(b, 2500).i3 ?? 0;
    expect(mid / 2500).toBeGreaterThan(0.15); // 0.5 / 2.5 = 20 %
    expect(mid / 2500).toBeLessThan(0.25);
    clock.advance(5_000);
    expect(load(b, 300).i3).toBe(100);
    expect(b.snapshot().instances.find((m) => m.id === 'i3')!.slowStart).toBeNull();
  });

  it('does not ramp on a cold start: nothing had taken traffic yet (every instance UNKNOWN at boot)', () => {
    const { b } = build({ ...quiet, slow_start: { window: '10s' } }, three(['UNKNOWN', 'UNKNOWN', 'UNKNOWN']));
    b.setMembers(three(['HEALTHY', 'UNKNOWN', 'UNKNOWN']));
    b.setMembers(three());
    expect(b.snapshot().instances.map((m) => m.slowStart)).toEqual(
      [null, null, null].map((_, i) => (i === 0 ? null : expect.objectContaining({ factor: 0.1 }))),
    );
  });

  it('never ramps with maglev: weights stay as configured', () => {
    const { b } = build({ ...quiet, picker: 'maglev', slow_start: { window: '10s' } }, three(['HEALTHY', 'HEALTHY', 'UNHEALTHY']));
    b.setMembers(three());
    expect(b.snapshot().instances.every((m) => m.slowStart === null && m.effectiveWeight === 1)).toBe(true);
  });

  it('does not ramp the members of the very first update', () => {
    const { b } = build({ ...quiet, slow_start: { window: '10s' } });
    expect(load(b, 300)).toEqual({ i1: 100, i2: 100, i3: 100 });
  });
});

describe('ServiceBalancer: picks for retries and hashing', () => {
  it('avoids excluded instances, also when a hash key keeps choosing one', () => {
    const { b } = build({ ...quiet, picker: 'maglev' });
    const first = b.pick('user-42')!;
    expect(b.pick('user-42')!.id).toBe(first.id);
    const other = b.pick('user-42', new Set([first.id]))!;
    expect(other.id).not.toBe(first.id);
    expect(b.pick('user-42', new Set(['i1', 'i2', 'i3']))).toBeUndefined();
  });

  it('returns a plain instance: JSON shows id, address, weight and zone only', () => {
    const { b } = build(quiet, [member('i1', 'HEALTHY', { zone: 'z' })]);
    expect(JSON.parse(JSON.stringify(b.pick()))).toEqual({ id: 'i1', address: member('i1').address, weight: 1, zone: 'z' });
  });

  it('observe() (outcomes of requests it did not pick) leaves the requests in flight alone', () => {
    const { b } = build({ ...quiet, picker: 'p2c' });
    const held = b.pick()!;
    for (let i = 0; i < 5; i++) b.observe(held.id, { ok: true, latencyMs: 1, status: 200 });
    expect(b.snapshot().instances.find((m) => m.id === held.id)!).toMatchObject({ inFlight: 1, successes: 5 });
  });

  it('ignores outcomes that arrive after close(): a replaced balancer arms no timer', () => {
    const { b, clock } = build({ breaker: { enabled: false }, outlier: { consecutive_5xx: 1, max_ejection_percent: 100 } });
    b.close();
    b.report('i1', { ok: false, latencyMs: 1, status: 500 });
    expect(b.snapshot().instances.find((m) => m.id === 'i1')!.outlier!.ejected).toBe(false);
    clock.advance(1); // nothing due
  });

  it('tracks requests in flight for p2c and ignores reports for instances that left', () => {
    const { b } = build({ ...quiet, picker: 'p2c' });
    const held = [b.pick()!, b.pick()!, b.pick()!, b.pick()!];
    const inFlight = Object.fromEntries(b.snapshot().instances.map((m) => [m.id, m.inFlight]));
    expect(Object.values(inFlight).reduce((a, n) => a + n, 0)).toBe(4);
    for (const p of held) b.release(p.id);
    expect(b.snapshot().instances.every((m) => m.inFlight === 0)).toBe(true);
    b.setMembers(three().slice(0, 2));
    expect(() => b.report('i3', { ok: false, latencyMs: 1 })).not.toThrow();
  });
});

describe('ServiceBalancer: passive evidence', () => {
  it('says "healthy" every min_successes successes and "unhealthy" on the first failure after', () => {
    const { b, events } = build({ ...quiet, adaptive_interval: { stretch: 3, min_successes: 4 } }, [member('i1')]);
    for (let i = 0; i < 9; i++) b.report('i1', { ok: true, latencyMs: 1, status: 200 });
    b.report('i1', { ok: false, latencyMs: 1, status: 500 });
    b.report('i1', { ok: false, latencyMs: 1, status: 500 });
    expect(events.filter((e) => e.type === 'passive').map((e) => e.type === 'passive' && e.healthy)).toEqual([true, true, false]);
  });
});
