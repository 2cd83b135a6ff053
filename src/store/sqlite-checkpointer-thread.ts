/**
 * Entry module of the SQLite store's background checkpointer (started by
 * sqlite.ts through store-threads.ts for file stores with `checkpoints:
 * 'background'`). Each 'nudge' message asks for a PASSIVE checkpoint; nudges
 * that arrive while one runs coalesce into one more run. PASSIVE never waits
 * for or blocks the writer and does not reset the WAL, so the writer's page
 * cache stays valid; the writer itself restarts the WAL at its next
 * transaction once everything is copied back (and journal_size_limit trims
 * the file). A TRUNCATE here was measured to hold flushes up for up to
 * ~1.3 s on a 10M-row table. busy_timeout 0: a busy attempt is simply
 * retried at the next nudge. 'stop' closes the connection and ends the thread.
 */
import Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';

/** workerData of the checkpointer. */
export interface CheckpointerData {
  path: string;
}

/** Main thread → checkpointer. */
export type CheckpointerMessage = 'nudge' | 'stop';

if (parentPort) runCheckpointer(parentPort, workerData as CheckpointerData);

function runCheckpointer(port: NonNullable<typeof parentPort>, data: CheckpointerData): void {
  const db = new Database(data.path);
  db.pragma('busy_timeout = 0');
  db.pragma('synchronous = NORMAL');
  let pending = false;
  let scheduled = false;
  const run = (): void => {
    scheduled = false;
    if (!pending || !db.open) return;
    pending = false;
    try {
      db.pragma('wal_checkpoint(PASSIVE)');
    } catch {
      // SQLITE_BUSY or a closing database: the next nudge tries again.
    }
    if (pending) {
      scheduled = true;
      setImmediate(run);
    }
  };
  port.on('message', (msg: CheckpointerMessage) => {
    if (msg === 'stop') {
      db.close();
      port.close();
      return;
    }
    pending = true;
    if (!scheduled) {
      scheduled = true;
      setImmediate(run);
    }
  });
}
