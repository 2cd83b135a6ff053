/**
 * Times as users write them in `--from`/`--to` and the API's from/to:
 * `now`, a duration back from now (`30d`, `12h`, `90m`), epoch ms, a date
 * (`2026-11-01`: midnight in the report's zone) or a date-time with or
 * without an offset (without: wall time in the report's zone).
 */
import { UsageError } from '../core/errors.js';
import { parseDuration } from '../config/duration.js';
import { zoneOffset } from './periods.js';

/** Epoch ms of `value`, or a UsageError naming `field`. */
export function parseReportTime(value: string, now: number, field: string, tz: string): number {
  const v = value.trim();
  if (v === 'now') return now;
  if (/^\d{10,}$/.test(v)) return Number(v);
  if (/^\d+(\.\d+)?(ms|s|m|h|d)$/.test(v) || /^(\d+(\.\d+)?(ms|s|m|h|d))+$/.test(v)) {
    const ms = parseDuration(v);
    if (ms !== undefined) return now - ms;
  }
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?)?(Z|[+-]\d{2}:?\d{2})?$/.exec(v);
  if (m) {
    const [, y, mo, d, h = '0', mi = '0', s = '0', frac = '0', zone] = m;
    const wall = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), Number(frac.padEnd(3, '0')));
    if (!Number.isNaN(wall) && new Date(wall).getUTCDate() === Number(d)) {
      if (zone === 'Z') return wall;
      if (zone) {
        const sign = zone[0] === '-' ? -1 : 1;
        const digits = zone.slice(1).replace(':', '');
        return wall - sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2))) * 60_000;
      }
      // Wall time in tz: the offset at the guessed instant, once more for a DST edge.
      const guess = wall - zoneOffset(wall, tz);
      return wall - zoneOffset(guess, tz);
    }
  }
  throw new UsageError(
    `${field}: "${value}" is not a time (use now, a duration back from now such as 30d or 12h, epoch ms, or an ISO date such as 2026-11-01 or 2026-11-01T08:00)`,
  );
}
