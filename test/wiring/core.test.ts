import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { CheckRunner } from '../../src/core/check.js';
import { FakeClock, flushMicrotasks } from '../../src/core/clock.js';
import { createLogger } from '../../src/core/logger.js';
import { seeded } from '../../src/core/random.js';
import { parseConfig } from '../../src/config/load.js';
import { createCore } from '../../src/wiring/core.js';

const config = (instances: string) =>
  parseConfig(
    `
defaults: { interval: 1s, rise: 1, fall: 1, jitter: 0 }
services:
  api:
    instances: [${instances}]
    checks: [{ kind: tcp }]
    balancer: { outlier: { enabled: false } }
`,
    { env: {} },
  );

describe('createCore', () => {
  it('runs the config, rolls statuses up, feeds the balancers and logs, applies a new config by diff, and stops', async () => {
    const clock = new FakeClock(1_000);
    const down = new Set<string>();
    const lines: string[] = [];
    const logger = createLogger(
      { level: 'info', format: 'json' },
      new Writable({
        write: (c, _e, done) => {
          lines.push(String(c));
          done();
        },
      }),
    );
    const runner = (instance: string): CheckRunner => ({
      run: async () =>
        down.has(instance) ? { status: 'UNHEALTHY', reason: 'connect_refused', output: 'refused' } : { status: 'HEALTHY', reason: 'ok', output: 'ok' },
    });
    const core = createCore({
      config: config('{ id: a1, address: "127.0.0.1:1" }'),
      clock,
      random: seeded(1),
      logger,
      spreadFirstRun: false,
      runnerFor: (spec) => runner(spec.instance),
    });
    const step = async (ms: number) => {
      for (let t = 0; t < ms; t += 100) {
        clock.advance(100);
        await flushMicrotasks();
      }
    };
    expect(core.engine.size).toBe(0); // nothing runs before start()
    expect(await core.start()).toEqual({ restored: 0 });
    await step(200);
    expect(core.rollup.service('api')).toBe('HEALTHY');
    expect(core.balancers.snapshot('api')!.instances.map((m) => m.id)).toEqual(['a1']);

    down.add('a1');
    await step(1_100);
    expect(core.rollup.meshStatus()).toBe('UNHEALTHY');
    expect(lines.some((l) => l.includes('"msg":"api/a1/tcp HEALTHY → UNHEALTHY connect_refused (refused)"'))).toBe(true);
    expect(lines.some((l) => l.includes('"scope":"service"'))).toBe(true);

    const report = core.apply(config('{ id: a1, address: "127.0.0.1:1" }, { id: a2, address: "127.0.0.1:2" }'));
    expect(report).toEqual({ added: 1, removed: 0, changed: 0, kept: 1 });
    await step(200);
    expect(
      core.balancers
        .snapshot('api')!
        .instances.map((m) => m.id)
        .sort(),
    ).toEqual(['a1', 'a2']);
    expect(core.rollup.service('api')).toBe('DEGRADED');
    expect(core.config.services.api!.instances).toHaveLength(2);

    await core.stop();
    const before = lines.length;
    down.delete('a1');
    await step(2_000);
    expect(lines.length).toBe(before); // no check runs after stop
  });
});
