import type { CheckRunner, CheckSpec, RunContext } from '../core/check.js';
import type { Clock, TimerHandle } from '../core/clock.js';
import { LatencyHistogram, SlidingLatencyHistogram } from '../core/histogram.js';
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
  /** Abandoned runners (timed out or removed) that have not settled yet: they ignore their abort. */
  lingering: number;
  /** Start lag (actual start − due time) in ms, since start or the last resetLag(). */
  lag: { p50: number; p99: number; max: number; mean: number; count: number };
  /** Start lag quantiles in ms over the last minute only (a sliding window of 50–60 s), so a past burst fades out. */
  recentLag: { p50: number; p99: number; windowMs: number };
}

/**
 * The signal of one attempt, created only when the runner asks for it:
 * AbortController is one of the costlier allocations on this path, and a
 * runner that finishes synchronously never needs one.
 */
class AttemptContext implements RunContext {
  private controller: AbortController | null = null;
  private abortReason: Error | null = null;

  constructor(readonly clock: Clock) {}

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.abortReason) this.controller.abort(this.abortReason);
    }
    return this.controller.signal;
  }

  abort(reason: Error): void {
    if (this.abortReason) return;
    this.abortReason = reason;
    this.controller?.abort(reason);
  }
}

type Phase = 'waiting' | 'attempt' | 'backoff' | 'removed';

interface Entry extends HeapItem {
  spec: CheckSpec;
  runner: CheckRunner;
  phase: Phase;
  /** When the current run was due (fixed-rate cadence is kept from it). */
  scheduledAt: number;
  startedAt: number;
  attempts: number;
  /** Identifies the attempt in flight; a settle with another number is stale. */
  attemptSeq: number;
  ctx: AttemptContext | null;
  /** runNow() arrived while running: the next run is due as soon as this one ends. */
  rerun: boolean;
}

const ABORTED_REASON = new Error('check removed');
const TIMEOUT_REASON = new Error('timeout');

/**
 * Runs every check on its own schedule from one timer structure: two
 * min-heaps and a single armed timer. `waiting` holds checks by due time and
 * doubles as the wait queue (when all slots are busy the oldest-due starts
 * first); `active` holds running attempts by deadline and retry backoffs by
 * wake-up time, so timeouts cost no timer of their own.
 */
