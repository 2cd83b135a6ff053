/**
 * Where the store's threads (writer, checkpointer) start from: their entry
 * modules are ordinary compiled modules next to this one
 * (`new URL('./x.js', import.meta.url)`), so the thread runs the same typed
 * code as the main thread.
 *
 * Run from the TypeScript sources (vitest transforms .ts in the main thread
 * only), there is no .js next to this file and Node 20 cannot start a thread
 * from a .ts file. The threads then start from the build of the same
 * sources in dist/ (`npx tsc -p .`, which `npm test` runs first), and a
 * build older than any store source is refused with the fix, so a test never
 * runs a thread from stale code without saying so.
 */
import { readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { HealthmeshError } from '../core/errors.js';

/** The store's thread entry modules (files in this folder without their extension). */
export type StoreThread = 'sqlite-writer-thread' | 'sqlite-checkpointer-thread';

/** Start a store thread; it is unref'd by the caller as needed. */
export function startStoreThread(thread: StoreThread, workerData: unknown): Worker {
  return new Worker(storeThreadUrl(thread), { workerData });
}

/** URL of a thread's entry module. */
export function storeThreadUrl(thread: StoreThread, here: string = import.meta.url): URL {
  if (!here.endsWith('.ts')) return new URL(`./${thread}.js`, here);
  // From sources: src/store/x.ts → dist/src/store/x.js (tsconfig: rootDir ".", outDir "dist").
  const built = new URL(`../../dist/src/store/${thread}.js`, here);
  assertBuiltFromCurrentSources(fileURLToPath(built), fileURLToPath(new URL('.', here)));
  return built;
}

/** Throw unless `builtFile` exists and is newer than every .ts file in `sourceDir`. */
function assertBuiltFromCurrentSources(builtFile: string, sourceDir: string): void {
  let builtAt: number;
  try {
    builtAt = statSync(builtFile).mtimeMs;
  } catch {
    throw new HealthmeshError('store_thread', `${builtFile} is missing: store threads start from the build (run npx tsc -p .)`);
  }
  for (const name of readdirSync(sourceDir)) {
    if (!name.endsWith('.ts')) continue;
    if (statSync(sourceDir + name).mtimeMs > builtAt) {
      throw new HealthmeshError('store_thread', `${builtFile} is older than ${sourceDir}${name}: rebuild (npx tsc -p .) so store threads run the current code`);
    }
  }
}
