/**
 * The data of the alerting module: alerts with their timelines, the
 * notifications built from them, and the events that move an alert. Plain,
 * serialisable data: the AlertStore keeps exactly these shapes.
 *
 * Times are epoch milliseconds from the injected Clock.
 */
import type { Level } from '../config/alerts.js';

export type { Level } from '../config/alerts.js';

/** Labels of an alert: `rule`, `service`, and `instance`, `check`, `check_kind` by scope, plus the rule's own labels. */
export type Labels = Readonly<Record<string, string>>;

/**
 * Where an alert is. `pending`: the condition holds but not yet for `for:`;
 * `firing`; `resolved`: it fired and cleared (kept for the API and history).
 * A pending alert whose condition clears is dropped, as in Prometheus.
 */
export type AlertState = 'pending' | 'firing' | 'resolved';

/** What happened to an alert, in order (the API's timeline). */
export type TimelineType =
  | 'pending'
  | 'firing'
  | 'cleared'
  | 'resolved'
  | 'escalated'
  | 'reminder'
  | 'queued'
  | 'delivered'
  | 'delivery_failed'
  | 'dead_letter'
  | 'suppressed'
  | 'unsuppressed'
  | 'silenced'
  | 'flapping'
  | 'stable'
  | 'remediation';

/** One entry of an alert's timeline. */
export interface TimelineEntry {
  /** Epoch ms. */
  at: number;
  type: TimelineType;
  /** Human-readable detail (never a secret). */
  detail?: string;
  /** Notifier name for delivery entries. */
  notifier?: string;
  /** Notification id for queued/delivered entries. */
  notification?: string;
}

/** Most timeline entries kept per alert; older ones beyond this are dropped (the first one stays). */
export const MAX_TIMELINE = 200;

/** An alert as stored and served. */
export interface AlertRecord {
  /** Stable: derived from rule + labels (alertId()). */
  id: string;
  rule: string;
  labels: Labels;
  annotations: Labels;
  level: Level;
  state: AlertState;
  /** When the condition began to hold (start of pending), epoch ms. */
  activeSince: number;
  /** When it last started firing, or null. */
  firedAt: number | null;
  /** When it last resolved, or null. */
  resolvedAt: number | null;
  /** Latest value the condition looked at (threshold aggregate, days_left…), or null. */
  value: number | null;
  /** One line: what the condition saw. */
  summary: string;
  /** Reminders sent in this firing episode. */
  reminders: number;
  /** A firing notification left for at least one notifier in this episode (so a resolve notice is due). */
  notified: boolean;
  /** Root alert id this one is folded into (root-cause suppression), or null. */
  foldedInto: string | null;
  /** Epoch ms of the last exec remediation, or null. */
  lastRemediationAt: number | null;
  timeline: TimelineEntry[];
  /** Epoch ms of the last change. */
  updatedAt: number;
}

/** Why a notification item exists. */
export type NotifyEvent = 'firing' | 'resolved' | 'reminder' | 'escalated' | 'flapping' | 'stable';

/** One alert inside a notification. */
export interface NotificationItem {
  alertId: string;
  event: NotifyEvent;
  rule: string;
  state: AlertState;
  level: Level;
  labels: Labels;
  annotations: Labels;
  summary: string;
  value: number | null;
  /** ISO 8601: when it started firing (or became active). */
  startsAt: string;
  /** ISO 8601 when resolved, else null. */
  endsAt: string | null;
  /** Alerts folded into this one by root-cause suppression (their services are down because this one is). */
  dependents: Array<{ alertId: string; service: string; rule: string }>;
}

/**
 * One notification: what a group of alerts has to say at one flush. This is
 * the JSON body of the webhook notifier (schema version 1, README "Alerts").
 */
export interface Notification {
  version: 1;
  /** Unique id; with the notifier name it is the delivery's idempotency key. */
  id: string;
  /** ISO 8601 creation time. */
  createdAt: string;
  /** Group key (route + group_by values). */
  groupKey: string;
  groupLabels: Labels;
  /** firing when any item fires, else resolved. */
  status: 'firing' | 'resolved';
  /** Highest level among the items. */
  level: Level;
  /** One line for titles and subjects. */
  title: string;
  /** Firing and resolved alerts in this notification, dependents not counted. */
  counts: { firing: number; resolved: number; dependents: number };
  items: NotificationItem[];
}

/** The outcome of one delivery attempt. */
export type DeliveryOutcome =
  | { ok: true; detail?: string }
  /** retryable: a later try may succeed (network, 5xx, 429); otherwise the row goes to dead-letter at once. */
  | { ok: false; retryable: boolean; error: string };
