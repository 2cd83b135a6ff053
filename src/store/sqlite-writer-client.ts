/**
 * The main thread's side of the SQLite writer thread (sqlite-writer-thread.ts):
 * posts each batch in encoded parts, keeps the promise of every write until
 * the thread reports its commit or rollback, and fails what is pending if the
 * thread dies.
 */
import type { Worker } from 'node:worker_threads';
import { HealthmeshError } from '../core/errors.js';
import type { WriterMessage, WriterReply, WriterThreadData } from './sqlite-writer-thread.js';
import { encodeResults } from './sqlite-write-message.js';
import { startStoreThread } from './store-threads.js';
import type { WriteBatch } from './types.js';

/**
 * Rows per message to the writer thread. Encoding a part (sqlite-write-message.ts)
 * costs the main thread well under 1 µs a row; parts of 500 rows with a
 * yield between them keep each turn short however large the batch.
 */
const PART_ROWS = 500;

/** Hooks into the store: a committed batch's kind changes, and a nudge for the checkpointer. */
export interface WriterClientHooks {
  onCommitted(kinds: [string, string][] | null): void;
  /** A thread was started; it calls back once when it exits. */
  onThread(worker: Worker): void;
}

export const yieldNow = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Writes through a writer thread, started lazily at the first write. */
export class WriterClient {
  private thread: Worker | null = null;
  /** Writes posted to the writer thread and not yet answered, by message id. */
  private readonly pending = new Map<number, { resolve: () => void; reject: (err: Error) => void }>();
  private nextId = 1;
  /** Posting of the previous batch's parts; batches are posted one after another, in call order. */
  private posting: Promise<void> = Promise.resolve();

  constructor(
    private readonly data: WriterThreadData,
    private readonly hooks: WriterClientHooks,
  ) {}

  /** Whether the thread was started (by a first write). */
  get started(): boolean {
    return this.thread !== null;
  }

  /** Post the batch to the writer thread; settles when its transaction committed or rolled back. */
  write(batch: WriteBatch): Promise<void> {
    const worker = this.thread ?? this.start();
    const id = this.nextId++;
    const done = new Promise<void>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      // Keep the process alive while writes are in flight.
      if (this.pending.size === 1) worker.ref();
    });
    this.posting = this.posting.then(() =>
      postParts(worker, id, batch).catch((err: unknown) => {
        // Not encodable (a BigInt in metrics) or not cloneable: the thread drops the parts it got.
        post(worker, { id, abort: true });
        this.settle(id, worker)?.reject(err instanceof Error ? err : new Error(String(err)));
      }),
    );
    return done;
  }

  /** Commit what was posted, then end the thread. */
  async close(): Promise<void> {
    const worker = this.thread;
    if (!worker) return;
    // Writes posted before close() are committed first: the thread takes messages in order,
    // and 'stop' goes after the last part of every batch.
    await this.posting;
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.ref();
    post(worker, 'stop');
    await exited;
    this.thread = null;
  }

  private settle(id: number, worker: Worker): { resolve: () => void; reject: (err: Error) => void } | undefined {
    const p = this.pending.get(id);
    this.pending.delete(id);
    if (this.pending.size === 0) worker.unref();
    return p;
  }

  private start(): Worker {
    const worker = startStoreThread('sqlite-writer-thread', this.data);
    this.thread = worker;
    this.hooks.onThread(worker);
    worker.unref();
    worker.on('message', (msg: WriterReply) => {
      const pending = this.settle(msg.id, worker);
      if (!pending) return;
      if (msg.ok) {
        this.hooks.onCommitted(msg.kinds ?? null);
        pending.resolve();
      } else {
        const err = new Error(msg.error?.message ?? 'write failed') as Error & { code?: string };
        err.name = msg.error?.name ?? 'Error';
        if (msg.error?.code !== undefined) err.code = msg.error.code;
        pending.reject(err);
      }
    });
    const fail = (err: Error): void => {
      if (this.thread === worker) this.thread = null;
      const pending = [...this.pending.values()];
      this.pending.clear();
      for (const p of pending) p.reject(err);
    };
    worker.on('error', (err) => fail(new HealthmeshError('store_writer', `history writer thread failed: ${err.message}`)));
    worker.on('exit', (code) => fail(new HealthmeshError('store_writer', `history writer thread exited (code ${code})`)));
    return worker;
  }
}

function post(worker: Worker, msg: WriterMessage, transfer?: ArrayBuffer[]): void {
  worker.postMessage(msg, transfer);
}

/** Post one batch to the writer thread in encoded parts, yielding to the event loop between parts. */
async function postParts(worker: Worker, id: number, batch: WriteBatch): Promise<void> {
  const { results, transitions } = batch;
  for (let i = 0; ; i += PART_ROWS) {
    const last = i + PART_ROWS >= results.length;
    const part = encodeResults(results, i, Math.min(results.length, i + PART_ROWS));
    post(worker, { id, results: part, transitions: last ? transitions : [], last }, [part.nums.buffer, part.refs.buffer]);
    if (last) return;
    await yieldNow();
  }
}
