/**
 * Rules compiled from the config: matchers as functions, timing in ms with
 * defaults applied, the condition evaluator, and how labels and the stable
 * alert id are made.
 */
import { createHash } from 'node:crypto';
import type { AlertsConfig, Level, RuleConfig } from '../config/alerts.js';
import { compileCondition, type Condition, type Scope } from './conditions/index.js';
import type { AlertTopology } from './input.js';
import type { Labels } from './types.js';

/** The time settings of a rule, ms. */
export interface RuleTiming {
  forMs: number;
  keepFiringForMs: number;
  escalate: { afterMs: number; to: Level } | null;
  /** Reminder period, or null for none. */
  repeatMs: number | null;
  /** Reminders at most per firing episode (Infinity: no cap). */
  maxReminders: number;
}

/** How a rule's notifications are grouped and routed. */
export interface RuleRouting {
  notify: readonly string[];
  sendResolved: boolean;
  /** Label names; `...` alone means every label (one group per alert). */
  groupBy: readonly string[];
  groupWaitMs: number;
  groupIntervalMs: number;
}

/** What a subject of an event is, for matching. */
export interface MatchSubject {
  service: string;
  instance?: string;
  check?: string;
  kind?: string;
}

/** A rule ready to evaluate. */
export interface CompiledRule {
  name: string;
  config: RuleConfig;
  condition: Condition;
  level: Level;
  timing: RuleTiming;
  routing: RuleRouting;
  /** Whether the rule looks at this subject. */
  matches(subject: MatchSubject, topology: AlertTopology): boolean;
  /** Whether its service matcher (alone) accepts the service. */
  matchesService(service: string): boolean;
}

/** Compile every rule of the section. */
export function compileRules(config: AlertsConfig): CompiledRule[] {
  return config.rules.map((rule) => compileRule(rule, config));
}

/** Compile one rule, filling what it leaves out from `alerts.defaults`. */
export function compileRule(rule: RuleConfig, config: AlertsConfig): CompiledRule {
  const d = config.defaults;
  const condition = compileCondition(rule.when, rule.scope);
  const m = rule.match;
  const service = globs(m.service);
  const instance = globs(m.instance);
  const check = globs(m.check);
  const kind = globs(m.check_kind);
  const zone = globs(m.zone);
  const tags = m.tags;
  return {
    name: rule.name,
    config: rule,
    condition,
    level: rule.level,
    timing: {
      forMs: rule.for ?? d.for,
      keepFiringForMs: rule.keep_firing_for ?? d.keep_firing_for,
      escalate: rule.escalate ? { afterMs: rule.escalate.after, to: rule.escalate.to } : null,
      repeatMs: rule.repeat ?? d.repeat ?? null,
      maxReminders: rule.max_reminders ?? d.max_reminders ?? Infinity,
    },
    routing: {
      notify: rule.notify ?? d.notify,
      sendResolved: rule.send_resolved ?? d.send_resolved,
      groupBy: rule.group_by ?? d.group_by,
      groupWaitMs: rule.group_wait ?? d.group_wait,
      groupIntervalMs: rule.group_interval ?? d.group_interval,
    },
    matchesService: (name) => !service || service(name),
    matches(s, topology) {
      if (service && !service(s.service)) return false;
      // A matcher on a field the subject does not have (an instance matcher on a service) does not match.
      if (instance && (s.instance === undefined || !instance(s.instance))) return false;
      if (check && (s.check === undefined || !check(s.check))) return false;
      if (kind && (s.kind === undefined || !kind(s.kind))) return false;
      if (tags || zone) {
        if (s.instance === undefined) return false;
        const info = topology.instance(s.service, s.instance);
        if (!info) return false;
        if (tags && !tags.every((t) => info.tags.includes(t))) return false;
        if (zone && (info.zone === undefined || !zone(info.zone))) return false;
      }
      return true;
    },
  };
}

/** A matcher for a list of values with `*` wildcards; undefined when the list is absent. */
export function globs(list: readonly string[] | undefined): ((value: string) => boolean) | undefined {
  if (!list) return undefined;
  const exact = new Set(list.filter((p) => !p.includes('*')));
  const patterns = list.filter((p) => p.includes('*')).map((p) => new RegExp(`^${p.split('*').map(escapeRe).join('.*')}$`));
  return (value) => exact.has(value) || patterns.some((re) => re.test(value));
}

function escapeRe(s: string): string {
  return s.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
}

/** Labels of an alert about `subject` at `scope`: the rule's own labels, then rule/service/instance/check/check_kind (which they cannot override). */
export function labelsFor(rule: CompiledRule, subject: MatchSubject, scope: Scope): Labels {
  const labels: Record<string, string> = { ...rule.config.labels, rule: rule.name, service: subject.service };
  if (scope !== 'service' && subject.instance !== undefined) labels.instance = subject.instance;
  if (scope === 'check') {
    if (subject.check !== undefined) labels.check = subject.check;
    if (subject.kind !== undefined) labels.check_kind = subject.kind;
  }
  return labels;
}

/** Stable alert id: the same rule and labels give the same id across restarts and daemons. */
export function alertId(rule: string, labels: Labels): string {
  const h = createHash('sha256').update(rule);
  for (const k of Object.keys(labels).sort()) h.update(`\0${k}\0${labels[k]}`);
  return h.digest('hex').slice(0, 16);
}

/** Fill `{{label}}` and `{{value}}` in annotation templates. */
export function renderAnnotations(templates: Readonly<Record<string, string>>, labels: Labels, value: number | null): Labels {
  const out: Record<string, string> = {};
  for (const [k, t] of Object.entries(templates)) {
    out[k] = t.replace(/\{\{\s*([A-Za-z_]\w*)\s*\}\}/g, (m, name: string) => (name === 'value' ? (value === null ? '' : String(value)) : (labels[name] ?? m)));
  }
  return out;
}
