/**
 * From alert events to notifications: flapping notices, Alertmanager-style
 * grouping (`group_by`, `group_wait`, `group_interval`), root-cause folding,
 * silences and maintenance, then one Notification per group flush handed to
 * the outbox for each of the group's notifiers.
 *
 * Folding and muting are decided when a group flushes, not when an event
 * arrives: a dependent's alert that fires a moment before its database's is
 * still folded if the database alerts within group_wait.
 */
import type { Clock, TimerHandle } from '../core/clock.js';
import { levelRank, type Level } from '../config/alerts.js';
import type { Random } from '../core/random.js';
import { notificationTitle } from './render.js';
import type { CompiledRule } from './rules.js';
import type { SilenceBook } from './silences.js';
import type { DependencyGraph } from './suppression.js';
import type { AlertJournal } from './timeline.js';
import type { AlertRecord, Labels, Notification, NotificationItem, NotifyEvent } from './types.js';

/** What notifications read of the alerts the engine keeps. */
export interface AlertIndex {
  get(id: string): { record: AlertRecord; rule: CompiledRule } | undefined;
  /** Firing alerts on a service (label service), any rule. */
  firingOn(service: string): readonly AlertRecord[];
  /** Whether a check covered by these labels is flapping. */
  isFlapping(labels: Labels): boolean;
}

/** Where finished notifications go (the outbox). */
export interface NotificationSink {
  enqueue(notification: Notification, notifiers: readonly string[]): void;
}

interface Group {
  key: string;
  labels: Labels;
  rule: CompiledRule;
  items: Map<string, NotifyEvent>;
  flushedAt: number | null;
  timer: TimerHandle | undefined;
}

/** Dependencies of Notifications. */
export interface NotificationsDeps {
  clock: Clock;
  random: Random;
  alerts: AlertIndex;
  silences: SilenceBook;
  graph: DependencyGraph;
  journal: AlertJournal;
  sink: NotificationSink;
}

/** Groups, folds, mutes and hands notifications to the sink. */
export class Notifications {
  private readonly groups = new Map<string, Group>();
  /** Alerts that sent a flapping notice and owe a "stable again". */
  private readonly flapNoticed = new Set<string>();
  /** Root alert id → ids of alerts folded into it (entries whose foldedInto moved on are skipped when read). */
  private readonly folded = new Map<string, Set<string>>();
  /** Firing alerts whose notification was muted: notified when the mute ends. */
  private readonly muted = new Set<string>();
  private muteTimer: TimerHandle | undefined;
  private muteTimerAt = Infinity;

  constructor(private readonly deps: NotificationsDeps) {}

  /** An alert event that may notify (from the engine). */
  notify(record: AlertRecord, rule: CompiledRule, event: NotifyEvent): void {
    if (event === 'resolved') this.releaseDependents(record);
    if (this.deps.alerts.isFlapping(record.labels)) {
      if (!this.flapNoticed.has(record.id)) {
        this.flapNoticed.add(record.id);
        this.deps.journal.note(record, { at: this.deps.clock.now(), type: 'flapping', detail: 'flapping: one notice now, the next when stable again' });
        this.add(record, rule, 'flapping');
      }
      return;
    }
    this.add(record, rule, event);
  }

  /** A check stopped flapping: every alert that sent a flapping notice and is no longer flapping sends "stable again". */
  flapEnded(): void {
    for (const id of [...this.flapNoticed]) {
      const entry = this.deps.alerts.get(id);
      if (!entry) {
        this.flapNoticed.delete(id);
        continue;
      }
      if (this.deps.alerts.isFlapping(entry.record.labels)) continue;
      this.flapNoticed.delete(id);
      this.deps.journal.note(entry.record, { at: this.deps.clock.now(), type: 'stable', detail: `stable again; ${entry.record.state}` });
      this.add(entry.record, entry.rule, 'stable');
    }
  }

  /** Silences changed (added or removed over the API): re-check muted alerts now. */
  silencesChanged(): void {
    this.recheckMuted();
  }

  /** Groups waiting to flush (for tests and the status API). */
  get pendingGroups(): number {
    let n = 0;
    for (const g of this.groups.values()) if (g.items.size) n++;
    return n;
  }

  /** Stop every timer. */
  stop(): void {
    for (const g of this.groups.values()) if (g.timer !== undefined) this.deps.clock.clearTimeout(g.timer);
    if (this.muteTimer !== undefined) this.deps.clock.clearTimeout(this.muteTimer);
    this.groups.clear();
  }

