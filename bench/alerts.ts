/**
 * bench/alerts: two figures of the alerting module. Prints JSON.
 *
 * 1. Rule evaluations per second: 10k checks (100 services × 100 checks) and
 *    1k rules (900 matching one service each, 100 matching every service, a
 *    mix of status, reason and threshold conditions), fed results through
 *    the AlertInput port on a FakeClock (1 % of results failing), so the
 *    figure is the engine's CPU alone.
 * 2. Time from a transition fed to the port to the notifier's HTTP request
 *    arriving at a real receiver on 127.0.0.1 (real clock, webhook
 *    notifier, the outbox on the memory store and on SQLite with
 *    synchronous NORMAL and FULL), minus group_wait: p50 and p99.
 *
 *   npm run build && node dist/bench/alerts.js [--rounds 20] [--transitions 200] [--group-wait-ms 0]
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createAlerting } from '../src/alerts/alerting.js';
import type { AlertTopology, CheckRef } from '../src/alerts/input.js';
import { MemoryAlertStore } from '../src/alerts/memory-store.js';
import type { AlertStore } from '../src/alerts/store.js';
import { alertsSchema } from '../src/config/alerts.js';
import { FakeClock, realClock } from '../src/core/clock.js';
import { realRandom, seeded } from '../src/core/random.js';
import type { HealthStatus } from '../src/core/status.js';
import { openSqliteAlertStore } from '../src/store/sqlite-alerts.js';
import { round3 } from './lib/stats.js';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '20' },
    transitions: { type: 'string', default: '200' },
    'group-wait-ms': { type: 'string', default: '0' },
  },
});
const ROUNDS = Number(values.rounds);
const TRANSITIONS = Number(values.transitions);
const GROUP_WAIT_MS = Number(values['group-wait-ms']);
const SERVICES = 100;
const CHECKS_PER_SERVICE = 100;
/** Longest a phase may run, ms: the loops stop early past it. */
const PHASE_LIMIT_MS = 120_000;

const logger = { info() {}, warn() {}, error() {} };
const topology: AlertTopology = { instance: () => ({ tags: [] }), dependsOn: () => [] };

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? NaN;
}

function ruleSet(): unknown[] {
  const rules: unknown[] = [];
  for (let i = 0; i < 900; i++) {
    const service = `svc${i % SERVICES}`;
    const kind = i % 3;
    if (kind === 0) rules.push({ name: `r${i}`, match: { service }, when: { kind: 'status', is: 'UNHEALTHY' }, for: '30s' });
    else if (kind === 1) rules.push({ name: `r${i}`, match: { service }, when: { kind: 'reason', reason: 'connect' } });
    else rules.push({ name: `r${i}`, match: { service }, when: { kind: 'threshold', series: 'latency_ms', agg: 'avg', window: '1m', op: '>', value: 500 } });
  }
  for (let i = 900; i < 1000; i++) {
    const kind = i % 4;
    if (kind === 0) rules.push({ name: `r${i}`, match: { service: 'svc*' }, when: { kind: 'status', is: ['UNHEALTHY', 'DEGRADED'] } });
    else if (kind === 1) rules.push({ name: `r${i}`, match: { check: `c${i % CHECKS_PER_SERVICE}` }, when: { kind: 'status' } });
    else if (kind === 2) rules.push({ name: `r${i}`, when: { kind: 'reason', reason: 'tls', metric: { name: 'days_left', op: '<', value: 14 } } });
    else rules.push({ name: `r${i}`, when: { kind: 'threshold', series: 'failure', agg: 'avg', window: '5m', op: '>', value: 0.5, min_samples: 5 } });
  }
  return rules;
}

