/**
 * bench/store: the SQLite history store at size. Bulk-loads `--rows` results
 * (default 10M) over `--checks` checks (default 10 000, one result per check
 * every 10 s, so 10M rows ≈ 2.8 h of history) in big transactions, then
 * measures on that table:
 * - sustained inserts per second through ResultWriter (default batching:
 *   flush every 1 s or 5000 rows), with a producer that waits whenever more
 *   than two batches are buffered, so nothing is dropped;
 * - p50/p99 latency of a check-id + 1 h time-range page query (100 rows),
 *   of its next page by cursor, of service and instance pages, and of
 *   latestResults for 1000 checks;
 * - database size per row; with --maintain, one maintain() pass rolling up
 *   every bucket.
 * Prints one JSON line.
 *
 * With --uptime it runs the uptime case instead (bench/lib/store-uptime.ts):
 * a year of instance and service transitions for --uptime-instances
 * instances (default 1000, ~--incidents-per-day incidents each a day,
 * default 2), then one uptime query per instance over the year.
 *
 *   npx tsc -p . && node dist/bench/store.js [--rows 10000000] [--checks 10000] [--writer-rows 500000] [--maintain]
 *     [--writes worker|inline] [--unsorted] [--max-in-flight 4] [--dir DIR [--reuse]]
 *   node dist/bench/store.js --uptime [--uptime-instances 1000] [--uptime-days 365] [--incidents-per-day 2]
 *
 * The defaults are the daemon's store and writer settings (writer thread,
 * sorted rows, 4 flushes in flight). `--dir D --reuse` keeps the loaded file
 * in D and skips the bulk load when it already holds --rows (each run then
 * appends its writer rows): quick to iterate, but the figures to quote come
 * from a fresh load.
 *
 * writer.eventLoopStall* is the main thread's lateness during the writer
 * phase, measured by a 10 ms interval: how long a scheduler tick could be held up.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { realClock } from '../src/core/clock.js';
import { seeded } from '../src/core/random.js';
import type { HealthStatus } from '../src/core/status.js';
import { openSqliteStore } from '../src/store/sqlite.js';
import type { ResultRecord } from '../src/store/types.js';
import { ResultWriter } from '../src/store/writer.js';
import { runUptimeCase } from './lib/store-uptime.js';

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '10000000' },
    checks: { type: 'string', default: '10000' },
    'writer-rows': { type: 'string', default: '500000' },
    queries: { type: 'string', default: '1000' },
    'bulk-batch': { type: 'string', default: '100000' },
    dir: { type: 'string' },
    keep: { type: 'boolean', default: false },
    maintain: { type: 'boolean', default: false },
    'cache-mb': { type: 'string', default: '64' },
    'max-batch': { type: 'string', default: '5000' },
    reuse: { type: 'boolean', default: false },
    checkpoints: { type: 'string', default: 'background' },
    writes: { type: 'string', default: 'worker' },
    // Defaults are the daemon's (src/daemon.ts): sorted rows, 4 flushes in flight.
    'sort-rows': { type: 'boolean', default: true },
    unsorted: { type: 'boolean', default: false },
    'max-in-flight': { type: 'string', default: '4' },
    uptime: { type: 'boolean', default: false },
    'uptime-instances': { type: 'string', default: '1000' },
    'uptime-days': { type: 'string', default: '365' },
    'incidents-per-day': { type: 'string', default: '2' },
  },
});
const rows = Number(values.rows);
const checks = Number(values.checks);
const writerRows = Number(values['writer-rows']);
const queries = Number(values.queries);
const bulkBatch = Number(values['bulk-batch']);
const INTERVAL_MS = 10_000;
const INSTANCES_PER_SERVICE = 20;
const CHECKS_PER_INSTANCE = 5;
const KINDS = ['http', 'tcp', 'grpc', 'dns', 'tls'] as const;

const dir = values.dir ?? mkdtempSync(join(tmpdir(), 'healthmesh-bench-store-'));
const path = join(dir, 'history.db');

if (values.uptime) {
  try {
    const figures = await runUptimeCase({
      path,
      instances: Number(values['uptime-instances']),
      days: Number(values['uptime-days']),
      incidentsPerDay: Number(values['incidents-per-day']),
      end: Math.floor(realClock.now() / 60_000) * 60_000,
    });
    console.log(JSON.stringify(figures));
  } finally {
    if (!values.keep && !values.dir) rmSync(dir, { recursive: true, force: true });
  }
  process.exit(0);
}
const random = seeded(42);

/** Identity of check c: 20 instances per service, 5 checks per instance. */
function ident(c: number) {
  const instanceNo = Math.floor(c / CHECKS_PER_INSTANCE);
  const service = `svc${Math.floor(instanceNo / INSTANCES_PER_SERVICE)}`;
  const instance = `i${instanceNo % INSTANCES_PER_SERVICE}`;
  const kind = KINDS[c % CHECKS_PER_INSTANCE]!;
  return { checkId: `${service}/${instance}/${kind}`, service, instance, kind };
}
const idents = Array.from({ length: checks }, (_, c) => ident(c));

