import type { HealthStatus } from '../core/status.js';
import { severity } from '../core/status.js';

/** Minutes a sparkline covers (the mesh view shows the last hour). */
export const SPARK_MINUTES = 60;
const MINUTE_MS = 60_000;

/** Status of each severity rank (severity() is its inverse). */
const BY_SEVERITY: readonly HealthStatus[] = ['HEALTHY', 'DEGRADED', 'UNKNOWN', 'UNHEALTHY'];

/** One service's minute buckets, in a ring indexed by minute number. */
interface Ring {
  /** Minute number (epoch ms / 60 000) each slot holds, or -1. */
  minute: Int32Array;
  /** Lowest service score seen in the minute (0–100). */
  minScore: Uint8Array;
  /** Worst service status seen in the minute, as a severity rank. */
  worst: Uint8Array;
  /** Result durations of the minute, ms: sum, count and max (for the latency badge). */
  latencySum: Float64Array;
  latencyCount: Uint32Array;
  latencyMax: Float64Array;
}

/** A past minute of a service, as read from the store. */
export interface WarmMinute {
  score: number;
  worst: HealthStatus;
  latencySum: number;
  latencyCount: number;
  latencyMax: number;
}

/** Latency of a service over recent minutes, ms. */
export interface RecentLatency {
  avgMs: number;
  maxMs: number;
  /** Results the figures come from. */
  count: number;
}

/**
 * The last hour of every service, one bucket a minute, kept in memory so the
 * mesh view gets 1,000 sparklines in one cheap request instead of 10,000
 * rollup queries (the store's minute rollups also lag by a minute and a
 * half). Fed with O(1) work per result; memory is fixed per service (a few
 * kilobytes). After a restart, the minutes before it are read back from the
 * store (web-sparkline-warmup.ts).
 */
export class Sparklines {
  private readonly rings = new Map<string, Ring>();

  /** Fold a service's current score and status into the bucket of `now`. */
  observe(service: string, score: number, status: HealthStatus, now: number): void {
    const ring = this.ring(service);
    const slot = this.slot(ring, now);
    if (score < ring.minScore[slot]!) ring.minScore[slot] = score;
    const rank = severity(status);
    if (rank > ring.worst[slot]!) ring.worst[slot] = rank;
  }

  /** Fold one result's duration into the bucket of `now`. */
  observeLatency(service: string, durationMs: number, now: number): void {
    const ring = this.ring(service);
    const slot = this.slot(ring, now);
    ring.latencySum[slot]! += durationMs;
    ring.latencyCount[slot]!++;
    if (durationMs > ring.latencyMax[slot]!) ring.latencyMax[slot] = durationMs;
  }

  /**
   * Lowest score of each of the last SPARK_MINUTES minutes, oldest first,
   * null for a minute with no data. The last entry is the current minute.
   */
  scores(service: string, now: number): Array<number | null> {
    const ring = this.rings.get(service);
    const out = new Array<number | null>(SPARK_MINUTES).fill(null);
    if (!ring) return out;
    const current = Math.floor(now / MINUTE_MS);
    for (let i = 0; i < SPARK_MINUTES; i++) {
      const minute = current - (SPARK_MINUTES - 1 - i);
      const slot = minute % SPARK_MINUTES;
      if (ring.minute[slot] === minute) out[i] = ring.minScore[slot]!;
    }
    return out;
  }

  /** Worst status of each of the last SPARK_MINUTES minutes, oldest first (null: no data). */
  statuses(service: string, now: number): Array<HealthStatus | null> {
    const ring = this.rings.get(service);
    const out = new Array<HealthStatus | null>(SPARK_MINUTES).fill(null);
    if (!ring) return out;
    const current = Math.floor(now / MINUTE_MS);
    for (let i = 0; i < SPARK_MINUTES; i++) {
      const minute = current - (SPARK_MINUTES - 1 - i);
      const slot = minute % SPARK_MINUTES;
      if (ring.minute[slot] === minute) out[i] = BY_SEVERITY[ring.worst[slot]!]!;
    }
    return out;
  }

  /** Latency of the results of the last `minutes` minutes (1..60), or null when there were none. */
  latency(service: string, now: number, minutes: number): RecentLatency | null {
    const ring = this.rings.get(service);
    if (!ring) return null;
    const current = Math.floor(now / MINUTE_MS);
    let sum = 0;
    let count = 0;
    let max = 0;
    for (let minute = current - Math.min(minutes, SPARK_MINUTES) + 1; minute <= current; minute++) {
      const slot = minute % SPARK_MINUTES;
      if (ring.minute[slot] !== minute) continue;
      sum += ring.latencySum[slot]!;
      count += ring.latencyCount[slot]!;
      max = Math.max(max, ring.latencyMax[slot]!);
    }
    return count === 0 ? null : { avgMs: sum / count, maxMs: max, count };
  }

  /**
   * Fill one past minute from stored history (web-sparkline-warmup.ts), unless
   * the daemon has seen it live or it is outside the last SPARK_MINUTES of `now`.
   */
  warm(service: string, minuteStart: number, now: number, figures: WarmMinute): void {
    const minute = Math.floor(minuteStart / MINUTE_MS);
    const current = Math.floor(now / MINUTE_MS);
    if (minute > current || minute <= current - SPARK_MINUTES) return;
    const ring = this.ring(service);
    const slot = minute % SPARK_MINUTES;
    if (ring.minute[slot] === minute) return;
    ring.minute[slot] = minute;
    ring.minScore[slot] = Math.max(0, Math.min(100, Math.round(figures.score)));
    ring.worst[slot] = severity(figures.worst);
    ring.latencySum[slot] = figures.latencySum;
    ring.latencyCount[slot] = figures.latencyCount;
    ring.latencyMax[slot] = figures.latencyMax;
  }

  /** Forget a service that is gone. */
  forget(service: string): void {
    this.rings.delete(service);
  }

  private ring(service: string): Ring {
    let ring = this.rings.get(service);
    if (!ring) {
      ring = {
        minute: new Int32Array(SPARK_MINUTES).fill(-1),
        minScore: new Uint8Array(SPARK_MINUTES),
        worst: new Uint8Array(SPARK_MINUTES),
        latencySum: new Float64Array(SPARK_MINUTES),
        latencyCount: new Uint32Array(SPARK_MINUTES),
        latencyMax: new Float64Array(SPARK_MINUTES),
      };
      this.rings.set(service, ring);
    }
    return ring;
  }

  /** The slot of `now`'s minute, emptied first when it still holds an older minute. */
  private slot(ring: Ring, now: number): number {
    const minute = Math.floor(now / MINUTE_MS);
    const slot = minute % SPARK_MINUTES;
    if (ring.minute[slot] !== minute) {
      ring.minute[slot] = minute;
      ring.minScore[slot] = 100;
      ring.worst[slot] = 0;
      ring.latencySum[slot] = 0;
      ring.latencyCount[slot] = 0;
      ring.latencyMax[slot] = 0;
    }
    return slot;
  }
}
