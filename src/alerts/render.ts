/**
 * Text of a notification for the notifiers that write prose (Slack, e-mail,
 * log): a title and one line per alert, root causes spelled out.
 */
import { rootCauseSentence } from './suppression.js';
import type { Notification, NotificationItem } from './types.js';

const EVENT_WORD: Record<NotificationItem['event'], string> = {
  firing: 'FIRING',
  resolved: 'RESOLVED',
  reminder: 'STILL FIRING',
  escalated: 'ESCALATED',
  flapping: 'FLAPPING',
  stable: 'STABLE AGAIN',
};

/** One line for an item: what happened, the alert's subject and what was seen. */
export function itemLine(item: NotificationItem): string {
  const subject = [item.labels.service, item.labels.instance, item.labels.check].filter(Boolean).join('/');
  const what = item.annotations.summary ?? item.summary;
  let line = `${EVENT_WORD[item.event]} [${item.level}] ${item.rule} ${subject}: ${what}`;
  if (item.event === 'flapping') line += ' (flapping: further notifications paused until it is stable)';
  if (item.event === 'stable') line += ` (stable again; now ${item.state})`;
  if (item.dependents.length)
    line += `. ${rootCauseSentence(
      item.labels.service ?? item.rule,
      item.dependents.map((d) => d.service),
    )}`;
  return line;
}

/** The title of a notification. */
export function notificationTitle(items: readonly NotificationItem[], status: Notification['status']): string {
  const first = items[0];
  if (!first) return 'no alerts';
  const firing = items.filter((i) => i.state === 'firing').length;
  const root = items.find((i) => i.dependents.length > 0 && i.state === 'firing');
  if (root)
    return rootCauseSentence(
      root.labels.service ?? root.rule,
      root.dependents.map((d) => d.service),
    );
  if (items.length === 1) return itemLine(first);
  return `[${status.toUpperCase()}${firing ? `:${firing}` : ''}] ${items.length} alerts: ${[...new Set(items.map((i) => i.rule))].join(', ')}`;
}

/** The whole notification as plain text (title, blank line, one line per alert). */
export function notificationText(n: Notification): string {
  return [n.title, '', ...n.items.map(itemLine)].join('\n');
}
