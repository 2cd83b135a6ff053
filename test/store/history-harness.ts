/**
 * A daemon's history path in process, on a fake clock: engine, registry,
 * status rollup, transition log, result writer and a real SQLite store,
 * wired by connectHistory as the daemon wires them, plus its HTTP API.
 */
import type { CheckRunner, CheckSpec } from '../../src/core/check.js';
import { FakeClock, flushMicrotasks } from '../../src/core/clock.js';
import { seeded } from '../../src/core/random.js';
import type { ProbeOutcome } from '../../src/core/result.js';
import { parseConfig } from '../../src/config/load.js';
import { Engine } from '../../src/engine.js';
import { Registry } from '../../src/registry/registry.js';
import { buildServer } from '../../src/server/app.js';
import { TransitionLog } from '../../src/server/event-log.js';
import { StatusRollup } from '../../src/status/rollup.js';
import { connectHistory, type HistoryFeed } from '../../src/store/history-feed.js';
import { openSqliteStore, type SqliteHistoryStore } from '../../src/store/sqlite.js';
import { ResultWriter } from '../../src/store/writer.js';

/** Two services: api (a1, a2, each with tcp and http checks) and web (w1, tcp). Every check runs each second. */
export const HISTORY_YAML = `
defaults: { interval: 1s, timeout: 1s, rise: 1, fall: 1, jitter: 0 }
services:
  api:
    instances:
      - { id: a1, address: "10.0.0.1:80" }
      - { id: a2, address: "10.0.0.2:80" }
    checks: [{ kind: tcp }, { kind: http }]
  web:
    instances: [{ id: w1, address: "10.0.1.1:80" }]
    checks: [{ kind: tcp }]
`;

export const OK: ProbeOutcome = { status: 'HEALTHY', reason: 'ok', output: 'ok' };
export const DOWN: ProbeOutcome = { status: 'UNHEALTHY', reason: 'connect_refused', output: 'refused' };

export interface HistoryDaemon {
  clock: FakeClock;
  engine: Engine;
  rollup: StatusRollup;
  log: TransitionLog;
  writer: ResultWriter;
  store: SqliteHistoryStore;
  feed: HistoryFeed;
  app: ReturnType<typeof buildServer>;
  /** Outcome of each check by id (default OK). */
  outcomes: Record<string, ProbeOutcome>;
  /** Advance the fake clock by `ms` in 100 ms steps, letting checks finish. */
  run(ms: number): Promise<void>;
  /** Stop as the daemon does: checks, API, feed (UNKNOWN marks), writer, store. */
  stop(): Promise<void>;
}

/**
 * Start one on the store file `path` at `startMs`; `ringSize` is the log's
 * capacity. `logFirst`: attach the log to the bus before the rollup (the
 * daemon attaches the rollup first); the stored history must not depend on it.
 */
export async function startHistoryDaemon(path: string, startMs: number, options: { ringSize?: number; logFirst?: boolean } = {}): Promise<HistoryDaemon> {
  const clock = new FakeClock(startMs);
  const outcomes: Record<string, ProbeOutcome> = {};
  // Durations from the fake clock's ms so scores see a latency.
  const runnerFor = (spec: CheckSpec): CheckRunner => ({ run: async () => outcomes[spec.id] ?? OK });
  const engine = new Engine({ clock, random: seeded(1), concurrency: 100, spreadFirstRun: false, runnerFor });
  const config = parseConfig(HISTORY_YAML, { env: {} });
  const registry = new Registry(engine, config, undefined, () => clock.now());
  const rollup = new StatusRollup((s) => registry.rollupSettings(s));
  const log = new TransitionLog(options.ringSize ?? 100);
  if (options.logFirst) log.attach(engine.bus);
  rollup.attach(engine.bus);
  if (!options.logFirst) log.attach(engine.bus);
  const store = await openSqliteStore({ path, writes: 'worker', sortRows: true });
  const writer = new ResultWriter({ store, clock, flushIntervalMs: 1000 });
  const feed = await connectHistory({ rollup, log, writer, store, clock });
  const app = buildServer({ engine, registry, rollup, transitions: log, version: 't', isReady: () => true, historyStore: store, clock });
  registry.applyConfig(config);
  await flushMicrotasks();
  return {
    clock,
    engine,
    rollup,
    log,
    writer,
    store,
    feed,
    app,
    outcomes,
    run: (ms) => clock.advanceAsync(ms, 100),
    async stop() {
      await engine.stop();
      await app.close();
      feed.stop(clock.now());
      await writer.close();
      await store.close();
    },
  };
}
