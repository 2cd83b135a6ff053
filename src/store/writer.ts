/**
 * Batches results and transitions from the engine bus into history-store
 * writes: one `store.write` (one transaction) per flush, every
 * `flushIntervalMs` after the first buffered row or as soon as `maxBatch`
 * rows wait. The buffer is bounded: when the store falls behind by more than
 * `maxBuffered` results, the oldest results are dropped and counted; the
 * event loop never waits on the store. Transitions are never dropped.
 */
import type { Clock, TimerHandle } from '../core/clock.js';
import type { EventBus } from '../core/events.js';
import type { HealthEvents, ResultEvent, TransitionEvent } from '../status/health-events.js';
import { truncateOutput, type HistoryStore, type ResultRecord, type TransitionRecord } from './types.js';

export interface ResultWriterOptions {
  store: HistoryStore;
  clock: Clock;
  /** Longest time a buffered row waits for its flush, ms (default 1000). */
  flushIntervalMs?: number;
  /** Rows per flush (one transaction); reaching it flushes at once (default 5000). */
  maxBatch?: number;
  /** Results buffered beyond this are dropped, oldest first (default 100 000). */
  maxBuffered?: number;
  /**
   * Flushes that may be in progress at once (default 1: flushes never
   * overlap). With a store that commits off the main thread (SQLite
   * `writes: 'worker'`), 2-4 lets the next full batch travel while one
   * commits, and the store commits batches that queue up together, in fewer
   * and larger transactions. A failed flush's rows go back to the front of
   * the buffer, possibly after rows of a later flush were committed.
   */
  maxInFlight?: number;
  /** A flush failed; its rows stay buffered and are retried after flushIntervalMs. */
  onError?: (err: unknown) => void;
  /** A flush committed (for logs and metrics). */
  onFlush?: (flush: FlushInfo) => void;
}

/** One committed flush. */
export interface FlushInfo {
  results: number;
  transitions: number;
  /** Time spent in store.write, ms (by the injected clock). */
  ms: number;
}

/** Writer counters for /metrics. */
export interface WriterStats {
  /** Results waiting in memory (including a flush in progress). */
  bufferedResults: number;
  bufferedTransitions: number;
  /** Results dropped because the buffer was full (or added after close). */
  droppedResults: number;
  /** Committed flushes. */
  flushes: number;
  failedFlushes: number;
  /** Rows (results + transitions) committed so far. */
  rowsWritten: number;
  /** Duration of the last committed flush, ms. */
  lastFlushMs: number;
  /** Rows of the last committed flush. */
  lastFlushRows: number;
  /** Mean duration of committed flushes, ms. */
  avgFlushMs: number;
  maxFlushMs: number;
}

/**
 * FIFO of rows with O(1) push and shift-many; the consumed head is compacted
 * away lazily so a long-running writer does not keep an ever-growing array.
 */
class Fifo<T> {
  private items: T[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
  }

  /** Remove and return up to n rows from the front. */
  take(n: number): T[] {
    const out = this.items.slice(this.head, this.head + n);
    this.head += out.length;
    this.compact();
    return out;
  }

  /** Drop n rows from the front. */
  drop(n: number): void {
    this.head += Math.min(n, this.length);
    this.compact();
  }

  /** Put rows back at the front (a failed flush), keeping their order. */
  unshift(rows: T[]): void {
    this.items = rows.concat(this.items.slice(this.head));
    this.head = 0;
  }

