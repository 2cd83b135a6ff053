import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/core/clock.js';
import { OutlierDetection, type OutlierChange, type OutlierConfig } from '../../src/balancer/outlier.js';

function build(config: OutlierConfig, hosts = ['a', 'b', 'c', 'd', 'e']) {
  const clock = new FakeClock(0);
  const changes: OutlierChange[] = [];
  const od = new OutlierDetection({ clock, config, onChange: (c) => changes.push(c) });
  for (const h of hosts) od.addHost(h);
  return { clock, od, changes };
}

/** Send `n` responses with `status` to `id`. */
function send(od: OutlierDetection, id: string, status: number, n: number): void {
  for (let i = 0; i < n; i++) od.report(id, status);
}

/** Send `total` responses to `id`, the first `failed` of them 500. */
function traffic(od: OutlierDetection, id: string, total: number, failed: number): void {
  send(od, id, 500, failed);
  send(od, id, 200, total - failed);
}

const onlyConsecutive: OutlierConfig = { successRate: false, maxEjectionPercent: 100, baseEjectionTimeMs: 30_000 };

describe('OutlierDetection: consecutive errors', () => {
  it.each([
    { name: '5 consecutive 5xx eject', events: [500, 500, 500, 500, 500], ejected: true },
    { name: '4 consecutive 5xx do not', events: [500, 500, 500, 500], ejected: false },
    { name: 'a 2xx in between resets the run', events: [500, 500, 200, 500, 500, 500], ejected: false },
    { name: '4xx count as success', events: [500, 500, 500, 404, 500, 500], ejected: false },
    { name: 'mixed 5xx and gateway errors count for consecutive_5xx', events: [500, 502, 503, 501, 504], ejected: true },
  ])('$name', ({ events, ejected }) => {
    const { od } = build({ ...onlyConsecutive, consecutive5xx: 5 });
    for (const s of events) od.report('a', s);
    expect(od.isEjected('a')).toBe(ejected);
    if (ejected) expect(od.explain('a').detector).toBe('consecutive_5xx');
  });

  it('ejects on 3 consecutive gateway errors; a plain 500 breaks the gateway run', () => {
    const { od } = build({ ...onlyConsecutive, consecutive5xx: 10, consecutiveGatewayFailure: 3 });
    for (const s of [502, 503, 500, 504, 502]) od.report('a', s);
    expect(od.isEjected('a')).toBe(false);
    od.report('a', 503);
    expect(od.isEjected('a')).toBe(true);
    expect(od.explain('a')).toMatchObject({
      detector: 'consecutive_gateway_failure',
      figures: { consecutive: 3, threshold: 3, ejectionTimeMs: 30_000 },
    });
  });
});

