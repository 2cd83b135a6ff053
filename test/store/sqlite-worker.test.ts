import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { realClock } from '../../src/core/clock.js';
import { openSqliteStore, type SqliteHistoryStore } from '../../src/store/sqlite.js';
import { ResultWriter } from '../../src/store/writer.js';
import { result, runHistoryStoreContract, T0, transition } from './contract.js';
import { turnsDuring } from '../helpers/wait.js';

const root = mkdtempSync(join(tmpdir(), 'healthmesh-store-worker-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let fileNo = 0;
const freshPath = (): string => join(root, `w${fileNo++}`, 'history.db');

runHistoryStoreContract('sqlite, writer thread', () => openSqliteStore({ path: freshPath(), writes: 'worker' }), {
  reopen: (closed) => openSqliteStore({ path: (closed as SqliteHistoryStore).path, writes: 'worker' }),
});
runHistoryStoreContract('sqlite, writer thread, sorted rows', () => openSqliteStore({ path: freshPath(), writes: 'worker', sortRows: true }), {
  reopen: (closed) => openSqliteStore({ path: (closed as SqliteHistoryStore).path, writes: 'worker', sortRows: true }),
});

// Small batches inline, the first of 3 rows or more on the thread: the contract's writes cross the switch.
runHistoryStoreContract('sqlite, writer thread from 3 rows', () => openSqliteStore({ path: freshPath(), writes: 'worker', threadsFromRows: 3 }), {
  reopen: (closed) => openSqliteStore({ path: (closed as SqliteHistoryStore).path, writes: 'worker', threadsFromRows: 3 }),
});

describe('SqliteHistoryStore writer thread', () => {
  it('with threadsFromRows, commits small batches inline and starts its threads at the first big one, keeping the order', async () => {
    const path = freshPath();
    const store = await openSqliteStore({ path, writes: 'worker', threadsFromRows: 100 });
    try {
      await store.write({ results: [result('s/i/c', T0), result('s/i/c', T0 + 1)], transitions: [transition('s/i/c', T0, 'UNKNOWN', 'HEALTHY')] });
      expect(store.liveThreads()).toBe(0);
      expect((await store.stats()).results).toBe(2); // committed before write() settled: inline
      const big = Array.from({ length: 100 }, (_, i) => result('s/i/c', T0 + 2 + i));
      const bigWrite = store.write({ results: big, transitions: [] });
      expect(store.liveThreads()).toBe(2); // writer and checkpointer
      // A small batch after it goes to the thread too, behind the big one.
      await store.write({ results: [result('s/i/c', T0 + 500)], transitions: [transition('s/i/c', T0 + 500, 'HEALTHY', 'UNHEALTHY')] });
      await bigWrite;
      const times = (await store.queryResults({ checkId: 's/i/c', limit: 1000 })).items.map((r) => r.observedAt - T0);
      expect(times.sort((a, b) => a - b)).toEqual([0, 1, ...big.map((_, i) => 2 + i), 500]);
      expect((await store.queryTransitions({ checkId: 's/i/c' })).items.map((t) => t.to)).toEqual(['HEALTHY', 'UNHEALTHY']);
    } finally {
      await store.close();
    }
    expect(store.liveThreads()).toBe(0);
  });

  it('writes on its own thread: the main thread runs while a batch commits', async () => {
    const store = await openSqliteStore({ path: freshPath(), writes: 'worker' });
    try {
      const rows = Array.from({ length: 50_000 }, (_, i) => result(`s/i${i % 500}/c`, T0 + i, { output: `row ${i}` }));
      const { turns } = await turnsDuring(() => store.write({ results: rows, transitions: [transition('s/i1/c', T0, 'UNKNOWN', 'HEALTHY')] }));
      expect(turns).toBeGreaterThan(1);
      expect((await store.stats()).results).toBe(50_000);
      expect((await store.queryTransitions({ checkId: 's/i1/c' })).items).toHaveLength(1);
    } finally {
      await store.close();
    }
  });

  it('commits writes queued together, each all-or-nothing; a failing batch fails alone', async () => {
    const store = await openSqliteStore({ path: freshPath(), writes: 'worker' });
    try {
      await store.write({ results: [result('s/i/warm', T0)], transitions: [] });
      // A metrics value that cannot be stored: JSON.stringify of a BigInt throws inside the transaction.
      const bad = result('s/i/bad', T0 + 1, { metrics: { n: 1n as unknown as number } });
      const writes = [
        store.write({ results: [result('s/i/a', T0 + 1)], transitions: [] }),
        store.write({ results: [result('s/i/b', T0 + 2), bad], transitions: [] }),
        store.write({ results: [result('s/i/c', T0 + 3)], transitions: [] }),
      ];
      const settled = await Promise.allSettled(writes);
      expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
      expect((await store.stats()).results).toBe(3);
      expect((await store.queryResults({ service: 's' })).items.map((r) => r.checkId)).toEqual(['s/i/warm', 's/i/a', 's/i/c']);
    } finally {
      await store.close();
    }
  });

  it('follows kind changes made by the writer thread in the main thread cache', async () => {
    const store = await openSqliteStore({ path: freshPath(), writes: 'worker' });
    try {
      await store.write({ results: [result('s/i/c', T0, { kind: 'tcp' })], transitions: [] });
      expect((await store.queryResults({ checkId: 's/i/c' })).items[0]!.kind).toBe('tcp');
      await store.write({ results: [result('s/i/c', T0 + 1, { kind: 'http' })], transitions: [] });
      expect((await store.queryResults({ checkId: 's/i/c' })).items.map((r) => r.kind)).toEqual(['http', 'http']);
    } finally {
      await store.close();
    }
  });

  it('close() commits writes posted before it, then ends its threads', async () => {
    const path = freshPath();
    const store = await openSqliteStore({ path, writes: 'worker' });
    const writer = new ResultWriter({ store, clock: realClock, maxBatch: 1000 });
    for (let i = 0; i < 5000; i++) writer.addResult(result(`s/i${i % 7}/c`, T0 + i));
    const pending = store.write({ results: [result('s/i/last', T0)], transitions: [] });
    await writer.close();
    expect(store.liveThreads()).toBe(2); // writer and checkpointer
    await store.close();
    await pending;
    expect(store.liveThreads()).toBe(0);
    await expect(store.write({ results: [result('s/i/x', T0)], transitions: [] })).rejects.toThrow(/closed/);
    const again = await openSqliteStore({ path });
    try {
      expect((await again.stats()).results).toBe(5001);
    } finally {
      await again.close();
    }
    expect(again.liveThreads()).toBe(0);
  });
});
