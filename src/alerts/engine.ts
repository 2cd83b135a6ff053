/**
 * The rule engine: implements the AlertInput port, evaluates the rules that
 * match each event's subject, keeps one AlertRuntime per (rule, subject)
 * and steps it (lifecycle.ts) on news and on its deadline. Events that
 * notify go to Notifications; changed alerts are saved in batches.
 *
 * Cost per event: the rules matching a subject are cached per subject (and
 * event type), so a result costs the evaluation of its own rules only; an
 * alert id (a hash) is computed only when a condition first holds.
 */
import type { Clock } from '../core/clock.js';
import type { Condition, ConditionEvent, Scope } from './conditions/index.js';
import { scopeOfSubject } from './conditions/threshold.js';
import { Deadlines } from './deadlines.js';
import type { AlertInput, AlertTopology, CheckRef, FlapInput, ResultInput, SampleInput, StatusInput, Subject, TransitionInput } from './input.js';
import { step, type AlertRuntime, type LifecycleEvent } from './lifecycle.js';
import type { AlertIndex } from './notify.js';
import { alertId, labelsFor, renderAnnotations, type CompiledRule, type MatchSubject } from './rules.js';
import { SeriesWindows, subjectKey } from './series.js';
import type { AlertJournal } from './timeline.js';
import type { AlertRecord, Labels, NotifyEvent } from './types.js';

/** What the engine tells the rest of the module. */
export interface EngineHooks {
  /** An event that may notify. */
  notify(record: AlertRecord, rule: CompiledRule, event: NotifyEvent): void;
  /** The alert started firing (remediation runs here). */
  fired(record: AlertRecord, rule: CompiledRule): void;
  /** A check stopped flapping. */
  flapEnded(check: CheckRef): void;
}

interface Entry extends AlertRuntime {
  rule: CompiledRule;
  /** `ruleIndex|subjectKey` */
  key: string;
  index: number;
  subject: string;
}

/** A rule and its position (shared objects: the per-subject cache holds references only). */
interface RuleRef {
  rule: CompiledRule;
  index: number;
}

/** Resolved alerts kept in memory for the API (oldest dropped first; the store keeps them all). */
const MAX_RESOLVED_IN_MEMORY = 10_000;

/** The rule engine. */
export class AlertEngine implements AlertInput, AlertIndex {
  private readonly series = new SeriesWindows();
  /** Alerts by entry key (`ruleIndex|subjectKey`), for deadlines. */
  private readonly entries = new Map<string, Entry>();
  /** Alerts by subject key, then rule index: one lookup per event, then an integer key per rule. */
  private readonly bySubject = new Map<string, Map<number, Entry>>();
  private readonly byId = new Map<string, Entry>();
  private readonly firing = new Map<string, Set<Entry>>();
  private readonly flapping = new Set<string>();
  private readonly ruleCache = new Map<string, ReadonlyArray<RuleRef>>();
  /** Per event kind and service: the rules that listen to that kind and whose service matcher accepts the service. */
  private readonly candidates = new Map<string, RuleRef[]>();
  private readonly deadlines: Deadlines;
  private readonly resolvedOrder = new Set<string>();
  private hooks: EngineHooks | undefined;
  /** Rule evaluations so far (a rule's condition asked about one event). */
  evaluations = 0;

  constructor(
    private readonly rules: readonly CompiledRule[],
    private readonly clock: Clock,
    private readonly topology: AlertTopology,
    private readonly journal: AlertJournal,
  ) {
    for (const r of rules) if (r.condition.series) this.series.need(r.condition.series.name, r.condition.series.windowMs);
    this.deadlines = new Deadlines(clock, (key) => this.wake(key));
  }

  /** Connect the notification side (set once, before events flow). */
  connect(hooks: EngineHooks): void {
    this.hooks = hooks;
  }

  // ---- AlertInput ----

  result(e: ResultInput): void {
    const now = this.clock.now();
    const key = e.check.checkId;
    const r = e.result;
    this.addSample('latency_ms', e.check, key, now, r.durationMs);
    this.addSample('failure', e.check, key, now, r.status === 'HEALTHY' ? 0 : 1);
    if (r.metrics) for (const name in r.metrics) this.addSample(name, e.check, key, now, r.metrics[name]!);
    this.evaluate({ type: 'result', input: e }, e.check, key, 'result');
  }

