/**
 * A scripted two-day history written into a real SQLite store through its
 * public write path, then rolled up by `maintain`, plus alert records in the
 * same file. The raw rows and the scripted timelines are kept so tests can
 * compute every figure on their own and compare.
 *
 * api/a1 (tcp, http; tag blue, zone eu-1): UNHEALTHY 10:00–12:30 day 1 (timeout), and
 *   UNHEALTHY 06:00–06:20 day 2 then UNKNOWN until 07:00, then HEALTHY (one incident through UNKNOWN).
 * api/a2 (tcp; green, eu-2): DEGRADED 20:00–22:00 day 1.
 * web/w1 (http; blue, eu-2): UNHEALTHY from 16:00 day 2 to the end (open).
 * Everything is UNKNOWN before 00:05 day 1. Results every minute per check, 7 s into the minute, and one
 * late result (11:00:30 day 1 of api/a1/tcp) written last.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AlertRecord, TimelineEntry } from '../../src/alerts/types.js';
import type { HealthStatus } from '../../src/core/status.js';
import { openSqliteAlertStore } from '../../src/store/sqlite-alerts.js';
import { openSqliteStore, type SqliteHistoryStore } from '../../src/store/sqlite.js';
import type { ResultRecord, TransitionRecord } from '../../src/store/types.js';

export const T0 = Date.UTC(2026, 10, 1);
export const MIN = 60_000;
export const HOUR = 3_600_000;
export const DAY = 86_400_000;
export const END = T0 + 2 * DAY;

export type Timeline = Array<[at: number, status: HealthStatus, reason: string]>;

/** Scripted status changes of each instance (from UNKNOWN). */
export const INSTANCE_TIMELINES: Record<string, Timeline> = {
  'api/a1': [
    [T0 + 5 * MIN, 'HEALTHY', 'ok'],
    [T0 + 10 * HOUR, 'UNHEALTHY', 'timeout'],
    [T0 + 12.5 * HOUR, 'HEALTHY', 'ok'],
    [T0 + 30 * HOUR, 'UNHEALTHY', 'connect_refused'],
    [T0 + 30 * HOUR + 20 * MIN, 'UNKNOWN', 'no_data'],
    [T0 + 31 * HOUR, 'HEALTHY', 'ok'],
  ],
  'api/a2': [
    [T0 + 5 * MIN, 'HEALTHY', 'ok'],
    [T0 + 20 * HOUR, 'DEGRADED', 'slow'],
    [T0 + 22 * HOUR, 'HEALTHY', 'ok'],
  ],
  'web/w1': [
    [T0 + 5 * MIN, 'HEALTHY', 'ok'],
    [T0 + 40 * HOUR, 'UNHEALTHY', 'status_mismatch'],
  ],
};

/** Scripted service statuses. */
export const SERVICE_TIMELINES: Record<string, Timeline> = {
  api: [
    [T0 + 5 * MIN, 'HEALTHY', 'rollup'],
    [T0 + 10 * HOUR, 'DEGRADED', 'rollup'],
    [T0 + 12.5 * HOUR, 'HEALTHY', 'rollup'],
    [T0 + 20 * HOUR, 'DEGRADED', 'rollup'],
    [T0 + 22 * HOUR, 'HEALTHY', 'rollup'],
    [T0 + 30 * HOUR, 'DEGRADED', 'rollup'],
    [T0 + 31 * HOUR, 'HEALTHY', 'rollup'],
  ],
  web: [
    [T0 + 5 * MIN, 'HEALTHY', 'rollup'],
    [T0 + 40 * HOUR, 'UNHEALTHY', 'rollup'],
  ],
};

export const CHECKS = ['api/a1/tcp', 'api/a1/http', 'api/a2/tcp', 'web/w1/http'];

