import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FakeClock, flushMicrotasks } from '../../src/core/clock.js';
import { EventBus } from '../../src/core/events.js';
import type { HealthEvents } from '../../src/status/health-events.js';
import { initialState } from '../../src/status/machine.js';
import Database from 'better-sqlite3';
import { openSqliteStore, SCHEMA_VERSION, type SqliteHistoryStore } from '../../src/store/sqlite.js';
import { turnsDuring } from '../helpers/wait.js';
import { SCHEMA_V2 } from '../../src/store/sqlite-schema.js';
import type { WriteBatch } from '../../src/store/types.js';
import { ResultWriter } from '../../src/store/writer.js';
import { fakeSpec } from '../helpers/spec.js';
import { waitFor } from '../helpers/spawn.js';
import { aggregate, result, runHistoryStoreContract, stored, T0, transition } from './contract.js';
import { crashSafetyTest } from './crash-harness.js';
import { writeOnlyStore } from './write-only-store.js';

const root = mkdtempSync(join(tmpdir(), 'healthmesh-store-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let fileNo = 0;
const freshPath = (): string => join(root, `h${fileNo++}`, 'history.db');

runHistoryStoreContract('sqlite', () => openSqliteStore({ path: freshPath() }), {
  reopen: (closed) => openSqliteStore({ path: (closed as SqliteHistoryStore).path }),
});

/**
 * A history file as healthmesh of schema `version` (1 or 2) left it: 600
 * results of three checks of service s (one a second from T0), their
 * minute and hour buckets, and one transition.
 */
function legacyFile(path: string, version: 1 | 2): void {
  mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.exec(SCHEMA_V2);
  if (version === 1) {
    db.exec(`DROP INDEX results_minute_check; DROP INDEX results_minute_service;
      CREATE INDEX results_check_time ON results (check_ref, observed_at);
      CREATE INDEX results_service_time ON results (service_ref, observed_at);
      ALTER TABLE checks DROP COLUMN last_minute;`);
  }
  db.exec(`INSERT INTO services (id, name) VALUES (1, 's');
    INSERT INTO instances (id, service_id, name) VALUES (1, 1, 'i0'), (2, 1, 'i1'), (3, 1, 'i2');
    INSERT INTO checks (id, check_id, service_id, instance_id, kind) VALUES (1, 's/i0/c', 1, 1, 'tcp'), (2, 's/i1/c', 1, 2, 'tcp'), (3, 's/i2/c', 1, 3, 'tcp');
    INSERT INTO reasons (id, reason) VALUES (1, 'ok');
    INSERT INTO transitions (check_ref, service_ref, at, from_status, to_status, reason_ref, output) VALUES (2, 1, ${T0}, 3, 0, 1, 'UNKNOWN->HEALTHY');
    UPDATE meta SET value = 600 WHERE key = 'results';
    UPDATE meta SET value = 1 WHERE key = 'transitions';`);
  const insert = db.prepare(
    'INSERT INTO results (check_ref, service_ref, observed_at, status, reason_ref, duration_us, attempts, output, metrics) VALUES (?, 1, ?, 0, 1, 1000, 1, ?, NULL)',
  );
  db.transaction(() => {
    for (let i = 0; i < 600; i++) insert.run((i % 3) + 1, T0 + i * 1000, `row ${i}`);
  })();
  for (const [res, size] of [
    [0, 60_000],
    [1, 3_600_000],
  ]) {
    db.exec(`INSERT INTO buckets SELECT ${res}, observed_at - observed_at % ${size} AS start, min(id), max(id), 1, 0 FROM results GROUP BY start`);
  }
  if (version === 2) db.exec('UPDATE checks SET last_minute = (SELECT max(observed_at) - max(observed_at) % 60000 FROM results WHERE check_ref = checks.id)');
  db.pragma(`user_version = ${version}`);
  db.close();
}

/** Commits recorded in the WAL since it was last reset: frames with a non-zero "db size after commit" and the header's salts. */
function walCommits(dbPath: string): number {
  let wal: Buffer;
  try {
    wal = readFileSync(`${dbPath}-wal`);
  } catch {
    return 0;
  }
  if (wal.length < 32) return 0;
  const pageSize = wal.readUInt32BE(8);
  const salt1 = wal.readUInt32BE(16);
  const salt2 = wal.readUInt32BE(20);
  let commits = 0;
  for (let off = 32; off + 24 + pageSize <= wal.length; off += 24 + pageSize) {
    if (wal.readUInt32BE(off + 8) !== salt1 || wal.readUInt32BE(off + 12) !== salt2) break;
    if (wal.readUInt32BE(off + 4) !== 0) commits++;
  }
  return commits;
}

describe('SqliteHistoryStore', () => {
  it('runs in WAL mode with synchronous=NORMAL', async () => {
    const store = await openSqliteStore({ path: freshPath() });
    try {
      expect(store.db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(store.db.pragma('synchronous', { simple: true })).toBe(1); // NORMAL
      await store.putRegistration({ id: 'x', service: 's', address: 'a:1', tags: [], weight: 1, metadata: {}, checks: [], registeredAt: 0 });
      expect(store.db.pragma('synchronous', { simple: true })).toBe(1); // back to NORMAL after a FULL registration write
    } finally {
      await store.close();
    }
  });

  it('commits a writer flush of thousands of rows as exactly one transaction', async () => {
    const store = await openSqliteStore({ path: freshPath() });
    const clock = new FakeClock(T0);
    const writer = new ResultWriter({ store, clock, flushIntervalMs: 1000, maxBatch: 5000 });
    try {
      await store.write({ results: [result('s/i/warm', T0)], transitions: [] }); // schema and names in place
      store.db.pragma('wal_checkpoint(TRUNCATE)');
      expect(walCommits(store.path)).toBe(0);
      for (let i = 0; i < 3000; i++) writer.addResult(result(`s/i${i % 50}/c${i % 3}`, T0 + i, { output: `row ${i}` }));
      writer.addTransition(transition('s/i1/c1', T0 + 5, 'UNKNOWN', 'HEALTHY'));
      clock.advance(1000);
      await flushMicrotasks();
      expect(writer.stats()).toMatchObject({ flushes: 1, lastFlushRows: 3001, bufferedResults: 0 });
      expect(walCommits(store.path)).toBe(1);
      expect((await store.stats()).results).toBe(3001);
    } finally {
      await writer.close();
      await store.close();
    }
  });

  it('copies the WAL back into the database file in a background worker', async () => {
    const store = await openSqliteStore({ path: freshPath() });
    try {
      const before = statSync(store.path).size;
      const rows = Array.from({ length: 20_000 }, (_, i) => result(`s/i${i % 100}/c`, T0 + i, { output: `row ${i}` }));
      await store.write({ results: rows, transitions: [] });
      // Far below wal_autocheckpoint, so only the worker can have grown the file.
      expect(statSync(`${store.path}-wal`).size).toBeLessThan(25_000 * 4096);
      await waitFor(() => statSync(store.path).size > before + 500_000, 10_000, 'a background checkpoint');
    } finally {
      await store.close();
    }
  });

  it('refuses a database written by a newer schema, naming the fix', async () => {
    const path = freshPath();
    const store = await openSqliteStore({ path });
    store.db.pragma('user_version = 99');
    await store.close();
    await expect(openSqliteStore({ path })).rejects.toThrow(/newer than this healthmesh supports.*upgrade healthmesh/);
  });

  it('opens a schema-1 file ((check, time) index): migrates it to the minute-led index, history intact', async () => {
    const path = freshPath();
    legacyFile(path, 1);
    const store = await openSqliteStore({ path });
    try {
      expect(store.db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
      const indexes = store.db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'results'").pluck().all();
      expect(indexes.sort()).toEqual(['results_minute_check', 'results_minute_service']);
      // Rows of s/i1/c are i = 1, 4, 7, ... at T0 + i s; from T0 + 60 s that is i = 61 + 3k.
      const range = { checkId: 's/i1/c', from: T0 + 60_000, to: T0 + 600_000, limit: 50 };
      const page = await store.queryResults(range);
      expect(page.items.map((r) => r.observedAt)).toEqual(Array.from({ length: 50 }, (_, k) => T0 + 61_000 + 3000 * k));
      const next = await store.queryResults({ ...range, cursor: page.nextCursor! });
      expect(next.items.map((r) => r.output)).toEqual(Array.from({ length: 50 }, (_, k) => `row ${61 + 3 * (50 + k)}`));
      const back = await store.queryResults({ ...range, order: 'desc', limit: 3 });
      expect(back.items.map((r) => r.output)).toEqual(['row 598', 'row 595', 'row 592']);
      expect((await store.latestResults(['s/i2/c'])).get('s/i2/c')?.output).toBe('row 599');
      const servicePage = await store.queryResults({ service: 's', from: T0 + 1000, order: 'desc', limit: 2 });
      expect(servicePage.items.map((r) => r.output)).toEqual(['row 599', 'row 598']);
      expect((await store.stats()).results).toBe(600);
    } finally {
      await store.close();
    }
  });

  it('opens a schema-2 file: old transitions learn their instance, old results have no score, new history works', async () => {
    const path = freshPath();
    legacyFile(path, 2);
    const store = await openSqliteStore({ path });
    try {
      expect(store.db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
      const old = await store.queryTransitions({ service: 's', instance: 'i1' });
      expect(old.items).toEqual([stored({ ...transition('s/i1/c', T0, 'UNKNOWN', 'HEALTHY'), reason: 'ok', id: 1 })]);
      const first = (await store.queryResults({ checkId: 's/i0/c', limit: 1 })).items[0]!;
      expect([first.output, first.checkScore, first.instanceScore]).toEqual(['row 0', null, null]);
      expect(await store.transitionIds()).toEqual({ last: 1, horizon: 0 });
      // New rows after the old ones: ids go on from the highest stored, scores and aggregates are kept.
      await store.write({
        results: [result('s/i1/c', T0 + 3_600_000, { checkScore: 90, instanceScore: 80 })],
        transitions: [aggregate('s/i1', T0 + 3_600_000, 'UNKNOWN', 'UNHEALTHY'), aggregate('s/i1', T0 + 3_660_000, 'UNHEALTHY', 'HEALTHY')],
      });
      expect((await store.transitionIds()).last).toBe(3);
      await store.maintain(T0 + 3 * 3_600_000, { lateMs: 0 });
      const [h] = await store.queryRollups({ service: 's', instance: 'i1', resolution: 'hour', from: T0 + 3_600_000 });
      expect(h).toMatchObject({ level: 'instance', id: 's/i1', count: 1, minScore: 80, avgScore: 80 });
      const up = await store.queryUptime({ service: 's', instance: 'i1', from: T0, to: T0 + 2 * 3_600_000 });
      expect(up).toMatchObject({ incidents: 1, recoveries: 1, mttrMs: 60_000, ms: { UNHEALTHY: 60_000, HEALTHY: 3_540_000, UNKNOWN: 3_600_000 } });
    } finally {
      await store.close();
    }
  });

  it('pages a check or a service through the minute-led indexes without sorting', async () => {
    const store = await openSqliteStore({ path: freshPath() });
    try {
      const plan = (sql: string): string =>
        (store.db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...Array(sql.split('?').length - 1).fill(0)) as { detail: string }[])
          .map((r) => r.detail)
          .join(' | ');
      const pages = store.queries.resultPages;
      for (const [by, key] of [
        ['byCheck', 'check'],
        ['byService', 'service'],
      ] as const) {
        for (const sql of [pages[by].asc.source, pages[by].descAfter.source]) {
          expect(plan(sql)).toMatch(new RegExp(`USING INDEX results_minute_${key} \\(<expr>=\\? AND ${key}_ref=\\? AND <expr>>\\? AND <expr><\\?\\)`));
          expect(plan(sql)).not.toMatch(/TEMP B-TREE/);
        }
      }
    } finally {
      await store.close();
    }
  });

  it('reads names interned by another connection to the same file (CLI next to the daemon)', async () => {
    const path = freshPath();
    const daemon = await openSqliteStore({ path });
    const cli = await openSqliteStore({ path });
    try {
      await daemon.write({ results: [result('late/x/y', T0, { reason: 'timeout', status: 'UNHEALTHY' })], transitions: [] });
      const page = await cli.queryResults({ service: 'late' });
      expect(page.items.map((r) => [r.checkId, r.reason, r.status])).toEqual([['late/x/y', 'timeout', 'UNHEALTHY']]);
      expect((await cli.latestResults(['late/x/y'])).size).toBe(1);
    } finally {
      await cli.close();
      await daemon.close();
    }
  });

  it('yields to the event loop between maintenance chunks', async () => {
    const store = await openSqliteStore({ path: freshPath() });
    try {
      const rows = Array.from({ length: 2000 }, (_, i) => result(`s/i/c${i % 20}`, T0 + i * 100));
      await store.write({ results: rows, transitions: [] });
      const { turns, value: report } = await turnsDuring(() =>
        store.maintain(T0 + 2 * 3_600_000, { lateMs: 0, chunkRows: 100, retention: { resultsMs: 60_000 } }),
      );
      expect(report.deleted.results).toBe(2000);
      expect(report.chunks).toBeGreaterThanOrEqual(20);
      expect(turns).toBeGreaterThanOrEqual(10);
    } finally {
      await store.close();
    }
  });
});

/** A HistoryStore that records writes; `gate` makes writes wait, `failNext` makes one fail. */
function recordingStore(clock?: FakeClock) {
  const writes: WriteBatch[] = [];
  const control = {
    writes,
    gate: null as Promise<void> | null,
    failNext: false,
    /** ms the fake clock moves during each write. */
    writeMs: 0,
  };
  const store = writeOnlyStore('recording', async (batch) => {
    if (control.gate) await control.gate;
    if (control.failNext) {
      control.failNext = false;
      throw new Error('disk full');
    }
    if (clock && control.writeMs) clock.advance(control.writeMs);
    writes.push({ results: [...batch.results], transitions: [...batch.transitions] });
  });
  return { store, control };
}

const outputs = (batch: WriteBatch | undefined) => batch?.results.map((r) => r.output) ?? [];

describe('ResultWriter', () => {
  it('flushes flushIntervalMs after the first buffered row, all rows in one write', async () => {
    const clock = new FakeClock(T0);
    const { store, control } = recordingStore();
    const writer = new ResultWriter({ store, clock, flushIntervalMs: 1000 });
    writer.addResult(result('s/i/c', T0, { output: 'a' }));
    clock.advance(400);
    writer.addResult(result('s/i/c', T0, { output: 'b' }));
    writer.addTransition(transition('s/i/c', T0, 'UNKNOWN', 'HEALTHY'));
    clock.advance(599);
    await flushMicrotasks();
    expect(control.writes).toHaveLength(0);
    clock.advance(1);
    await flushMicrotasks();
    expect(control.writes).toHaveLength(1);
    expect(outputs(control.writes[0])).toEqual(['a', 'b']);
    expect(control.writes[0]!.transitions).toHaveLength(1);
    expect(clock.pendingTimers()).toBe(0); // idle: no timer armed
  });

  it('flushes at once when maxBatch rows wait, in writes of at most maxBatch rows', async () => {
    const clock = new FakeClock(T0);
    const { store, control } = recordingStore();
    const writer = new ResultWriter({ store, clock, flushIntervalMs: 1000, maxBatch: 10 });
    for (let i = 0; i < 25; i++) writer.addResult(result('s/i/c', T0, { output: String(i) }));
    for (let i = 0; i < 3; i++) {
      clock.advance(0);
      await flushMicrotasks();
    }
    expect(control.writes.map((w) => w.results.length)).toEqual([10, 10]);
    clock.advance(1000);
    await flushMicrotasks();
    expect(control.writes.map((w) => w.results.length)).toEqual([10, 10, 5]);
    expect(control.writes.flatMap(outputs)).toEqual(Array.from({ length: 25 }, (_, i) => String(i)));
  });

  it('drops the oldest results beyond maxBuffered while the store is stuck, never transitions', async () => {
    const clock = new FakeClock(T0);
    const { store, control } = recordingStore();
    let release!: () => void;
    control.gate = new Promise((r) => (release = r));
    const writer = new ResultWriter({ store, clock, flushIntervalMs: 1000, maxBatch: 10, maxBuffered: 100 });
    for (let i = 0; i < 10; i++) writer.addResult(result('s/i/c', T0, { output: `first${i}` }));
    clock.advance(0); // flush of 10 starts and hangs on the gate
    for (let i = 0; i < 150; i++) writer.addResult(result('s/i/c', T0, { output: `r${i}` }));
    for (let i = 0; i < 120; i++) writer.addTransition(transition('s/i/c', T0 + i, 'HEALTHY', 'UNHEALTHY'));
    expect(writer.stats()).toMatchObject({ droppedResults: 50, bufferedResults: 110, bufferedTransitions: 120 });
    release();
    control.gate = null;
    await writer.close();
    const written = control.writes.flatMap(outputs);
    expect(written).toEqual([...Array.from({ length: 10 }, (_, i) => `first${i}`), ...Array.from({ length: 100 }, (_, i) => `r${i + 50}`)]);
    expect(control.writes.reduce((n, w) => n + w.transitions.length, 0)).toBe(120);
    expect(control.writes.every((w) => w.results.length + w.transitions.length <= 10)).toBe(true);
  });

  it('keeps the rows of a failed flush, reports the error and retries them in order', async () => {
    const clock = new FakeClock(T0);
    const { store, control } = recordingStore();
    const errors: unknown[] = [];
    const writer = new ResultWriter({ store, clock, flushIntervalMs: 1000, onError: (e) => errors.push(e) });
    control.failNext = true;
    writer.addResult(result('s/i/c', T0, { output: 'a' }));
    clock.advance(1000);
    await flushMicrotasks();
    expect(errors).toHaveLength(1);
    expect(writer.stats()).toMatchObject({ failedFlushes: 1, bufferedResults: 1, flushes: 0 });
    writer.addResult(result('s/i/c', T0, { output: 'b' }));
    clock.advance(1000);
    await flushMicrotasks();
    expect(control.writes.flatMap(outputs)).toEqual(['a', 'b']);
  });

  it('writes everything on close, then leaves no timer armed and ignores new rows', async () => {
    const clock = new FakeClock(T0);
    const { store, control } = recordingStore();
    const writer = new ResultWriter({ store, clock, maxBatch: 4 });
    for (let i = 0; i < 9; i++) writer.addResult(result('s/i/c', T0, { output: String(i) }));
    await writer.close();
    expect(control.writes.flatMap(outputs)).toHaveLength(9);
    expect(clock.pendingTimers()).toBe(0);
    writer.addResult(result('s/i/c', T0));
    expect(writer.stats()).toMatchObject({ bufferedResults: 0, droppedResults: 1 });
  });

  it('reports flush timings and rows for metrics', async () => {
    const clock = new FakeClock(T0);
    const { store, control } = recordingStore(clock);
    const flushes: unknown[] = [];
    const writer = new ResultWriter({ store, clock, onFlush: (f) => flushes.push(f) });
    control.writeMs = 10;
    writer.addResult(result('s/i/c', T0));
    await writer.flush();
    control.writeMs = 30;
    writer.addResult(result('s/i/c', T0));
    writer.addResult(result('s/i/c', T0));
    await writer.flush();
    expect(writer.stats()).toMatchObject({ flushes: 2, rowsWritten: 3, lastFlushMs: 30, lastFlushRows: 2, avgFlushMs: 20, maxFlushMs: 30 });
    expect(flushes).toEqual([
      { results: 1, transitions: 0, ms: 10 },
      { results: 2, transitions: 0, ms: 30 },
    ]);
  });

  it('takes results and transitions from the engine bus, output cut to 1 KiB', async () => {
    const clock = new FakeClock(T0);
    const { store, control } = recordingStore();
    const writer = new ResultWriter({ store, clock });
    const bus = new EventBus<HealthEvents>();
    const off = writer.attach(bus);
    const spec = { ...fakeSpec('api/a1/http'), service: 'api', instance: 'a1', kind: 'http' as const };
    const res = { status: 'UNHEALTHY' as const, reason: 'timeout' as const, durationMs: 5000, output: 'x'.repeat(4000), observedAt: T0 + 7 };
    bus.emit('result', { spec, result: res, state: initialState(T0), transition: 'changed' });
    bus.emit('transition', { spec, from: 'HEALTHY', to: 'UNHEALTHY', result: res, state: initialState(T0), at: T0 + 7 });
    off();
    bus.emit('result', { spec, result: res, state: initialState(T0), transition: 'unchanged' });
    await writer.flush();
    expect(control.writes).toHaveLength(1);
    expect(control.writes[0]!.results).toEqual([
      {
        checkId: 'api/a1/http',
        service: 'api',
        instance: 'a1',
        kind: 'http',
        status: 'UNHEALTHY',
        reason: 'timeout',
        durationMs: 5000,
        observedAt: T0 + 7,
        attempts: 1,
        output: 'x'.repeat(1024),
        metrics: null,
        // Straight from the bus there is no rollup to score it (the daemon feeds the writer through history-feed.ts).
        checkScore: null,
        instanceScore: null,
      },
    ]);
    expect(control.writes[0]!.transitions).toEqual([
      { checkId: 'api/a1/http', service: 'api', instance: 'a1', from: 'HEALTHY', to: 'UNHEALTHY', reason: 'timeout', output: 'x'.repeat(1024), at: T0 + 7 },
    ]);
  });
});

// ------------------------------------------------------------------ crash simulation

describe('SqliteHistoryStore crash safety', () => {
  crashSafetyTest(join(root, 'crash'), '{ path }');
});
