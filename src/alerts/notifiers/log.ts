import type { LogNotifierConfig } from '../../config/alerts.js';
import { notificationTitle } from '../render.js';
import type { NotifierFactory } from './types.js';

/** The log: one line per notification at the configured level, with each alert's id, event, level and subject. */
export const logNotifier: NotifierFactory<LogNotifierConfig> = (config, deps) => ({
  async send(n, ctx) {
    const fields = {
      notifier: deps.name,
      notification: n.id,
      key: ctx.idempotencyKey,
      status: n.status,
      alerts: n.items.map((i) => ({
        id: i.alertId,
        event: i.event,
        level: i.level,
        rule: i.rule,
        service: i.labels.service,
        instance: i.labels.instance,
        check: i.labels.check,
        dependents: i.dependents.length,
      })),
    };
    deps.logger[config.level](fields, `alert ${n.status}: ${notificationTitle(n.items, n.status)}`);
    return { ok: true };
  },
});