  transition(_e: TransitionInput): void {
    // Check-scope status rules read every result's thresholded status, which a transition changes too.
  }

  flap(e: FlapInput): void {
    if (e.flapping) this.flapping.add(e.check.checkId);
    else if (this.flapping.delete(e.check.checkId)) this.hooks?.flapEnded(e.check);
  }

  status(e: StatusInput): void {
    const subject: MatchSubject = e.level === 'instance' ? { service: e.service, instance: e.instance ?? '' } : { service: e.service };
    const key = e.level === 'instance' ? `${e.service}/${e.instance}` : e.service;
    this.evaluate({ type: 'status', input: e }, subject, key, `status-${e.level}`);
  }

  sample(e: SampleInput): void {
    const now = this.clock.now();
    const key = subjectKey(e.subject);
    this.addSample(e.series, e.subject, key, now, e.value);
  }

  topologyChanged(): void {
    this.ruleCache.clear();
    this.candidates.clear();
  }

  // ---- AlertIndex ----

  get(id: string): { record: AlertRecord; rule: CompiledRule } | undefined {
    const e = this.byId.get(id);
    return e ? { record: e.record, rule: e.rule } : undefined;
  }

  firingOn(service: string): readonly AlertRecord[] {
    const set = this.firing.get(service);
    if (!set || set.size === 0) return [];
    return [...set].map((e) => e.record).sort((a, b) => a.id.localeCompare(b.id));
  }

  isFlapping(labels: Labels): boolean {
    if (this.flapping.size === 0) return false;
    if (labels.check !== undefined && labels.instance !== undefined) return this.flapping.has(`${labels.service}/${labels.instance}/${labels.check}`);
    const prefix = labels.instance !== undefined ? `${labels.service}/${labels.instance}/` : `${labels.service}/`;
    for (const id of this.flapping) if (id.startsWith(prefix)) return true;
    return false;
  }

  /** Every alert the engine holds (pending, firing, recently resolved). */
  records(): AlertRecord[] {
    return [...this.byId.values()].map((e) => e.record);
  }

  /**
   * Put back alerts saved before a restart (firing ones keep firing until a
   * verdict says otherwise). A firing alert of a rule no longer in the config
   * would never get a verdict again: it is resolved (noted and saved, not
   * notified: the rule's notifiers are gone with it).
   */
  restore(records: readonly AlertRecord[]): void {
    const byName = new Map(this.rules.map((r, i) => [r.name, { rule: r, index: i }]));
    const now = this.clock.now();
    for (const record of records) {
      const found = byName.get(record.rule);
      if (!found && record.state === 'firing') {
        record.state = 'resolved';
        record.resolvedAt = now;
        this.journal.note(record, { at: now, type: 'resolved', detail: `rule "${record.rule}" is no longer in the config` });
        continue;
      }
      if (!found || this.byId.has(record.id)) continue;
      const subject = subjectKeyOfLabels(record.labels);
      const entry: Entry = {
        record,
        condition: record.state === 'firing',
        clearedAt: null,
        rule: found.rule,
        key: `${found.index}|${subject}`,
        index: found.index,
        subject,
      };
      this.remember(entry);
      if (record.state === 'firing') this.setFiring(entry, true);
      else if (record.state === 'resolved') this.resolvedOrder.add(record.id);
      this.process(entry, null);
    }
  }

  /**
   * Resolve every firing alert (and drop every pending one) whose subject
   * `exists` says is gone: its check, instance or service was removed from
   * the config or deregistered, so no verdict would ever clear it. The
   * resolve is noted and notified like any other. Returns how many.
   */
  resolveGone(exists: (labels: Labels) => boolean, why: string): number {
    const now = this.clock.now();
    let n = 0;
    for (const entry of [...this.entries.values()]) {
      const record = entry.record;
      if (record.state === 'resolved' || exists(record.labels)) continue;
      n++;
      record.summary = why;
      this.series.drop(entry.subject);
      if (record.state === 'pending') {
        this.apply(entry, 'cancelled', now, false);
        continue;
      }
      entry.condition = false;
      entry.clearedAt = null;
      record.state = 'resolved';
      record.resolvedAt = now;
      this.deadlines.set(entry.key, null);
      this.apply(entry, 'resolved', now, false);
    }
    if (n > 0) this.topologyChanged();
    return n;
  }

