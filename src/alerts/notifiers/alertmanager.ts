import type { AlertmanagerNotifierConfig } from '../../config/alerts.js';
import { VERSION } from '../../version.js';
import { rootCauseSentence } from '../suppression.js';
import type { Notification, NotificationItem } from '../types.js';
import { HttpPoster, urlSecrets } from './http-post.js';
import { IDEMPOTENCY_HEADER } from './webhook.js';
import type { NotifierFactory } from './types.js';

/** One alert of Alertmanager's v2 API (`postableAlert`). */
export interface PostableAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt?: string;
  generatorURL?: string;
}

/**
 * Prometheus Alertmanager: each item becomes an alert of `POST
 * /api/v2/alerts`. Labels: `alertname` (the rule), `severity` (the level)
 * and the alert's labels (names outside [a-zA-Z_][a-zA-Z0-9_]* get `_`);
 * annotations: the rule's, plus `summary` and the root-cause sentence. A
 * resolved item carries `endsAt`. Alertmanager ends a firing alert that is
 * not sent again within its resolve_timeout (default 5m): set `repeat:` below
 * that, or raise resolve_timeout.
 */
export const alertmanagerNotifier: NotifierFactory<AlertmanagerNotifierConfig> = (config) => {
  const poster = new HttpPoster(config.timeout, [...urlSecrets(config.url), ...Object.values(config.headers)]);
  const url = `${config.url.replace(/\/+$/, '')}/api/v2/alerts`;
  return {
    send(notification, ctx) {
      const body = JSON.stringify(toAlertmanager(notification));
      const headers = {
        ...config.headers,
        'content-type': 'application/json',
        'user-agent': `healthmesh/${VERSION}`,
        [IDEMPOTENCY_HEADER]: ctx.idempotencyKey,
      };
      return poster.post(url, body, headers, ctx.signal);
    },
    close: () => poster.close(),
  };
};

/** The v2 API body for a notification. */
export function toAlertmanager(n: Notification): PostableAlert[] {
  return n.items.map((item) => toAlert(item));
}

function toAlert(item: NotificationItem): PostableAlert {
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(item.labels)) labels[labelName(k)] = v;
  labels.alertname = item.rule;
  labels.severity = item.level;
  const annotations: Record<string, string> = { ...item.annotations, healthmesh_alert_id: item.alertId };
  annotations.summary ??= item.summary;
  if (item.dependents.length)
    annotations.root_cause = rootCauseSentence(
      item.labels.service ?? item.rule,
      item.dependents.map((d) => d.service),
    );
  if (item.event === 'flapping') annotations.flapping = 'true';
  const alert: PostableAlert = { labels, annotations, startsAt: item.startsAt };
  if (item.endsAt) alert.endsAt = item.endsAt;
  return alert;
}

function labelName(name: string): string {
  const clean = name.replace(/[^a-zA-Z0-9_]/g, '_');
  return /^[a-zA-Z_]/.test(clean) ? clean : `_${clean}`;
}