/**
 * Result templates: TEMPLATES_PER_CHECK plausible results per check, mostly
 * fast and HEALTHY, ~3 % failures, http checks carry metrics. A row is a
 * template with its own time, so the producer costs about what the engine's
 * event-to-record conversion costs, not a random-number generator.
 */
const TEMPLATES_PER_CHECK = 8;
const templates = Array.from({ length: checks * TEMPLATES_PER_CHECK }, (_, t) => template(t % checks));
let templateNo = 0;

function makeResult(c: number, observedAt: number): ResultRecord {
  templateNo = (templateNo + 1) % TEMPLATES_PER_CHECK;
  const t = templates[templateNo * checks + c]!;
  return {
    checkId: t.checkId,
    service: t.service,
    instance: t.instance,
    kind: t.kind,
    status: t.status,
    reason: t.reason,
    durationMs: t.durationMs,
    observedAt,
    attempts: t.attempts,
    output: t.output,
    metrics: t.metrics,
  };
}

function template(c: number): ResultRecord {
  const id = idents[c]!;
  const r = random();
  const failed = r < 0.03;
  const status: HealthStatus = failed ? (r < 0.02 ? 'UNHEALTHY' : 'DEGRADED') : 'HEALTHY';
  const durationMs = failed ? 500 + random() * 4500 : 0.5 + random() * random() * 80;
  // A plain literal, not {...id}: V8 gives spread-built objects a slow shape, and
  // reading them cost the producer ~5 µs a row (measured), CPU the store then lacked.
  return {
    checkId: id.checkId,
    service: id.service,
    instance: id.instance,
    kind: id.kind,
    status,
    reason: failed ? (r < 0.02 ? 'connect_refused' : 'slow') : 'ok',
    durationMs,
    observedAt: 0,
    attempts: 1,
    output: failed ? `connect ECONNREFUSED 10.0.${c & 255}.1:8080` : id.kind === 'http' ? 'HTTP 200' : 'ok',
    metrics: id.kind === 'http' ? { status: failed ? 503 : 200, bytes: 200 + Math.floor(random() * 2000) } : null,
  };
}

function quantile(sorted: number[], q: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

async function latency(n: number, fn: (i: number) => Promise<unknown>): Promise<{ p50: number; p99: number; max: number }> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn(i);
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  const r = (x: number) => Math.round(x * 1000) / 1000;
  return { p50: r(quantile(times, 0.5)), p99: r(quantile(times, 0.99)), max: r(times[times.length - 1]!) };
}

const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;

