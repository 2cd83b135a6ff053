import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/core/clock.js';
import type { ConfigError } from '../../src/core/errors.js';
import { parseConfig } from '../../src/config/load.js';
import { harness, section, type Harness } from '../alerts/harness.js';
import { parseExposition, promtoolCheckMetrics, sampleValue } from '../helpers/prometheus.js';
import { DAY, fixture, HOUR, MIN, stored, T, type Fixture } from './fixture.js';

/**
 * Two hours of history, 10 results a minute: all good in the first hour,
 * 2 of 10 failing in the second (the last before now).
 */
function history() {
  const rows = [];
  for (let m = 0; m < 120; m++) {
    for (let k = 0; k < 10; k++) {
      const at = T - 2 * HOUR + m * MIN + k * 6_000;
      const bad = m >= 60 && k < 2;
      rows.push(stored('api/a1/tcp', at, bad ? 'UNHEALTHY' : 'HEALTHY', bad ? 900 : 20));
    }
  }
  return rows;
}

const service = (slo: string, extra = '') => `
defaults: { interval: 1h, rise: 1, fall: 1, jitter: 0 }
services:
  api:
    instances: [{ id: a1, address: "127.0.0.1:1" }]
    checks: [{ kind: tcp }]
    slo: ${slo}
${extra}`;

const open: Array<Fixture | Harness> = [];
afterEach(async () => {
  for (const f of open.splice(0)) await f.stop();
});

