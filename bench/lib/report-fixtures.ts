/**
 * The two histories bench/reports measures, generated once into a folder
 * (a `.done` marker says the file is complete) and reused:
 *
 * - raw: 100 services × 10 instances × 1 check, one result every 10 s for a
 *   day (8.64M results), with ~2 incidents per instance (1–20 min
 *   UNHEALTHY, the check's transitions, the instance's and the service's),
 *   written through the store's write path in time order, then rolled up by
 *   `maintain` as the daemon does;
 * - year: 1,000 instances (50 services × 20, one check each) over 365 days:
 *   instance and service transitions (an incident every ~5 days per
 *   instance) through the write path (so uptime's day rows are kept as a
 *   daemon keeps them), and hour rollups of every check, instance and
 *   service written straight into the rollup tables (8.76M + 8.76M +
 *   0.44M rows: what a year of maintenance leaves; its raw rows are gone).
 */
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { seeded } from '../../src/core/random.js';
import type { HealthStatus } from '../../src/core/status.js';
import { openSqliteStore } from '../../src/store/sqlite.js';
import type { ResultRecord, TransitionRecord } from '../../src/store/types.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

/** The raw history's day: 2026-11-01 UTC. */
export const RAW_START = Date.UTC(2026, 10, 1);
export const RAW_END = RAW_START + DAY;
/** The year history: 2025-11-02 to 2026-11-02 UTC. */
export const YEAR_END = Date.UTC(2026, 10, 2);
export const YEAR_START = YEAR_END - 365 * DAY;

type Log = (line: string) => void;

/** Scripted incidents of one instance: [start, end) pairs, sorted, from a seeded random. */
function incidentsOf(random: () => number, start: number, end: number, perDay: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let at = start + HOUR;
  for (;;) {
    at += Math.max(MIN, Math.floor((-Math.log(1 - random()) / perDay) * DAY));
    const lasts = MIN + Math.floor(random() * 19 * MIN);
    if (at + lasts >= end - MIN) break;
    out.push([at, at + lasts]);
    at += lasts;
  }
  return out;
}

function transitionsOf(
  level: 'check' | 'instance',
  service: string,
  instance: string,
  checkId: string,
  first: number,
  incidents: Array<[number, number]>,
): TransitionRecord[] {
  const out: TransitionRecord[] = [
    { level, checkId, service, instance, from: 'UNKNOWN', to: 'HEALTHY', reason: level === 'check' ? 'ok' : 'rollup', output: 'up', at: first },
  ];
  for (const [a, b] of incidents) {
    out.push({
      level,
      checkId,
      service,
      instance,
      from: 'HEALTHY',
      to: 'UNHEALTHY',
      reason: level === 'check' ? 'timeout' : 'rollup',
      output: 'timed out after 2000 ms',
      at: a,
    });
    out.push({ level, checkId, service, instance, from: 'UNHEALTHY', to: 'HEALTHY', reason: level === 'check' ? 'ok' : 'rollup', output: 'up', at: b });
  }
  return out;
}

/** A service's transitions: DEGRADED while any instance is down, UNHEALTHY while more than 2 are. */
function serviceTransitions(service: string, first: number, all: Array<Array<[number, number]>>): TransitionRecord[] {
  const edges = all
    .flatMap((list) =>
      list.flatMap(
        ([a, b]): Array<[number, number]> => [
          [a, 1],
          [b, -1],
        ],
      ),
    )
    .sort((x, y) => x[0] - y[0] || x[1] - y[1]);
  const out: TransitionRecord[] = [
    { level: 'service', checkId: '', service, instance: '', from: 'UNKNOWN', to: 'HEALTHY', reason: 'rollup', output: '', at: first },
  ];
  let down = 0;
  let status: HealthStatus = 'HEALTHY';
  for (const [at, d] of edges) {
    down += d;
    const next: HealthStatus = down > 2 ? 'UNHEALTHY' : down > 0 ? 'DEGRADED' : 'HEALTHY';
    if (next !== status) {
      out.push({ level: 'service', checkId: '', service, instance: '', from: status, to: next, reason: 'rollup', output: `${down} down`, at });
      status = next;
    }
  }
  return out;
}