export const FIXTURE_YAML = `
storage: { path: PATH }
alerts:
  maintenance:
    - { name: web-upgrade, matchers: { service: web }, start: "2026-11-02T20:00:00Z", end: "2026-11-02T22:00:00Z" }
services:
  api:
    instances:
      - { id: a1, address: "10.0.0.1:80", tags: [blue], zone: eu-1 }
      - { id: a2, address: "10.0.0.2:80", tags: [green], zone: eu-2 }
    checks: [{ kind: tcp }]
  web:
    instances: [{ id: w1, address: "10.0.1.1:80", tags: [blue], zone: eu-2 }]
    checks: [{ kind: http, path: / }]
`;

/** Status of a timeline at t (UNKNOWN before its first change). */
export function statusAt(timeline: Timeline, t: number): { status: HealthStatus; reason: string } {
  let cur: { status: HealthStatus; reason: string } = { status: 'UNKNOWN', reason: 'no_data' };
  for (const [at, status, reason] of timeline) if (at <= t) cur = { status, reason };
  return cur;
}

/** A deterministic duration, ms (1 µs steps), by check, time and status. */
function durationOf(checkIndex: number, k: number, status: HealthStatus): number {
  let x = (k * 2654435761 + checkIndex * 40503) >>> 0;
  x ^= x >>> 13;
  x = Math.imul(x, 0x5bd1e995) >>> 0;
  const base = status === 'UNHEALTHY' ? 900 : status === 'DEGRADED' ? 300 : 5;
  return base + (x % 45_000) / 1000;
}

const SCORE: Record<HealthStatus, number | null> = { HEALTHY: 100, DEGRADED: 50, UNHEALTHY: 0, UNKNOWN: null };

export interface Fixture {
  dir: string;
  path: string;
  store: SqliteHistoryStore;
  results: ResultRecord[];
  close(): Promise<void>;
}

