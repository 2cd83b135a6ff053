/**
 * Service-level objectives: an availability or latency objective over a
 * window, the error budget left, and the multi-window, multi-burn-rate
 * conditions of Google's SRE workbook (chapter 5): page when both the 1 h and
 * the 5 m burn rates exceed 14.4, or both the 6 h and the 30 m exceed 6;
 * ticket when both the 3 d and the 6 h exceed 1.
 *
 * Counts come through a port, `GoodTotalSource`: good and total events per
 * time bucket, so the same code runs on the store's minute or hour rollups
 * (good = count − failures) or on anything else that counts. A window covers
 * the buckets whose start lies in [now − window, now); a window shorter than
 * the source's bucket cannot be measured and is refused.
 */
import type { Clock } from '../core/clock.js';

/** Good and total events in one bucket starting at `start` (epoch ms). */
export interface CountBucket {
  start: number;
  good: number;
  total: number;
}

/** Where SLO counts come from (a store's rollups, a metrics backend). */
export interface GoodTotalSource {
  /** Bucket length, ms. */
  readonly bucketMs: number;
  /** Buckets with start in [from, to), any order. */
  buckets(from: number, to: number): Promise<readonly CountBucket[]>;
}

export interface SloSpec {
  /** Target share of good events, in (0, 1), e.g. 0.999. */
  objective: number;
  /** The SLO's window, ms (e.g. 30 days). */
  windowMs: number;
}

/** One multi-window burn-rate condition. */
export interface BurnCondition {
  name: string;
  severity: 'page' | 'ticket';
  longMs: number;
  shortMs: number;
  /** Burn rate both windows must exceed. */
  factor: number;
}

const MIN = 60_000;
const HOUR = 60 * MIN;

/** The SRE workbook's recommended conditions for a 30-day SLO. */
export const WORKBOOK_CONDITIONS: readonly BurnCondition[] = [
  { name: '1h/5m', severity: 'page', longMs: HOUR, shortMs: 5 * MIN, factor: 14.4 },
  { name: '6h/30m', severity: 'page', longMs: 6 * HOUR, shortMs: 30 * MIN, factor: 6 },
  { name: '3d/6h', severity: 'ticket', longMs: 72 * HOUR, shortMs: 6 * HOUR, factor: 1 },
];

export interface BurnReading {
  condition: BurnCondition;
  /** Burn rates over the long and short windows (error rate / (1 − objective)); 0 with no events. */
  longBurn: number;
  shortBurn: number;
  /** Both exceed the factor. */
  firing: boolean;
}

export interface SloStatus {
  objective: number;
  windowMs: number;
  good: number;
  total: number;
  /** Good share over the window; null with no events. */
  attainment: number | null;
  /** Share of the error budget left: 1 − bad / ((1 − objective) × total); negative once overspent; 1 with no events. */
  budgetRemaining: number;
  burns: BurnReading[];
  /** The most severe firing condition, or null. */
  firing: 'page' | 'ticket' | null;
}

/** Burn rate of `bad` out of `total` against an objective (0 with no events). */
export function burnRate(good: number, total: number, objective: number): number {
  if (total <= 0) return 0;
  return (total - good) / total / (1 - objective);
}

/**
 * The SLO's status now (clock.now()). Reads the source once, over the
 * longest window needed. Throws RangeError for an objective outside (0, 1)
 * or a window shorter than one bucket.
 */
export async function evaluateSlo(
  spec: SloSpec,
  source: GoodTotalSource,
  clock: Clock,
  conditions: readonly BurnCondition[] = WORKBOOK_CONDITIONS,
): Promise<SloStatus> {
  if (!(spec.objective > 0 && spec.objective < 1)) throw new RangeError(`objective must be in (0, 1), got ${spec.objective}`);
  const windows = [spec.windowMs, ...conditions.flatMap((c) => [c.longMs, c.shortMs])];
  const shortest = Math.min(...windows);
  if (shortest < source.bucketMs)
    throw new RangeError(`a ${shortest / MIN} min window needs buckets of at most that length; the source's are ${source.bucketMs / MIN} min`);
  const now = clock.now();
  const longest = Math.max(...windows);
  const buckets = await source.buckets(now - longest, now);
  const sum = (windowMs: number): { good: number; total: number } => {
    let good = 0;
    let total = 0;
    for (const b of buckets) {
      if (b.start >= now - windowMs && b.start < now) {
        good += b.good;
        total += b.total;
      }
    }
    return { good, total };
  };
  const all = sum(spec.windowMs);
  const bad = all.total - all.good;
  const burns = conditions.map((condition): BurnReading => {
    const long = sum(condition.longMs);
    const short = sum(condition.shortMs);
    const longBurn = burnRate(long.good, long.total, spec.objective);
    const shortBurn = burnRate(short.good, short.total, spec.objective);
    return { condition, longBurn, shortBurn, firing: longBurn > condition.factor && shortBurn > condition.factor };
  });
  const firing = burns.some((b) => b.firing && b.condition.severity === 'page') ? 'page' : burns.some((b) => b.firing) ? 'ticket' : null;
  return {
    objective: spec.objective,
    windowMs: spec.windowMs,
    good: all.good,
    total: all.total,
    attainment: all.total > 0 ? all.good / all.total : null,
    budgetRemaining: all.total > 0 ? 1 - bad / ((1 - spec.objective) * all.total) : 1,
    burns,
    firing,
  };
}
