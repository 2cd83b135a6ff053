/**
 * The sequence of transitions: every check, instance and service transition
 * gets its id here, the id it is stored with and the SSE event id a client
 * resumes from, so ids are the same everywhere and monotonic across restarts.
 *
 * Ids: a run numbers on from max(highest id the store ever held, start time
 * in ms × 1000), one by one. The store's high-water mark alone would reuse
 * the ids of transitions a crash kept from being flushed (clients may have
 * seen them); the time term puts every run above ids of earlier runs as
 * long as a run hands out fewer than 1000 ids per ms of its life, and the
 * store's term keeps ids rising if the clock goes back. Ids stay below 2^53
 * until the year 2255.
 *
 * SSE sends check transitions (as before); the most recent are kept in a
 * ring, and a resume from further back is served from the store. A resume
 * that cannot be served completely (an id older than what is kept, one this
 * daemon never handed out, or more than MAX_REPLAY events) gets `reset`: the
 * client re-reads the state instead.
 */
import type { EventBus } from '../core/events.js';
import type { HealthEvents } from '../status/health-events.js';
import type { HealthStatus } from '../core/status.js';
import type { RollupChange } from '../status/rollup.js';
import type { TransitionLevel, TransitionRecord } from '../store/types.js';

/** A transition as sent to SSE clients (check transitions) and to the history writer (all). */
export interface LoggedTransition {
  /** Sequence number, the SSE event id (Last-Event-ID resumes after it) and the stored id. */
  id: number;
  level: TransitionLevel;
  /** Check id ('' for an instance or a service). */
  check: string;
  service: string;
  /** Instance name ('' for a service). */
  instance: string;
  from: HealthStatus;
  to: HealthStatus;
  reason: string;
  output: string;
  at: number;
}

/** The stored transitions a resume may read (HistoryStore provides them). */
export interface TransitionHistory {
  transitionsAfter(afterId: number, limit: number): Promise<TransitionRecord[]>;
  transitionIds(): Promise<{ last: number; horizon: number }>;
}

/** What a client resuming after an id gets: the check transitions it missed, or a reset. */
export type Replay = { reset: false; events: LoggedTransition[] } | { reset: true; why: string };

/** Most check transitions replayed to one client before it is told to re-read the state instead. */
export const MAX_REPLAY = 10_000;
/** Rows read from the store per page of a resume (transitions of all levels). */
const STORE_PAGE = 5_000;

export class TransitionLog {
  private readonly ring: Array<LoggedTransition | undefined>;
  /** Check transitions pushed so far this run; entry k sits at ring[k % capacity]. */
  private pushed = 0;
  private nextId = 1;
  /** The first id of this run. */
  private runStart = 1;
  private history: TransitionHistory | null = null;
  private readonly listeners = new Set<(t: LoggedTransition) => void>();
  private readonly allListeners = new Set<(t: LoggedTransition) => void>();

  constructor(private readonly capacity = 10_000) {
    this.ring = new Array(capacity);
  }

  /**
   * Number on from what `history` holds and serve resumes from it. Call
   * before the first push; `lastStoredId` is the store's highest id, `nowMs`
   * the start time (epoch ms).
   */
  resumeFrom(history: TransitionHistory, lastStoredId: number, nowMs: number): void {
    if (this.nextId !== this.runStart) throw new Error('TransitionLog.resumeFrom after the first transition');
    this.history = history;
    this.nextId = this.runStart = Math.max(lastStoredId, Math.floor(nowMs) * 1000) + 1;
  }

  /** Number the engine's check transitions. */
  attach(bus: EventBus<HealthEvents>): () => void {
    return bus.on('transition', ({ spec, from, to, result, at }) =>
      this.push({ level: 'check', check: spec.id, service: spec.service, instance: spec.instance, from, to, reason: result.reason, output: result.output, at }),
    );
  }

  /** Number an instance or service change of the status rollup (mesh changes are not numbered). */
  pushChange(change: RollupChange): LoggedTransition | null {
    if (change.level === 'mesh') return null;
    const slash = change.id.indexOf('/');
    const [service, instance] = change.level === 'instance' ? [change.id.slice(0, slash), change.id.slice(slash + 1)] : [change.id, ''];
    return this.push({
      level: change.level,
      check: '',
      service,
      instance,
      from: change.from,
      to: change.to,
      reason: 'rollup',
      output: change.cause,
      at: change.at,
    });
  }