describe('OutlierDetection: interval detectors', () => {
  it('ejects the one instance of 5 whose success rate is below mean − 1.9·stdev', () => {
    const { od, clock } = build({ successRate: { minimumHosts: 5, requestVolume: 100, stdevFactor: 1.9 }, consecutive5xx: false, maxEjectionPercent: 50 });
    od.start();
    for (const id of ['a', 'b', 'c', 'd']) traffic(od, id, 100, 1);
    traffic(od, 'e', 100, 40);
    clock.advance(9_999);
    expect(od.ejected()).toEqual([]);
    clock.advance(1);
    expect(od.ejected()).toEqual(['e']);
    const x = od.explain('e');
    expect(x.detector).toBe('success_rate');
    // rates 99,99,99,99,60: mean 91.2, population stdev 15.6, threshold 91.2 − 1.9 × 15.6 = 61.56.
    expect(x.figures!.successRate).toBe(60);
    expect(x.figures!.mean).toBeCloseTo(91.2, 6);
    expect(x.figures!.stdev).toBeCloseTo(15.6, 6);
    expect(x.figures!.threshold).toBeCloseTo(61.56, 6);
    expect(x.figures!.hosts).toBe(5);
    expect(x.reason).toContain('success rate 60% < threshold 61.56%');
    od.stop();
  });

  it('does not run success rate with fewer than minimumHosts instances at requestVolume', () => {
    const { od } = build({ successRate: { minimumHosts: 5, requestVolume: 100 }, consecutive5xx: false, maxEjectionPercent: 50 });
    for (const id of ['a', 'b', 'c']) traffic(od, id, 100, 0);
    traffic(od, 'd', 99, 0); // one short of the volume
    traffic(od, 'e', 100, 90);
    od.sweep();
    expect(od.ejected()).toEqual([]);
  });

  it('uses only the requests since the last sweep', () => {
    const { od } = build({
      successRate: false,
      failurePercentage: { threshold: 50, minimumHosts: 3, requestVolume: 10 },
      consecutive5xx: false,
      maxEjectionPercent: 100,
    });
    for (const id of ['a', 'b', 'c']) traffic(od, id, 10, 0);
    traffic(od, 'd', 10, 4);
    od.sweep();
    traffic(od, 'd', 10, 4); // 40 % again, not 80 % over two intervals
    od.sweep();
    expect(od.isEjected('d')).toBe(false);
  });

  it.each([
    { failed: 84, ejected: false },
    { failed: 85, ejected: true },
    { failed: 100, ejected: true },
  ])('failure percentage: $failed % failing with threshold 85 → ejected $ejected', ({ failed, ejected }) => {
    const { od } = build({
      successRate: false,
      failurePercentage: { threshold: 85, minimumHosts: 5, requestVolume: 50 },
      consecutive5xx: false,
      maxEjectionPercent: 100,
    });
    for (const id of ['a', 'b', 'c', 'd']) traffic(od, id, 100, 0);
    traffic(od, 'e', 100, failed);
    od.sweep();
    expect(od.isEjected('e')).toBe(ejected);
    if (ejected) expect(od.explain('e').figures).toMatchObject({ failurePercentage: failed, threshold: 85, requests: 100 });
  });

  it('failure percentage needs minimumHosts instances at requestVolume', () => {
    const { od } = build({
      successRate: false,
      failurePercentage: { threshold: 85, minimumHosts: 5, requestVolume: 50 },
      consecutive5xx: false,
      maxEjectionPercent: 100,
    });
    for (const id of ['a', 'b', 'c', 'd']) traffic(od, id, 49, 0);
    traffic(od, 'e', 100, 100);
    od.sweep();
    expect(od.isEjected('e')).toBe(false);
  });
});

describe('OutlierDetection: max_ejection_percent', () => {
  it.each([
    { hosts: 3, percent: 10, max: 1 },
    { hosts: 5, percent: 10, max: 1 },
    { hosts: 10, percent: 20, max: 2 },
    { hosts: 20, percent: 10, max: 2 },
    { hosts: 25, percent: 10, max: 3 },
    { hosts: 4, percent: 50, max: 2 },
    { hosts: 4, percent: 0, max: 0 },
    { hosts: 3, percent: 100, max: 3 },
  ])('$hosts instances at $percent % → at most $max ejected', ({ hosts, percent, max }) => {
    const ids = Array.from({ length: hosts }, (_, i) => `h${i}`);
    const { od } = build({ successRate: false, consecutive5xx: 1, maxEjectionPercent: percent }, ids);
    for (const id of ids) od.report(id, 500);
    expect(od.ejected()).toHaveLength(max);
  });

  it('records the verdict it suppressed, and ejects once room frees up', () => {
    const { od, clock } = build({ successRate: false, consecutive5xx: 1, maxEjectionPercent: 10, baseEjectionTimeMs: 1_000 }, ['a', 'b', 'c']);
    od.report('a', 500);
    od.report('b', 500);
    expect(od.ejected()).toEqual(['a']);
    expect(od.explain('b')).toMatchObject({
      ejected: false,
      suppressed: { detector: 'consecutive_5xx', figures: { ejectedNow: 1, instances: 3, maxEjectionPercent: 10 } },
    });
    clock.advance(1_000);
    od.report('b', 500);
    expect(od.ejected()).toEqual(['b']);
  });
});