  private add(record: AlertRecord, rule: CompiledRule, event: NotifyEvent): void {
    const { key, labels } = groupOf(record, rule);
    let group = this.groups.get(key);
    if (!group) {
      group = { key, labels, rule, items: new Map(), flushedAt: null, timer: undefined };
      this.groups.set(key, group);
    }
    const previous = group.items.get(record.id);
    if (previous === 'firing' && event === 'resolved') {
      // Fired and cleared inside one wait: nothing to say to anyone.
      group.items.delete(record.id);
      return;
    }
    if (previous === 'firing' && (event === 'reminder' || event === 'escalated')) return;
    group.items.set(record.id, event);
    this.schedule(group);
  }

  private schedule(group: Group): void {
    if (group.timer !== undefined || group.items.size === 0) return;
    const now = this.deps.clock.now();
    const r = group.rule.routing;
    const at = group.flushedAt === null ? now + r.groupWaitMs : Math.max(now, group.flushedAt + r.groupIntervalMs);
    group.timer = this.deps.clock.setTimeout(() => this.flush(group), at - now);
  }

  private flush(group: Group): void {
    group.timer = undefined;
    const now = this.deps.clock.now();
    const items: NotificationItem[] = [];
    for (const [id, event] of group.items) {
      const entry = this.deps.alerts.get(id);
      if (!entry) continue;
      const item = this.decide(entry.record, entry.rule, event, now);
      if (item) items.push(item);
    }
    group.items.clear();
    // After every item of the flush was decided, so dependents folded in this same flush are listed.
    for (const item of items) if (item.state === 'firing') item.dependents = this.dependentsOf(this.deps.alerts.get(item.alertId)!.record);
    if (items.length === 0) {
      // Nothing went out: the next item waits group_wait again, as for a new group.
      if (group.flushedAt === null) this.groups.delete(group.key);
      return;
    }
    group.flushedAt = now;
    items.sort((a, b) => levelRank(b.level) - levelRank(a.level) || a.alertId.localeCompare(b.alertId));
    const firing = items.filter((i) => i.state === 'firing').length;
    const status = firing > 0 ? 'firing' : 'resolved';
    const notification: Notification = {
      version: 1,
      id: notificationId(now, this.deps.random),
      createdAt: new Date(now).toISOString(),
      groupKey: group.key,
      groupLabels: group.labels,
      status,
      level: items.reduce<Level>((l, i) => (levelRank(i.level) > levelRank(l) ? i.level : l), 'info'),
      title: notificationTitle(items, status),
      counts: { firing, resolved: items.length - firing, dependents: items.reduce((n, i) => n + i.dependents.length, 0) },
      items,
    };
    for (const item of items) {
      const entry = this.deps.alerts.get(item.alertId)!;
      this.deps.journal.note(entry.record, {
        at: now,
        type: 'queued',
        notification: notification.id,
        detail: `${item.event} to ${group.rule.routing.notify.join(', ')}`,
      });
    }
    this.deps.sink.enqueue(notification, group.rule.routing.notify);
    this.schedule(group);
  }

  /** The item to send for an alert event at flush time, or null when it is folded, muted or has nothing to say. */
  private decide(record: AlertRecord, rule: CompiledRule, event: NotifyEvent, now: number): NotificationItem | null {
    const journal = this.deps.journal;
    if (event === 'flapping' || event === 'stable') {
      // The two flap notices always go out (unless muted): they stand for every transition in between.
      if (this.deps.silences.muted(record.labels, now)) return null;
      record.notified = record.state === 'firing';
      journal.changed(record);
      return itemOf(record, event, []);
    }
    if (event === 'resolved') {
      const owed = record.notified && rule.routing.sendResolved && record.foldedInto === null;
      if (!owed || this.deps.silences.muted(record.labels, now)) return null;
      return itemOf(record, event, []);
    }
    if (record.state !== 'firing') return null;
    const roots = this.deps.graph.roots(record.labels.service ?? '', (s) => this.deps.alerts.firingOn(s).length > 0);
    if (roots.length > 0) {
      const root = this.deps.alerts.firingOn(roots[0]!)[0]!;
      if (record.foldedInto !== root.id) {
        record.foldedInto = root.id;
        let set = this.folded.get(root.id);
        if (!set) {
          set = new Set();
          this.folded.set(root.id, set);
        }
        set.add(record.id);
        journal.note(record, { at: now, type: 'suppressed', detail: `folded into ${root.labels.service}'s alert ${root.id} (${roots.join(', ')} down)` });
      }
      return null;
    }
    const mute = this.deps.silences.muted(record.labels, now);
    if (mute) {
      if (!this.muted.has(record.id))
        journal.note(record, { at: now, type: 'silenced', detail: `${mute.kind} ${mute.id} until ${new Date(mute.until).toISOString()}` });
      this.muted.add(record.id);
      this.armMuteTimer(now);
      return null;
    }
    this.muted.delete(record.id);
    if (event === 'reminder' && !record.notified) event = 'firing';
    record.notified = true;
    journal.changed(record);
    return itemOf(record, event, []);
  }

