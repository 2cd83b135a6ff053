/**
 * A core on a FakeClock whose checks answer what the test says, with a real
 * SQLite history (":memory:") that tests fill with results and roll up, and
 * the daemon's analysis wired to both.
 */
import { Writable } from 'node:stream';
import type { AlertInput } from '../../src/alerts/input.js';
import type { CheckRunner } from '../../src/core/check.js';
import { FakeClock } from '../../src/core/clock.js';
import { createLogger } from '../../src/core/logger.js';
import { seeded } from '../../src/core/random.js';
import type { HealthStatus } from '../../src/core/status.js';
import { parseConfig } from '../../src/config/load.js';
import { openStore } from '../../src/store/backends.js';
import type { HistoryStore, ResultRecord } from '../../src/store/types.js';
import { startDaemonAnalysis, type DaemonAnalysis } from '../../src/wiring/analysis.js';
import { createCore, type Core } from '../../src/wiring/core.js';
import type { Registry } from 'prom-client';

export const MIN = 60_000;
export const HOUR = 60 * MIN;
export const DAY = 24 * HOUR;
/** A Monday, 06:00 UTC: a whole minute and hour. */
export const T = Date.UTC(2026, 0, 5, 6, 0, 0);

export const silent = createLogger({ level: 'silent', format: 'json' }, new Writable({ write: (_c, _e, done) => done() }));

/** What each check answers: status and how long it takes (fake ms). */
export interface Answer {
  status: HealthStatus;
  latencyMs: number;
}

export interface Fixture {
  clock: FakeClock;
  store: HistoryStore;
  core: Core;
  analysis: DaemonAnalysis;
  /** Set what a check (by instance) answers from now on. */
  answers: Map<string, Answer>;
  /** Advance fake time in 4 ms steps, letting promises settle. */
  step(ms: number): Promise<void>;
  stop(): Promise<void>;
}

/** One stored result of `checkId` (service/instance/name). */
export function stored(
  checkId: string,
  at: number,
  status: HealthStatus,
  durationMs: number,
  scores: { check?: number; instance?: number } = {},
): ResultRecord {
  const [service = '', instance = ''] = checkId.split('/');
  return {
    checkId,
    service,
    instance,
    kind: 'tcp',
    status,
    reason: status === 'HEALTHY' ? 'ok' : 'connect_refused',
    durationMs,
    observedAt: at,
    attempts: 1,
    output: '',
    metrics: null,
    checkScore: scores.check ?? null,
    instanceScore: scores.instance ?? null,
  };
}

export interface FixtureOptions {
  yaml: string;
  /** Results stored (and rolled up) before the analysis starts. */
  history?: ResultRecord[];
  /** No store: the analysis runs without history. */
  noStore?: boolean;
  alerts?: AlertInput;
  metricsRegistry?: Registry;
  clock?: FakeClock;
}

export async function fixture(options: FixtureOptions): Promise<Fixture> {
  const clock = options.clock ?? new FakeClock(T);
  const config = parseConfig(options.yaml, { env: {} });
  const store = await openStore({ ...config.storage, path: ':memory:' } as typeof config.storage);
  if (options.history?.length) {
    for (let i = 0; i < options.history.length; i += 5000) await store.write({ results: options.history.slice(i, i + 5000), transitions: [] });
    // Roll up every minute that ended before now (a bucket is rolled up 30 s after its end).
    await store.maintain(clock.now() + MIN, { retention: { resultsMs: 400 * DAY } });
  }
  const answers = new Map<string, Answer>();
  const runner = (instance: string): CheckRunner => ({
    run: () =>
      new Promise((resolve) => {
        const a = answers.get(instance) ?? { status: 'HEALTHY', latencyMs: 10 };
        clock.setTimeout(
          () =>
            resolve(
              a.status === 'HEALTHY' ? { status: 'HEALTHY', reason: 'ok', output: 'ok' } : { status: a.status, reason: 'connect_refused', output: 'refused' },
            ),
          a.latencyMs,
        );
      }),
  });
  const core = createCore({ config, clock, random: seeded(1), logger: silent, spreadFirstRun: false, runnerFor: (spec) => runner(spec.instance) });
  const analysis = startDaemonAnalysis(core, {
    clock,
    logger: silent,
    ...(options.noStore ? {} : { store }),
    ...(options.alerts ? { alerts: options.alerts } : {}),
    ...(options.metricsRegistry ? { metricsRegistry: options.metricsRegistry } : {}),
  });
  await core.start();
  // Small steps, so a check's fake latency is measured as set (its timer fires, then its promise settles).
  const step = (ms: number) => clock.advanceAsync(ms, 4);
  return {
    clock,
    store,
    core,
    analysis,
    answers,
    step,
    async stop() {
      await core.stop();
      await analysis.stop();
      await store.close();
    },
  };
}
