import type { FastifyInstance } from 'fastify';
import { createRunner } from '../../src/checks/index.js';
import type { CheckDeps, CheckRunner, CheckSpec } from '../../src/core/check.js';
import { FakeClock, flushMicrotasks } from '../../src/core/clock.js';
import { seeded } from '../../src/core/random.js';
import type { ProbeOutcome } from '../../src/core/result.js';
import { parseConfig } from '../../src/config/load.js';
import { configSchema, type ConfigInput } from '../../src/config/schema.js';
import { Engine } from '../../src/engine.js';
import { Registry } from '../../src/registry/registry.js';
import type { ApiDeps } from '../../src/server/api.js';
import { buildServer } from '../../src/server/app.js';
import { TransitionLog } from '../../src/server/event-log.js';
import { StatusRollup } from '../../src/status/rollup.js';

/** Outcome of every non-ttl check of an instance, by instance id (HEALTHY when absent); changeable at any time. */
export type Outcomes = Record<string, ProbeOutcome>;

/** The API on real parts (engine, registry, rollup, transition log) over `yaml`, on a fake clock; ttl checks are real. */
export interface ApiHarness {
  clock: FakeClock;
  engine: Engine;
  registry: Registry;
  rollup: StatusRollup;
  app: FastifyInstance;
  outcomes: Outcomes;
  close(): Promise<void>;
}

const OK: ProbeOutcome = { status: 'HEALTHY', reason: 'ok', output: 'ok' };

/**
 * Build the daemon's server as daemon.ts wires it, with every check run
 * once. The config is YAML, or an object (much faster for 10,000 instances).
 */
export async function apiHarness(
  source: string | ConfigInput,
  options: {
    outcomes?: Outcomes;
    deps?: Partial<ApiDeps> | ((parts: { clock: FakeClock; engine: Engine; registry: Registry; rollup: StatusRollup }) => Partial<ApiDeps>);
  } = {},
): Promise<ApiHarness> {
  const clock = new FakeClock(1_000_000);
  const outcomes = options.outcomes ?? {};
  const runnerFor = (spec: CheckSpec, deps: CheckDeps): CheckRunner =>
    spec.kind === 'ttl' ? createRunner(spec, deps) : { run: async () => outcomes[spec.instance] ?? OK };
  const engine = new Engine({ clock, random: seeded(1), concurrency: 1024, spreadFirstRun: false, runnerFor });
  const config = typeof source === 'string' ? parseConfig(source, { env: {} }) : configSchema.parse(source);
  const registry = new Registry(engine, config, undefined, clock);
  const rollup = new StatusRollup((s) => registry.rollupSettings(s));
  rollup.attach(engine.bus);
  const transitions = new TransitionLog(100);
  transitions.attach(engine.bus);
  let results = 0;
  const offResults = engine.bus.on('result', () => results++);
  registry.applyConfig(config);
  // Every probed check has its first result before the harness is handed out (ttl checks wait for heartbeats).
  const probed = [...engine.all()].filter((v) => v.spec.kind !== 'ttl').length;
  for (let turn = 0; turn < 10_000 && results < probed; turn++) await flushMicrotasks();
  offResults();
  const deps = typeof options.deps === 'function' ? options.deps({ clock, engine, registry, rollup }) : options.deps;
  const app = buildServer({ engine, registry, rollup, transitions, version: '9.9.9', isReady: () => true, clock, ...deps });
  return {
    clock,
    engine,
    registry,
    rollup,
    app,
    outcomes,
    close: async () => {
      await app.close();
      await engine.stop();
    },
  };
}

/** A promise with a flag saying whether it has settled yet. */
export function tracked<T>(promise: Promise<T>): Promise<T> & { settled: boolean } {
  const t = promise.finally(() => {
    t.settled = true;
  }) as Promise<T> & { settled: boolean };
  t.settled = false;
  return t;
}

/** Let every pending promise callback and I/O callback run (app.inject answers take a few turns). */
export async function settle(turns = 20): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise((r) => setImmediate(r));
}
