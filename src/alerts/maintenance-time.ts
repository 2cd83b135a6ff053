/**
 * Maintenance windows (alerts.maintenance) as time: which windows cover a
 * subject now, and the merged intervals they cover over a range, so
 * availability figures (uptime, SLOs) can leave maintenance out. The
 * silences book (silences.ts) answers the other question, whether an
 * alert is muted now.
 *
 * A window applies to a subject when every one of its matchers matches the
 * subject's labels: a window on `{service: api}` covers the service api and
 * each of its instances; one on `{instance: a1}` covers the instance a1,
 * never the whole service.
 */
import { Cron } from 'croner';
import type { MaintenanceConfig } from '../config/alerts.js';
import { globs } from './rules.js';

/** Most recurrences walked for one range (a one-minute cron over 70 days); past it the range is cut short. */
const MAX_RUNS = 100_000;

export interface MaintenanceCalendar {
  /** The window covering `labels` at `now` that lasts longest, or null. */
  activeAt(labels: Record<string, string>, now: number): { name: string; start: number; end: number } | null;
  /** Merged [start, end) intervals of the windows covering `labels`, clipped to [from, to), in order. */
  intervals(labels: Record<string, string>, from: number, to: number): Array<[number, number]>;
}

interface Compiled {
  name: string;
  matches(labels: Record<string, string>): boolean;
  /** Occurrences overlapping [from, to), unclipped. */
  occurrences(from: number, to: number): Array<[number, number]>;
}

function compile(m: MaintenanceConfig): Compiled {
  const tests = Object.entries(m.matchers).map(([label, values]) => [label, globs(values)!] as const);
  const matches = (labels: Record<string, string>) => tests.every(([label, test]) => labels[label] !== undefined && test(labels[label]));
  if (m.cron !== undefined) {
    const cron = new Cron(m.cron, { paused: true, ...(m.timezone ? { timezone: m.timezone } : {}) });
    const length = m.duration!;
    return {
      name: m.name,
      matches,
      occurrences(from, to) {
        const out: Array<[number, number]> = [];
        // A run that began up to `length` before `from` still overlaps it.
        let next = cron.nextRun(new Date(from - length - 1));
        for (let i = 0; next && i < MAX_RUNS; i++) {
          const start = next.getTime();
          if (start >= to) break;
          if (start + length > from) out.push([start, start + length]);
          next = cron.nextRun(next);
        }
        return out;
      },
    };
  }
  const start = m.start!;
  const end = m.end!;
  return { name: m.name, matches, occurrences: (from, to) => (start < to && end > from ? [[start, end]] : []) };
}

/** The calendar of a config's maintenance windows. */
export function maintenanceCalendar(windows: readonly MaintenanceConfig[]): MaintenanceCalendar {
  const compiled = windows.map(compile);
  return {
    activeAt(labels, now) {
      let best: { name: string; start: number; end: number } | null = null;
      for (const w of compiled) {
        if (!w.matches(labels)) continue;
        for (const [start, end] of w.occurrences(now, now + 1)) if (start <= now && now < end && (!best || end > best.end)) best = { name: w.name, start, end };
      }
      return best;
    },
    intervals(labels, from, to) {
      const all: Array<[number, number]> = [];
      for (const w of compiled) if (w.matches(labels)) for (const [s, e] of w.occurrences(from, to)) all.push([Math.max(s, from), Math.min(e, to)]);
      all.sort((a, b) => a[0] - b[0]);
      const merged: Array<[number, number]> = [];
      for (const iv of all) {
        const last = merged[merged.length - 1];
        if (last && iv[0] <= last[1]) last[1] = Math.max(last[1], iv[1]);
        else merged.push([iv[0], iv[1]]);
      }
      return merged;
    },
  };
}

/** [from, to) without the intervals (sorted, merged, inside [from, to)). */
export function outside(from: number, to: number, intervals: ReadonlyArray<[number, number]>): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let at = from;
  for (const [s, e] of intervals) {
    if (s > at) out.push([at, s]);
    at = Math.max(at, e);
  }
  if (at < to) out.push([at, to]);
  return out;
}