describe('SLOs from stored history', () => {
  it('gives the error budget and burn rates of a hand-computed case, as gauges that promtool accepts', async () => {
    const metricsRegistry = new Registry();
    const f = await fixture({ yaml: service('{ objective: 99, window: 3d }'), history: history(), metricsRegistry });
    open.push(f);
    await f.step(1_000); // the check's first result: its series, its instance's and its service's are tracked
    await f.analysis.tick();
    const slo = (await f.analysis.service('api'))!.slo!;
    // 1,200 stored results (+1 live), 120 bad; the budget allows 1 % of 1,200 = 12: 1 − 120 / 12 = −9.
    expect(slo.total).toBe(1201);
    expect(slo.total - slo.good).toBe(120);
    expect(slo.budgetRemaining).toBeCloseTo(1 - 120 / 12.01, 10);
    expect(slo.attainment).toBeCloseTo(1081 / 1201, 10);
    const burn = (name: string) => slo.burns.find((b) => b.condition.name === name)!;
    // Now is T + 1 s, so the last hour holds the minutes from T − 59 m (a bucket counts by its start):
    // 59 stored minutes, 20 % bad, + 1 good live result → 118 / 591 / 0.01 ≈ 20; 5 minutes: 8 / 41.
    // 6 h holds all 2 h stored: 10 %, burn 10.
    expect(burn('1h/5m')).toMatchObject({ firing: true });
    expect(burn('1h/5m').longBurn).toBeCloseTo(118 / 591 / 0.01, 10);
    expect(burn('1h/5m').shortBurn).toBeCloseTo(8 / 41 / 0.01, 10);
    expect(burn('6h/30m').longBurn).toBeCloseTo(120 / 1201 / 0.01, 10);
    expect(slo.firing).toBe('page');

    const text = await metricsRegistry.metrics();
    const samples = parseExposition(text);
    expect(sampleValue(samples, 'healthmesh_slo_error_budget_remaining', { service: 'api' })).toBeCloseTo(slo.budgetRemaining, 6);
    expect(sampleValue(samples, 'healthmesh_slo_burn_rate', { service: 'api', window: '5m' })).toBeCloseTo(8 / 41 / 0.01, 6);
    expect(sampleValue(samples, 'healthmesh_slo_burn_rate', { service: 'api', window: '3d' })).toBeCloseTo(120 / 1201 / 0.01, 6);
    expect(sampleValue(samples, 'healthmesh_slo_objective_ratio', { service: 'api' })).toBeCloseTo(0.99, 10);
    expect(sampleValue(samples, 'healthmesh_analysis_series')).toBe(4);
    expect(promtoolCheckMetrics(text)).toMatchObject({ code: 0 });
  });

  it('counts live minutes the store has not rolled up yet, so the 5-minute window does not lag', async () => {
    const f = await fixture({ yaml: service('{ objective: 99, window: 3d }').replace('interval: 1h', 'interval: 6s'), history: history() });
    open.push(f);
    // Two minutes of live results, all good: the 5-minute window now holds 3 bad minutes of the store and 2 good live ones.
    await f.step(2 * MIN);
    await f.analysis.tick();
    const slo = (await f.analysis.service('api'))!.slo!;
    const short = slo.burns.find((b) => b.condition.name === '1h/5m')!.shortBurn;
    // 6 bad of 30 stored (3 minutes) + 0 of 20 live (2 minutes, a result every 6 s) = 6 / 50 → burn 12
    // (the stored minutes alone would say 20).
    expect(short).toBeCloseTo(6 / 50 / 0.01, 6);
  });

  it('leaves maintenance out when exclude_maintenance is set', async () => {
    const maintenance = `alerts:
  notifiers: { log: { kind: log } }
  defaults: { notify: [log] }
  maintenance:
    - { name: upgrade, matchers: { service: api }, start: "${new Date(T - HOUR).toISOString()}", end: "${new Date(T + HOUR).toISOString()}" }
`;
    const f = await fixture({ yaml: service('{ objective: 99, window: 3d, exclude_maintenance: true }', maintenance), history: history() });
    open.push(f);
    const answer = (await f.analysis.service('api'))!;
    expect(answer.maintenance).toEqual({ name: 'upgrade', start: T - HOUR, end: T + HOUR });
    expect(answer.slo).toMatchObject({ total: 600, good: 600, budgetRemaining: 1, firing: null, excludeMaintenance: true });
    const g = await fixture({ yaml: service('{ objective: 99, window: 3d }', maintenance), history: history() });
    open.push(g);
    expect((await g.analysis.service('api'))!.slo).toMatchObject({ total: 1200, excludeMaintenance: false });
  });

  it('reads hour rollups beyond the 3-day burn window and minute rollups nearer, counting each result once', async () => {
    // One result a minute for 5 days; one bad a minute in the hour 4 days ago, none since.
    const rows = [];
    for (let m = 0; m < 5 * 1440; m++) {
      const at = T - 5 * DAY + m * MIN;
      rows.push(stored('api/a1/tcp', at, at >= T - 4 * DAY && at < T - 4 * DAY + HOUR ? 'UNHEALTHY' : 'HEALTHY', 20));
    }
    const f = await fixture({ yaml: service('{ objective: 99, window: 5d }'), history: rows });
    open.push(f);
    const slo = (await f.analysis.service('api'))!.slo!;
    expect(slo).toMatchObject({ total: 5 * 1440, good: 5 * 1440 - 60 });
    expect(slo.budgetRemaining).toBeCloseTo(1 - 60 / (0.01 * 7200), 10);
    // The 3-day window does not reach back 4 days.
    expect(slo.burns.find((b) => b.condition.name === '3d/6h')!.longBurn).toBe(0);
  });

  it('counts latency SLOs in one-minute slices judged by their p95', async () => {
    const f = await fixture({ yaml: service('{ objective: 99, window: 3d, kind: latency, latency_threshold: 500ms }'), history: history() });
    open.push(f);
    const slo = (await f.analysis.service('api'))!.slo!;
    // 120 minutes; in the last 60, 2 of 10 results take 900 ms: p95 900 > 500 → bad slices.
    expect(slo).toMatchObject({ kind: 'latency', total: 120, good: 60, latencyThresholdMs: 500 });
  });

  it('fires a burn_rate rule when the page condition holds, on the fake clock', async () => {
    const clock = new FakeClock(T);
    const h = await harness(
      section([
        { name: 'budget', when: { kind: 'burn_rate', window: 'page' }, level: 'critical' },
        { name: 'slow-burn', when: { kind: 'burn_rate', window: '3d/6h', factor: 50 } },
      ]),
      { clock },
    );
    open.push(h);
    const f = await fixture({ yaml: service('{ objective: 99, window: 3d }'), history: history(), alerts: h.alerting.input, clock });
    open.push(f);
    await f.analysis.tick();
    await h.advance(1_000);
    expect(h.alerts('budget')).toEqual([expect.objectContaining({ state: 'firing', labels: { rule: 'budget', service: 'api' } })]);
    expect(h.alerts('budget')[0]!.summary).toMatch(/page burn at 1\.67 of its threshold > 1/);
    // 6h/30m burns at 10 and 20: 10 / 6 = 1.67 of its threshold (1h/5m: 20 / 14.4 = 1.39).
    expect(h.alerts('slow-burn')).toEqual([]); // 3d/6h burns at 10 and 20, under the factor 50
    expect(h.lines()).toEqual(['firing api']);
  });

  it('refuses SLO settings that cannot work, with the line', () => {
    const bad = (slo: string, extra = '') => {
      try {
        parseConfig(service(slo, extra), { env: {} });
      } catch (err) {
        return (err as ConfigError).issues.map((i) => `${i.line} ${i.path}: ${i.message}`);
      }
      return [];
    };
    expect(bad('{ objective: 99.9, kind: latency }')).toEqual(['7 services.api.slo.latency_threshold: kind latency needs latency_threshold: (e.g. 300ms)']);
    expect(bad('{ objective: 100 }')).toEqual([expect.stringMatching(/^7 services\.api\.slo\.objective: must be below 100/)]);
    expect(bad('{ objective: 99, window: 1d }')).toEqual([expect.stringMatching(/^7 services\.api\.slo\.window: must be at least 3d/)]);
    expect(bad('{ objective: 99, window: 400d }')).toEqual([
      expect.stringMatching(/^7 services\.api\.slo\.window: longer than storage\.retention\.hour_rollups \(365d\)/),
    ]);
    const noSlo = `alerts:
  notifiers: { log: { kind: log } }
  defaults: { notify: [log] }
  rules:
    - { name: budget, match: { service: web }, when: { kind: burn_rate } }
`;
    expect(bad('{ objective: 99 }', `  web:\n    instances: []\n${noSlo}`)).toEqual([
      expect.stringMatching(/services\.\w+|alerts\.rules\[0\]\.when\.kind: no service this rule matches has an slo: .*with one: api/),
    ]);
  });
});
