/** Where the store's threads (writer, checkpointer) start from (core/thread-entry.ts). */
import { Worker } from 'node:worker_threads';
import { threadEntryUrl } from '../core/thread-entry.js';

/** The store's thread entry modules (files in this folder without their extension). */
export type StoreThread = 'sqlite-writer-thread' | 'sqlite-checkpointer-thread';

/** Start a store thread; it is unref'd by the caller as needed. */
export function startStoreThread(thread: StoreThread, workerData: unknown): Worker {
  return new Worker(storeThreadUrl(thread), { workerData });
}

/** URL of a thread's entry module (core/thread-entry.ts: compiled next to this one, or in dist/ when run from sources). */
export function storeThreadUrl(thread: StoreThread, here: string = import.meta.url): URL {
  return threadEntryUrl(thread, here, 'store', 'store_thread');
}
