/**
 * History written before a daemon starts, through the project's own SQLite
 * store (the file the daemon then opens): results with past timestamps,
 * the check, instance and service transitions they imply, and the rollups
 * the store's own maintenance computes from them. The dashboard's e2e tests
 * then read real rollups, transitions, uptime and SLOs from the daemon, and
 * assert on figures computed here from what was written.
 */
import type { HealthStatus } from '../../../src/core/status.js';
import { checkScore } from '../../../src/status/rollup.js';
import { openSqliteStore } from '../../../src/store/sqlite.js';
import type { ResultRecord, TransitionRecord } from '../../../src/store/types.js';

const MINUTE = 60_000;
const DAY = 86_400_000;

/** One seeded check: `service/instance/name`. */
export interface SeedCheck {
  service: string;
  instance: string;
  name: string;
  kind: string;
}

export interface SeedOptions {
  /** Now as the seed sees it (default Date.now()). */
  now?: number;
  /** Minutes of results, ending `gapMinutes` before now on a minute boundary (default 60). */
  minutes?: number;
  /** Whole minutes left empty between the last seeded minute and now (default 2, so every seeded minute is rolled up). */
  gapMinutes?: number;
  /** Results per check and minute (default 6, one each 10 s). */
  perMinute?: number;
  /** Minutes [first, last) (indices into the seeded minutes) in which the given services' checks fail. */
  outage?: { services: string[]; first: number; last: number };
  /** Latency of result k of minute i, ms (default: rising slowly with a wobble). */
  latency?: (minute: number, k: number, check: SeedCheck) => number;
  /** The check timeout the scores are computed against, ms (default 500). */
  timeoutMs?: number;
  /** Earlier UTC days of instance and service transitions (uptime per day), each day [service, incident start ms into the day, incident length ms]. */
  pastIncidents?: Array<{ service: string; daysAgo: number; atMs: number; lengthMs: number }>;
  /** Days before the seeded hour that the services were first seen HEALTHY (default: at the first seeded minute). */
  knownForDays?: number;
}

/** What was written, for the tests' expectations. */
export interface Seeded {
  /** First seeded minute start and the end of the last one: [from, to). */
  from: number;
  to: number;
  minutes: number;
  perMinute: number;
  /** Outage [from, to), or null. */
  outage: { from: number; to: number } | null;
  results: ResultRecord[];
  /** Results of one check. */
  of(checkId: string): ResultRecord[];
}

export const defaultLatency = (i: number, k: number): number => Math.round((12 + i * 0.6 + 4 * Math.sin(i / 5) + ((k * 7) % 5)) * 10) / 10;

/** Write the history into the SQLite file at `path` (created if missing), roll it up and close it. */
export async function seedHistory(path: string, checks: SeedCheck[], options: SeedOptions = {}): Promise<Seeded> {
  const now = options.now ?? Date.now();
  const minutes = options.minutes ?? 60;
  const perMinute = options.perMinute ?? 6;
  const timeoutMs = options.timeoutMs ?? 500;
  const latency = options.latency ?? defaultLatency;
  const to = Math.floor(now / MINUTE) * MINUTE - (options.gapMinutes ?? 2) * MINUTE;
  const from = to - minutes * MINUTE;
  const out = options.outage;
  const failing = (service: string, i: number): boolean => !!out && out.services.includes(service) && i >= out.first && i < out.last;

  const results: ResultRecord[] = [];
  const transitions: TransitionRecord[] = [];
  const firstSeen = from - (options.knownForDays ?? 0) * DAY;
  const transition = (t: Omit<TransitionRecord, 'reason' | 'output'> & { reason?: string; output?: string }): void => {
    transitions.push({ reason: 'rollup', output: '', ...t });
  };

  const instances = new Map<string, SeedCheck>();
  for (const c of checks) instances.set(`${c.service}/${c.instance}`, c);
  const services = [...new Set(checks.map((c) => c.service))];

  for (const c of checks) {
    const checkId = `${c.service}/${c.instance}/${c.name}`;
    let success = 1;
    let status: HealthStatus = 'UNKNOWN';
    for (let i = 0; i < minutes; i++) {
      for (let k = 0; k < perMinute; k++) {
        const observedAt = from + i * MINUTE + Math.floor((k * MINUTE) / perMinute) + 137;
        const down = failing(c.service, i);
        const next: HealthStatus = down ? 'UNHEALTHY' : 'HEALTHY';
        const durationMs = down ? 0.4 : latency(i, k, c);
        success = 0.8 * success + 0.2 * (down ? 0 : 1);
        const score = Math.round(checkScore(next, success, durationMs, timeoutMs));
        const reason = down ? 'connect_refused' : 'ok';
        const output = down ? `connect ECONNREFUSED ${c.instance}` : `connected in ${durationMs} ms`;
        if (next !== status) {
          transition({
            checkId,
            service: c.service,
            instance: c.instance,
            from: status,
            to: next,
            reason,
            output,
            at: status === 'UNKNOWN' ? Math.min(observedAt, firstSeen) : observedAt,
            level: 'check',
          });
          status = next;
        }
        results.push({
          checkId,
          service: c.service,
          instance: c.instance,
          kind: c.kind,
          status: next,
          reason,
          durationMs,
          observedAt,
          attempts: 1,
          output,
          metrics: null,
          checkScore: score,
          instanceScore: score,
        });
      }
    }
  }

  // Instances and services: first seen HEALTHY, then past incidents, then the seeded outage.
  const changes = (service: string): Array<[number, HealthStatus]> => {
    const list: Array<[number, HealthStatus]> = [];
    for (const p of (options.pastIncidents ?? []).filter((p) => p.service === service)) {
      const dayStart = Math.floor((from - p.daysAgo * DAY) / DAY) * DAY;
      list.push([dayStart + p.atMs, 'UNHEALTHY'], [dayStart + p.atMs + p.lengthMs, 'HEALTHY']);
    }
    if (out?.services.includes(service)) list.push([from + out.first * MINUTE + 137, 'UNHEALTHY'], [from + out.last * MINUTE + 137, 'HEALTHY']);
    return list.filter(([at]) => at > firstSeen).sort((a, b) => a[0] - b[0]);
  };
  for (const service of services) {
    const subjects = [{ instance: '' }, ...[...instances.values()].filter((c) => c.service === service).map((c) => ({ instance: c.instance }))];
    for (const { instance } of subjects) {
      const level = instance ? 'instance' : 'service';
      let prev: HealthStatus = 'UNKNOWN';
      for (const [at, to] of [[firstSeen, 'HEALTHY'] as [number, HealthStatus], ...changes(service)]) {
        transition({ level, checkId: '', service, instance, from: prev, to, at, output: to === 'UNHEALTHY' ? `${service} checks failing` : '' });
        prev = to;
      }
    }
  }

  const store = await openSqliteStore({ path });
  try {
    await store.write({ results, transitions });
    await store.maintain(now);
  } finally {
    await store.close();
  }
  return {
    from,
    to,
    minutes,
    perMinute,
    outage: out ? { from: from + out.first * MINUTE, to: from + out.last * MINUTE } : null,
    results,
    of: (checkId) => results.filter((r) => r.checkId === checkId),
  };
}
