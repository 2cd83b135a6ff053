import { afterEach, describe, expect, it } from 'vitest';
import type { CheckRunner } from '../../src/core/check.js';
import { FakeClock, flushMicrotasks } from '../../src/core/clock.js';
import { seeded } from '../../src/core/random.js';
import type { ProbeOutcome } from '../../src/core/result.js';
import { parseConfig } from '../../src/config/load.js';
import { Engine } from '../../src/engine.js';
import { Registry } from '../../src/registry/registry.js';
import { buildServer } from '../../src/server/app.js';
import { TransitionLog } from '../../src/server/event-log.js';
import { StatusRollup } from '../../src/status/rollup.js';
import { BalancerSet, balancerConfigs } from '../../src/balancer/balancer-set.js';
import { LocalFeed } from '../../src/balancer/local-feed.js';
import { createMetrics } from '../../src/metrics/metrics.js';
import { registerBalancerMetrics } from '../../src/metrics/balancer-metrics.js';
import { parseExposition, promtoolCheckMetrics, sampleValue } from '../helpers/prometheus.js';

const YAML = `
defaults: { interval: 1s, rise: 1, fall: 1 }
services:
  api:
    instances:
      - { id: a1, address: "127.0.0.1:81" }
      - { id: a2, address: "127.0.0.1:82" }
      - { id: a3, address: "127.0.0.1:83" }
    checks: [{ kind: tcp }]
    balancer:
      outlier: { max_ejection_percent: 50, consecutive_5xx: 3 }
      breaker: { enabled: false }
`;

const OK: ProbeOutcome = { status: 'HEALTHY', reason: 'ok', output: 'ok' };

async function setup() {
  const clock = new FakeClock(1_000_000);
  const runner: CheckRunner = { run: async () => OK };
  const engine = new Engine({ clock, random: seeded(1), concurrency: 10, spreadFirstRun: false, runnerFor: () => runner });
  const config = parseConfig(YAML, { env: {} });
  const registry = new Registry(engine, config, undefined, () => clock.now());
  const rollup = new StatusRollup((s) => registry.minHealthy(s));
  rollup.attach(engine.bus);
  const balancers = new BalancerSet({ clock, random: seeded(3) });
  balancers.configure(balancerConfigs(config));
  const feed = new LocalFeed({ set: balancers, engine, registry, rollup, clock });
  feed.start();
  const transitions = new TransitionLog(100);
  transitions.attach(engine.bus);
  const metrics = createMetrics({ engine, rollup, processMetrics: false });
  registerBalancerMetrics(metrics.registry, balancers);
  registry.applyConfig(config);
  await flushMicrotasks();
  const app = buildServer({ engine, registry, rollup, transitions, version: '9.9.9', isReady: () => true, balancers, metrics });
  cleanups.push(async () => {
    feed.stop();
    balancers.close();
    await app.close();
    await engine.stop();
  });
  return { clock, app, balancers };
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

const report = (app: Awaited<ReturnType<typeof setup>>['app'], reports: unknown[]) =>
  app.inject({ method: 'POST', url: '/api/v1/services/api/balancer/reports', payload: { reports } });

describe('balancer API', () => {
  it('shows the live state, and an ejection with the figures behind it', async () => {
    const { app } = await setup();
    const fail = { instance: 'a2', ok: false, latency_ms: 3, status: 503 };
    const res = await report(app, [fail, fail, fail]);
    expect(res.statusCode).toBe(202);
    const state = (await app.inject('/api/v1/services/api/balancer')).json();
    expect(state).toMatchObject({ service: 'api', picker: 'wrr', panic: false, panicThreshold: 0.5 });
    expect(state.healthyShare).toBeCloseTo(2 / 3);
    const a2 = state.instances.find((m: { id: string }) => m.id === 'a2');
    expect(a2).toMatchObject({ usable: false, inRotation: false, failures: 3, outlier: { ejected: true, detector: 'consecutive_5xx', timesEjected: 1 } });
    expect(a2.outlier.reason).toMatch(/3 consecutive 5xx/);
    expect(a2.outlier.returnsAt).toBeGreaterThan(1_000_000);
  });

  it('rejects bad reports naming the field, and applies none of a bad batch', async () => {
    const { app } = await setup();
    const bad = await report(app, [{ instance: 'a1', ok: 'yes', latency_ms: 1 }]);
    expect(bad.statusCode).toBe(400);
    expect(bad.json().message).toMatch(/reports\[0\]\.ok/);
    const unknown = await report(app, [
      { instance: 'a1', ok: true, latency_ms: 1 },
      { instance: 'zz', ok: true, latency_ms: 1 },
    ]);
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().message).toMatch(/reports\[1\]\.instance: no instance "zz"/);
    const state = (await app.inject('/api/v1/services/api/balancer')).json();
    expect(state.instances.find((m: { id: string }) => m.id === 'a1').successes).toBe(0);
    expect((await app.inject('/api/v1/services/nope/balancer')).statusCode).toBe(404);
  });

  it('exposes picks, ejections, breaker state, weights and panic in /metrics, valid for promtool', async () => {
    const { app, balancers } = await setup();
    const b = balancers.balancer('api')!;
    for (let i = 0; i < 30; i++) {
      const p = b.pick()!;
      b.report(p.id, { ok: p.id !== 'a3', latencyMs: 2, status: p.id === 'a3' ? 500 : 200 });
    }
    const text = (await app.inject('/metrics')).body;
    const samples = parseExposition(text);
    expect(sampleValue(samples, 'healthmesh_balancer_picks_total', { service: 'api', service_instance: 'a1' })).toBeGreaterThan(5);
    expect(sampleValue(samples, 'healthmesh_balancer_ejected', { service: 'api', service_instance: 'a3' })).toBe(1);
    expect(sampleValue(samples, 'healthmesh_balancer_ejections_total', { service: 'api', service_instance: 'a3', detector: 'consecutive_5xx' })).toBe(1);
    expect(sampleValue(samples, 'healthmesh_balancer_ejected_until_seconds', { service: 'api', service_instance: 'a3' })).toBe((1_000_000 + 30_000) / 1000);
    expect(sampleValue(samples, 'healthmesh_balancer_effective_weight', { service: 'api', service_instance: 'a3' })).toBe(0);
    expect(sampleValue(samples, 'healthmesh_balancer_panic', { service: 'api' })).toBe(0);
    expect(sampleValue(samples, 'healthmesh_balancer_healthy_share', { service: 'api' })).toBeCloseTo(2 / 3);
    const check = promtoolCheckMetrics(text);
    expect(check.output).toBe('');
    expect(check.code).toBe(0);
  });
});
