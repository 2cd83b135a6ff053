import { describe, expect, it } from 'vitest';
import type { CheckDeps, CheckRunner, PushListener } from '../src/core/check.js';
import { FakeClock, flushMicrotasks } from '../src/core/clock.js';
import type { TransitionEvent } from '../src/status/health-events.js';
import { seeded } from '../src/core/random.js';
import type { ProbeOutcome } from '../src/core/result.js';
import { Engine } from '../src/engine.js';
import { fakeSpec } from './helpers/spec.js';

const OK: ProbeOutcome = { status: 'HEALTHY', reason: 'ok', output: 'ok' };
const DOWN: ProbeOutcome = { status: 'UNHEALTHY', reason: 'connect_refused', output: 'refused' };

/** A runner whose answer the test switches, recording when it ran. */
function switchable(clock: FakeClock) {
  const state = { outcome: OK, starts: [] as number[] };
  const runner: CheckRunner = {
    run: async () => {
      state.starts.push(clock.now());
      return state.outcome;
    },
  };
  return { state, runner };
}

describe('Engine', () => {
  it('applies rise/fall and uses edge and unhealthy intervals as Envoy does', async () => {
    const clock = new FakeClock(0);
    const { state, runner } = switchable(clock);
    const engine = new Engine({ clock, random: seeded(1), concurrency: 10, spreadFirstRun: false, runnerFor: () => runner });
    const transitions: TransitionEvent[] = [];
    engine.bus.on('transition', (t) => transitions.push(t));
    engine.add(fakeSpec('c', { intervalMs: 1000, unhealthyIntervalMs: 500, edgeIntervalMs: 100, rise: 2, fall: 3 }), 0);

    await flushMicrotasks(); // first result decides at once: HEALTHY
    expect(engine.get('c')!.state.status).toBe('HEALTHY');
    await clock.advanceAsync(2000, 10); // just changed → edge interval once, then normal
    expect(state.starts).toEqual([0, 100, 1100]);

    state.outcome = DOWN;
    state.starts.length = 0;
    await clock.advanceAsync(5000, 10);
    // fail at 2100 (pending 1), then edge interval 100 ms until fall=3 reached, then just-changed edge, then unhealthy interval
    expect(state.starts.slice(0, 6)).toEqual([2100, 2200, 2300, 2400, 2900, 3400]);
    expect(transitions.map((t) => `${t.from}->${t.to}@${t.at}`)).toEqual(['UNKNOWN->HEALTHY@0', 'HEALTHY->UNHEALTHY@2300']);
    await engine.stop();
  });

  it('turns a ttl heartbeat into a result at once', async () => {
    const clock = new FakeClock(0);
    const { ttlCheckSchema } = await import('../src/config/kinds/ttl.js');
    const { ttlCheck } = await import('../src/checks/ttl.js');
    const engine = new Engine({ clock, random: seeded(1), concurrency: 10, spreadFirstRun: false });
    const config = ttlCheckSchema.parse({ kind: 'ttl', ttl: '10s' });
    const spec = { ...fakeSpec('hb', { intervalMs: 5000, rise: 1, fall: 1 }), kind: 'ttl' as const, config };
    engine.add(spec as never, 60_000);
    engine.heartbeat('hb', 'pass', 'all good');
    await clock.advanceAsync(1, 1);
    expect(engine.get('hb')!.state).toMatchObject({ status: 'HEALTHY' });
    expect(engine.get('hb')!.state.lastResult).toMatchObject({ output: 'all good' });
    expect(() => engine.heartbeat('nope', 'pass')).toThrow(/no check/);
    void ttlCheck;
    await engine.stop();
  });

  it('builds each runner with the clock, random source and logger it was given', async () => {
    const clock = new FakeClock(0);
    const random = seeded(7);
    const { pino } = await import('pino');
    const logger = pino({ level: 'silent' });
    const seen: CheckDeps[] = [];
    const engine = new Engine({
      clock,
      random,
      logger,
      concurrency: 10,
      spreadFirstRun: false,
      runnerFor: (_spec, deps) => {
        seen.push(deps);
        return { run: async () => OK };
      },
    });
    engine.add(fakeSpec('a'), 60_000);
    engine.add(fakeSpec('b'), 60_000);
    expect(seen).toHaveLength(2);
    for (const deps of seen) expect(deps).toEqual({ clock, random, logger });
    await engine.stop();
  });

  it('runs a check at once when its runner pushes news, and gives no listener to runners without onPush', async () => {
    const clock = new FakeClock(0);
    const { state, runner } = switchable(clock);
    let listener: PushListener | undefined;
    const pushing: CheckRunner = { run: runner.run, onPush: (l) => (listener = l) };
    const plain: CheckRunner = { run: runner.run };
    const engine = new Engine({ clock, random: seeded(1), concurrency: 10, spreadFirstRun: false, runnerFor: () => runner });
    engine.add(fakeSpec('p', { intervalMs: 60_000 }), 60_000, pushing);
    engine.add(fakeSpec('q', { intervalMs: 60_000 }), 60_000, plain);
    expect(plain).not.toHaveProperty('onPush');
    clock.advance(500);
    listener?.(DOWN);
    await clock.advanceAsync(1, 1);
    expect(state.starts).toEqual([500]);
    await engine.stop();
  });
});
