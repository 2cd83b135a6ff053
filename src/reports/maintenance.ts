/**
 * Maintenance time of a report: the config's maintenance windows
 * (alerts.maintenance, one-off or recurring by cron) that match an instance
 * or service, as merged [start, end) intervals inside the report's range.
 * Reports show that time apart and leave it out of uptime.
 */
import { Cron } from 'croner';
import type { MaintenanceConfig } from '../config/alerts.js';

/** Most occurrences of one recurring window looked at in a range (a minutely cron over a year is refused by this bound, not by memory). */
const MAX_OCCURRENCES = 20_000;

export interface Interval {
  start: number;
  end: number;
}

/** Does a window's matcher set accept these labels (`*` wildcards; a label the subject lacks fails)? */
function matches(m: MaintenanceConfig, labels: Record<string, string>): boolean {
  return Object.entries(m.matchers).every(([name, values]) => {
    const v = labels[name];
    if (v === undefined) return false;
    const list = Array.isArray(values) ? values : [values];
    return list.some((pattern) => new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`).test(v));
  });
}

/** Merged intervals of the windows matching `labels` within [from, to). */
export function maintenanceIntervals(windows: readonly MaintenanceConfig[], labels: Record<string, string>, from: number, to: number): Interval[] {
  const raw: Interval[] = [];
  for (const m of windows) {
    if (!matches(m, labels)) continue;
    if (m.cron !== undefined) {
      const cron = new Cron(m.cron, { paused: true, ...(m.timezone ? { timezone: m.timezone } : {}) });
      const length = m.duration!;
      // A window that began before `from` may still be open at `from`.
      let next = cron.nextRun(new Date(from - length));
      for (let n = 0; next && next.getTime() < to && n < MAX_OCCURRENCES; n++) {
        const start = next.getTime();
        raw.push({ start, end: start + length });
        next = cron.nextRun(next);
      }
    } else {
      raw.push({ start: m.start!, end: m.end! });
    }
  }
  const clipped = raw
    .map((i) => ({ start: Math.max(i.start, from), end: Math.min(i.end, to) }))
    .filter((i) => i.end > i.start)
    .sort((a, b) => a.start - b.start);
  const merged: Interval[] = [];
  for (const i of clipped) {
    const last = merged[merged.length - 1];
    if (last && i.start <= last.end) last.end = Math.max(last.end, i.end);
    else merged.push({ ...i });
  }
  return merged;
}
