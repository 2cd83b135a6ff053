import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { expect, it } from 'vitest';
import { openSqliteStore } from '../../src/store/sqlite.js';
import { waitFor } from '../helpers/spawn.js';

/**
 * The SIGKILL test every SQLite write mode must pass: a child writes results
 * through the writer and registrations one by one, acknowledging each on
 * stdout, and is killed mid-stream; the reopened store must hold every
 * acknowledged registration and a gap-free prefix of the results.
 */
const srcRoot = fileURLToPath(new URL('../../src/', import.meta.url));
/** Absolute path of the driver: an ESM specifier and a require() argument alike, from any directory. */
const betterSqlite = createRequire(import.meta.url).resolve('better-sqlite3');

/**
 * Transpile the store modules (and what they import from src/) to plain JS in
 * `dir`, so a child process runs the current sources without a build step.
 */
function buildChildModules(dir: string, entries: string[]): void {
  const todo = [...entries];
  const done = new Set<string>();
  while (todo.length) {
    const file = todo.pop()!;
    if (done.has(file)) continue;
    done.add(file);
    const js = ts
      .transpileModule(readFileSync(file, 'utf8'), {
        fileName: file,
        compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
      })
      .outputText.replace(/(['"])better-sqlite3\1/g, JSON.stringify(betterSqlite));
    for (const m of js.matchAll(/(?:from\s+|import\s+)['"](\.{1,2}\/[^'"]+)\.js['"]/g)) {
      todo.push(resolve(dirname(file), `${m[1]}.ts`));
    }
    const out = join(dir, relative(srcRoot, file)).replace(/\.ts$/, '.js');
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, js);
  }
}

/** Child: results through the writer (20 every 5 ms), registrations one after another, each acknowledged on stdout. */
const childSource = (storeOptions: string, writerOptions: string): string => `
import { openSqliteStore } from './store/sqlite.js';
import { ResultWriter } from './store/writer.js';
import { realClock } from './core/clock.js';
const [path, flushMs] = process.argv.slice(2);
const store = await openSqliteStore(${storeOptions});
let flushed = 0;
const writer = new ResultWriter({
  store, clock: realClock, flushIntervalMs: Number(flushMs), ${writerOptions}
  onFlush: (f) => { flushed += f.results; process.stdout.write('flushed ' + flushed + '\\n'); },
});
let seq = 0;
setInterval(() => {
  for (let i = 0; i < 20; i++, seq++) {
    writer.addResult({ checkId: 'crash/i' + (seq % 4) + '/c', service: 'crash', instance: 'i' + (seq % 4), kind: 'tcp',
      status: 'HEALTHY', reason: 'ok', durationMs: 1, observedAt: Date.now(), attempts: 1, output: String(seq), metrics: null });
  }
}, 5);
for (let n = 0; ; n++) {
  const id = 'reg-' + n;
  await store.putRegistration({ id, service: 'crash', address: '10.0.0.1:' + n, tags: [], weight: 1, metadata: {}, checks: [{ kind: 'tcp' }], registeredAt: Date.now() });
  process.stdout.write('ack ' + id + '\\n');
  if (n % 3 === 0) await new Promise((r) => setTimeout(r, 2));
}
`;

/**
 * Declare the crash test for one write mode.
 * @param dir scratch folder of this test
 * @param storeOptions JS source of openSqliteStore's options in the child (`path` is in scope)
 * @param writerOptions extra JS source for the ResultWriter options, e.g. "maxInFlight: 2,"
 */
export function crashSafetyTest(dir: string, storeOptions: string, writerOptions = ''): void {
  it('keeps every acknowledged registration and loses at most the last flush interval of results after SIGKILL', async () => {
    // The store's threads start from modules next to store-threads.js: build them too.
    const threads = ['store/sqlite-writer-thread.ts', 'store/sqlite-checkpointer-thread.ts'].map((f) => join(srcRoot, f));
    buildChildModules(dir, [join(srcRoot, 'store/sqlite.ts'), join(srcRoot, 'store/writer.ts'), join(srcRoot, 'core/clock.ts'), ...threads]);
    writeFileSync(join(dir, 'child.mjs'), childSource(storeOptions, writerOptions));
    const dbPath = join(dir, 'db', 'history.db');
    const flushMs = 200;
    const child = spawn(process.execPath, [join(dir, 'child.mjs'), dbPath, String(flushMs)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d));
    child.stderr.on('data', (d: Buffer) => (err += d));
    const exited = new Promise<void>((r) => child.on('close', () => r()));
    const count = (re: RegExp) => (out.match(re) ?? []).length;
    try {
      await waitFor(() => count(/^flushed /gm) >= 4 && count(/^ack /gm) >= 20, 20_000, 'child progress');
    } catch (e) {
      child.kill('SIGKILL');
      throw new Error(`${(e as Error).message}; stdout tail: ${out.slice(-300)}; stderr: ${err.slice(-2000)}`);
    }
    const killedAt = Date.now();
    child.kill('SIGKILL');
    await exited;

    const acked = [...out.matchAll(/^ack (\S+)$/gm)].map((m) => m[1]!);
    const flushedCounts = [...out.matchAll(/^flushed (\d+)$/gm)].map((m) => Number(m[1]));
    const store = await openSqliteStore({ path: dbPath });
    try {
      const ids = new Set((await store.listRegistrations()).map((r) => r.id));
      expect(acked.filter((id) => !ids.has(id))).toEqual([]);

      // Results: a gap-free prefix of what was generated, covering every acknowledged flush.
      const seqs: number[] = [];
      let cursor: string | null = null;
      let maxAt = 0;
      do {
        const page = await store.queryResults({ service: 'crash', cursor, limit: 10_000 });
        for (const r of page.items) {
          seqs.push(Number(r.output));
          maxAt = Math.max(maxAt, r.observedAt);
        }
        cursor = page.nextCursor;
      } while (cursor);
      seqs.sort((a, b) => a - b);
      expect(seqs.every((s, i) => s === i)).toBe(true);
      expect(seqs.length).toBeGreaterThanOrEqual(flushedCounts[flushedCounts.length - 1]!);
      expect((await store.stats()).results).toBe(seqs.length);
      // What is lost was generated after the last flush: about one interval (slack for a busy machine).
      expect(killedAt - maxAt).toBeLessThan(flushMs + 1500);
    } finally {
      await store.close();
    }
  }, 30_000);
}