export class Scheduler {
  private readonly waiting = new DueHeap<Entry>();
  private readonly active = new DueHeap<Entry>();
  private readonly entries = new Map<string, Entry>();
  private readonly lag = new LatencyHistogram();
  private readonly recentLag = new SlidingLatencyHistogram(60_000, 6);
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
    const due = this.options.clock.now() + delay;
    const entry: Entry = {
      spec,
      runner,
      due,
      heapIndex: -1,
      phase: 'waiting',
      scheduledAt: due,
      startedAt: 0,
      attempts: 0,
      attemptSeq: 0,
      ctx: null,
      rerun: false,
    };
    this.entries.set(spec.id, entry);
    this.waiting.push(entry);
    this.pump();
  }

  /** Remove a check: aborts its run in flight and closes its runner. */
  async remove(id: string): Promise<boolean> {
    const entry = this.entries.get(id);
    if (!entry) return false;
    this.entries.delete(id);
    this.discard(entry, ABORTED_REASON);
    this.pump();
    await entry.runner.close?.();
    return true;
  }

  has(id: string): boolean {
    return this.entries.has(id);
  }

  /** Run a check now instead of at its due time; while it runs, run it again right after. */
  runNow(id: string): void {
    const entry = this.entries.get(id);
    if (!entry) return;
    if (entry.phase !== 'waiting') {
      entry.rerun = true;
      return;
    }
    this.waiting.remove(entry);
    entry.due = entry.scheduledAt = this.options.clock.now();
    this.waiting.push(entry);
    this.pump();
  }

  /** Stop everything: abort runs in flight, close every runner. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.disarm();
    const all = [...this.entries.values()];
    this.entries.clear();
    for (const entry of all) this.discard(entry, new Error('scheduler stopped'));
    await Promise.allSettled(all.map((e) => e.runner.close?.()));
  }

  stats(): SchedulerStats {
    const now = this.options.clock.now();
    let waiting = 0;
    const top = this.waiting.peek();
    if (top && top.due <= now) for (const e of this.entries.values()) if (e.phase === 'waiting' && e.due <= now) waiting++;
    const recent = this.recentLag.quantiles(now, [0.5, 0.99]);
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
      recentLag: { p50: recent[0]!, p99: recent[1]!, windowMs: this.recentLag.windowMs },
    };
  }

  /** Forget lag samples (benchmarks discard their warm-up). */
  resetLag(): void {
    this.lag.reset();
    this.recentLag.reset();
  }

  private discard(entry: Entry, reason: Error): void {
    if (entry.phase === 'attempt') this.abandon(entry, reason);
    if (entry.phase === 'attempt' || entry.phase === 'backoff') this.running--;
    this.waiting.remove(entry);
    this.active.remove(entry);
    entry.phase = 'removed';
  }

  /** Give up on the attempt in flight: abort it and ignore whatever it settles with later. */
  private abandon(entry: Entry, reason: Error): void {
    entry.attemptSeq++;
    this.lingering++;
    entry.ctx?.abort(reason);
    entry.ctx = null;
  }

  /** Expire deadlines and backoffs, start every due check a slot allows, arm the timer. */
  private pump(): void {
    if (this.stopped) return;
    const { clock, concurrency } = this.options;
    const now = clock.now();
    let act = this.active.peek();
    while (act && act.due <= now) {
      this.active.pop();
      if (act.phase === 'attempt') this.onDeadline(act);
      else this.launch(act);
      act = this.active.peek();
    }
    let top = this.waiting.peek();
    while (top && top.due <= now && this.running < concurrency) {
      this.waiting.pop();
      this.start(top, now);
      top = this.waiting.peek();
    }
    let next = this.active.peek()?.due ?? Infinity;
    // With every slot busy a finishing run calls pump(); waiting checks need no timer.
    if (top && this.running < concurrency && top.due < next) next = top.due;
    this.arm(next);
  }

  private arm(due: number): void {
    if (due === Infinity) {
      this.disarm();
      return;
    }
    if (this.timer !== null && this.timerDue <= due) return;
    this.disarm();
    const { clock } = this.options;
    this.timerDue = due;
    this.timer = clock.setTimeout(this.onTimer, due - clock.now());
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
    this.lag.record(now - entry.scheduledAt);
    this.recentLag.record(now - entry.scheduledAt, now);
    this.running++;
    this.runs++;
    entry.startedAt = now;
    entry.attempts = 0;
    this.launch(entry);
  }

  /** Start one attempt; its deadline goes into the active heap. */
  private launch(entry: Entry): void {
    const { clock } = this.options;
    entry.phase = 'attempt';
    entry.attempts++;
    const seq = ++entry.attemptSeq;
    const ctx = new AttemptContext(clock);
    entry.ctx = ctx;
    entry.due = clock.now() + entry.spec.timeoutMs;
    this.active.push(entry);
    let promise: Promise<ProbeOutcome>;
    try {
      promise = entry.runner.run(ctx);
    } catch (err) {
      promise = Promise.reject(err);
    }
    promise.then(
      (outcome) => this.settle(entry, seq, outcome),
      (err: unknown) => this.settle(entry, seq, crashed(err)),
    );
  }

  private settle(entry: Entry, seq: number, outcome: ProbeOutcome): void {
    if (seq !== entry.attemptSeq || entry.phase !== 'attempt') {
      this.lingering--; // an abandoned runner finally returned
      return;
    }
    this.active.remove(entry);
    entry.ctx = null;
    this.conclude(entry, outcome);
    this.pump();
  }

  private onDeadline(entry: Entry): void {
    this.timeouts++;
    this.abandon(entry, TIMEOUT_REASON);
    this.conclude(entry, { status: 'UNHEALTHY', reason: 'timeout', output: `no answer within ${entry.spec.timeoutMs}ms` });
  }

  /** Retry after a backoff, or finish the run. */
  private conclude(entry: Entry, outcome: ProbeOutcome): void {
    const spec = entry.spec;
    const failed = outcome.status === 'UNHEALTHY' || outcome.status === 'UNKNOWN';
    if (failed && entry.attempts <= spec.retries) {
      entry.phase = 'backoff';
      entry.due = this.options.clock.now() + spec.retryBackoffMs * 2 ** (entry.attempts - 1);
      this.active.push(entry);
      return;
    }
    this.finish(entry, outcome);
  }

  private finish(entry: Entry, outcome: ProbeOutcome): void {
    const { clock, random } = this.options;
    const spec = entry.spec;
    const finishedAt = clock.now();
    this.running--;
    entry.phase = 'waiting'; // before onResult, which may remove the check
    const result: CheckResult = {
      status: outcome.status,
      reason: outcome.reason,
      output: outcome.output,
      durationMs: finishedAt - entry.startedAt,
      observedAt: finishedAt,
      attempts: entry.attempts,
      metrics: outcome.metrics,
    };
    let interval = spec.intervalMs;
    try {
      interval = this.options.onResult(spec, result);
    } catch {
      // A failing consumer must not stop the check's schedule.
    }
    if ((entry.phase as Phase) === 'removed') return;
    const jittered = interval * (1 + spec.jitter * (2 * random() - 1));
    // Fixed rate from the previous due time keeps the cadence; a run longer
    // than its interval skips the missed ticks instead of bursting.
    const due = entry.rerun ? finishedAt : entry.scheduledAt + jittered;
    entry.rerun = false;
    entry.due = entry.scheduledAt = due > finishedAt ? due : finishedAt;
    this.waiting.push(entry);
  }
}

function crashed(err: unknown): ProbeOutcome {
  // Runners should never throw; one that does has a bug, the target is not to blame.
  return { status: 'UNKNOWN', reason: 'error', output: `check failed to run: ${err instanceof Error ? err.message : String(err)}` };
}