  /** Stop timers. */
  stop(): void {
    this.deadlines.clear();
  }

  // ---- evaluation ----

  private addSample(series: string, subject: Subject, key: string, now: number, value: number): void {
    if (!this.series.wanted(series)) return;
    this.series.add(series, key, now, value);
    this.evaluate({ type: 'sample', series, subject, value }, matchSubjectOf(subject), key, `sample-${series}`);
  }

  /** The rules of this event kind matching the subject, each with the key its alert has (cached per subject). */
  private rulesFor(kind: string, subject: MatchSubject, key: string): ReadonlyArray<RuleRef> {
    const cacheKey = `${kind}\0${key}`;
    let list = this.ruleCache.get(cacheKey);
    if (!list) {
      const candidates = this.candidatesFor(kind, subject.service);
      const matching = candidates.filter((ref) => ref.rule.matches(subject, this.topology));
      // Most subjects match every candidate of their service: share that array instead of a copy per subject.
      list = matching.length === candidates.length ? candidates : matching;
      this.ruleCache.set(cacheKey, list);
    }
    return list;
  }

  /** Rules that may match a subject of `service` for this event kind, so a new subject is matched against those only. */
  private candidatesFor(kind: string, service: string): RuleRef[] {
    const key = `${kind}\0${service}`;
    let list = this.candidates.get(key);
    if (!list) {
      list = [];
      this.rules.forEach((rule, index) => {
        if (listensTo(rule.condition, kind) && rule.matchesService(service)) list!.push({ rule, index });
      });
      this.candidates.set(key, list);
    }
    return list;
  }

  private evaluate(event: ConditionEvent, subject: MatchSubject, key: string, kind: string): void {
    const rules = this.rulesFor(kind, subject, key);
    if (rules.length === 0) return;
    const now = this.clock.now();
    const ctx = { series: this.series, now };
    const alerts = this.bySubject.get(key);
    for (const { rule, index } of rules) {
      this.evaluations++;
      let entry = alerts?.get(index);
      let verdict = rule.condition.evaluate(event, ctx, entry !== undefined);
      if (!verdict) continue;
      if (!entry) {
        if (!verdict.active) continue;
        verdict = rule.condition.evaluate(event, ctx, true)!;
        entry = this.create(rule, index, subject, scopeOf(rule.condition, event), key, now);
      }
      entry.record.summary = verdict.summary;
      entry.record.value = verdict.value;
      this.process(entry, verdict.active);
    }
  }

  private create(rule: CompiledRule, index: number, subject: MatchSubject, scope: Scope, subjectKey: string, now: number): Entry {
    const labels = labelsFor(rule, subject, scope);
    const id = alertId(rule.name, labels);
    const record: AlertRecord = {
      id,
      rule: rule.name,
      labels,
      annotations: renderAnnotations(rule.config.annotations, labels, null),
      level: rule.level,
      state: 'pending',
      activeSince: now,
      firedAt: null,
      resolvedAt: null,
      value: null,
      summary: '',
      reminders: 0,
      notified: false,
      foldedInto: null,
      lastRemediationAt: null,
      timeline: [],
      updatedAt: now,
    };
    const entry: Entry = { record, condition: false, clearedAt: null, rule, key: `${index}|${subjectKey}`, index, subject: subjectKey };
    this.remember(entry);
    this.journal.note(record, { at: now, type: 'pending', detail: rule.timing.forMs ? `for ${rule.timing.forMs} ms` : undefined });
    return entry;
  }

  private remember(entry: Entry): void {
    this.entries.set(entry.key, entry);
    this.byId.set(entry.record.id, entry);
    let m = this.bySubject.get(entry.subject);
    if (!m) {
      m = new Map();
      this.bySubject.set(entry.subject, m);
    }
    m.set(entry.index, entry);
  }

