import { describe, expect, it } from 'vitest';
import type { CheckRunner } from '../../src/core/check.js';
import { FakeClock, flushMicrotasks } from '../../src/core/clock.js';
import { seeded } from '../../src/core/random.js';
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
    balancer: { outlier: { enabled: false } }
`;

describe('LocalFeed and the rollup', () => {
  it('follows instance changes from the rollup itself, whichever of the two subscribed to the bus first', async () => {
    for (const rollupFirst of [true, false]) {
      const clock = new FakeClock(1_000);
      let a2Up = true;
      const runner = (instance: string): CheckRunner => ({
        run: async () =>
          instance === 'a2' && !a2Up
            ? { status: 'UNHEALTHY', reason: 'connect_refused', output: 'refused' }
            : { status: 'HEALTHY', reason: 'ok', output: 'ok' },
      });
      const engine = new Engine({ clock, random: seeded(1), concurrency: 10, spreadFirstRun: false, runnerFor: (spec) => runner(spec.instance) });
      const config = parseConfig(yaml, { env: {} });
      const registry = new Registry(engine, config, undefined, clock);
      const rollup = new StatusRollup((s) => registry.rollupSettings(s));
      const set = new BalancerSet({ clock, random: seeded(2) });
      set.configure(balancerConfigs(config));
      // A score timer far away: only change events can move the members in this test.
      const feed = new LocalFeed({ set, engine, registry, rollup, clock, scoreRefreshMs: 3_600_000 });
      if (rollupFirst) rollup.attach(engine.bus);
      feed.start();
      if (!rollupFirst) rollup.attach(engine.bus);
      registry.applyConfig(config);
      const step = async (ms: number) => {
        for (let t = 0; t < ms; t += 100) {
          clock.advance(100);
          await flushMicrotasks();
        }
      };
      await step(300);
      const usable = () =>
        set
          .snapshot('api')!
          .instances.filter((m) => m.usable)
          .map((m) => m.id)
          .sort();
      expect(usable(), `rollup first: ${rollupFirst}`).toEqual(['a1', 'a2']);
      a2Up = false;
      await step(1_100);
      expect(set.snapshot('api')!.instances.find((m) => m.id === 'a2')?.status, `rollup first: ${rollupFirst}`).toBe('UNHEALTHY');
      expect(usable(), `rollup first: ${rollupFirst}`).toEqual(['a1']);
      feed.stop();
      set.close();
      await engine.stop();
    }
  });
});