const cacheSizeMb = Number(values['cache-mb']);
const maxBatch = Number(values['max-batch']);
const maxInFlight = Number(values['max-in-flight']);
const checkpoints = values.checkpoints === 'inline' ? 'inline' : 'background';
const writes = values.writes === 'inline' ? 'inline' : 'worker';
const sortRows = values['sort-rows'] && !values.unsorted;
const store = await openSqliteStore({ path, cacheSizeMb, checkpoints, writes, sortRows });
try {
  // --- bulk load: rows in time order, every check once per 10 s tick, big transactions.
  // With --reuse and --dir, a database loaded by an earlier run is kept (its time span is in meta).
  const ticks = Math.ceil(rows / checks);
  const spanMs = ticks * INTERVAL_MS;
  const step = INTERVAL_MS / checks;
  const loaded = values.reuse ? (await store.stats()).results : 0;
  const savedStart = store.db.prepare("SELECT value FROM meta WHERE key = 'bench_start'").pluck().get() as number | undefined;
  const start = loaded >= rows && savedStart !== undefined ? savedStart : Math.floor((realClock.now() - spanMs - 3_600_000) / 60_000) * 60_000;
  store.db.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES ('bench_start', ?)").run(start);
  const loadStarted = performance.now();
  let batch: ResultRecord[] = [];
  for (let i = loaded >= rows ? rows : 0; i < rows; i++) {
    const c = i % checks;
    batch.push(makeResult(c, start + Math.floor(i / checks) * INTERVAL_MS + Math.floor(c * step)));
    if (batch.length === bulkBatch) {
      await store.write({ results: batch, transitions: [] });
      batch = [];
    }
  }
  if (batch.length) await store.write({ results: batch, transitions: [] });
  const loadSeconds = (performance.now() - loadStarted) / 1000;
  const dataEnd = start + spanMs;

  // --- sustained inserts through the writer, appended after the data already there.
  const appended = Math.max(0, loaded - rows);
  const writeFrom = dataEnd + Math.ceil(appended / checks) * INTERVAL_MS;
  const writeErrors = new Map<string, number>();
  const writer = new ResultWriter({
    store,
    clock: realClock,
    maxBatch,
    maxInFlight,
    onError: (err) => writeErrors.set(String(err), (writeErrors.get(String(err)) ?? 0) + 1),
  });
  const writeStarted = performance.now();
  const cpuStarted = process.cpuUsage();
  // Event-loop stall monitor: a 10 ms interval; each tick's lateness is how long the main thread was blocked.
  const lag = { max: 0, total: 0, ticks: 0, over5: 0 };
  let lastTick = performance.now();
  const monitor = setInterval(() => {
    const now = performance.now();
    const late = Math.max(0, now - lastTick - 10);
    lastTick = now;
    lag.max = Math.max(lag.max, late);
    lag.total += late;
    lag.ticks++;
    if (late > 5) lag.over5++;
  }, 10);
  let stalls = 0;
  for (let i = 0; i < writerRows; ) {
    const stats = writer.stats();
    if (stats.bufferedResults > (1 + maxInFlight) * maxBatch) {
      stalls++;
      // Sleep, not setImmediate: a spinning producer would take a core from a writer thread.
      await new Promise((r) => setTimeout(r, 1));
      continue;
    }
    for (const end = Math.min(writerRows, i + 1000); i < end; i++) {
      const c = i % checks;
      writer.addResult(makeResult(c, writeFrom + Math.floor(i / checks) * INTERVAL_MS + Math.floor(c * step)));
    }
    await new Promise((r) => setImmediate(r));
  }
  await writer.close();
  clearInterval(monitor);
  const writeSeconds = (performance.now() - writeStarted) / 1000;
  const cpu = process.cpuUsage(cpuStarted);
  const ws = writer.stats();
  const totalRows = Math.max(rows, loaded) + writerRows;
  const queryEnd = writeFrom + Math.ceil(writerRows / checks) * INTERVAL_MS;

  // --- queries on the big table.
  const qr = seeded(7);
  const pick = () => Math.floor(qr() * checks);
  const someFrom = () => start + Math.floor(qr() * Math.max(1, queryEnd - start - 3_600_000));
  const page = await latency(queries, async () => {
    const from = someFrom();
    return store.queryResults({ checkId: idents[pick()]!.checkId, from, to: from + 3_600_000, limit: 100 });
  });
  // Second pages: remember (check, range, cursor) of first pages, then time only the cursor queries.
  const pairs: { checkId: string; from: number; cursor: string }[] = [];
  for (let i = 0; i < Math.min(queries, 200); i++) {
    const from = someFrom();
    const checkId = idents[pick()]!.checkId;
    const p = await store.queryResults({ checkId, from, to: from + 3_600_000, limit: 100 });
    if (p.nextCursor) pairs.push({ checkId, from, cursor: p.nextCursor });
  }
  const nextPage = await latency(pairs.length, async (i) => {
    const { checkId, from, cursor } = pairs[i]!;
    return store.queryResults({ checkId, from, to: from + 3_600_000, limit: 100, cursor });
  });
  const servicePage = await latency(Math.min(queries, 300), async () => {
    const from = someFrom();
    return store.queryResults({ service: idents[pick()]!.service, from, to: from + 3_600_000, limit: 100 });
  });
  const instancePage = await latency(Math.min(queries, 300), async () => {
    const from = someFrom();
    const { service, instance } = idents[pick()]!;
    return store.queryResults({ service, instance, from, to: from + 3_600_000, limit: 100 });
  });
  const latestIds = Array.from({ length: Math.min(1000, checks) }, () => idents[pick()]!.checkId);
  let latestFound = 0;
  const latest = await latency(Math.min(queries, 200), async () => {
    const m = await store.latestResults(latestIds);
    latestFound = m.size;
    return m;
  });

  let maintain: Record<string, unknown> | undefined;
  if (values.maintain) {
    const t = performance.now();
    const report = await store.maintain(queryEnd + 3_600_000, { lateMs: 0 });
    const seconds = (performance.now() - t) / 1000;
    maintain = { seconds: round(seconds, 2), rowsScannedPerSecond: Math.round((2 * totalRows) / seconds), ...report };
  }

  store.db.pragma('wal_checkpoint(TRUNCATE)');
  const stats = await store.stats();
  const pageSize = store.db.pragma('page_size', { simple: true }) as number;
  const freePages = store.db.pragma('freelist_count', { simple: true }) as number;
  console.log(
    JSON.stringify({
      bench: 'store',
      backend: 'sqlite',
      rows: totalRows,
      checks,
      bulkLoad: loaded >= rows ? { reused: loaded } : { rows, seconds: round(loadSeconds, 1), rowsPerSecond: Math.round(rows / loadSeconds), batch: bulkBatch },
      cacheSizeMb,
      checkpoints,
      writes,
      sortRows,
      writer: {
        rows: writerRows,
        maxBatch,
        maxInFlight,
        seconds: round(writeSeconds, 2),
        insertsPerSecond: Math.round(writerRows / writeSeconds),
        // CPU of the whole process (all threads) per inserted row, µs: less noisy than the rate on a shared machine.
        cpuUsPerRow: round((cpu.user + cpu.system) / writerRows, 2),
        flushes: ws.flushes,
        avgFlushMs: round(ws.avgFlushMs, 2),
        maxFlushMs: round(ws.maxFlushMs, 2),
        dropped: ws.droppedResults,
        failedFlushes: ws.failedFlushes,
        ...(writeErrors.size ? { errors: Object.fromEntries(writeErrors) } : {}),
        producerStalls: stalls,
        // Main-thread event-loop lateness during the writer phase (10 ms interval drift), ms.
        eventLoopStallMaxMs: round(lag.max, 1),
        eventLoopStallAvgMs: round(lag.ticks ? lag.total / lag.ticks : 0, 2),
        eventLoopTicksLate5ms: lag.over5,
      },
      queryMs: {
        checkRangePage: page,
        checkRangeNextPage: nextPage,
        servicePage,
        instancePage,
        latestResults1000: { ...latest, found: latestFound },
      },
      ...(maintain ? { maintain } : {}),
      storage: {
        bytes: stats.bytes,
        bytesPerRow: round((stats.bytes ?? 0) / totalRows, 1),
        freePages,
        pageSize,
        statsResults: stats.results,
      },
      node: process.version,
    }),
  );
} finally {
  await store.close();
  if (!values.keep && !values.dir) rmSync(dir, { recursive: true, force: true });
}
