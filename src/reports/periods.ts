/**
 * Periods of a report: the granularity picked for a range, and the
 * [start, end) periods it cuts the range into. Minutes and hours are UTC
 * aligned (as the store's rollup buckets, so a period is whole buckets);
 * days begin at midnight in the report's time zone.
 */
import { UsageError } from '../core/errors.js';
import type { Granularity } from './types.js';

const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;

/** Length of a minute or hour period, ms (a day's depends on the zone's offsets). */
export const PERIOD_MS = { minute: MINUTE, hour: HOUR, day: DAY } as const;

/** The granularity `auto` means for a range: at most ~360 minutes, ~170 hours, else days. */
export function autoGranularity(from: number, to: number): Granularity {
  const span = to - from;
  if (span <= 6 * HOUR) return 'minute';
  if (span <= 7 * DAY) return 'hour';
  return 'day';
}

/** Throws a UsageError naming `field` unless `tz` is an IANA zone this runtime knows. */
export function checkTimeZone(tz: string, field = 'tz'): void {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
  } catch {
    throw new UsageError(`${field}: "${tz}" is not a time zone (use an IANA name such as UTC or Europe/Paris)`);
  }
}

const offsetFormats = new Map<string, Intl.DateTimeFormat>();

/** Offset of `tz` from UTC at instant `t`, ms (local = t + offset). */
export function zoneOffset(t: number, tz: string): number {
  if (tz === 'UTC') return 0;
  let f = offsetFormats.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    offsetFormats.set(tz, f);
  }
  const p: Record<string, number> = {};
  for (const part of f.formatToParts(new Date(t))) if (part.type !== 'literal') p[part.type] = Number(part.value);
  const local = Date.UTC(p.year!, p.month! - 1, p.day!, p.hour!, p.minute!, p.second!);
  return local - (t - (((t % 1000) + 1000) % 1000));
}

/** Start of the local day holding `t` in `tz`, epoch ms. */
export function dayStart(t: number, tz: string): number {
  const local = t + zoneOffset(t, tz);
  const localMidnight = local - (((local % DAY) + DAY) % DAY);
  // The offset at midnight may differ from the one at t (a DST change that day).
  let start = localMidnight - zoneOffset(localMidnight - zoneOffset(t, tz), tz);
  if (start > t) start -= DAY;
  return start;
}

/** Start of the period holding `t`. */
export function periodStart(t: number, g: Granularity, tz: string): number {
  if (g === 'day') return dayStart(t, tz);
  const ms = PERIOD_MS[g];
  return t - (((t % ms) + ms) % ms);
}

/** End of the period starting at `start` (exclusive). */
export function periodEnd(start: number, g: Granularity, tz: string): number {
  if (g !== 'day') return start + PERIOD_MS[g];
  // 25 h later is always in the next local day, whatever DST does.
  return dayStart(start + 25 * HOUR, tz);
}

/** The periods cutting [from, to), the first and last clipped to the range. */
export function periodsOf(from: number, to: number, g: Granularity, tz: string): Array<{ start: number; end: number }> {
  const out: Array<{ start: number; end: number }> = [];
  let start = periodStart(from, g, tz);
  while (start < to) {
    const end = periodEnd(start, g, tz);
    out.push({ start: Math.max(start, from), end: Math.min(end, to) });
    start = end;
  }
  return out;
}
