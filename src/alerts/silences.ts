/**
 * Silences (one-off, from the config or the API) and maintenance windows
 * (one-off, or recurring by cron with a duration, via croner). Both mute
 * notifications of alerts whose labels match every matcher; alerts still
 * fire, are recorded and shown.
 */
import { Cron } from 'croner';
import type { MaintenanceConfig, SilenceConfig } from '../config/alerts.js';
import { globs } from './rules.js';
import type { Labels } from './types.js';

/** A silence as kept and served. Times epoch ms. */
export interface Silence {
  id: string;
  /** label → accepted values (`*` wildcards). */
  matchers: Record<string, string[]>;
  /** Start, or null for "now". */
  start: number | null;
  end: number;
  comment: string;
  createdBy: string;
  createdAt: number;
  /** Where it came from: config silences cannot be deleted over the API. */
  source: 'config' | 'api';
}

/** What mutes an alert. */
export interface Mute {
  kind: 'silence' | 'maintenance';
  /** Silence id or maintenance name. */
  id: string;
  /** When this mute ends, epoch ms. */
  until: number;
}

type Matcher = (labels: Labels) => boolean;

function compileMatchers(matchers: Record<string, string[]>): Matcher {
  const tests = Object.entries(matchers).map(([name, values]) => [name, globs(values)!] as const);
  return (labels) => tests.every(([name, test]) => labels[name] !== undefined && test(labels[name]));
}

interface Window {
  name: string;
  matches: Matcher;
  /** The window around `now` if active: [start, end). */
  activeAt(now: number): { start: number; end: number } | null;
  /** The next start after `now`, or null. */
  nextStart(now: number): number | null;
}

function windowOf(m: MaintenanceConfig): Window {
  const matches = compileMatchers(m.matchers);
  if (m.cron !== undefined) {
    const cron = new Cron(m.cron, { paused: true, ...(m.timezone ? { timezone: m.timezone } : {}) });
    const length = m.duration!;
    return {
      name: m.name,
      matches,
      activeAt(now) {
        // previousRuns is strictly before its reference: +1 includes a run at exactly `now`.
        const prev = cron.previousRuns(1, new Date(now + 1))[0];
        if (!prev) return null;
        const start = prev.getTime();
        return now < start + length ? { start, end: start + length } : null;
      },
      nextStart(now) {
        return cron.nextRun(new Date(now))?.getTime() ?? null;
      },
    };
  }
  const start = m.start!;
  const end = m.end!;
  return {
    name: m.name,
    matches,
    activeAt: (now) => (now >= start && now < end ? { start, end } : null),
    nextStart: (now) => (now < start ? start : null),
  };
}

/** Every silence and maintenance window, and which one mutes an alert. */
export class SilenceBook {
  private readonly silences = new Map<string, { silence: Silence; matches: Matcher }>();
  private readonly windows: Window[];

  constructor(config: { silences: readonly SilenceConfig[]; maintenance: readonly MaintenanceConfig[] }, now: number) {
    this.windows = config.maintenance.map(windowOf);
    config.silences.forEach((s, i) => {
      this.add({
        id: s.id ?? `config-${i}`,
        matchers: s.matchers,
        start: s.start ?? null,
        end: s.end,
        comment: s.comment,
        createdBy: s.created_by,
        createdAt: now,
        source: 'config',
      });
    });
  }

  /** Add or replace a silence. */
  add(silence: Silence): void {
    this.silences.set(silence.id, { silence, matches: compileMatchers(silence.matchers) });
  }

  /** Remove a silence; false when there was none. */
  remove(id: string): boolean {
    return this.silences.delete(id);
  }

  get(id: string): Silence | undefined {
    return this.silences.get(id)?.silence;
  }

  /** Silences not yet ended at `now` (expired ones are dropped). */
  list(now: number): Silence[] {
    const out: Silence[] = [];
    for (const [id, { silence }] of this.silences) {
      if (silence.end <= now) this.silences.delete(id);
      else out.push(silence);
    }
    return out;
  }

  /** The silence or window that mutes `labels` at `now` (the one lasting longest), or null. */
  muted(labels: Labels, now: number): Mute | null {
    let best: Mute | null = null;
    for (const { silence, matches } of this.silences.values()) {
      if ((silence.start ?? -Infinity) <= now && now < silence.end && matches(labels) && (!best || silence.end > best.until)) {
        best = { kind: 'silence', id: silence.id, until: silence.end };
      }
    }
    for (const w of this.windows) {
      const active = w.activeAt(now);
      if (active && w.matches(labels) && (!best || active.end > best.until)) best = { kind: 'maintenance', id: w.name, until: active.end };
    }
    return best;
  }

  /** The next time any silence or window starts or ends after `now`, or null. */
  nextChange(now: number): number | null {
    let next = Infinity;
    for (const { silence } of this.silences.values()) {
      if (silence.start !== null && silence.start > now) next = Math.min(next, silence.start);
      if (silence.end > now) next = Math.min(next, silence.end);
    }
    for (const w of this.windows) {
      const active = w.activeAt(now);
      if (active) next = Math.min(next, active.end);
      const start = w.nextStart(now);
      if (start !== null) next = Math.min(next, start);
    }
    return next === Infinity ? null : next;
  }
}