  private forget(entry: Entry): void {
    this.entries.delete(entry.key);
    this.byId.delete(entry.record.id);
    const m = this.bySubject.get(entry.subject);
    m?.delete(entry.index);
    if (m?.size === 0) this.bySubject.delete(entry.subject);
  }

  private wake(key: string): void {
    const entry = this.entries.get(key);
    if (entry) this.process(entry, null);
  }

  private process(entry: Entry, active: boolean | null): void {
    const now = this.clock.now();
    const record = entry.record;
    const wasResolved = record.state === 'resolved';
    const result = step(entry, active, now, entry.rule.timing, entry.rule.level);
    for (const event of result.events) this.apply(entry, event, now, wasResolved);
    if (result.events.includes('cancelled')) return;
    this.deadlines.set(entry.key, result.wakeAt);
  }

  private apply(entry: Entry, event: LifecycleEvent, now: number, wasResolved: boolean): void {
    const record = entry.record;
    const hooks = this.hooks;
    switch (event) {
      case 'pending':
        if (wasResolved) this.resolvedOrder.delete(record.id);
        this.journal.note(record, { at: now, type: 'pending', detail: record.summary });
        return;
      case 'cancelled':
        this.journal.note(record, { at: now, type: 'resolved', detail: 'cleared while pending (never fired)' });
        this.forget(entry);
        this.deadlines.set(entry.key, null);
        return;
      case 'firing':
        record.annotations = renderAnnotations(entry.rule.config.annotations, record.labels, record.value);
        this.setFiring(entry, true);
        this.journal.note(record, { at: now, type: 'firing', detail: record.summary });
        hooks?.notify(record, entry.rule, 'firing');
        hooks?.fired(record, entry.rule);
        return;
      case 'cleared':
        this.journal.note(record, { at: now, type: 'cleared', detail: `condition cleared; keeps firing for ${entry.rule.timing.keepFiringForMs} ms` });
        return;
      case 'resolved':
        this.setFiring(entry, false);
        this.journal.note(record, { at: now, type: 'resolved', detail: record.summary });
        hooks?.notify(record, entry.rule, 'resolved');
        this.keepResolved(record.id);
        return;
      case 'escalated':
        this.journal.note(record, { at: now, type: 'escalated', detail: `level ${record.level}` });
        hooks?.notify(record, entry.rule, 'escalated');
        return;
      case 'reminder':
        this.journal.note(record, { at: now, type: 'reminder', detail: `reminder ${record.reminders}` });
        hooks?.notify(record, entry.rule, 'reminder');
        return;
    }
  }

  private setFiring(entry: Entry, on: boolean): void {
    const service = entry.record.labels.service ?? '';
    let set = this.firing.get(service);
    if (on) {
      if (!set) {
        set = new Set();
        this.firing.set(service, set);
      }
      set.add(entry);
    } else set?.delete(entry);
  }

  private keepResolved(id: string): void {
    this.resolvedOrder.add(id);
    if (this.resolvedOrder.size <= MAX_RESOLVED_IN_MEMORY) return;
    const oldest = this.resolvedOrder.values().next().value!;
    this.resolvedOrder.delete(oldest);
    const entry = this.byId.get(oldest);
    if (entry && entry.record.state === 'resolved') this.forget(entry);
  }
}

function listensTo(condition: Condition, kind: string): boolean {
  if (kind === 'result') return condition.listens.includes('result');
  if (kind.startsWith('status-')) return condition.listens.includes('status') && condition.scope === kind.slice(7);
  return condition.listens.includes('sample') && condition.series?.name === kind.slice(7);
}

function scopeOf(condition: Condition, event: ConditionEvent): Scope {
  if (event.type === 'sample') return scopeOfSubject(event.subject);
  return condition.scope;
}

function matchSubjectOf(subject: Subject): MatchSubject {
  if ('checkId' in subject) return { service: subject.service, instance: subject.instance, check: subject.check, kind: subject.kind };
  return subject.instance !== undefined ? { service: subject.service, instance: subject.instance } : { service: subject.service };
}

function subjectKeyOfLabels(labels: Labels): string {
  if (labels.check !== undefined) return `${labels.service}/${labels.instance}/${labels.check}`;
  if (labels.instance !== undefined) return `${labels.service}/${labels.instance}`;
  return labels.service ?? '';
}
