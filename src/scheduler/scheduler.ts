import type { CheckRunner, CheckSpec, RunContext } from '../core/check.js';
import type { Clock, TimerHandle } from '../core/clock.js';
import { LatencyHistogram } from '../core/histogram.js';
import type { Random } from '../core/random.js';
import type { CheckResult, ProbeOutcome } from '../core/result.js';
import { DueHeap, type HeapItem } from './heap.js';

/** What the scheduler needs from its owner. */
export interface SchedulerOptions {
  clock: Clock;
  random: Random;
  /** Most checks running at once; the rest wait, oldest-due first. */
  concurrency: number;
  /**
   * Called with every finished run. Returns the interval (ms) until the next
   * run, so the owner can shorten it while unhealthy or near a transition.
   */
  onResult: (spec: CheckSpec, result: CheckResult) => number;
  /** Spread first runs uniformly over one interval (default true). */
  spreadFirstRun?: boolean;
}

/** Figures about the scheduler itself, for metrics and benchmarks. */
export interface SchedulerStats {
  checks: number;
  running: number;
  /** Checks whose due time has passed but wait for a concurrency slot. */
  waiting: number;
  runs: number;
  /** Attempts ended by their timeout. */
  timeouts: number;
  /** Timed-out runners that have not settled yet: they ignored their abort and were abandoned. */
  lingering: number;
  /** Start lag (actual start − due time) in ms. */
  lag: { p50: number; p99: number; max: number; mean: number; count: number };
}

interface Entry extends HeapItem {
  spec: CheckSpec;
  runner: CheckRunner;
  running: boolean;
  removed: boolean;
  /** Aborts the attempt in flight (timeout, removal, stop). */
  controller: AbortController | null;
  /** Wakes a retry backoff early on removal or stop. */
  wake: (() => void) | null;
}

const TIMEOUT_OUTCOME = (ms: number): ProbeOutcome => ({
  status: 'UNHEALTHY',
  reason: 'timeout',
  output: `no answer within ${ms}ms`,
});

/**
 * Runs every check on its own schedule from one min-heap of due times and a
 * single armed timer. The heap is also the wait queue: when all concurrency
 * slots are busy, due checks stay in it and the oldest-due starts first when a
 * slot frees.
 */
export class Scheduler {
  private readonly heap = new DueHeap<Entry>();
  private readonly entries = new Map<string, Entry>();
  private readonly lag = new LatencyHistogram();
  private timer: TimerHandle | null = null;
  private timerDue = Infinity;
  private running = 0;
  private runs = 0;
  private timeouts = 0;
  private lingering = 0;
  private stopped = false;

  constructor(private readonly options: SchedulerOptions) {}

  /** Add a check; its first run is spread over one interval unless `firstDelayMs` is given. */
  add(spec: CheckSpec, runner: CheckRunner, firstDelayMs?: number): void {
    if (this.entries.has(spec.id)) throw new Error(`check ${spec.id} is already scheduled`);
    const spread = this.options.spreadFirstRun ?? true;
    const delay = firstDelayMs ?? (spread ? this.options.random() * spec.intervalMs : 0);
    const entry: Entry = {
      spec,
      runner,
      due: this.options.clock.now() + delay,
      heapIndex: -1,
      running: false,
      removed: false,
      controller: null,
      wake: null,
    };
    this.entries.set(spec.id, entry);
    this.heap.push(entry);
    this.pump();
  }

  /** Remove a check: aborts its run in flight and closes its runner. */
  async remove(id: string): Promise<boolean> {
    const entry = this.entries.get(id);
    if (!entry) return false;
    this.entries.delete(id);
    entry.removed = true;
    this.heap.remove(entry);
    entry.controller?.abort(new Error('check removed'));
    entry.wake?.();
    this.pump();
    await entry.runner.close?.();
    return true;
  }

  has(id: string): boolean {
    return this.entries.has(id);
  }

  /** Run a check now instead of at its due time (no effect while it runs). */
  runNow(id: string): void {
    const entry = this.entries.get(id);
    if (!entry || entry.running) return;
    this.heap.remove(entry);
    entry.due = this.options.clock.now();
    this.heap.push(entry);
    this.pump();
  }

  /** Stop everything: abort runs in flight, close every runner. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.disarm();
    const all = [...this.entries.values()];
    this.entries.clear();
    for (const entry of all) {
      entry.removed = true;
      this.heap.remove(entry);
      entry.controller?.abort(new Error('scheduler stopped'));
      entry.wake?.();
    }
    await Promise.allSettled(all.map((e) => e.runner.close?.()));
  }

  stats(): SchedulerStats {
    const now = this.options.clock.now();
    let waiting = 0;
    // Counting waiting checks would need a heap walk; the top tells whether any wait at all.
    const top = this.heap.peek();
    if (top && top.due <= now && this.running >= this.options.concurrency) waiting = this.countDue(now);
    return {
      checks: this.entries.size,
      running: this.running,
      waiting,
      runs: this.runs,
      timeouts: this.timeouts,
      lingering: this.lingering,
      lag: {
        p50: this.lag.quantile(0.5),
        p99: this.lag.quantile(0.99),
        max: this.lag.max,
        mean: this.lag.mean,
        count: this.lag.count,
      },
    };
  }

  /** Forget lag samples (benchmarks discard their warm-up). */
  resetLag(): void {
    this.lag.reset();
  }

