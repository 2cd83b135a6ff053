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
import { ServiceBalancer } from '../../src/balancer/service-balancer.js';
import { balancerSchema } from '../../src/config/balancer.js';

const COLD_SERVICES = 20;
const COLD_INSTANCES = 5;

/**
 * 20 quiet services of 5 instances checked once an hour, and one instance
 * (hot/h1) checked every second. fall: 100 keeps h1 HEALTHY while it fails,
 * so its score drifts without a status transition: only the score timer can
 * carry it to the balancer.
 */
function yaml(coldWeight = 1): string {
  const lines = ['defaults: { interval: 1h, rise: 1, fall: 100, jitter: 0 }', 'services:'];
  for (let s = 0; s < COLD_SERVICES; s++) {
    const instances = Array.from(
      { length: COLD_INSTANCES },
      (_, i) => `{ id: c${i}, address: "127.0.0.1:${1000 + s * 10 + i}"${s === 0 && i === 0 ? `, weight: ${coldWeight}` : ''} }`,
    );
    lines.push(`  cold${s}:`, `    instances: [${instances.join(', ')}]`, '    checks: [{ kind: tcp }]', '    balancer: { outlier: { enabled: false } }');
  }
  lines.push(
    '  hot:',
    '    instances: [{ id: h1, address: "127.0.0.1:1" }]',
    '    checks: [{ kind: tcp, interval: 1s }]',
    '    balancer: { outlier: { enabled: false } }',
  );
  return lines.join('\n');
}

function setup() {
  const clock = new FakeClock(1_000);
  let h1Up = true;
  const runner: CheckRunner = {
    run: async (): Promise<Omit<CheckResult, 'observedAt' | 'durationMs'> & Partial<CheckResult>> =>
      h1Up ? { status: 'HEALTHY', reason: 'ok', output: 'ok' } : { status: 'UNHEALTHY', reason: 'connect_refused', output: 'refused' },
  } as CheckRunner;
  const engine = new Engine({ clock, random: seeded(1), concurrency: 200, spreadFirstRun: false, runnerFor: () => runner });
  const config = parseConfig(yaml(), { env: {} });
  const registry = new Registry(engine, config, undefined, clock);
  const rollup = new StatusRollup((s) => registry.rollupSettings(s));
  rollup.attach(engine.bus);
  const set = new BalancerSet({ clock, random: seeded(2) });
  set.configure(balancerConfigs(config));
  const reads: string[] = [];
  const counted = {
    instance: rollup.instance.bind(rollup),
    onChange: rollup.onChange.bind(rollup),
    instanceScore: (service: string, instance: string): number => {
      reads.push(`${service}/${instance}`);
      return rollup.instanceScore(service, instance);
    },
  };
  const feed = new LocalFeed({ set, engine, registry, rollup: counted, clock, scoreRefreshMs: 2_000 });
  feed.start();
  registry.applyConfig(config);
  return {
    clock,
    engine,
    registry,
    set,
    feed,
    reads,
    fail: () => {
      h1Up = false;
    },
  };
}

async function advance(clock: FakeClock, ms: number, step = 100): Promise<void> {
  for (let t = 0; t < ms; t += step) {
    clock.advance(step);
    await flushMicrotasks();
  }
}

describe('LocalFeed score refresh', () => {
  it('re-reads only the instances that had results: one busy instance among 101 costs one score read per tick', async () => {
    const { clock, engine, set, feed, reads, fail } = setup();
    await advance(clock, 2_500); // past the first tick, which reads every instance's first result
    expect(set.snapshot('cold7')!.instances.filter((m) => m.usable)).toHaveLength(COLD_INSTANCES);
    expect(set.snapshot('hot')!.instances[0]).toMatchObject({ id: 'h1', status: 'HEALTHY', score: 100 });
    fail();
    reads.length = 0;
    await advance(clock, 10_000); // five score ticks, ten results of h1, no transition (fall: 100)
    expect(new Set(reads)).toEqual(new Set(['hot/h1']));
    expect(reads.length).toBe(5);
    const h1 = set.snapshot('hot')!.instances[0]!;
    expect(h1.status).toBe('HEALTHY');
    expect(h1.score).toBeLessThan(80); // the drift reached the balancer by the timer alone
    expect(set.snapshot('cold3')!.instances.every((m) => m.score === 100)).toBe(true);
    feed.stop();
    set.close();
    await engine.stop();
  });

  it('follows a weight change on reload without a timer sweep (the registry tells it)', async () => {
    const { clock, engine, registry, set, feed } = setup();
    await advance(clock, 500);
    const weightOf = () => set.snapshot('cold0')!.instances.find((m) => m.id === 'c0')!.weight;
    expect(weightOf()).toBe(1);
    registry.applyConfig(parseConfig(yaml(7), { env: {} }));
    await flushMicrotasks(); // no clock advance: no score tick can have run
    expect(weightOf()).toBe(7);
    feed.stop();
    set.close();
    await engine.stop();
  });
});

describe('ServiceBalancer.updateScores (the feed tick port)', () => {
  const build = (useScore: boolean) => {
    const clock = new FakeClock(1_000_000);
    const b = new ServiceBalancer({
      service: 'api',
      config: balancerSchema.parse({ use_score: useScore, outlier: { enabled: false }, breaker: { enabled: false } }),
      clock,
      random: seeded(7),
    });
    b.setMembers(['i1', 'i2'].map((id, n) => ({ id, address: `127.0.0.1:${9001 + n}`, weight: 1, status: 'HEALTHY' as const, score: 100 })));
    return b;
  };
  const scoreOf = (b: ServiceBalancer, id: string) => b.snapshot().instances.find((m) => m.id === id)!;

  it('moves only the members named, keeps a drift under 5 points, and skips ids it does not have', () => {
    const b = build(true);
    b.updateScores(['i1', 'gone'], () => 97);
    expect(scoreOf(b, 'i1').score).toBe(100); // under the step: the weight stays as computed
    b.updateScores(['i1'], () => 50);
    expect(scoreOf(b, 'i1')).toMatchObject({ score: 50, effectiveWeight: 0.5 });
    expect(scoreOf(b, 'i2')).toMatchObject({ score: 100, effectiveWeight: 1 });
    expect(b.snapshot().instances.map((m) => m.id)).toEqual(['i1', 'i2']);
  });

  it('with use_score off, shows every score and leaves the weights alone', () => {
    const b = build(false);
    b.updateScores(['i2'], () => 42);
    expect(scoreOf(b, 'i2')).toMatchObject({ score: 42, effectiveWeight: 1 });
  });
});
