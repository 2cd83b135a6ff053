import { afterEach, describe, expect, it } from 'vitest';
import { AnalysisTracker } from '../../src/wiring/analysis-tracker.js';
import { fixture, HOUR, MIN, stored, T, type Fixture } from './fixture.js';

const yaml = `
defaults: { interval: 10s, rise: 1, fall: 1, jitter: 0 }
services:
  api:
    instances: [{ id: a1, address: "127.0.0.1:1" }]
    checks: [{ kind: tcp, degraded_after: 300ms }]
`;

/** 3 hours of a check whose latency rises from 10 to 28 ms (6 results a minute, a little deterministic noise). */
function risingHistory() {
  const rows = [];
  for (let m = 0; m < 180; m++) {
    for (let k = 0; k < 6; k++) {
      const at = T - 3 * HOUR + m * MIN + k * 10_000;
      rows.push(stored('api/a1/tcp', at, 'HEALTHY', 10 + m * 0.1 + ((k * 7 + m * 3) % 5) * 0.2, { check: 95, instance: 95 }));
    }
  }
  return rows;
}

const open: Fixture[] = [];
afterEach(async () => {
  for (const f of open.splice(0)) await f.stop();
});

describe('the daemon analysis warm-up', () => {
  it('learns each series from stored minute rollups when first seen, so a restart does not forget', async () => {
    const f = await fixture({ yaml, history: risingHistory() });
    open.push(f);
    f.answers.set('a1', { status: 'HEALTHY', latencyMs: 28 });
    await f.step(2_000); // the first live result: the check, its instance and its service are seen
    await f.analysis.tracker.idle();
    const answer = (await f.analysis.check('api/a1/tcp'))!;
    const latency = answer.details.find((d) => d.series === 'latency_ms')!;
    expect(latency.points).toBe(180); // every stored minute, before any live minute closed
    expect(answer.trend).toMatchObject({ series: 'latency_ms', direction: 'degrading' });
    expect(answer.trend!.confidence).toBeGreaterThan(0.95);
    // 10 → 28 ms in 3 h is 0.1 ms a minute; the window holds the last hour of minutes.
    expect(answer.trend!.slopePerSecond * 60).toBeCloseTo(0.1, 2);
    expect(answer.details.find((d) => d.series === 'failure')!.last).toBe(0);
    const instance = (await f.analysis.instance('api/a1'))!;
    expect(instance.details.find((d) => d.series === 'score')!.points).toBe(180);

    // Live minutes go on from where the stored ones stopped.
    await f.step(2 * MIN);
    expect((await f.analysis.check('api/a1/tcp'))!.details.find((d) => d.series === 'latency_ms')!.points).toBe(182);
    // The switch from stored to live minutes is not an anomaly (both are minute means).
    expect((await f.analysis.check('api/a1/tcp'))!.anomalies).toEqual([]);
  });

  it('starts cold without a store and says why there is no trend yet', async () => {
    const f = await fixture({ yaml, history: risingHistory(), noStore: true });
    open.push(f);
    await f.step(3 * MIN);
    const answer = (await f.analysis.check('api/a1/tcp'))!;
    expect(answer.details.find((d) => d.series === 'latency_ms')!.points).toBe(2);
    expect(answer.trend).toBeNull();
    expect(answer.reasons.trend).toMatch(/at least 10 needed/);
    expect(answer.forecast).toBeNull();
    expect(answer.reasons.forecast).toMatch(/at least 20 needed/);
    expect(answer.anomalies).toBeNull();
    expect(answer.reasons.anomalies).toMatch(/16 minutes/);
  });

  it('keeps memory bounded: series past the cap are refused and counted, removed checks are forgotten', async () => {
    const f = await fixture({
      yaml: `
defaults: { interval: 10s, rise: 1, fall: 1, jitter: 0 }
services:
  api:
    instances: [{ id: a1, address: "127.0.0.1:1" }, { id: a2, address: "127.0.0.1:2" }]
    checks: [{ kind: tcp }]
`,
      noStore: true,
    });
    open.push(f);
    await f.step(2_000);
    // 2 checks × (latency, failure) + 2 instance scores + 1 service score.
    expect(f.analysis.tracker.size).toBe(7);
    f.core.apply((await import('../../src/config/load.js')).parseConfig(yaml, { env: {} }));
    await f.step(2_000);
    expect(f.analysis.tracker.get('check', 'api/a2/tcp')).toBeUndefined();
    expect(f.analysis.tracker.get('instance', 'api/a2')).toBeUndefined();
    expect(
      [...f.analysis.tracker.subjectsOf('check'), ...f.analysis.tracker.subjectsOf('instance'), ...f.analysis.tracker.subjectsOf('service')].map((s) => s.key),
    ).toEqual(['api/a1/tcp', 'api/a1', 'api']);
    expect(f.analysis.tracker.size).toBe(4);

    const capped = new AnalysisTracker({ maxSeries: 3 });
    for (const name of ['latency_ms', 'failure', 'cpu_percent', 'disk_percent']) capped.add('check', 'api/a1/sys', 'api', 'a1', name, T, 1);
    expect(capped.size).toBe(3);
    expect(capped.refused).toBe(1);
    expect(capped.add('check', 'api/a1/sys', 'api', 'a1', 'disk_percent', T + MIN, 1)).toBe(false);
  });
});
