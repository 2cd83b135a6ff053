/**
 * The life of one alert as a step function: given what the condition says
 * now (or nothing new, on a timer) and the time, move pending → firing →
 * resolved with Prometheus' `for` and `keep_firing_for`, step up the level
 * once `escalate.after` has passed, and count reminders every `repeat` up to
 * `max_reminders`. No clock reads and no I/O: time is passed in, and the
 * caller arms one timer at `wakeAt`.
 *
 * Reminder n is due at firedAt + n × repeat and the escalation at firedAt +
 * after, so both follow from the stored record alone and survive a restart.
 */
import type { Level } from '../config/alerts.js';
import type { RuleTiming } from './rules.js';
import type { AlertRecord } from './types.js';

/** An alert with what the engine remembers beside its record. */
export interface AlertRuntime {
  record: AlertRecord;
  /** The newest verdict of the condition. */
  condition: boolean;
  /** Since when the condition has not held while firing (keep_firing_for), or null. */
  clearedAt: number | null;
}

/** What a step did, in order. `cancelled`: a pending alert whose condition cleared (dropped). */
export type LifecycleEvent = 'pending' | 'firing' | 'cleared' | 'resolved' | 'escalated' | 'reminder' | 'cancelled';

/** The outcome of one step. */
export interface StepResult {
  events: LifecycleEvent[];
  /** Next time the alert must be stepped without news, epoch ms, or null. */
  wakeAt: number | null;
}

/**
 * Step `rt` at `now`. `active` is the condition's newest verdict, or null
 * when nothing new was observed (a timer).
 */
export function step(rt: AlertRuntime, active: boolean | null, now: number, timing: RuleTiming, baseLevel: Level): StepResult {
  const a = rt.record;
  const events: LifecycleEvent[] = [];
  const before = rt.condition;
  if (active !== null) {
    if (active) rt.clearedAt = null;
    rt.condition = active;
  }
  if (a.state === 'resolved' && rt.condition) {
    // A new episode of the same alert (same id).
    a.state = 'pending';
    a.activeSince = now;
    a.firedAt = null;
    a.resolvedAt = null;
    a.reminders = 0;
    a.notified = false;
    a.foldedInto = null;
    a.level = baseLevel;
    events.push('pending');
  }
  if (a.state === 'pending') {
    if (!rt.condition) {
      events.push('cancelled');
      return { events, wakeAt: null };
    }
    if (now - a.activeSince >= timing.forMs) {
      a.state = 'firing';
      a.firedAt = now;
      a.level = baseLevel;
      events.push('firing');
    } else {
      return { events, wakeAt: a.activeSince + timing.forMs };
    }
  }
  if (a.state !== 'firing') return { events, wakeAt: null };

  if (!rt.condition) {
    rt.clearedAt ??= now;
    if (now - rt.clearedAt >= timing.keepFiringForMs) {
      a.state = 'resolved';
      a.resolvedAt = now;
      rt.clearedAt = null;
      events.push('resolved');
      return { events, wakeAt: null };
    }
    if (active === false && before) events.push('cleared');
  }
  const firedAt = a.firedAt ?? now;
  let wakeAt: number | null = rt.clearedAt !== null ? rt.clearedAt + timing.keepFiringForMs : null;
  const esc = timing.escalate;
  if (esc && a.level !== esc.to) {
    const due = firedAt + esc.afterMs;
    if (now >= due) {
      a.level = esc.to;
      events.push('escalated');
    } else wakeAt = min(wakeAt, due);
  }
  if (timing.repeatMs !== null && a.reminders < timing.maxReminders) {
    const due = firedAt + (a.reminders + 1) * timing.repeatMs;
    if (now >= due) {
      // Several periods may have passed (a long pause): one reminder, counted for the period we are in.
      a.reminders = Math.min(timing.maxReminders, Math.floor((now - firedAt) / timing.repeatMs));
      events.push('reminder');
    }
    if (a.reminders < timing.maxReminders) wakeAt = min(wakeAt, firedAt + (a.reminders + 1) * timing.repeatMs);
  }
  return { events, wakeAt };
}

function min(a: number | null, b: number): number {
  return a === null ? b : Math.min(a, b);
}
