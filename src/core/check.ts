import type { Clock } from './clock.js';
import type { Logger } from './logger.js';
import type { Random } from './random.js';
import type { ProbeOutcome } from './result.js';
import type { CheckConfig, CheckKind } from '../config/schema.js';

/** Flap detection thresholds, as shares of state changes (0..1). */
export interface FlapSettings {
  /** Number of recent results considered (Nagios uses 21). */
  window: number;
  /** Below this weighted change share a flapping check is cleared. */
  low: number;
  /** Above this weighted change share a check is marked flapping. */
  high: number;
}

/** Scheduling and threshold settings of one check, all durations in ms. */
export interface CheckTiming {
  intervalMs: number;
  timeoutMs: number;
  retries: number;
  /** Wait before the first retry; doubles for each further retry. */
  retryBackoffMs: number;
  /** Interval spread as a fraction: each interval is interval × (1 ± jitter). */
  jitter: number;
  rise: number;
  fall: number;
  /** Interval while the check is UNHEALTHY. */
  unhealthyIntervalMs: number;
  /** Interval while a transition is pending or right after one. */
  edgeIntervalMs: number;
  flap: FlapSettings;
}

/** A fully resolved check, ready to schedule: defaults applied, target known. */
export interface CheckSpec<C = CheckConfig> extends CheckTiming {
  /** Unique id: service/instance/name. */
  id: string;
  name: string;
  kind: CheckKind;
  service: string;
  instance: string;
  /** The instance address (host:port) the check targets unless its config overrides it. */
  address: string;
  /** Kind-specific settings as validated by the schema. */
  config: C;
}

/** What a runner gets for one attempt. */
export interface RunContext {
  /** Aborted at the attempt's timeout or when the check/scheduler stops. */
  signal: AbortSignal;
  /** The scheduler's clock, for timing this attempt (the same clock as CheckDeps.clock). */
  clock: Clock;
}

/**
 * What a check factory is given besides its spec: the engine's own clock,
 * random source and logger, so a runner never reaches for global ones. A
 * kind takes only what it needs.
 */
export interface CheckDeps {
  /** For timers and times a runner keeps across runs (a Watch stream's reconnect, a pool's close wait). */
  clock: Clock;
  /** For jitter (e.g. a reconnect backoff). */
  random: Random;
  /** For what a runner notices outside any result; absent in one-off runs (`healthmesh check`). */
  logger?: Logger;
}

/** What a service reports in a ttl heartbeat, as Consul's pass/warn/fail. */
export type HeartbeatStatus = 'pass' | 'warn' | 'fail';

/** Hears a result a runner learned between runs (see CheckRunner.onPush). */
export type PushListener = (outcome: ProbeOutcome) => void;

/**
 * A live check of one kind. `run` returns failures as data and should honour
 * ctx.signal; one that does not is abandoned at the timeout anyway.
 *
 * `onPush` and `heartbeat` are capabilities: a runner has them only when it
 * can do what they say, and the owner calls them only when present.
 */
export interface CheckRunner {
  run(ctx: RunContext): Promise<ProbeOutcome>;
  /** Release pooled connections, channels or workers. */
  close?(): Promise<void> | void;
  /**
   * Present on runners that learn a result between runs: grpc in watch mode
   * (a status the server pushed, or the stream failing) and ttl (a
   * heartbeat). The owner calls it once, before the first run, with the
   * listener to hear such news at once instead of at the next run; the owner
   * is expected to run the check then, and that run returns the same outcome
   * without waiting. When a runner calls the listener is its own (see the
   * kind); it may call it from event handling or a timer, so the listener
   * should be short. What the listener throws is caught (and logged) so it
   * cannot break the runner.
   */
  onPush?(listener: PushListener): void;
  /**
   * Present on ttl runners: record a heartbeat received at `now` (epoch ms,
   * from the same Clock the scheduler uses), then push the judged outcome
   * (see onPush). Arguments come from API callers, so they are checked at
   * run time: a bad status, a note that is not a string (null and undefined
   * mean none) or a `now` that is not a finite number throws a TypeError and
   * changes nothing. Notes longer than 1 KiB of UTF-8 are cut.
   */
  heartbeat?(status: HeartbeatStatus, note: string | undefined, now: number): void;
}

/**
 * Builds a runner from a resolved spec and the owner's dependencies. One per
 * kind, collected in checks/index.ts. A config the factory cannot run (a bad
 * address, regex or JSON path) makes it throw; `createRunner` turns that into
 * a runner that reports UNKNOWN `error` on every run.
 */
export type CheckFactory<C = CheckConfig> = (spec: CheckSpec<C>, deps: CheckDeps) => CheckRunner;
