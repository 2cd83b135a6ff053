import { createRunner } from './checks/index.js';
import { HealthmeshError } from './core/errors.js';
import type { CheckDeps, CheckFactory, CheckRunner, CheckSpec, HeartbeatStatus } from './core/check.js';
import type { Clock } from './core/clock.js';
import { EventBus } from './core/events.js';
import type { HealthEvents } from './status/health-events.js';
import type { Logger } from './core/logger.js';
import type { Random } from './core/random.js';
import type { CheckResult } from './core/result.js';
import { initialState, next, type CheckState } from './status/machine.js';
import { PassiveEvidenceBook, type PassiveEvidence } from './scheduler/passive-evidence.js';
import { Scheduler, type SchedulerStats } from './scheduler/scheduler.js';

/** Dependencies of the engine; all injected so tests control time and randomness. */
export interface EngineOptions {
  clock: Clock;
  random: Random;
  /** Given to the check runners (see CheckDeps); none: runners log nothing. */
  logger?: Logger;
  /** Most checks running at once. */
  concurrency: number;
  bus?: EventBus<HealthEvents>;
  /** Override runner construction (tests); it gets the same deps as the kinds' factories. */
  runnerFor?: CheckFactory;
  spreadFirstRun?: boolean;
}

/** A check as the engine knows it: its spec and current state. */
export interface CheckView {
  spec: CheckSpec;
  state: CheckState;
}

/**
 * The run loop of healthmesh: schedules every check, feeds each result to
 * the check's status machine, keeps the current state for O(1) reads and
 * publishes results and transitions on the bus.
 */
export class Engine {
  readonly bus: EventBus<HealthEvents>;
  private readonly scheduler: Scheduler;
  private readonly checks = new Map<string, CheckView>();
  private readonly runners = new Map<string, CheckRunner>();
  /** Check ids by `service/instance`, for what passive evidence does to an instance's checks. */
  private readonly byInstance = new Map<string, Set<string>>();
  private readonly evidence: PassiveEvidenceBook;
  /** What every runner this engine builds is given: its own clock, random source and logger. */
  private readonly deps: CheckDeps;

  constructor(private readonly options: EngineOptions) {
    this.bus = options.bus ?? new EventBus<HealthEvents>();
    this.evidence = new PassiveEvidenceBook({
      clock: options.clock,
      checksOf: (key) => this.checksOf(key),
      runNow: (id) => this.scheduler.runNow(id),
    });
    this.deps = { clock: options.clock, random: options.random, logger: options.logger };
    this.scheduler = new Scheduler({
      clock: options.clock,
      random: options.random,
      concurrency: options.concurrency,
      spreadFirstRun: options.spreadFirstRun,
      onResult: this.onResult,
    });
  }

  /** Start watching a check; `runner` overrides the kind's (in-process library checks). */
  add(spec: CheckSpec, firstDelayMs?: number, runner: CheckRunner = (this.options.runnerFor ?? createRunner)(spec, this.deps)): void {
    if (this.checks.has(spec.id)) throw new Error(`duplicate check id ${spec.id}`);
    // A runner that learns news between runs (gRPC Watch, a ttl heartbeat) gets its check run at once.
    runner.onPush?.(() => this.scheduler.runNow(spec.id));
    this.checks.set(spec.id, { spec, state: initialState(this.options.clock.now()) });
    this.runners.set(spec.id, runner);
    const key = `${spec.service}/${spec.instance}`;
    let ids = this.byInstance.get(key);
    if (!ids) {
      ids = new Set();
      this.byInstance.set(key, ids);
    }
    ids.add(spec.id);
    this.scheduler.add(spec, runner, firstDelayMs);
    this.bus.emit('check-added', { spec, at: this.options.clock.now() });
  }

  /** Stop watching a check; its runner is closed. */
  async remove(id: string): Promise<boolean> {
    const view = this.checks.get(id);
    if (!view) return false;
    this.checks.delete(id);
    this.runners.delete(id);
    const key = `${view.spec.service}/${view.spec.instance}`;
    const ids = this.byInstance.get(key);
    ids?.delete(id);
    if (ids?.size === 0) {
      this.byInstance.delete(key);
      this.evidence.forget(key);
    }
    await this.scheduler.remove(id);
    this.bus.emit('check-removed', { spec: view.spec, at: this.options.clock.now() });
    return true;
  }

  get(id: string): CheckView | undefined {
    return this.checks.get(id);
  }

  /** Every check with its state (no copy: treat as read-only). */
  all(): IterableIterator<CheckView> {
    return this.checks.values();
  }

  get size(): number {
    return this.checks.size;
  }

  /**
   * Record a heartbeat for a ttl check; the runner pushes it, so the check
   * runs at once (see add). Throws HealthmeshError `not_found` / `not_ttl`
   * for a wrong id, TypeError for a bad status.
   */
  heartbeat(id: string, status: HeartbeatStatus, note?: string): void {
    const runner = this.runners.get(id);
    if (!runner) throw new HealthmeshError('not_found', `no check with id "${id}"`);
    if (runner.heartbeat === undefined) throw new HealthmeshError('not_ttl', `check "${id}" is not a ttl check`);
    runner.heartbeat(status, note, this.options.clock.now());
  }

  /**
   * The port through which whoever watches real traffic (the balancer feed)
   * tells the engine what it saw; see scheduler/passive-evidence.ts.
   */
  get passive(): PassiveEvidence {
    return this.evidence;
  }

  /** Run a check as soon as a slot is free. */
  runNow(id: string): void {
    this.scheduler.runNow(id);
  }

  /** The checks of `service/instance`. */
  *checksOf(instanceKey: string): IterableIterator<CheckSpec> {
    for (const id of this.byInstance.get(instanceKey) ?? []) {
      const view = this.checks.get(id);
      if (view) yield view.spec;
    }
  }

  schedulerStats(): SchedulerStats {
    return this.scheduler.stats();
  }

  resetLag(): void {
    this.scheduler.resetLag();
  }

  /** Abort checks in flight and close every runner. */
  async stop(): Promise<void> {
    await this.scheduler.stop();
  }

  /** Apply the status machine and choose the next interval (Envoy's state-dependent intervals). */
  private readonly onResult = (spec: CheckSpec, result: CheckResult): number => {
    const view = this.checks.get(spec.id);
    if (!view) return spec.intervalMs;
    const step = next(view.state, result, spec);
    const previous = view.state;
    view.state = step.state;
    const bus = this.bus;
    if (bus.has('result')) bus.emit('result', { spec, result, state: step.state, transition: step.transition });
    if (step.transition === 'changed') {
      bus.emit('transition', { spec, from: step.from, to: step.state.status, result, state: step.state, at: result.observedAt });
    }
    if (step.state.flapping !== previous.flapping) {
      bus.emit('flap', { spec, flapping: step.state.flapping, share: step.state.flap.share, at: result.observedAt });
    }
    return this.evidence.intervalFor(spec, nextInterval(spec, step.state), step.state.status);
  };
}

/** Edge interval near a transition, unhealthy interval while UNHEALTHY, else the normal one. */
export function nextInterval(spec: CheckSpec, state: CheckState): number {
  if (state.pending || state.justChanged) return spec.edgeIntervalMs;
  if (state.status === 'UNHEALTHY') return spec.unhealthyIntervalMs;
  return spec.intervalMs;
}
