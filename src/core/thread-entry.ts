/**
 * Where a worker thread's entry module is: an ordinary compiled module next
 * to the module that starts it (`new URL('./x.js', import.meta.url)`), so the
 * thread runs the same typed code as the main thread.
 *
 * Run from the TypeScript sources (vitest transforms .ts in the main thread
 * only), there is no .js next to the caller and Node 20 cannot start a thread
 * from a .ts file. The thread then starts from the build of the same sources
 * in dist/ (`npx tsc -p .`, which `npm test` runs first), and a build older
 * than any source of the caller's folder is refused with the fix, so a test
 * never runs a thread from stale code without saying so.
 */
import { readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { HealthmeshError } from './errors.js';

/**
 * URL of the thread entry module `entry` (a file name without extension) in
 * the folder of `here` (the caller's import.meta.url), which is `src/<folder>/`.
 * `code` is the HealthmeshError code of a missing or stale build.
 */
export function threadEntryUrl(entry: string, here: string, folder: string, code: string): URL {
  if (!here.endsWith('.ts')) return new URL(`./${entry}.js`, here);
  // From sources: src/<folder>/x.ts → dist/src/<folder>/x.js (tsconfig: rootDir ".", outDir "dist").
  const built = new URL(`../../dist/src/${folder}/${entry}.js`, here);
  assertBuiltFromCurrentSources(fileURLToPath(built), fileURLToPath(new URL('.', here)), code);
  return built;
}

/** Throw unless `builtFile` exists and is newer than every .ts file in `sourceDir`. */
function assertBuiltFromCurrentSources(builtFile: string, sourceDir: string, code: string): void {
  let builtAt: number;
  try {
    builtAt = statSync(builtFile).mtimeMs;
  } catch {
    throw new HealthmeshError(code, `${builtFile} is missing: threads start from the build (run npx tsc -p .)`);
  }
  for (const name of readdirSync(sourceDir)) {
    if (!name.endsWith('.ts')) continue;
    if (statSync(sourceDir + name).mtimeMs > builtAt) {
      throw new HealthmeshError(code, `${builtFile} is older than ${sourceDir}${name}: rebuild (npx tsc -p .) so threads run the current code`);
    }
  }
}