describe('OutlierDetection: ejection time and return', () => {
  it('returns the instance when base × multiplier is up, growing per ejection and capped', () => {
    const { od, clock, changes } = build({ ...onlyConsecutive, consecutive5xx: 1, baseEjectionTimeMs: 10_000, maxEjectionTimeMs: 25_000 });
    const expected = [
      { times: 1, ms: 10_000 },
      { times: 2, ms: 20_000 },
      { times: 3, ms: 25_000 },
      { times: 4, ms: 25_000 },
    ];
    for (const e of expected) {
      od.report('a', 500);
      const x = od.explain('a');
      expect(x).toMatchObject({ ejected: true, timesEjected: e.times, ejectedAt: clock.now(), returnsAt: clock.now() + e.ms });
      clock.advance(e.ms - 1);
      expect(od.isEjected('a'), `still out 1 ms before ejection ${e.times} ends`).toBe(true);
      clock.advance(1);
      expect(od.isEjected('a'), `back after ejection ${e.times}`).toBe(false);
    }
    expect(changes.filter((c) => c.type === 'uneject').map((c) => c.type === 'uneject' && c.cause)).toEqual(['time', 'time', 'time', 'time']);
  });

  it('shrinks the multiplier by one per sweep once the instance has been back an interval', () => {
    const { od, clock } = build({ ...onlyConsecutive, consecutive5xx: 1, baseEjectionTimeMs: 10_000, intervalMs: 10_000 });
    od.start();
    od.report('a', 500); // ×1
    clock.advance(10_000);
    od.report('a', 500); // ×2, back at 30 s
    clock.advance(20_000);
    expect(od.explain('a').multiplier).toBe(2);
    clock.advance(10_000); // sweep at 40 s: back for 10 s → ×1
    expect(od.explain('a').multiplier).toBe(1);
    clock.advance(10_000);
    expect(od.explain('a').multiplier).toBe(0);
    od.report('a', 500);
    expect(od.explain('a')).toMatchObject({ timesEjected: 3, multiplier: 1, returnsAt: clock.now() + 10_000 });
    od.stop();
  });

  it.each([
    { enabled: true, back: true },
    { enabled: false, back: false },
  ])('active healthy check with unejectOnActiveHealthy=$enabled → back early: $back', ({ enabled, back }) => {
    const { od, clock, changes } = build({ ...onlyConsecutive, consecutive5xx: 1, unejectOnActiveHealthy: enabled });
    od.report('a', 500);
    clock.advance(5_000);
    od.onActiveHealthy('a');
    expect(od.isEjected('a')).toBe(!back);
    if (back) {
      expect(changes.at(-1)).toEqual({ type: 'uneject', id: 'a', cause: 'active_healthy', at: 5_000 });
      // The cancelled timer must not fire a second uneject.
      clock.advance(60_000);
      expect(changes.filter((c) => c.type === 'uneject')).toHaveLength(1);
    } else {
      clock.advance(25_000);
      expect(od.isEjected('a')).toBe(false);
    }
  });

  it('explain() of a never-ejected instance says so, and keeps the last reason after return', () => {
    const { od, clock } = build({ ...onlyConsecutive, consecutive5xx: 2 });
    expect(od.explain('b')).toEqual({
      id: 'b',
      ejected: false,
      detector: null,
      figures: null,
      reason: null,
      timesEjected: 0,
      multiplier: 0,
      ejectedAt: null,
      returnsAt: null,
      suppressed: null,
    });
    send(od, 'a', 503, 2);
    clock.advance(30_000);
    expect(od.explain('a')).toMatchObject({
      ejected: false,
      detector: 'consecutive_5xx',
      figures: { consecutive: 2, threshold: 2, ejectionTimeMs: 30_000 },
      reason: '2 consecutive 5xx responses (threshold 2)',
      timesEjected: 1,
      returnsAt: null,
    });
  });

  it('throws on an unknown instance id', () => {
    const { od } = build({});
    expect(() => od.report('zzz', 500)).toThrow(/unknown instance "zzz"/);
  });
});
