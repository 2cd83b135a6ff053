import type { HealthStatus } from '../core/status.js';

const HOUR_MS = 3_600_000;
/** Days are UTC days. */
export const DAY_MS = 86_400_000;

/** The rollup rows the fallback reads (the HistoryStore's Rollup has these and more). */
export interface RollupRow {
  bucketStart: number;
  count: number;
  statusCounts: Record<HealthStatus, number>;
}

/**
 * What per-day uptime is read from. `queryUptime` is the store's exact,
 * transition-based uptime (issue 14); while a store lacks it, uptime is
 * estimated from the check rollups every store keeps.
 */
export interface UptimeStore {
  queryRollups(query: { checkId: string; resolution: 'minute' | 'hour'; from?: number; to?: number }): Promise<readonly RollupRow[]>;
  queryUptime?(query: { service: string; instance?: string; from: number; to: number }): Promise<{ uptimePercent: number | null; incidents: number }>;
}

/** Where a figure came from: the store's uptime, or the share of passing check results in the rollups. */
export type UptimeSource = 'uptime' | 'rollups' | 'none';

/** One UTC day of one service. */
export interface DayUptime {
  /** Start of the day, epoch ms (UTC midnight). */
  start: number;
  /** 0–100, or null when nothing is known of the day. */
  uptimePercent: number | null;
  /** Incidents that began that day (store uptime only), else null. */
  incidents: number | null;
}

/** Most days asked at once (the status page shows 90). */
export const MAX_DAYS = 90;
/** How long an answer is reused: past days do not change, today moves slowly. */
const CACHE_MS = 60_000;
/** Bound on cached answers. */
const CACHE_ENTRIES = 2_000;

/**
 * Per-day and per-period uptime of services. With the store's `queryUptime`
 * it is the exact share of known time HEALTHY or DEGRADED. Without it, it is
 * the share of the service's check results that passed (HEALTHY or
 * DEGRADED) among those with a known status, from the hour rollups (minute
 * rollups for the current hour): an estimate that treats every check alike,
 * stated as `source: "rollups"` in every answer.
 */
export class UptimeDays {
  private readonly dayCache = new TtlCache<DayUptime[]>();
  private readonly periodCache = new TtlCache<number | null>();

  constructor(
    private readonly store: UptimeStore | undefined,
    /** Check ids of a service now (the rollups are per check). */
    private readonly checksOf: (service: string) => string[],
  ) {}

  get source(): UptimeSource {
    return !this.store ? 'none' : this.store.queryUptime ? 'uptime' : 'rollups';
  }

  /** The last `days` UTC days of a service, oldest first; the last one is today (so far). */
  async days(service: string, days: number, now: number): Promise<DayUptime[]> {
    const n = Math.max(1, Math.min(MAX_DAYS, Math.floor(days)));
    return this.dayCache.get(`${service}|${n}`, now, async () => {
      const today = Math.floor(now / DAY_MS) * DAY_MS;
      const starts = Array.from({ length: n }, (_, i) => today - (n - 1 - i) * DAY_MS);
      const store = this.store;
      if (!store) return starts.map((start) => ({ start, uptimePercent: null, incidents: null }));
      if (store.queryUptime) {
        const query = store.queryUptime.bind(store);
        return Promise.all(
          starts.map(async (start) => {
            const u = await query({ service, from: start, to: Math.min(start + DAY_MS, now) });
            return { start, uptimePercent: u.uptimePercent, incidents: u.incidents };
          }),
        );
      }
      const tallies = await this.tallies(store, service, starts[0]!, now, DAY_MS);
      return starts.map((start) => ({ start, uptimePercent: percent(tallies.get(start)), incidents: null }));
    });
  }

  /** Uptime of a service over the last `ms`, or null when nothing is known. */
  async period(service: string, ms: number, now: number): Promise<number | null> {
    return this.periodCache.get(`${service}|${ms}`, now, async () => {
      const store = this.store;
      if (!store) return null;
      if (store.queryUptime) return (await store.queryUptime({ service, from: now - ms, to: now })).uptimePercent;
      const tallies = await this.tallies(store, service, now - ms, now, ms);
      let passed = 0;
      let known = 0;
      for (const t of tallies.values()) {
        passed += t.passed;
        known += t.known;
      }
      return percent({ passed, known });
    });
  }

  /** Passing and known result counts of a service's checks in [from, now), by `step`-long window. */
  private async tallies(store: UptimeStore, service: string, from: number, now: number, step: number): Promise<Map<number, Tally>> {
    const out = new Map<number, Tally>();
    const currentHour = Math.floor(now / HOUR_MS) * HOUR_MS;
    const windowOf = (t: number): number => (step === DAY_MS ? Math.floor(t / DAY_MS) * DAY_MS : from);
    const add = (rows: readonly RollupRow[]): void => {
      for (const r of rows) {
        const c = r.statusCounts;
        const key = windowOf(r.bucketStart);
        const t = out.get(key) ?? { passed: 0, known: 0 };
        t.passed += c.HEALTHY + c.DEGRADED;
        t.known += r.count - c.UNKNOWN;
        out.set(key, t);
      }
    };
    for (const checkId of this.checksOf(service)) {
      // Hour rollups hold every hour but the current one; its minutes are rolled up a minute or so late.
      const [hours, minutes] = await Promise.all([
        store.queryRollups({ checkId, resolution: 'hour', from: Math.floor(from / HOUR_MS) * HOUR_MS, to: currentHour }),
        store.queryRollups({ checkId, resolution: 'minute', from: Math.max(from, currentHour), to: now }),
      ]);
      add(hours.filter((r) => r.bucketStart + HOUR_MS > from));
      add(minutes);
    }
    return out;
  }
}

/** Answers kept for CACHE_MS, at most CACHE_ENTRIES of them. */
class TtlCache<T> {
  private readonly entries = new Map<string, { at: number; value: T }>();

  async get(key: string, now: number, compute: () => Promise<T>): Promise<T> {
    const hit = this.entries.get(key);
    if (hit && now - hit.at < CACHE_MS) return hit.value;
    const value = await compute();
    if (this.entries.size >= CACHE_ENTRIES) this.entries.clear();
    this.entries.set(key, { at: now, value });
    return value;
  }
}

interface Tally {
  passed: number;
  known: number;
}

function percent(t: Tally | undefined): number | null {
  if (!t || t.known === 0) return null;
  return Math.round((t.passed / t.known) * 100_000) / 1000;
}
