import { describe, expect, it } from 'vitest';
import type { CheckRunner } from '../../src/core/check.js';
import { FakeClock, flushMicrotasks } from '../../src/core/clock.js';
import { seeded } from '../../src/core/random.js';
import type { CheckResult } from '../../src/core/result.js';
import { parseConfig } from '../../src/config/load.js';
import { Engine } from '../../src/engine.js';
import { Registry } from '../../src/registry/registry.js';
import { StatusRollup } from '../../src/status/rollup.js';
import { BalancerSet, balancerConfigs } from '../../src/balancer/balancer-set.js';
import { LocalFeed } from '../../src/balancer/local-feed.js';

const yaml = `
defaults: { interval: 1s, rise: 1, fall: 1, jitter: 0 }
services:
  api:
    instances: [{ id: a1, address: "127.0.0.1:1" }, { id: a2, address: "127.0.0.1:2" }]
    checks: [{ kind: tcp }]
    balancer:
      breaker: { consecutive_failures: 2, open_for: 1m }
      outlier: { enabled: false }
      adaptive_interval: { stretch: 4, min_successes: 3 }
`;

/** A whole in-process stack on a fake clock; each instance's check answers what `up` says. */
function setup() {
  const clock = new FakeClock(1_000);
  const up = new Map<string, boolean>([
    ['a1', true],
    ['a2', true],
  ]);
  const runs = new Map<string, number>();
  const runner = (instance: string): CheckRunner =>
    ({
      run: async (): Promise<Omit<CheckResult, 'observedAt' | 'durationMs'> & Partial<CheckResult>> => {
        runs.set(instance, (runs.get(instance) ?? 0) + 1);
        return up.get(instance) ? { status: 'HEALTHY', reason: 'ok', output: 'ok' } : { status: 'UNHEALTHY', reason: 'connect_refused', output: 'refused' };
      },
    }) as CheckRunner;
  const engine = new Engine({ clock, random: seeded(1), concurrency: 10, spreadFirstRun: false, runnerFor: (spec) => runner(spec.instance) });
  const config = parseConfig(yaml, { env: {} });
  const registry = new Registry(engine, config, undefined, () => clock.now());
  const rollup = new StatusRollup((s) => registry.rollupSettings(s));
  rollup.attach(engine.bus);
  const set = new BalancerSet({ clock, random: seeded(2) });
  set.configure(balancerConfigs(config));
  const feed = new LocalFeed({
    set,
    engine,
    registry,
    rollup,
    clock,
  });
  feed.start();
  registry.applyConfig(config);
  return { clock, up, runs, engine, set, feed, registry };
}

async function advance(clock: FakeClock, ms: number, step = 100): Promise<void> {
  for (let t = 0; t < ms; t += step) {
    clock.advance(step);
    await flushMicrotasks();
  }
}

const usable = (set: BalancerSet): string[] =>
  set
    .snapshot('api')!
    .instances.filter((m) => m.usable)
    .map((m) => m.id)
    .sort();

describe('LocalFeed', () => {
  it('keeps the balancer in step with check transitions, without polling', async () => {
    const { clock, up, set } = setup();
    await advance(clock, 200);
    expect(usable(set)).toEqual(['a1', 'a2']);
    up.set('a2', false);
    await advance(clock, 1_100);
    expect(usable(set)).toEqual(['a1']);
    up.set('a2', true);
    await advance(clock, 1_100);
    expect(usable(set)).toEqual(['a1', 'a2']);
  });

  it('stretches the check interval while real traffic succeeds; a failure ends the stretch, an open breaker runs the checks at once', async () => {
    const { clock, runs, set } = setup();
    await advance(clock, 200);
    const b = set.balancer('api')!;
    for (let i = 0; i < 3; i++) b.report('a1', { ok: true, latencyMs: 1, status: 200 });
    const before = { a1: runs.get('a1')!, a2: runs.get('a2')! };
    await advance(clock, 8_000);
    const during = { a1: runs.get('a1')! - before.a1, a2: runs.get('a2')! - before.a2 };
    expect(during.a2).toBe(8); // 1 s interval
    expect(during.a1).toBeLessThanOrEqual(3); // 4 s interval after the next run
    // One failure: no extra probe, but the next run is back at the normal interval.
    const atFailure = runs.get('a1')!;
    b.report('a1', { ok: false, latencyMs: 1, status: 500 });
    await advance(clock, 100);
    expect(runs.get('a1')!).toBe(atFailure);
    await advance(clock, 8_000);
    expect(runs.get('a1')! - atFailure).toBeGreaterThanOrEqual(7);
    // The breaker opens (2 failures in a row): the checks run at once, and only once per interval however often it opens.
    const atOpen = runs.get('a1')!;
    b.report('a1', { ok: false, latencyMs: 1, status: 500 });
    await advance(clock, 100);
    expect(runs.get('a1')!).toBe(atOpen + 1);
  });

  it('a burst of background errors does not turn into a stream of probes', async () => {
    const { clock, runs, set } = setup();
    await advance(clock, 200);
    const b = set.balancer('api')!;
    const start = runs.get('a1')!;
    // 10 s at 200 requests/s with 1 % errors (never two in a row, so the breaker stays closed).
    for (let t = 0; t < 100; t++) {
      for (let i = 0; i < 20; i++) b.report('a1', { ok: !(i === 10 && t % 5 === 0), latencyMs: 1, status: i === 10 && t % 5 === 0 ? 500 : 200 });
      await advance(clock, 100, 100);
    }
    expect(runs.get('a1')! - start).toBeLessThanOrEqual(10); // at most the normal 1 s interval, fewer while stretched
  });

  it('adds instances registered at run time and drops deregistered ones', async () => {
    const { clock, set, registry } = setup();
    await advance(clock, 200);
    await registry.register({ service: 'api', id: 'a3', address: '127.0.0.1:3' });
    await advance(clock, 200);
    expect(
      set
        .snapshot('api')!
        .instances.map((m) => m.id)
        .sort(),
    ).toEqual(['a1', 'a2', 'a3']);
    await registry.deregister('api/a3');
    await flushMicrotasks();
    expect(
      set
        .snapshot('api')!
        .instances.map((m) => m.id)
        .sort(),
    ).toEqual(['a1', 'a2']);
  });
});