  private countDue(now: number): number {
    let n = 0;
    for (const e of this.entries.values()) if (!e.running && e.due <= now) n++;
    return n;
  }

  /** Start every due check a slot allows, then arm the timer for the next one. */
  private pump(): void {
    if (this.stopped) return;
    const { clock, concurrency } = this.options;
    const now = clock.now();
    let top = this.heap.peek();
    while (top && top.due <= now && this.running < concurrency) {
      this.heap.pop();
      this.start(top, now);
      top = this.heap.peek();
    }
    this.arm(top);
  }

  private arm(top: Entry | undefined): void {
    // With every slot busy, a finishing run calls pump(); no timer needed.
    if (!top || this.running >= this.options.concurrency) {
      this.disarm();
      return;
    }
    if (this.timer !== null && this.timerDue <= top.due) return;
    this.disarm();
    const { clock } = this.options;
    this.timerDue = top.due;
    this.timer = clock.setTimeout(this.onTimer, top.due - clock.now());
  }

  private disarm(): void {
    if (this.timer !== null) this.options.clock.clearTimeout(this.timer);
    this.timer = null;
    this.timerDue = Infinity;
  }

  private readonly onTimer = (): void => {
    this.timer = null;
    this.timerDue = Infinity;
    this.pump();
  };

  private start(entry: Entry, now: number): void {
    this.lag.record(now - entry.due);
    entry.running = true;
    this.running++;
    this.runs++;
    void this.execute(entry, now);
  }

  private async execute(entry: Entry, startedAt: number): Promise<void> {
    const { clock } = this.options;
    const spec = entry.spec;
    let outcome = await this.attempt(entry);
    let attempts = 1;
    while (attempts <= spec.retries && !entry.removed && outcome.status !== 'HEALTHY' && outcome.status !== 'DEGRADED') {
      await this.backoff(entry, spec.retryBackoffMs * 2 ** (attempts - 1));
      if (entry.removed) break;
      outcome = await this.attempt(entry);
      attempts++;
    }
    const finishedAt = clock.now();
    entry.running = false;
    this.running--;
    if (entry.removed) {
      this.pump();
      return;
    }
    const result: CheckResult = {
      status: outcome.status,
      reason: outcome.reason,
      output: outcome.output,
      durationMs: finishedAt - startedAt,
      observedAt: finishedAt,
      attempts,
      metrics: outcome.metrics,
    };
    let interval = spec.intervalMs;
    try {
      interval = this.options.onResult(spec, result);
    } catch {
      // A failing consumer must not stop the check's schedule.
    }
    if (!entry.removed) {
      const jittered = interval * (1 + spec.jitter * (2 * this.options.random() - 1));
      // Fixed rate from the previous due time keeps the cadence; a run longer
      // than its interval skips the missed ticks instead of bursting.
      const due = entry.due + jittered;
      entry.due = due > finishedAt ? due : finishedAt;
      this.heap.push(entry);
    }
    this.pump();
  }

  /** One attempt bounded by the timeout; a runner that ignores the abort is abandoned. */
  private attempt(entry: Entry): Promise<ProbeOutcome> {
    const { clock } = this.options;
    const timeoutMs = entry.spec.timeoutMs;
    const controller = new AbortController();
    entry.controller = controller;
    return new Promise<ProbeOutcome>((resolve) => {
      let settled = false;
      const timer = clock.setTimeout(() => {
        if (settled) return;
        settled = true;
        this.timeouts++;
        this.lingering++;
        controller.abort(new Error('timeout'));
        entry.controller = null;
        resolve(TIMEOUT_OUTCOME(timeoutMs));
      }, timeoutMs);
      const ctx: RunContext = { signal: controller.signal, clock };
      let promise: Promise<ProbeOutcome>;
      try {
        promise = entry.runner.run(ctx);
      } catch (err) {
        promise = Promise.reject(err);
      }
      promise.then(
        (value) => {
          if (settled) {
            this.lingering--;
            return;
          }
          settled = true;
          clock.clearTimeout(timer);
          entry.controller = null;
          resolve(controller.signal.aborted && entry.removed ? abortedOutcome() : value);
        },
        (err: unknown) => {
          if (settled) {
            this.lingering--;
            return;
          }
          settled = true;
          clock.clearTimeout(timer);
          entry.controller = null;
          // Runners should never throw; if one does, it is a bug in the runner, not the target.
          resolve({ status: 'UNKNOWN', reason: 'error', output: `check failed to run: ${errorText(err)}` });
        },
      );
    });
  }

  private backoff(entry: Entry, ms: number): Promise<void> {
    const { clock } = this.options;
    return new Promise((resolve) => {
      const timer = clock.setTimeout(() => {
        entry.wake = null;
        resolve();
      }, ms);
      entry.wake = () => {
        clock.clearTimeout(timer);
        entry.wake = null;
        resolve();
      };
    });
  }
}

function abortedOutcome(): ProbeOutcome {
  return { status: 'UNKNOWN', reason: 'aborted', output: 'check stopped' };
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
