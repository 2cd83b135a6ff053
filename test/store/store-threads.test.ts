import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { storeThreadUrl } from '../../src/store/store-threads.js';

const root = mkdtempSync(join(tmpdir(), 'healthmesh-threads-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A project tree with src/store/{a.ts,store-threads.ts} and, unless `built` is false, its dist build. */
function project(name: string, built: boolean): { storeThreads: string; source: string; builtThread: string } {
  const dir = join(root, name);
  mkdirSync(join(dir, 'src/store'), { recursive: true });
  mkdirSync(join(dir, 'dist/src/store'), { recursive: true });
  const source = join(dir, 'src/store/sqlite-write-tx.ts');
  const storeThreads = join(dir, 'src/store/store-threads.ts');
  writeFileSync(source, '');
  writeFileSync(storeThreads, '');
  const builtThread = join(dir, 'dist/src/store/sqlite-writer-thread.js');
  const past = new Date(Date.now() - 60_000);
  utimesSync(source, past, past);
  utimesSync(storeThreads, past, past);
  if (built) writeFileSync(builtThread, '');
  return { storeThreads: pathToFileURL(storeThreads).href, source, builtThread };
}

describe('store threads', () => {
  it('start from the compiled module next to the store when it runs compiled', () => {
    const here = pathToFileURL(join(root, 'pkg/dist/src/store/store-threads.js')).href;
    expect(storeThreadUrl('sqlite-writer-thread', here).href).toBe(pathToFileURL(join(root, 'pkg/dist/src/store/sqlite-writer-thread.js')).href);
  });

  it('start from the build in dist/ when the store runs from its TypeScript sources', () => {
    const p = project('fresh', true);
    expect(storeThreadUrl('sqlite-writer-thread', p.storeThreads).href).toBe(pathToFileURL(p.builtThread).href);
  });

  it('refuse a missing or stale build, naming the file and the fix', () => {
    const missing = project('missing', false);
    expect(() => storeThreadUrl('sqlite-writer-thread', missing.storeThreads)).toThrow(/sqlite-writer-thread\.js is missing.*npx tsc/);
    const stale = project('stale', true);
    const future = new Date(Date.now() + 60_000);
    utimesSync(stale.source, future, future);
    expect(() => storeThreadUrl('sqlite-writer-thread', stale.storeThreads)).toThrow(/older than .*sqlite-write-tx\.ts: rebuild/);
  });

  it('keep no code in strings: no store module starts a thread from source text', () => {
    const dir = new URL('../../src/store/', import.meta.url);
    const offenders = readdirSync(dir)
      .filter((f) => f.endsWith('.ts'))
      .filter((f) => /eval:\s*true|String\.raw`'use strict'/.test(readFileSync(new URL(f, dir), 'utf8')));
    expect(offenders).toEqual([]);
  });
});
