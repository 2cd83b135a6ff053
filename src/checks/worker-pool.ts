import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Clock } from '../core/clock.js';
import { CUSTOM_WORKER_SOURCE } from './custom-worker.js';

/**
 * Worker threads for custom checks: one pool per module file (and memory
 * limit), shared by every check that names it, workers created lazily and
 * reused across runs. A worker runs one call at a time, so that stopping a
 * call (terminating its worker) never takes another check's call with it.
 *
 * Whatever the user's code does — throw, loop, exit, eat memory — ends as a
 * WorkerReply for the run it was in; the worker is dropped when it is dead or
 * suspect and a new one is started when the next run needs it.
 */

/** What the check gets to know about itself, passed to the module as ctx.check. */
export interface CustomCheckIdentity {
  id: string;
  service: string;
  instance: string;
  address: string;
}

/** The per-check part of a run message, built once by the runner. */
export interface RunPayload {
  check: CustomCheckIdentity;
  params: Record<string, unknown>;
}

/** How one run in a worker ended. The runner turns it into a ProbeOutcome. */
export type WorkerReply =
  /** The function returned (value not yet validated). */
  | { kind: 'ok'; value: unknown }
  /** The function threw or its promise rejected. */
  | { kind: 'threw'; message: string }
  /** The module could not be imported or has no default export function. */
  | { kind: 'import'; message: string }
  /** The returned value cannot be copied out of the worker. */
  | { kind: 'clone'; message: string }
  /** The worker hit its heap limit (ERR_WORKER_OUT_OF_MEMORY) and died. */
  | { kind: 'memory_limit' }
  /** The worker died: process.exit(), an uncaught error outside the call, … */
  | { kind: 'crashed'; message: string }
  /** No worker could be started. */
  | { kind: 'spawn_failed'; message: string }
  /** The run's signal aborted: while waiting for a worker, or while running (its worker terminated). */
  | { kind: 'aborted'; phase: 'before start' | 'waiting for a free worker' | 'running' }
  /** The pool or the check was closed under the run. */
  | { kind: 'closed' };

/** Message to the worker; the worker answers with a WorkerReplyMessage of the same id. */
interface RunMessage {
  id: number;
  payload: RunPayload;
}

/** Message from the worker (see custom-worker.ts). */
interface WorkerReplyMessage {
  id: number;
  kind: 'ok' | 'threw' | 'import' | 'clone';
  value?: unknown;
  message?: string;
}

/** Longest close() waits for workers to exit (ms): a worker stuck in a blocking native call cannot be stopped sooner. */
const CLOSE_WAIT_MS = 2000;

const CLOSED: WorkerReply = { kind: 'closed' };
const ABORTED_BEFORE_START: WorkerReply = { kind: 'aborted', phase: 'before start' };
const ABORTED_WAITING: WorkerReply = { kind: 'aborted', phase: 'waiting for a free worker' };
const ABORTED_RUNNING: WorkerReply = { kind: 'aborted', phase: 'running' };
const MEMORY_LIMIT: WorkerReply = { kind: 'memory_limit' };

/** One run handed to the pool; also the listener of its AbortSignal. Settles once. */
export class PoolJob {
  worker: PoolWorker | null = null;
  done = false;

  constructor(
    private readonly pool: WorkerPool,
    readonly message: RunMessage,
    private readonly signal: AbortSignal,
    private readonly resolve: (reply: WorkerReply) => void,
    private readonly inflight: Set<PoolJob> | null,
  ) {}

  /** AbortSignal listener: the attempt timed out or the check was removed. */
  handleEvent(): void {
    this.pool.abandon(this);
  }

  /** Cancel the run (its check is closing): like an abort, but reported as closed. */
  cancel(): void {
    this.pool.abandon(this, CLOSED);
  }

  finish(reply: WorkerReply): void {
    if (this.done) return;
    this.done = true;
    this.signal.removeEventListener('abort', this);
    this.inflight?.delete(this);
    this.resolve(reply);
  }
}

/** A worker thread of a pool and the run it is busy with. */
class PoolWorker {
  job: PoolJob | null = null;
  /** Out of the pool: terminated, crashed or exited. Its thread may still be winding down. */
  dead = false;

  constructor(readonly thread: Worker) {}
}

/** The worker threads of one module file. */
export class WorkerPool {
  private readonly url: string;
  private readonly workers = new Set<PoolWorker>();
  private readonly idle: PoolWorker[] = [];
  private readonly queue: PoolJob[] = [];
  /** Threads started and not yet exited, dropped ones included. */
  private threads = 0;
  private exitWaiters: (() => void)[] = [];
  private nextId = 0;
  private closed = false;

