/**
 * The uptime case of bench/store (`--uptime`): a year of instance and
 * service transitions for 1,000 instances (50 services of 20), written
 * through the store's write path in time order as the daemon writes them,
 * then one uptime query per instance over a year whose ends fall inside a
 * day (so both partial days are read from the transition rows), and one per
 * service.
 *
 * Realistic load, per instance and day: on average `incidentsPerDay`
 * incidents (UNHEALTHY for 1 to 20 min, then HEALTHY), a DEGRADED spell
 * every ~5 days, and a restart (UNKNOWN for a minute) every ~30 days. With
 * the default 2 incidents a day that is ~4.5 instance transitions per
 * instance per day, ~1.6M for the year; each service changes with its
 * instances' incidents (~40k a service).
 */
import { seeded } from '../../src/core/random.js';
import type { HealthStatus } from '../../src/core/status.js';
import { openSqliteStore } from '../../src/store/sqlite.js';
import type { TransitionRecord } from '../../src/store/types.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

export interface UptimeCaseOptions {
  path: string;
  instances: number;
  days: number;
  incidentsPerDay: number;
  /** End of the generated year, epoch ms. */
  end: number;
}

/** One instance's transitions over [start, end), in time order. */
function instanceTimeline(service: string, instance: string, start: number, end: number, perDay: number, random: () => number): TransitionRecord[] {
  const out: TransitionRecord[] = [];
  let status: HealthStatus = 'UNKNOWN';
  const to = (at: number, next: HealthStatus) => {
    out.push({ level: 'instance', checkId: '', service, instance, from: status, to: next, reason: 'rollup', output: `${service}/${instance}/http`, at });
    status = next;
  };
  let at = start + Math.floor(random() * MIN);
  to(at, 'HEALTHY');
  // Events arrive as a Poisson process: incidents, degraded spells and restarts.
  const rate = perDay + 0.2 + 1 / 30;
  while (at < end) {
    at += Math.max(1000, Math.floor((-Math.log(1 - random()) / rate) * DAY));
    const kind = random() * rate;
    const lasts = kind < perDay ? MIN + Math.floor(random() * 19 * MIN) : kind < perDay + 0.2 ? 10 * MIN + Math.floor(random() * HOUR) : MIN;
    if (at + lasts >= end) break;
    to(at, kind < perDay ? 'UNHEALTHY' : kind < perDay + 0.2 ? 'DEGRADED' : 'UNKNOWN');
    at += lasts;
    to(at, 'HEALTHY');
  }
  return out;
}

/** A service's transitions from its instances': UNHEALTHY while more than 2 of its instances are down, else DEGRADED while any is. */
function serviceTimeline(service: string, instances: TransitionRecord[][]): TransitionRecord[] {
  const merged = instances.flat().sort((a, b) => a.at - b.at);
  const down = new Map<string, boolean>();
  const out: TransitionRecord[] = [];
  let status: HealthStatus = 'UNKNOWN';
  for (const t of merged) {
    down.set(t.instance, t.to !== 'HEALTHY');
    let n = 0;
    for (const d of down.values()) if (d) n++;
    const next: HealthStatus = n > 2 ? 'UNHEALTHY' : n > 0 ? 'DEGRADED' : 'HEALTHY';
    if (next !== status) {
      out.push({
        level: 'service',
        checkId: '',
        service,
        instance: '',
        from: status,
        to: next,
        reason: 'rollup',
        output: `${service}/${t.instance}`,
        at: t.at,
      });
      status = next;
    }
  }
  return out;
}

function quantiles(times: number[]): { p50: number; p99: number; max: number } {
  const s = [...times].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))]!;
  const r = (x: number) => Math.round(x * 1000) / 1000;
  return { p50: r(q(0.5)), p99: r(q(0.99)), max: r(s[s.length - 1]!) };
}

/** Load the year and time the queries; returns the figures to print. */
export async function runUptimeCase(o: UptimeCaseOptions): Promise<Record<string, unknown>> {
  const random = seeded(99);
  const start = o.end - o.days * DAY;
  const services = Math.ceil(o.instances / 20);
  const all: TransitionRecord[] = [];
  const subjects: { service: string; instance?: string }[] = [];
  for (let s = 0; s < services; s++) {
    const service = `svc${s}`;
    const timelines: TransitionRecord[][] = [];
    for (let i = 0; i < 20 && s * 20 + i < o.instances; i++) {
      const instance = `i${i}`;
      timelines.push(instanceTimeline(service, instance, start, o.end, o.incidentsPerDay, random));
      subjects.push({ service, instance });
    }
    all.push(...timelines.flat(), ...serviceTimeline(service, timelines));
    subjects.push({ service });
  }
  all.sort((a, b) => a.at - b.at);
  const store = await openSqliteStore({ path: o.path, writes: 'worker', sortRows: true });
  try {
    const loadStarted = performance.now();
    for (let i = 0; i < all.length; i += 20_000) await store.write({ results: [], transitions: all.slice(i, i + 20_000) });
    const loadSeconds = (performance.now() - loadStarted) / 1000;
    // Ends inside a day: the partial days at both ends come from the transition rows.
    const from = start + 7 * HOUR + 12_345;
    const to = o.end - 5 * HOUR - 6_789;
    const timeAll = async (subjectsOf: typeof subjects, range: [number, number]) => {
      const times: number[] = [];
      const cpu = process.cpuUsage();
      const started = performance.now();
      let incidents = 0;
      let uptime = 0;
      for (const q of subjectsOf) {
        const t = performance.now();
        const u = await store.queryUptime({ ...q, from: range[0], to: range[1] });
        times.push(performance.now() - t);
        incidents += u.incidents;
        uptime += u.uptimePercent ?? 0;
      }
      const wall = performance.now() - started;
      const used = process.cpuUsage(cpu);
      return {
        totalMs: Math.round(wall * 10) / 10,
        // CPU of the whole process over the queries: what they cost, apart from waiting for a core on a busy machine.
        cpuMs: Math.round((used.user + used.system) / 100) / 10,
        perQueryMs: quantiles(times),
        meanUptimePercent: Math.round((uptime / subjectsOf.length) * 1000) / 1000,
        incidents,
      };
    };
    const instanceSubjects = subjects.filter((s) => s.instance !== undefined);
    const serviceSubjects = subjects.filter((s) => s.instance === undefined);
    // Twice: the first pass warms the page cache as a running daemon's would be.
    await timeAll(instanceSubjects, [from, to]);
    const year = await timeAll(instanceSubjects, [from, to]);
    const month = await timeAll(instanceSubjects, [to - 30 * DAY, to]);
    const servicesYear = await timeAll(serviceSubjects, [from, to]);
    const stats = await store.stats();
    return {
      bench: 'store-uptime',
      instances: instanceSubjects.length,
      services: serviceSubjects.length,
      days: o.days,
      transitions: { instance: all.filter((t) => t.level === 'instance').length, service: all.filter((t) => t.level === 'service').length },
      load: { seconds: Math.round(loadSeconds * 10) / 10, transitionsPerSecond: Math.round(all.length / loadSeconds) },
      uptimeYearAllInstances: year,
      uptime30dAllInstances: month,
      uptimeYearAllServices: servicesYear,
      bytes: stats.bytes,
      node: process.version,
    };
  } finally {
    await store.close();
  }
}