  /** Alerts folded into `root` that still fire. */
  private dependentsOf(root: AlertRecord): NotificationItem['dependents'] {
    const out: NotificationItem['dependents'] = [];
    for (const id of this.folded.get(root.id) ?? []) {
      const record = this.deps.alerts.get(id)?.record;
      if (record && record.foldedInto === root.id && record.state === 'firing')
        out.push({ alertId: record.id, service: record.labels.service ?? '', rule: record.rule });
    }
    return out;
  }

  /** The root resolved: its dependents that still fire are sent alone (after their group's wait). */
  private releaseDependents(root: AlertRecord): void {
    const ids = this.folded.get(root.id);
    if (!ids) return;
    this.folded.delete(root.id);
    for (const id of ids) {
      const entry = this.deps.alerts.get(id);
      if (!entry || entry.record.foldedInto !== root.id) continue;
      const { record, rule } = entry;
      record.foldedInto = null;
      if (record.state !== 'firing') continue;
      this.deps.journal.note(record, { at: this.deps.clock.now(), type: 'unsuppressed', detail: `${root.labels.service} resolved; this alert still fires` });
      this.add(record, rule, 'firing');
    }
  }

  private armMuteTimer(now: number): void {
    const next = this.deps.silences.nextChange(now);
    if (next === null || next >= this.muteTimerAt) return;
    if (this.muteTimer !== undefined) this.deps.clock.clearTimeout(this.muteTimer);
    this.muteTimerAt = next;
    this.muteTimer = this.deps.clock.setTimeout(() => {
      this.muteTimer = undefined;
      this.muteTimerAt = Infinity;
      this.recheckMuted();
    }, next - now);
  }

  private recheckMuted(): void {
    const now = this.deps.clock.now();
    for (const id of [...this.muted]) {
      const entry = this.deps.alerts.get(id);
      if (entry?.record.state !== 'firing') {
        this.muted.delete(id);
        continue;
      }
      if (this.deps.silences.muted(entry.record.labels, now)) continue;
      this.muted.delete(id);
      this.add(entry.record, entry.rule, entry.record.notified ? 'reminder' : 'firing');
    }
    if (this.muted.size) this.armMuteTimer(now);
  }
}

/** The group of an alert: its notifiers and the values of group_by (`...`: every label). */
export function groupOf(record: AlertRecord, rule: CompiledRule): { key: string; labels: Labels } {
  const by = rule.routing.groupBy;
  const names = by.includes('...') ? Object.keys(record.labels).sort() : by;
  const labels: Record<string, string> = {};
  for (const n of names) labels[n] = record.labels[n] ?? '';
  return { key: `${rule.routing.notify.join(',')}|${JSON.stringify(labels)}`, labels };
}

function itemOf(record: AlertRecord, event: NotifyEvent, dependents: NotificationItem['dependents']): NotificationItem {
  return {
    alertId: record.id,
    event,
    rule: record.rule,
    state: record.state,
    level: record.level,
    labels: record.labels,
    annotations: record.annotations,
    summary: record.summary,
    value: record.value,
    startsAt: new Date(record.firedAt ?? record.activeSince).toISOString(),
    endsAt: record.resolvedAt === null ? null : new Date(record.resolvedAt).toISOString(),
    dependents,
  };
}

/**
 * A notification id: the creation time (base 36) and 80 random bits. The
 * time part keeps ids unique across restarts even when the Random repeats
 * its sequence (a seeded one), so an idempotency key is never reused.
 */
export function notificationId(now: number, random: Random): string {
  return `${Math.floor(now).toString(36)}-${randomId(random).slice(0, 20)}`;
}

/** 128 random bits as 32 hex digits, from the injected Random. */
export function randomId(random: Random): string {
  let out = '';
  for (let i = 0; i < 4; i++)
    out += Math.floor(random() * 0x1_0000_0000)
      .toString(16)
      .padStart(8, '0');
  return out;
}