async function evaluations(): Promise<Record<string, number>> {
  const clock = new FakeClock(1_767_571_200_000);
  const config = alertsSchema.parse({ notifiers: { log: { kind: 'log' } }, defaults: { notify: ['log'] }, rules: ruleSet() });
  const alerting = createAlerting({ config, clock, random: seeded(1), logger, store: new MemoryAlertStore(), topology });
  const random = seeded(7);
  const refs: CheckRef[] = [];
  for (let s = 0; s < SERVICES; s++) {
    for (let c = 0; c < CHECKS_PER_SERVICE; c++)
      refs.push({ checkId: `svc${s}/i${c % 4}/c${c}`, service: `svc${s}`, instance: `i${c % 4}`, check: `c${c}`, kind: 'http' });
  }
  const feed = (): void => {
    for (const check of refs) {
      const failing = random() < 0.01;
      const status: HealthStatus = failing ? 'UNHEALTHY' : 'HEALTHY';
      alerting.input.result({
        check,
        status,
        result: { status, reason: failing ? 'connect_refused' : 'ok', output: '', durationMs: 20 + random() * 30, observedAt: clock.now() },
      });
    }
    clock.advance(10_000);
  };
  // The first round fills the per-subject rule cache (every rule matched against every check once).
  const t0 = performance.now();
  feed();
  const firstRoundMs = performance.now() - t0;
  const before = alerting.engine.evaluations;
  let results = 0;
  const started = performance.now();
  const cpu0 = process.cpuUsage();
  for (let round = 1; round < ROUNDS && performance.now() - started < PHASE_LIMIT_MS; round++) {
    feed();
    results += refs.length;
  }
  const wallMs = performance.now() - started;
  const cpu = process.cpuUsage(cpu0);
  const evals = alerting.engine.evaluations - before;
  const alerts = alerting.engine.records().length;
  await alerting.stop();
  return {
    checks: refs.length,
    first_round_ms_cold_cache: Math.round(firstRoundMs),
    rules: config.rules.length,
    results_after_first_round: results,
    rule_evaluations: evals,
    evaluations_per_result: round3(evals / results),
    evaluations_per_second: Math.round(evals / (wallMs / 1000)),
    results_per_second: Math.round(results / (wallMs / 1000)),
    cpu_us_per_result: round3((cpu.user + cpu.system) / results),
    alerts_held: alerts,
  };
}

async function latency(store: AlertStore): Promise<Record<string, number>> {
  const arrivals = new Map<string, number>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const at = performance.now();
      const body = JSON.parse(Buffer.concat(chunks).toString()) as { items: Array<{ labels: { instance: string } }> };
      for (const item of body.items) if (!arrivals.has(item.labels.instance)) arrivals.set(item.labels.instance, at);
      res.end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  const config = alertsSchema.parse({
    notifiers: { hook: { kind: 'webhook', url, secret: 'bench-secret-0123456789' } },
    // One group per alert: every transition is its own notification.
    defaults: { notify: ['hook'], group_by: ['...'], group_wait: GROUP_WAIT_MS, group_interval: '5m' },
    rules: [{ name: 'down', when: { kind: 'status', is: 'UNHEALTHY' } }],
  });
  const alerting = createAlerting({ config, clock: realClock, random: realRandom, logger, store, topology });
  await alerting.start();
  const fedAt = new Map<string, number>();
  const started = performance.now();
  for (let i = 0; i < TRANSITIONS && performance.now() - started < PHASE_LIMIT_MS; i++) {
    const instance = `i${i}`;
    fedAt.set(instance, performance.now());
    alerting.input.result({
      check: { checkId: `api/${instance}/http`, service: 'api', instance, check: 'http', kind: 'http' },
      status: 'UNHEALTHY',
      result: { status: 'UNHEALTHY', reason: 'connect_refused', output: '', durationMs: 1, observedAt: realClock.now() },
    });
    await new Promise((r) => setTimeout(r, 10));
  }
  const deadline = performance.now() + 10_000 + GROUP_WAIT_MS;
  while (arrivals.size < fedAt.size && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  await alerting.stop();
  await store.close();
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
  const beyond = [...fedAt]
    .filter(([k]) => arrivals.has(k))
    .map(([k, t]) => arrivals.get(k)! - t - GROUP_WAIT_MS)
    .sort((a, b) => a - b);
  return {
    transitions: fedAt.size,
    delivered: beyond.length,
    group_wait_ms: GROUP_WAIT_MS,
    p50_ms_beyond_group_wait: round3(quantile(beyond, 0.5)),
    p99_ms_beyond_group_wait: round3(quantile(beyond, 0.99)),
    max_ms_beyond_group_wait: round3(beyond[beyond.length - 1] ?? NaN),
  };
}

const dir = mkdtempSync(join(tmpdir(), 'healthmesh-bench-alerts-'));
try {
  const evaluation = await evaluations();
  const memory = await latency(new MemoryAlertStore());
  const sqlite = await latency(openSqliteAlertStore({ path: join(dir, 'alerts.db') }));
  const sqliteFull = await latency(openSqliteAlertStore({ path: join(dir, 'alerts-full.db'), synchronous: 'full' }));
  process.stdout.write(
    `${JSON.stringify({ bench: 'alerts', node: process.version, load_average_1m: round3(loadavg()[0]!), evaluation, transition_to_request: { memory_store: memory, sqlite_store: sqlite, sqlite_store_synchronous_full: sqliteFull } }, null, 2)}\n`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