  /**
   * @param modulePath absolute path of the user's module
   * @param memoryLimitMb heap limit of each worker, MiB
   * @param size most workers at once (≥ 1)
   * @param clock times close()'s wait for threads to exit
   */
  constructor(
    readonly modulePath: string,
    readonly memoryLimitMb: number,
    public size: number,
    private readonly clock: Clock,
  ) {
    this.url = pathToFileURL(modulePath).href;
  }

  /** Threads of this pool still alive, including ones terminated but not yet exited. */
  liveThreads(): number {
    return this.threads;
  }

  /**
   * Run the module's function once with `payload`. Never rejects. The job is
   * in `inflight` (the calling check's set) until it settles, so the check
   * can cancel its runs when it closes.
   */
  call(payload: RunPayload, signal: AbortSignal, inflight: Set<PoolJob> | null = null): Promise<WorkerReply> {
    if (this.closed) return Promise.resolve(CLOSED);
    if (signal.aborted) return Promise.resolve(ABORTED_BEFORE_START);
    return new Promise<WorkerReply>((resolve) => {
      const job = new PoolJob(this, { id: ++this.nextId, payload }, signal, resolve, inflight);
      inflight?.add(job);
      signal.addEventListener('abort', job);
      this.dispatch(job);
    });
  }

  /** Change the most workers at once; idle ones beyond it are dropped now, busy ones when they finish. */
  resize(size: number): void {
    this.size = size;
    while (this.workers.size > this.size && this.idle.length > 0) this.discard(this.idle[this.idle.length - 1]!);
    this.drain();
  }

  /**
   * Stop the job: out of the queue if waiting; if running, its worker is
   * terminated (the only way to stop code that may never yield) and replaced
   * when a run next needs one. The job settles at once.
   */
  abandon(job: PoolJob, reply?: WorkerReply): void {
    if (job.done) return;
    const w = job.worker;
    if (w === null) {
      const i = this.queue.indexOf(job);
      if (i >= 0) this.queue.splice(i, 1);
      job.finish(reply ?? ABORTED_WAITING);
      return;
    }
    this.discard(w);
    job.finish(reply ?? ABORTED_RUNNING);
    this.drain();
  }

  /** Terminate every worker and settle waiting runs as closed; resolves when the threads exited (at most 2 s). */
  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) job.finish(CLOSED);
    for (const w of [...this.workers]) {
      const job = w.job;
      this.discard(w);
      job?.finish(CLOSED);
    }
    if (this.threads === 0) return;
    const clock = this.clock;
    await new Promise<void>((resolve) => {
      const timer = clock.setTimeout(done, CLOSE_WAIT_MS);
      function done(): void {
        clock.clearTimeout(timer);
        resolve();
      }
      this.exitWaiters.push(done);
    });
  }

  private dispatch(job: PoolJob): void {
    let w = this.idle.pop();
    if (w === undefined) {
      if (this.workers.size >= this.size) {
        this.queue.push(job);
        return;
      }
      try {
        w = this.spawn();
      } catch (err) {
        job.finish({ kind: 'spawn_failed', message: errorText(err) });
        return;
      }
    }
    this.assign(w, job);
  }

  private assign(w: PoolWorker, job: PoolJob): void {
    w.job = job;
    job.worker = w;
    // A busy worker keeps the process alive; an idle one does not (see release).
    w.thread.ref();
    try {
      w.thread.postMessage(job.message);
    } catch (err) {
      // Params are JSON from the config, so this is not expected; keep the worker.
      w.job = null;
      job.worker = null;
      job.finish({ kind: 'spawn_failed', message: `cannot send the run to the worker: ${errorText(err)}` });
      this.release(w);
    }
  }

  private spawn(): PoolWorker {
    const thread = new Worker(CUSTOM_WORKER_SOURCE, {
      eval: true,
      workerData: { url: this.url },
      resourceLimits: { maxOldGenerationSizeMb: this.memoryLimitMb },
    });
    const w = new PoolWorker(thread);
    this.workers.add(w);
    this.threads++;
    thread.on('message', (msg: WorkerReplyMessage) => this.onReply(w, msg));
    thread.on('messageerror', (err: Error) => this.onReply(w, { id: w.job?.message.id ?? -1, kind: 'clone', message: errorText(err) }));
    thread.on('error', (err: Error) => this.onError(w, err));
    thread.on('exit', (code: number) => this.onExit(w, code));
    return w;
  }

  private onReply(w: PoolWorker, msg: WorkerReplyMessage): void {
    const job = w.job;
    // Stale (the run was abandoned) or not ours (the user's code posted on parentPort).
    if (job === null || typeof msg !== 'object' || msg === null || msg.id !== job.message.id) return;
    let reply: WorkerReply;
    switch (msg.kind) {
      case 'ok':
        reply = { kind: 'ok', value: msg.value };
        break;
      case 'threw':
      case 'import':
      case 'clone':
        reply = { kind: msg.kind, message: String(msg.message) };
        break;
      default:
        return;
    }
    w.job = null;
    job.worker = null;
    if (msg.kind === 'import') {
      // A failed import stays cached in that worker: a fresh one retries (the file may be fixed).
      this.discard(w);
      this.drain();
    } else {
      this.release(w);
    }
    job.finish(reply);
  }

  private onError(w: PoolWorker, err: Error): void {
    if (w.dead) return;
    const job = w.job;
    // The thread is ending on its own; 'exit' follows.
    this.discard(w, false);
    const code = (err as { code?: unknown }).code;
    job?.finish(code === 'ERR_WORKER_OUT_OF_MEMORY' ? MEMORY_LIMIT : { kind: 'crashed', message: `worker died of an uncaught error: ${errorText(err)}` });
    this.drain();
  }

  private onExit(w: PoolWorker, code: number): void {
    this.threads--;
    if (!w.dead) {
      const job = w.job;
      this.discard(w, false);
      job?.finish({ kind: 'crashed', message: `worker exited with code ${code} (process.exit in the check?)` });
      this.drain();
    }
    if (this.threads === 0 && this.exitWaiters.length > 0) {
      for (const done of this.exitWaiters.splice(0)) done();
    }
  }

  /** The worker finished a run: give it the next waiting one, or park it. */
  private release(w: PoolWorker): void {
    const next = this.queue.shift();
    if (next !== undefined) {
      this.assign(w, next);
    } else if (this.closed || this.workers.size > this.size) {
      this.discard(w);
    } else {
      w.thread.unref();
      this.idle.push(w);
    }
  }

  /** Take the worker out of the pool (the caller settles its job) and terminate it unless it is ending already. */
  private discard(w: PoolWorker, terminate = true): void {
    if (w.dead) return;
    w.dead = true;
    this.workers.delete(w);
    const i = this.idle.indexOf(w);
    if (i >= 0) this.idle.splice(i, 1);
    if (w.job !== null) w.job.worker = null;
    w.job = null;
    if (terminate) w.thread.terminate().catch(ignore);
  }

  /** Start waiting runs on free or new workers. */
  private drain(): void {
    while (!this.closed && this.queue.length > 0 && (this.idle.length > 0 || this.workers.size < this.size)) {
      this.dispatch(this.queue.shift()!);
    }
  }
}