/** The raw day (see the file comment); returns the path. */
export async function rawFixture(dir: string, log: Log): Promise<string> {
  const path = join(dir, 'raw.db');
  if (existsSync(`${path}.done`)) return path;
  rmSync(path, { force: true });
  mkdirSync(dir, { recursive: true });
  const random = seeded(7);
  const services = 100;
  const perService = 10;
  const checks: Array<{ checkId: string; service: string; instance: string; incidents: Array<[number, number]>; phase: number }> = [];
  const transitions: TransitionRecord[] = [];
  for (let s = 0; s < services; s++) {
    const service = `svc${String(s).padStart(3, '0')}`;
    const lists: Array<Array<[number, number]>> = [];
    for (let i = 0; i < perService; i++) {
      const instance = `i${i}`;
      const checkId = `${service}/${instance}/http`;
      const incidents = incidentsOf(random, RAW_START, RAW_END, 2);
      const first = RAW_START + 10_000;
      checks.push({ checkId, service, instance, incidents, phase: Math.floor(random() * 10_000) });
      transitions.push(
        ...transitionsOf('check', service, instance, checkId, first, incidents),
        ...transitionsOf('instance', service, instance, '', first, incidents),
      );
      lists.push(incidents);
    }
    transitions.push(...serviceTransitions(service, RAW_START + 10_000, lists));
  }
  transitions.sort((a, b) => a.at - b.at);
  const store = await openSqliteStore({ path, writes: 'worker', sortRows: true, checkpoints: 'background' });
  const started = performance.now();
  let ti = 0;
  let rows = 0;
  // One write a minute of history: 6,000 results and the transitions of that minute.
  for (let t = RAW_START; t < RAW_END; t += MIN) {
    const results: ResultRecord[] = [];
    for (const c of checks) {
      for (let k = 0; k < 6; k++) {
        const at = t + k * 10_000 + c.phase;
        if (at >= RAW_END) continue;
        const down = c.incidents.some(([a, b]) => at >= a && at < b);
        const x = random();
        results.push({
          checkId: c.checkId,
          service: c.service,
          instance: c.instance,
          kind: 'http',
          status: down ? 'UNHEALTHY' : 'HEALTHY',
          reason: down ? (x < 0.7 ? 'timeout' : 'connect_refused') : 'ok',
          durationMs: down ? 2000 : 3 + Math.round(x * x * 200_000) / 1000,
          observedAt: at,
          attempts: 1,
          output: down ? 'timed out after 2000 ms' : 'HTTP 200',
          metrics: null,
          checkScore: down ? 0 : 100,
          instanceScore: down ? 0 : 100,
        });
      }
    }
    const ts: TransitionRecord[] = [];
    while (ti < transitions.length && transitions[ti]!.at < t + MIN) ts.push(transitions[ti++]!);
    await store.write({ results, transitions: ts });
    rows += results.length;
    if ((t - RAW_START) % (2 * HOUR) === 0) log(`raw fixture: ${rows} results written (${Math.round((performance.now() - started) / 1000)} s)`);
  }
  log(`raw fixture: ${rows} results in ${Math.round((performance.now() - started) / 1000)} s; rolling up`);
  await store.maintain(RAW_END + HOUR, { lateMs: 0, retention: { resultsMs: 3650 * DAY } });
  await store.close();
  writeFileSync(`${path}.done`, `${rows}\n`);
  log(`raw fixture done in ${Math.round((performance.now() - started) / 1000)} s`);
  return path;
}