  private compact(): void {
    if (this.head >= 4096 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
}

/**
 * Store row of a bus result event; the output is cut to the stored size here
 * so the buffer stays small. `scores`: the check's and its instance's scores
 * once the result was applied (status/rollup.ts ScoredResult).
 */
export function resultRecord(ev: ResultEvent, scores?: { checkScore: number; instanceScore: number }): ResultRecord {
  const { spec, result } = ev;
  return {
    checkId: spec.id,
    service: spec.service,
    instance: spec.instance,
    kind: spec.kind,
    status: result.status,
    reason: result.reason,
    durationMs: result.durationMs,
    observedAt: result.observedAt,
    attempts: result.attempts ?? 1,
    output: truncateOutput(result.output),
    metrics: result.metrics ?? null,
    checkScore: scores?.checkScore ?? null,
    instanceScore: scores?.instanceScore ?? null,
  };
}

/** Store row of a bus transition event. */
export function transitionRecord(ev: TransitionEvent): TransitionRecord {
  return {
    checkId: ev.spec.id,
    service: ev.spec.service,
    instance: ev.spec.instance,
    from: ev.from,
    to: ev.to,
    reason: ev.result.reason,
    output: truncateOutput(ev.result.output),
    at: ev.at,
  };
}

/** Buffers results and transitions and writes them to a HistoryStore in batches. */
export class ResultWriter {
  private readonly store: HistoryStore;
  private readonly clock: Clock;
  private readonly flushIntervalMs: number;
  private readonly maxBatch: number;
  private readonly maxBuffered: number;
  private readonly results = new Fifo<ResultRecord>();
  private readonly transitions = new Fifo<TransitionRecord>();
  private timer: TimerHandle | null = null;
  private timerAt = Infinity;
  private readonly maxInFlight: number;
  /** Flushes in progress (at most maxInFlight), each settling when its write settled. */
  private readonly inFlight = new Set<Promise<void>>();
  private inFlightResults = 0;
  private inFlightTransitions = 0;
  private closed = false;
  private readonly unsubscribe: Array<() => void> = [];
  private readonly counters = {
    dropped: 0,
    flushes: 0,
    failed: 0,
    rows: 0,
    lastMs: 0,
    lastRows: 0,
    totalMs: 0,
    maxMs: 0,
  };

  constructor(private readonly options: ResultWriterOptions) {
    this.store = options.store;
    this.clock = options.clock;
    this.flushIntervalMs = options.flushIntervalMs ?? 1000;
    this.maxBatch = Math.max(1, options.maxBatch ?? 5000);
    this.maxBuffered = Math.max(1, options.maxBuffered ?? 100_000);
    this.maxInFlight = Math.max(1, Math.floor(options.maxInFlight ?? 1));
  }

  /**
   * Subscribe to the bus's results and transitions (without scores or ids;
   * the daemon feeds the writer through store/history-feed.ts instead);
   * returns the unsubscribe function.
   */
  attach(bus: EventBus<HealthEvents>): () => void {
    const offs = [bus.on('result', this.onResult), bus.on('transition', this.onTransition)];
    const off = (): void => {
      for (const f of offs) f();
    };
    this.unsubscribe.push(off);
    return off;
  }

  /** Bus handler for `result` events. */
  readonly onResult = (ev: ResultEvent): void => this.addResult(resultRecord(ev));

  /** Bus handler for `transition` events. */
  readonly onTransition = (ev: TransitionEvent): void => this.addTransition(transitionRecord(ev));

  /** Buffer one result; drops the oldest buffered result when the buffer is full. */
  addResult(record: ResultRecord): void {
    if (this.closed) {
      this.counters.dropped++;
      return;
    }
    this.results.push(record);
    const over = this.results.length - this.maxBuffered;
    if (over > 0) {
      this.results.drop(over);
      this.counters.dropped += over;
    }
    this.scheduled();
  }

  /** Buffer one transition (never dropped). */
  addTransition(record: TransitionRecord): void {
    if (this.closed) return;
    this.transitions.push(record);
    this.scheduled();
  }

  /**
   * Write everything buffered now, in batches of at most maxBatch rows (one
   * transaction each). Resolves when those rows are committed; rejects if a
   * batch failed (its rows stay buffered).
   */
  async flush(): Promise<void> {
    let remaining = this.results.length + this.transitions.length;
    while (remaining > 0) {
      if (this.inFlight.size >= this.maxInFlight) {
        await Promise.race(this.inFlight);
        continue;
      }
      const wrote = await this.flushBatch(true);
      if (wrote === 0) break;
      remaining -= wrote;
    }
    await Promise.all(this.inFlight);
  }

  /** Stop taking rows, write what is buffered, detach from the bus. */
  async close(): Promise<void> {
    for (const off of this.unsubscribe.splice(0)) off();
    this.disarm();
    try {
      // Loop: rows added directly (not from the bus) while flushing are written too.
      while (this.results.length + this.transitions.length > 0 || this.inFlight.size) await this.flush();
    } finally {
      this.closed = true;
      this.disarm();
    }
  }

  stats(): WriterStats {
    const c = this.counters;
    return {
      bufferedResults: this.results.length + this.inFlightResults,
      bufferedTransitions: this.transitions.length + this.inFlightTransitions,
      droppedResults: c.dropped,
      flushes: c.flushes,
      failedFlushes: c.failed,
      rowsWritten: c.rows,
      lastFlushMs: c.lastMs,
      lastFlushRows: c.lastRows,
      avgFlushMs: c.flushes ? c.totalMs / c.flushes : 0,
      maxFlushMs: c.maxMs,
    };
  }

  /** Arm the flush timer for the rows just added: at once when a batch is full, else after the interval. */
  private scheduled(): void {
    if (this.inFlight.size >= this.maxInFlight) return; // a flush in progress re-arms when it ends
    const full = this.results.length + this.transitions.length >= this.maxBatch;
    this.arm(full ? 0 : this.flushIntervalMs);
  }

  /** Arm the timer to fire in `ms`, unless it already fires sooner. */
  private arm(ms: number): void {
    const at = this.clock.now() + ms;
    if (this.timer !== null && this.timerAt <= at) return;
    this.disarm();
    this.timerAt = at;
    this.timer = this.clock.setTimeout(this.onTimer, ms);
  }

  private disarm(): void {
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.timer = null;
    this.timerAt = Infinity;
  }

  private readonly onTimer = (): void => {
    this.timer = null;
    this.timerAt = Infinity;
    void this.flushBatch(false).catch(() => undefined);
  };

  /**
   * Write one batch (transitions first, then the oldest results, at most
   * maxBatch rows) in one store.write. Returns the rows written. Re-arms the
   * timer for what is left: at once if a full batch waits, else after the interval.
   */
  private async flushBatch(rethrow: boolean): Promise<number> {
    if (this.inFlight.size >= this.maxInFlight) return 0;
    const transitions = this.transitions.take(this.maxBatch);
    const results = this.results.take(this.maxBatch - transitions.length);
    const rows = results.length + transitions.length;
    if (rows === 0) return 0;
    this.disarm();
    let failure: unknown = null;
    let settle!: () => void;
    const flight = new Promise<void>((resolve) => (settle = resolve));
    this.inFlight.add(flight);
    this.inFlightResults += results.length;
    this.inFlightTransitions += transitions.length;
    // Room for another flush and a full batch waiting: let it start while this one commits.
    if (this.inFlight.size < this.maxInFlight && this.results.length + this.transitions.length >= this.maxBatch) this.arm(0);
    const started = this.clock.now();
    try {
      await this.store.write({ results, transitions });
      const ms = this.clock.now() - started;
      const c = this.counters;
      c.flushes++;
      c.rows += rows;
      c.lastMs = ms;
      c.lastRows = rows;
      c.totalMs += ms;
      c.maxMs = Math.max(c.maxMs, ms);
      this.options.onFlush?.({ results: results.length, transitions: transitions.length, ms });
    } catch (err) {
      failure = err;
      this.counters.failed++;
      // Keep the rows for the next try, oldest first; the bound still applies to results.
      this.transitions.unshift(transitions);
      this.results.unshift(results);
      const over = this.results.length - this.maxBuffered;
      if (over > 0) {
        this.results.drop(over);
        this.counters.dropped += over;
      }
    } finally {
      this.inFlight.delete(flight);
      this.inFlightResults -= results.length;
      this.inFlightTransitions -= transitions.length;
      settle();
    }
    if (failure !== null) {
      this.options.onError?.(failure);
      if (!this.closed) this.arm(this.flushIntervalMs);
      if (rethrow) throw failure;
      return 0;
    }
    const left = this.results.length + this.transitions.length;
    if (left > 0 && !this.closed) this.arm(left >= this.maxBatch ? 0 : this.flushIntervalMs);
    return rows;
  }
}