  /** Number a transition (level check when left out) and pass it on. */
  push(t: Omit<LoggedTransition, 'id' | 'level'> & { level?: TransitionLevel }): LoggedTransition {
    const entry: LoggedTransition = { id: this.nextId++, ...t, level: t.level ?? 'check' };
    for (const l of this.allListeners) l(entry);
    if (entry.level !== 'check') return entry;
    this.ring[this.pushed++ % this.capacity] = entry;
    for (const l of this.listeners) l(entry);
    return entry;
  }

  /** Check transitions with id > afterId still in the ring, oldest first. */
  since(afterId: number): LoggedTransition[] {
    const out: LoggedTransition[] = [];
    for (let k = Math.max(0, this.pushed - this.capacity); k < this.pushed; k++) {
      const e = this.ring[k % this.capacity]!;
      if (e.id > afterId) out.push(e);
    }
    return out;
  }

  /**
   * What a client that saw every check transition up to `afterId` missed:
   * from the ring when it reaches back that far, else from the store, else
   * a reset.
   */
  async replay(afterId: number): Promise<Replay> {
    if (!Number.isInteger(afterId) || afterId < 0) return { reset: true, why: `Last-Event-ID ${afterId} is not an id of this daemon` };
    if (afterId > this.lastId) return { reset: true, why: `Last-Event-ID ${afterId} was never handed out by this daemon (last ${this.lastId})` };
    const ringStart = this.ringStart();
    if (afterId + 1 >= ringStart) return { reset: false, events: this.since(afterId) };
    if (!this.history) return { reset: true, why: `Last-Event-ID ${afterId} is older than the ${this.capacity} transitions kept` };
    const { horizon } = await this.history.transitionIds();
    if (afterId < horizon) return { reset: true, why: `Last-Event-ID ${afterId} is older than the transitions kept (retention)` };
    const events: LoggedTransition[] = [];
    // This run's ids are consecutive: every one below ringStart must come back from the store.
    let expected = ringStart - Math.max(afterId + 1, this.runStart);
    let after = afterId;
    for (let read = 0; ; read += STORE_PAGE) {
      if (events.length > MAX_REPLAY || read > 10 * MAX_REPLAY) return { reset: true, why: `too many transitions since Last-Event-ID ${afterId}` };
      const page = await this.history.transitionsAfter(after, STORE_PAGE);
      const below = page.filter((r) => r.id !== undefined && r.id < ringStart);
      for (const r of below) {
        after = r.id!;
        if (after >= this.runStart) expected--;
        if ((r.level ?? 'check') === 'check') events.push(logged(r));
      }
      if (page.length < STORE_PAGE || below.length < page.length) break;
    }
    if (expected > 0) return { reset: true, why: `transitions since Last-Event-ID ${afterId} are not all stored yet` };
    return { reset: false, events: [...events, ...this.since(afterId)] };
  }

  /**
   * The check transitions after `afterId` when the ring alone holds every
   * one of them, else null (an id older than the ring, or never handed out):
   * a synchronous replay for streams that re-read the state rather than wait
   * for the store (the dashboard's).
   */
  sinceInMemory(afterId: number): LoggedTransition[] | null {
    if (!Number.isInteger(afterId) || afterId < 0 || afterId > this.lastId) return null;
    return afterId + 1 >= this.ringStart() ? this.since(afterId) : null;
  }

  /** The highest id handed out (or the store's, before the first). */
  get lastId(): number {
    return this.nextId - 1;
  }

  /** Hear each check transition as it is numbered (SSE). */
  subscribe(listener: (t: LoggedTransition) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Hear each transition of every level as it is numbered (the history writer). */
  subscribeAll(listener: (t: LoggedTransition) => void): () => void {
    this.allListeners.add(listener);
    return () => this.allListeners.delete(listener);
  }

  /** The lowest id from which every check transition of this run is in the ring. */
  private ringStart(): number {
    if (this.pushed <= this.capacity) return this.runStart;
    // The entry overwritten last was the one before the oldest kept.
    return this.ring[this.pushed % this.capacity]!.id;
  }
}

/** A stored transition as the log sends it. */
export function logged(r: TransitionRecord): LoggedTransition {
  return {
    id: r.id ?? 0,
    level: r.level ?? 'check',
    check: r.checkId,
    service: r.service,
    instance: r.instance,
    from: r.from,
    to: r.to,
    reason: r.reason,
    output: r.output,
    at: r.at,
  };
}

/** The store row of a numbered transition. */
export function transitionRow(t: LoggedTransition): TransitionRecord {
  return {
    id: t.id,
    level: t.level,
    checkId: t.check,
    service: t.service,
    instance: t.instance,
    from: t.from,
    to: t.to,
    reason: t.reason,
    output: t.output,
    at: t.at,
  };
}