/** A check's hold on a shared pool; release it when the check closes. */
export interface PoolLease {
  readonly pool: WorkerPool;
  /** Drop the hold; the last one closes the pool and waits for its threads. */
  release(): Promise<void>;
}

interface PoolEntry {
  pool: WorkerPool;
  /** Pool size each holder asked for; the pool gets the largest. */
  sizes: number[];
}

/**
 * The pools of one set of custom checks, keyed by module path and memory
 * limit. Checks acquire a lease in their factory and release it in close();
 * a pool lives while some check holds it, so an unused registry holds nothing.
 * A pool keeps the clock of the check that opened it: the checks of one
 * engine share one clock.
 */
export class WorkerPools {
  private readonly pools = new Map<string, PoolEntry>();
  /** Pools released by their last check whose threads may still be exiting. */
  private readonly closing = new Set<WorkerPool>();

  /** A hold on the pool of `modulePath`, opened now (its timers on `clock`) if no check holds it. */
  acquire(modulePath: string, memoryLimitMb: number, size: number, clock: Clock): PoolLease {
    const key = `${memoryLimitMb}\0${modulePath}`;
    let entry = this.pools.get(key);
    if (entry === undefined) {
      entry = { pool: new WorkerPool(modulePath, memoryLimitMb, size, clock), sizes: [] };
      this.pools.set(key, entry);
    }
    const e = entry;
    e.sizes.push(size);
    if (size > e.pool.size) e.pool.resize(size);
    let released = false;
    return {
      pool: e.pool,
      release: async () => {
        if (released) return;
        released = true;
        e.sizes.splice(e.sizes.indexOf(size), 1);
        if (e.sizes.length > 0) {
          e.pool.resize(Math.max(...e.sizes));
          return;
        }
        this.pools.delete(key);
        this.closing.add(e.pool);
        try {
          await e.pool.close();
        } finally {
          this.closing.delete(e.pool);
        }
      },
    };
  }

  /** Worker threads alive across all pools (for tests and metrics). */
  liveThreads(): number {
    let n = 0;
    for (const e of this.pools.values()) n += e.pool.liveThreads();
    for (const p of this.closing) n += p.liveThreads();
    return n;
  }

  /** Pools currently held by some check. */
  poolCount(): number {
    return this.pools.size;
  }
}

function ignore(): void {}

function errorText(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    const text = err.name === 'Error' ? err.message : `${err.name}: ${err.message}`;
    return typeof code === 'string' && !text.includes(code) ? `${code}: ${text}` : text;
  }
  return String(err);
}