/** Write the fixture into a new store file (in a temp dir), roll it up, add alerts. */
export async function writeFixture(options: { alerts?: boolean } = {}): Promise<Fixture> {
  const dir = mkdtempSync(join(tmpdir(), 'hm-reports-'));
  const path = join(dir, 'history.db');
  const store = await openSqliteStore({ path, checkpoints: 'inline' });
  const results: ResultRecord[] = [];
  const transitions: TransitionRecord[] = [];
  CHECKS.forEach((checkId) => {
    const [service, instance] = checkId.split('/') as [string, string];
    for (const [at, to, reason] of INSTANCE_TIMELINES[`${service}/${instance}`]!) {
      const from = statusAt(INSTANCE_TIMELINES[`${service}/${instance}`]!, at - 1).status;
      transitions.push({ level: 'check', checkId, service, instance, from, to, reason, output: `${checkId} ${reason}`, at });
    }
  });
  for (const [key, timeline] of Object.entries(INSTANCE_TIMELINES)) {
    const [service, instance] = key.split('/') as [string, string];
    for (const [at, to] of timeline)
      transitions.push({
        level: 'instance',
        checkId: '',
        service,
        instance,
        from: statusAt(timeline, at - 1).status,
        to,
        reason: 'rollup',
        output: `${key} is ${to}`,
        at,
      });
  }
  for (const [service, timeline] of Object.entries(SERVICE_TIMELINES)) {
    for (const [at, to] of timeline)
      transitions.push({
        level: 'service',
        checkId: '',
        service,
        instance: '',
        from: statusAt(timeline, at - 1).status,
        to,
        reason: 'rollup',
        output: `${service} is ${to}`,
        at,
      });
  }
  transitions.sort((a, b) => a.at - b.at);
  for (let k = 0; k < (END - T0) / MIN; k++) {
    const t = T0 + k * MIN + 7_000;
    CHECKS.forEach((checkId, i) => {
      const [service, instance] = checkId.split('/') as [string, string];
      const { status, reason } = statusAt(INSTANCE_TIMELINES[`${service}/${instance}`]!, t);
      results.push({
        checkId,
        service,
        instance,
        kind: checkId.endsWith('http') ? 'http' : 'tcp',
        status,
        reason,
        durationMs: durationOf(i, k, status),
        observedAt: t,
        attempts: 1,
        output: `${reason} after ${k}`,
        metrics: null,
        checkScore: SCORE[status],
        instanceScore: SCORE[status],
      });
    });
  }
  // One batch per hour, transitions with the hour they fall in, as a daemon's flushes would.
  let ti = 0;
  for (let h = T0; h < END; h += HOUR) {
    const rs = results.filter((r) => r.observedAt >= h && r.observedAt < h + HOUR);
    const ts: TransitionRecord[] = [];
    while (ti < transitions.length && transitions[ti]!.at < h + HOUR) ts.push(transitions[ti++]!);
    await store.write({ results: rs, transitions: ts });
  }
  // A late row: a result of 11:00 day 1 arriving with the last flush, so its minute's rowid range spans the
  // whole file (readers must go by time, and read long ranges in slices).
  const late: ResultRecord = {
    ...results.find((r) => r.checkId === 'api/a1/tcp' && r.observedAt === T0 + 11 * HOUR + 7_000)!,
    observedAt: T0 + 11 * HOUR + 30_000,
    durationMs: 977.5,
    output: 'late',
  };
  results.push(late);
  await store.write({ results: [late], transitions: [] });
  await store.maintain(END + HOUR, { lateMs: 0 });
  if (options.alerts !== false) await writeAlerts(path);
  return {
    dir,
    path,
    store,
    results,
    async close() {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function record(
  id: string,
  rule: string,
  labels: Record<string, string>,
  state: AlertRecord['state'],
  timeline: TimelineEntry[],
  summary: string,
): AlertRecord {
  const fired = timeline.filter((e) => e.type === 'firing').map((e) => e.at);
  const resolved = timeline.filter((e) => e.type === 'resolved').map((e) => e.at);
  return {
    id,
    rule,
    labels: { rule, ...labels },
    annotations: {},
    level: 'critical',
    state,
    activeSince: timeline[0]!.at,
    firedAt: fired.length ? fired[fired.length - 1]! : null,
    resolvedAt: resolved.length ? resolved[resolved.length - 1]! : null,
    value: null,
    summary,
    reminders: 0,
    notified: true,
    foldedInto: null,
    lastRemediationAt: null,
    timeline,
    updatedAt: timeline[timeline.length - 1]!.at,
  };
}

/** Alert records matching the scripted incidents. */
export const ALERTS: AlertRecord[] = [
  record(
    'a1-down',
    'instance_down',
    { service: 'api', instance: 'a1' },
    'resolved',
    [
      { at: T0 + 10 * HOUR + 2 * MIN, type: 'firing' },
      { at: T0 + 10 * HOUR + 2 * MIN + 1000, type: 'delivered', notifier: 'ops-mail' },
      { at: T0 + 10 * HOUR + 2 * MIN + 1000, type: 'delivery_failed', notifier: 'hook', detail: 'HTTP 503' },
      { at: T0 + 12.5 * HOUR + MIN, type: 'resolved' },
      { at: T0 + 12.5 * HOUR + MIN + 1000, type: 'delivered', notifier: 'ops-mail' },
      { at: T0 + 30 * HOUR + MIN, type: 'firing' },
      { at: T0 + 30 * HOUR + MIN + 1000, type: 'delivered', notifier: 'ops-mail' },
      { at: T0 + 31 * HOUR + MIN, type: 'resolved' },
    ],
    'a1 is UNHEALTHY',
  ),
  record(
    'w1-down',
    'instance_down',
    { service: 'web', instance: 'w1' },
    'firing',
    [
      { at: T0 + 40 * HOUR + MIN, type: 'firing' },
      { at: T0 + 40 * HOUR + MIN + 1000, type: 'delivered', notifier: 'ops-mail' },
    ],
    'w1 is UNHEALTHY',
  ),
  record(
    'web-slow',
    'latency_high',
    { service: 'web' },
    'firing',
    [
      { at: T0 + 40 * HOUR + 2 * MIN, type: 'firing' },
      { at: T0 + 40 * HOUR + 2 * MIN, type: 'suppressed', detail: 'folded into w1-down' },
    ],
    'web p95 high',
  ),
];

async function writeAlerts(path: string): Promise<void> {
  const alerts = openSqliteAlertStore({ path });
  await alerts.saveAlerts(ALERTS);
  await alerts.close();
}
