/**
 * Entry module of the SQLite store's writer thread (`writes: 'worker'`,
 * started by sqlite-writer-client.ts through store-threads.ts). It owns its
 * own connection to the same file and runs the store's one write
 * transaction (sqlite-write-tx.ts).
 *
 * Protocol: the main thread posts a batch as parts `{ id, results,
 * transitions, last }` (a few hundred rows each, so no single message holds
 * the main thread for long; `results` in columns, see
 * sqlite-write-message.ts); at the `last` part the batch is queued, and the
 * thread answers `{ id, ok: true, kinds }` once the batch is committed
 * (`kinds`: check ids whose stored kind this batch changed, so the main
 * thread's name cache follows) or `{ id, ok: false, error }` once it is
 * rolled back. `{ id, abort: true }` drops the parts of a batch the main
 * thread could not finish posting.
 *
 * Batches already queued when the thread gets to them are committed together
 * in one transaction (group commit, at most `maxGroupRows` rows): each batch
 * is still all-or-nothing, and fewer, larger transactions dirty fewer index
 * pages per row. If a group fails, its batches are retried one by one so one
 * bad batch does not fail the others. `'stop'` (after the writes posted
 * before it) closes the connection and ends the thread.
 */
import Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';
import { configureConnection, type ConnectionSettings } from './sqlite-connection.js';
import { SqliteNames } from './sqlite-names.js';
import type { EncodedResults } from './sqlite-write-message.js';
import { SqliteWriteTransaction, type EncodedBatch } from './sqlite-write-tx.js';
import type { TransitionRecord } from './types.js';

/** workerData of the writer thread. */
export interface WriterThreadData extends ConnectionSettings {
  path: string;
  sortRows: boolean;
  /** Most rows (results + transitions) committed in one group transaction. */
  maxGroupRows: number;
}

/** One part of a batch, main thread → writer thread. */
export interface WriterPart {
  id: number;
  results: EncodedResults;
  transitions: readonly TransitionRecord[];
  last: boolean;
}

/** Writer thread → main thread: a batch committed or rolled back. */
export interface WriterReply {
  id: number;
  ok: boolean;
  kinds?: [string, string][] | null;
  error?: { name: string; message: string; code?: string };
}

/** Main thread → writer thread. */
export type WriterMessage = WriterPart | { id: number; abort: true } | 'stop';

if (parentPort) runWriterThread(parentPort, workerData as WriterThreadData);

function runWriterThread(port: NonNullable<typeof parentPort>, data: WriterThreadData): void {
  const db = new Database(data.path);
  configureConnection(db, data);
  const tx = new SqliteWriteTransaction(db, new SqliteNames(db), { sortRows: data.sortRows });

  const queue: { id: number; batch: EncodedBatch }[] = [];
  /** Batches still receiving parts, by id. */
  const partial = new Map<number, EncodedBatch>();
  let scheduled = false;
  let stopping = false;
  const rowsOf = (b: EncodedBatch): number => b.rows + b.transitions.length;
  const reply = (msg: WriterReply): void => port.postMessage(msg);

  const drain = (): void => {
    scheduled = false;
    while (queue.length) {
      const group = [queue.shift()!];
      let rows = rowsOf(group[0]!.batch);
      while (queue.length && rows + rowsOf(queue[0]!.batch) <= data.maxGroupRows) {
        rows += rowsOf(queue[0]!.batch);
        group.push(queue.shift()!);
      }
      try {
        const kinds = tx.commit(group.map((m) => m.batch));
        for (const m of group) reply({ id: m.id, ok: true, kinds });
      } catch (err) {
        if (group.length === 1) {
          reply({ id: group[0]!.id, ok: false, error: errorOf(err) });
          continue;
        }
        for (const m of group) {
          try {
            reply({ id: m.id, ok: true, kinds: tx.commit([m.batch]) });
          } catch (e) {
            reply({ id: m.id, ok: false, error: errorOf(e) });
          }
        }
      }
    }
    if (stopping) {
      db.close();
      port.close();
    }
  };

  port.on('message', (msg: WriterMessage) => {
    if (msg === 'stop') stopping = true;
    else if ('abort' in msg) {
      partial.delete(msg.id);
      return;
    } else {
      const batch = partial.get(msg.id) ?? { parts: [], rows: 0, transitions: [] };
      batch.parts.push(msg.results);
      batch.rows += msg.results.n;
      for (const t of msg.transitions) batch.transitions.push(t);
      if (!msg.last) {
        partial.set(msg.id, batch);
        return;
      }
      partial.delete(msg.id);
      queue.push({ id: msg.id, batch });
    }
    if (!scheduled) {
      scheduled = true;
      setImmediate(drain);
    }
  });
}

/** An error as it can cross to the main thread (an Error's own fields are not all cloned). */
function errorOf(err: unknown): { name: string; message: string; code?: string } {
  const e = err as { name?: unknown; message?: unknown; code?: unknown } | null;
  const out: { name: string; message: string; code?: string } = {
    name: e?.name ? String(e.name) : 'Error',
    message: e?.message !== undefined ? String(e.message) : String(err),
  };
  if (e?.code !== undefined) out.code = String(e.code);
  return out;
}