/** The year (see the file comment); returns the path. */
export async function yearFixture(dir: string, log: Log): Promise<string> {
  const path = join(dir, 'year.db');
  if (existsSync(`${path}.done`)) return path;
  rmSync(path, { force: true });
  mkdirSync(dir, { recursive: true });
  const random = seeded(11);
  const started = performance.now();
  const store = await openSqliteStore({
    path,
    writes: 'worker',
    sortRows: true,
    retention: { resultsMs: 3650 * DAY, uptimeMs: 3650 * DAY, transitionsMs: 3650 * DAY, hourRollupsMs: 3650 * DAY },
  });
  const transitions: TransitionRecord[] = [];
  const first: ResultRecord[] = [];
  for (let s = 0; s < 50; s++) {
    const service = `svc${String(s).padStart(2, '0')}`;
    const lists: Array<Array<[number, number]>> = [];
    for (let i = 0; i < 20; i++) {
      const instance = `i${String(i).padStart(2, '0')}`;
      const checkId = `${service}/${instance}/http`;
      const incidents = incidentsOf(random, YEAR_START, YEAR_END, 0.2);
      transitions.push(...transitionsOf('instance', service, instance, '', YEAR_START + MIN, incidents));
      lists.push(incidents);
      // One result per check names it in the store (its raw rows are otherwise long gone).
      first.push({
        checkId,
        service,
        instance,
        kind: 'http',
        status: 'HEALTHY',
        reason: 'ok',
        durationMs: 5,
        observedAt: YEAR_END - MIN,
        attempts: 1,
        output: 'HTTP 200',
        metrics: null,
        checkScore: 100,
        instanceScore: 100,
      });
    }
    transitions.push(...serviceTransitions(service, YEAR_START + MIN, lists));
  }
  transitions.sort((a, b) => a.at - b.at);
  for (let i = 0; i < transitions.length; i += 20_000) await store.write({ results: [], transitions: transitions.slice(i, i + 20_000) });
  await store.write({ results: first, transitions: [] });
  await store.close();
  log(`year fixture: ${transitions.length} transitions in ${Math.round((performance.now() - started) / 1000)} s; writing hour rollups`);

  // Hour rollups of every check, instance and service, straight into the tables.
  const direct = await openSqliteStore({ path, checkpoints: 'inline' });
  const db = direct.db;
  const refs = db.prepare('SELECT id, instance_id, service_id FROM checks ORDER BY id').raw().all() as Array<[number, number, number]>;
  const cols = 'count, failures, min_us, sum_us, p95_us, max_us, healthy, degraded, unhealthy, unknown, min_score, sum_score, score_count';
  const insCheck = db.prepare(`INSERT INTO rollups_hour (check_ref, bucket, ${cols}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
  const insGroup = db.prepare(`INSERT INTO group_rollups_hour (level, ref, bucket, ${cols}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
  const hours = (YEAR_END - YEAR_START) / HOUR;
  const perDay = db.transaction((day: number) => {
    for (let h = day * 24; h < Math.min(hours, day * 24 + 24); h++) {
      const bucket = YEAR_START + h * HOUR;
      const services = new Map<number, number[]>();
      for (const [ref, inst, svc] of refs) {
        const failures = random() < 0.01 ? Math.floor(random() * 30) : 0;
        const mean = 20_000 + Math.floor(random() * 10_000);
        const row = [
          360,
          failures,
          2_000,
          mean * 360,
          mean * 3,
          mean * 10,
          360 - failures,
          0,
          failures,
          0,
          failures ? 0 : 100,
          (360 - failures) * 100,
          360,
        ] as const;
        insCheck.run(ref, bucket, ...row);
        insGroup.run(1, inst, bucket, ...row);
        const agg = services.get(svc) ?? [0, 0, Infinity, 0, 0, 0];
        agg[0]! += 360;
        agg[1]! += failures;
        agg[2] = Math.min(agg[2]!, 2_000);
        agg[3]! += mean * 360;
        agg[4] = Math.max(agg[4]!, mean * 3);
        agg[5] = Math.max(agg[5]!, mean * 10);
        services.set(svc, agg);
      }
      for (const [svc, [count, failures, min, sum, p95, max]] of services) {
        insGroup.run(
          2,
          svc,
          bucket,
          count!,
          failures!,
          min!,
          sum!,
          p95!,
          max!,
          count! - failures!,
          0,
          failures!,
          0,
          failures ? 0 : 100,
          (count! - failures!) * 100,
          count!,
        );
      }
    }
  });
  for (let d = 0; d < 365; d++) {
    perDay(d);
    if (d % 60 === 0) log(`year fixture: rollups of day ${d} (${Math.round((performance.now() - started) / 1000)} s)`);
  }
  db.prepare("UPDATE meta SET value = value + ? WHERE key = 'rollups_hour'").run(refs.length * hours);
  await direct.close();
  writeFileSync(`${path}.done`, 'ok\n');
  log(`year fixture done in ${Math.round((performance.now() - started) / 1000)} s`);
  return path;
}
